"""`/chat` (the page) and its JSON endpoints under `/chat/api/`, as ordinary FastAPI routes.

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

The routes are module-level functions; what they work with arrives through dependencies:
`webchat_router(services)` binds a `WebChat` (services + rate limits) to the request,
`visitor` reads or makes the cookie, `admitted` applies the rate limit and `JsonBody(Model)`
parses the body. `ChatRoute` turns a `Refused` into its JSON answer and sets a new
visitor's cookie on every answer, refusals included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field, ValidationError

from bot import texts
from bot.dialogue import voice
from bot.dialogue.context import Turn
from bot.dialogue.replies import Reply
from bot.runner import run_turn
from bot.webchat import inbox
from bot.webchat.identity import COOKIE_MAX_AGE, COOKIE_NAME, address_of, new_token, valid_token
from bot.webchat.ratelimit import DEFAULT_PER_IP, DEFAULT_PER_VISITOR, ChatRateLimit
from bot.wiring import BotServices
from push import service as push
from subscriptions.views import ChannelName

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))
MAX_MESSAGE_CHARS = 10_000  # beyond the dialogue's own cap, which answers with a helpful reply
MAX_BODY_BYTES = 16 * 1024  # a message of MAX_MESSAGE_CHARS ASCII characters fits; CJK is capped by the 422
INBOX_LIMIT = inbox.INBOX_LIMIT

Body = TypeVar("Body", bound=BaseModel)
TurnFn = Callable[[Turn], Awaitable[list[Reply]]]


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


@dataclass
class Visitor:
    token: str
    fresh: bool  # no valid cookie came with the request: the answer sets this token

    @property
    def address(self) -> str:
        return address_of(self.token)


@dataclass(eq=False)  # FastAPI caches dependencies by the callable: hashed by identity
class WebChat:
    """What the chat routes work with; one per `webchat_router`, bound to each of its requests."""

    services: BotServices
    limits: ChatRateLimit

    def __call__(self, request: Request) -> None:
        request.state.webchat = self

    @property
    def secure(self) -> bool:
        return self.services.settings.effective_public_base_url.startswith("https://")

    @property
    def secret(self) -> str:
        return self.services.settings.secret_key

    async def turn(self, visitor: Visitor, step: TurnFn) -> Response:
        replies = await run_turn(self.services.db, ChannelName.WEB, visitor.address, step, has_buttons=True,
                                 phone=self.services.phone)
        return JSONResponse({"replies": [reply_json(r) for r in replies]})


def current_chat(request: Request) -> WebChat:
    chat: WebChat = request.state.webchat
    return chat


def visitor(request: Request) -> Visitor:
    token = request.cookies.get(COOKIE_NAME)
    found = Visitor(str(token), False) if valid_token(token) else Visitor(new_token(), True)
    request.state.visitor = found  # for ChatRoute, which sets the cookie of a new visitor
    return found


Chat = Annotated[WebChat, Depends(current_chat)]


def admitted(request: Request, chat: Chat, visitor: Annotated[Visitor, Depends(visitor)]) -> Visitor:
    """The visitor, once the rate limit (per cookie and per IP) lets the request through."""
    wait = chat.limits.check(visitor.token, request.client.host if request.client else "-")
    if wait:
        raise Refused(429, texts.WEB_RATE_LIMITED.format(seconds=wait, phone=chat.services.phone),
                      {"Retry-After": str(wait)})
    return visitor


Admitted = Annotated[Visitor, Depends(admitted)]


class JsonBody(Generic[Body]):
    """The request body as `model`, read after the rate limit; too large is 413 before parsing."""

    def __init__(self, model: type[Body]) -> None:
        self.model = model

    async def __call__(self, request: Request, _: Admitted) -> Body:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise Refused(413, texts.WEB_TOO_LARGE)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise Refused(413, texts.WEB_TOO_LARGE)
        try:
            return self.model.model_validate_json(body or b"{}")
        except ValidationError as exc:
            too_long = any(e.get("type") == "string_too_long" for e in exc.errors())
            raise Refused(422, texts.WEB_TOO_LARGE if too_long else texts.WEB_BAD_REQUEST) from exc


class ChatRoute(APIRoute):
    """A refusal becomes its JSON answer; a new visitor's cookie goes on every answer."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handle(request)
            except Refused as refused:
                response = refused.response()
            found: Visitor | None = getattr(request.state, "visitor", None)
            if found is not None and found.fresh:
                response.set_cookie(COOKIE_NAME, found.token, max_age=COOKIE_MAX_AGE, httponly=True,
                                    samesite="lax", secure=current_chat(request).secure, path="/chat")
            return response

        return answer


routes = APIRouter(include_in_schema=False, route_class=ChatRoute)


@routes.get("/chat", response_class=HTMLResponse)
async def chat_page(chat: Chat, _: Annotated[Visitor, Depends(visitor)]) -> Response:
    return HTMLResponse(TEMPLATES.get_template("chat.html").render(texts=texts, phone=chat.services.phone))


@routes.post("/chat/api/start")
async def chat_start(chat: Chat, visitor: Admitted, body: Annotated[StartIn, Depends(JsonBody(StartIn))]) -> Response:
    return await chat.turn(visitor, lambda t: chat.services.dialogue.start(t, body.payload))


@routes.post("/chat/api/message")
async def chat_message(chat: Chat, visitor: Admitted,
                       body: Annotated[MessageIn, Depends(JsonBody(MessageIn))]) -> Response:
    return await chat.turn(visitor, lambda t: chat.services.dialogue.text(t, body.text))


@routes.post("/chat/api/press")
async def chat_press(chat: Chat, visitor: Admitted, body: Annotated[PressIn, Depends(JsonBody(PressIn))]) -> Response:
    return await chat.turn(visitor, lambda t: chat.services.dialogue.press(t, body.action))


@routes.get("/chat/api/inbox")
async def chat_inbox(chat: Chat, visitor: Admitted) -> Response:
    async with chat.services.db.reader() as session:
        messages = await push.web_inbox(session, visitor.address, limit=INBOX_LIMIT)
    return JSONResponse({"messages": [inbox.message_json(m, chat.secret) for m in messages]})


@routes.post("/chat/api/voice")
async def chat_voice(chat: Chat, visitor: Admitted, body: Annotated[VoiceIn, Depends(JsonBody(VoiceIn))]) -> Response:
    """语音播报 on or off without a chat message (what a 长辈模式 switch calls)."""
    return await chat.turn(visitor, voice.turn_on if body.on else voice.turn_off)


@routes.post("/chat/api/inbox/ack")
async def chat_inbox_ack(chat: Chat, visitor: Admitted, body: Annotated[AckIn, Depends(JsonBody(AckIn))]) -> Response:
    return await chat.turn(visitor, lambda t: inbox.acknowledge(t, body.id, chat.secret))


def webchat_router(services: BotServices, *, rate_limit: ChatRateLimit | None = None) -> APIRouter:
    """The chat's routes bound to `services` (each call its own rate limits)."""
    chat = WebChat(services, rate_limit or ChatRateLimit(DEFAULT_PER_VISITOR, DEFAULT_PER_IP))
    router = APIRouter(include_in_schema=False, dependencies=[Depends(chat)])
    router.include_router(routes)
    return router
