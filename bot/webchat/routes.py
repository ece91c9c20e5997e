"""`/chat` (the page) and its JSON endpoints under `/chat/api/`.

    POST /chat/api/start            → {"replies": [...]}   greeting or set-up flow
    POST /chat/api/message {text}   → {"replies": [...]}
    POST /chat/api/press {action}   → {"replies": [...]}   a button of an earlier reply
    GET  /chat/api/inbox            → {"messages": [...]}  pushes to this visitor
    POST /chat/api/inbox/ack {id}   → {"replies": [...]}   确认收到 under inbox message `id`
    POST /chat/api/voice {on}       → {"replies": [...]}   语音播报 on/off (the 长辈模式 switch)

A reply is {"text", "buttons": [[{"label", "action", "url"}]], "replace"}; `replace` means
"put this in place of the message whose button was pressed".

Every /chat/api/* request is rate limited per visitor cookie and per IP (429 with Retry-After),
and a body over MAX_BODY_BYTES is refused (413) before it is parsed. Refusals are JSON
{"error", "replies"} so the page shows them as a message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field, ValidationError

from bot import texts
from bot.dialogue.replies import Reply
from bot.runner import run_turn
from bot.services import BotServices
from bot.webchat import inbox
from bot.webchat.identity import COOKIE_MAX_AGE, COOKIE_NAME, address_of, new_token, valid_token
from bot.webchat.ratelimit import DEFAULT_PER_IP, DEFAULT_PER_VISITOR, ChatRateLimit
from push import service as push
from subscriptions.views import ChannelName

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))
MAX_MESSAGE_CHARS = 10_000  # beyond the dialogue's own cap, which answers with a helpful reply
MAX_BODY_BYTES = 16 * 1024  # a message of MAX_MESSAGE_CHARS ASCII characters fits; CJK is capped by the 422
INBOX_LIMIT = inbox.INBOX_LIMIT

Body = TypeVar("Body", bound=BaseModel)


class MessageIn(BaseModel):
    text: str = Field(max_length=MAX_MESSAGE_CHARS)


class PressIn(BaseModel):
    action: str = Field(max_length=64)


class StartIn(BaseModel):
    payload: str = Field("", max_length=64)  # ?start= of the page (e.g. a poster's signed payload)


class VoiceIn(BaseModel):
    on: bool  # 语音播报 on or off for this visitor (the 长辈模式 switch calls this)


class AckIn(BaseModel):
    id: int = Field(ge=1)


class Refused(Exception):
    """A request the API turns away before any work: rate limit, size, malformed body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}

    def response(self) -> Response:
        body = {"error": self.message, "replies": [{"text": self.message, "buttons": [], "replace": False}]}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def reply_json(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "replace": reply.replace,
        "buttons": [[{"label": b.label, "action": b.action, "url": b.url} for b in row] for row in reply.buttons],
    }


def webchat_router(services: BotServices, *, rate_limit: ChatRateLimit | None = None) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    secure = services.settings.effective_public_base_url.startswith("https://")
    limits = rate_limit or ChatRateLimit(DEFAULT_PER_VISITOR, DEFAULT_PER_IP)
    secret = services.settings.secret_key

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

    def admit(request: Request, token: str) -> None:
        wait = limits.check(token, request.client.host if request.client else "-")
        if wait:
            raise Refused(429, texts.WEB_RATE_LIMITED.format(seconds=wait, phone=services.phone),
                          {"Retry-After": str(wait)})

    async def parsed(request: Request, model: type[Body]) -> Body:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise Refused(413, texts.WEB_TOO_LARGE)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise Refused(413, texts.WEB_TOO_LARGE)
        try:
            return model.model_validate_json(body or b"{}")
        except ValidationError as exc:
            too_long = any(e.get("type") == "string_too_long" for e in exc.errors())
            raise Refused(422, texts.WEB_TOO_LARGE if too_long else texts.WEB_BAD_REQUEST) from exc

    async def api(request: Request, work: Any) -> Response:
        """Admit the request (rate limit), run `work(token)` and set the cookie if it is new."""
        token, fresh = visitor(request)
        try:
            admit(request, token)
            response = await work(token)
        except Refused as refused:
            response = refused.response()
        return remember(response, token, fresh)

    async def run(token: str, step: Any) -> Response:
        replies = await run_turn(services.db, ChannelName.WEB, address_of(token), step, has_buttons=True,
                                 phone=services.phone)
        return JSONResponse({"replies": [reply_json(r) for r in replies]})

    async def turn_response(request: Request, step: Any) -> Response:
        return await api(request, lambda token: run(token, step))

    @router.get("/chat", response_class=HTMLResponse)
    async def chat_page(request: Request) -> Response:
        token, fresh = visitor(request)
        html = TEMPLATES.get_template("chat.html").render(texts=texts, phone=services.phone)
        return remember(HTMLResponse(html), token, fresh)

    @router.post("/chat/api/start")
    async def chat_start(request: Request) -> Response:
        async def work(token: str) -> Response:
            body = await parsed(request, StartIn)
            return await run(token, lambda t: services.dialogue.start(t, body.payload))

        return await api(request, work)

    @router.post("/chat/api/message")
    async def chat_message(request: Request) -> Response:
        async def work(token: str) -> Response:
            body = await parsed(request, MessageIn)
            return await run(token, lambda t: services.dialogue.text(t, body.text))

        return await api(request, work)

    @router.post("/chat/api/press")
    async def chat_press(request: Request) -> Response:
        async def work(token: str) -> Response:
            body = await parsed(request, PressIn)
            return await run(token, lambda t: services.dialogue.press(t, body.action))

        return await api(request, work)

    @router.get("/chat/api/inbox")
    async def chat_inbox(request: Request) -> Response:
        async def work(token: str) -> Response:
            async with services.db.reader() as session:
                messages = await push.web_inbox(session, address_of(token), limit=INBOX_LIMIT)
            return JSONResponse({"messages": [inbox.message_json(m, secret) for m in messages]})

        return await api(request, work)

    @router.post("/chat/api/voice")
    async def chat_voice(request: Request) -> Response:
        """语音播报 on or off without a chat message (what a 长辈模式 switch calls)."""
        from bot.dialogue import voice

        async def work(token: str) -> Response:
            body = await parsed(request, VoiceIn)
            return await run(token, voice.turn_on if body.on else voice.turn_off)

        return await api(request, work)

    @router.post("/chat/api/inbox/ack")
    async def chat_inbox_ack(request: Request) -> Response:
        async def work(token: str) -> Response:
            body = await parsed(request, AckIn)
            return await run(token, lambda t: inbox.acknowledge(t, body.id, secret))

        return await api(request, work)

    return router
