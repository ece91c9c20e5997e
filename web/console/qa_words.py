"""Console pages of the Q&A word lists: the concept map (everyday words → policy words) and
the synonyms, edited as text. Saving checks every line, keeps the edited copy under
DATA_DIR and makes the running engine use it from the next question on."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from core.errors import DomainError, NotFound
from policies.service import word_lists
from web.accounts import Principal
from web.api.engine import engine_if_loaded
from web.auth import ConsolePrincipal, CsrfChecked
from web.console.common import render, see_other
from web.models import Role

router = APIRouter(prefix="/console/qa-words", include_in_schema=False)

ListName = Annotated[str, Path(max_length=20)]


def _may_write(principal: Principal) -> bool:
    return principal.role in (Role.ADMIN, Role.EDITOR)


def _word_list(name: str) -> word_lists.WordList:
    found = word_lists.WORD_LISTS.get(name)
    if found is None:
        raise NotFound("没有这个词表", field="name")
    return found


@router.get("")
async def first_list(principal: ConsolePrincipal) -> Response:
    return see_other("/console/qa-words/concepts")


@router.get("/{name}")
async def show_list(request: Request, principal: ConsolePrincipal, name: ListName, message: str = "") -> Response:
    chosen = _word_list(name)
    text = word_lists.read_list(name, request.app.state.settings.data_dir)
    return render(request, "faq/words.html", principal, lists=word_lists.WORD_LISTS.values(), chosen=chosen,
                  text=text, message=message[:300], problems=[], may_write=_may_write(principal))


@router.post("/{name}", dependencies=[CsrfChecked])
async def save_list(request: Request, principal: ConsolePrincipal, name: ListName) -> Response:
    chosen = _word_list(name)
    text = str((await request.form()).get("text") or "")
    data_dir = request.app.state.settings.data_dir
    if not _may_write(principal):
        return render(request, "faq/words.html", principal, lists=word_lists.WORD_LISTS.values(), chosen=chosen,
                      text=text, message="只有管理员和编辑可以修改词表", problems=[], may_write=False,
                      status_code=403)
    try:
        word_lists.save_list(name, text, data_dir)
    except DomainError:
        return render(request, "faq/words.html", principal, lists=word_lists.WORD_LISTS.values(), chosen=chosen,
                      text=text, message="未保存：请按提示修改后再保存", problems=word_lists.check_list(text),
                      may_write=True, status_code=422)
    engine = engine_if_loaded(request)
    if engine is not None:
        engine.use_word_lists(word_lists.load_table(data_dir))
    return see_other(f"/console/qa-words/{name}?message={quote('已保存，政策问答即刻按新词表理解问题')}")
