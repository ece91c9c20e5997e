"""The public policy calculator page `/calculator` (no login): a few questions, then the items
the asker qualifies for, may qualify for (需核实) and nearly qualifies for, each with amount,
deadline, how to apply and the phone. A plain GET form: works without JavaScript, bookmarkable,
and nothing the asker types is stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from core.clock import today_in_china
from policies.service import allowed_options, cards, how_to_get
from policies.views import SIZE_LABELS, STANDING_LABELS, Standing
from web.api.items import catalogue_cache
from web.calculator_profile import ProfileIn
from web.templating import templates

router = APIRouter(include_in_schema=False)

MAX_PARAM_CHARS = 40
NUMBER_FIELDS = ("employees", "revenue", "assets", "age", "graduation_year")
TRI_STATE = {"yes": True, "no": False}
NONE_OF_THEM = "none"  # the "以上都没有" box: the asker holds none (not: did not answer)
FIELD_LABELS = {"township": "乡镇", "industry": "行业", "employees": "从业人员", "revenue": "营业收入",
                "assets": "资产总额", "registered_on": "成立日期", "age": "年龄", "graduation_year": "毕业年份",
                "kind": "企业或个人"}  # fmt: skip


def _profile_values(request: Request) -> dict[str, Any]:
    q = request.query_params
    one = {k: v.strip()[:MAX_PARAM_CHARS] for k, v in q.items() if v.strip()}
    values: dict[str, Any] = {"kind": one.get("kind")}
    for name in ("township", "industry", "size", "registered_on", *NUMBER_FIELDS):
        if name in one:
            values[name] = one[name]
    for name in ("hukou_local", "graduated"):
        if one.get(name) in TRI_STATE:
            values[name] = TRI_STATE[one[name]]
    for name in ("qualifications", "groups"):
        chosen = [v[:MAX_PARAM_CHARS] for v in q.getlist(name)[:40]]
        if chosen:
            values[name] = [c for c in chosen if c != NONE_OF_THEM]
    return values


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        out.append(f"{FIELD_LABELS.get(name, '输入')}填写有误，请检查后再试")
    return sorted(set(out))


@router.get("/calculator")
async def calculator_page(request: Request) -> Response:
    values = _profile_values(request)
    context: dict[str, Any] = {
        "options": allowed_options(), "sizes": SIZE_LABELS, "asked": values, "problems": [], "groups": None,
        "labels": STANDING_LABELS, "order": (Standing.QUALIFIED, Standing.TO_VERIFY, Standing.NEARLY),
        "how_to_get": how_to_get, "none_value": NONE_OF_THEM,
    }
    if values.get("kind"):
        try:
            profile = ProfileIn.model_validate(values).to_profile()
        except ValidationError as exc:
            context["problems"] = _problems(exc)
        else:
            async with request.app.state.db.reader() as session:
                catalogue = await catalogue_cache(request).current(session)
            result = catalogue.calculate(profile, today_in_china())
            context["groups"] = cards(result, request.app.state.settings.consultation_phone)
            context["counts"] = result.counts
            context["total_value"] = result.qualified_value_yuan
    return templates.TemplateResponse(request, "public/calculator.html", context)
