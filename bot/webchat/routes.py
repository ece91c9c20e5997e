"""`/chat` (the page) and its JSON endpoints under `/chat/api/`.

    POST /chat/api/start            → {"replies": [...]}   greeting or set-up flow
    POST /chat/api/message {text}   → {"replies": [...]}
    POST /chat/api/press {action}   → {"replies": [...]}   a button of an earlier reply
    GET  /chat/api/inbox            → {"messages": [...]}  pushes to this visitor

A reply is {"text", "buttons": [[{"label", "action", "url"}]], "replace"}; `replace` means
"put this in place of the message whose button was pressed".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from bot import texts
from bot.dialogue.replies import Reply
from bot.runner import run_turn
from bot.services import BotServices
from bot.webchat.identity import COOKIE_MAX_AGE, COOKIE_NAME, address_of, new_token, valid_token
from push import service as push
from subscriptions.views import ChannelName

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))
MAX_MESSAGE_CHARS = 10_000  # beyond the dialogue's own cap, which answers with a helpful reply
INBOX_LIMIT = 50


class MessageIn(BaseModel):
    text: str = Field(max_length=MAX_MESSAGE_CHARS)


class PressIn(BaseModel):
    action: str = Field(max_length=64)


def reply_json(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "replace": reply.replace,
        "buttons": [[{"label": b.label, "action": b.action, "url": b.url} for b in row] for row in reply.buttons],
    }


def webchat_router(services: BotServices) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    secure = services.settings.effective_public_base_url.startswith("https://")

    def visitor(request: Request) -> tuple[str, bool]:
        token = request.cookies.get(COOKIE_NAME)
        if valid_token(token):
            return str(token), False
        return new_token(), True

    def remember(response: Response, token: str, fresh: bool) -> Response:
        if fresh:
            response.set_cookie(COOKIE_NAME, token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="lax",
                                secure=secure, path="/chat")
        return response

    async def turn_response(request: Request, step: Any) -> Response:
        token, fresh = visitor(request)
        replies = await run_turn(services.db, ChannelName.WEB, address_of(token), step, has_buttons=True,
                                 phone=services.phone)
        return remember(JSONResponse({"replies": [reply_json(r) for r in replies]}), token, fresh)

    @router.get("/chat", response_class=HTMLResponse)
    async def chat_page(request: Request) -> Response:
        token, fresh = visitor(request)
        html = TEMPLATES.get_template("chat.html").render(texts=texts, phone=services.phone)
        return remember(HTMLResponse(html), token, fresh)

    @router.post("/chat/api/start")
    async def chat_start(request: Request) -> Response:
        return await turn_response(request, lambda t: services.dialogue.start(t, ""))

    @router.post("/chat/api/message")
    async def chat_message(request: Request, body: MessageIn) -> Response:
        return await turn_response(request, lambda t: services.dialogue.text(t, body.text))

    @router.post("/chat/api/press")
    async def chat_press(request: Request, body: PressIn) -> Response:
        return await turn_response(request, lambda t: services.dialogue.press(t, body.action))

    @router.get("/chat/api/inbox")
    async def chat_inbox(request: Request) -> Response:
        token, fresh = visitor(request)
        async with services.db.reader() as session:
            messages = await push.web_inbox(session, address_of(token), limit=INBOX_LIMIT)
        body = {"messages": [
            {"id": m.id, "title": m.title, "text": m.text, "url": m.url, "created_at": m.created_at.isoformat(),
             "read": m.read}
            for m in messages
        ]}
        return remember(JSONResponse(body), token, fresh)

    return router
