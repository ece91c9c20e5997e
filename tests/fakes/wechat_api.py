"""A fake WeChat official-account (公众号) API under ``/cgi-bin/``.

WeChat wire facts the fake reproduces:

* Errors are HTTP 200 with ``{"errcode": N, "errmsg": ...}``; success is errcode 0 (or no errcode
  at all for ``token``).  wechatpy raises ``WeChatClientException`` for errcode != 0, and on
  40001/40014/42001 it re-fetches the token and retries the request once per failure.
* wechatpy posts JSON as raw UTF-8 bytes (``ensure_ascii=False``) **without a Content-Type
  header**, so the body is parsed whatever the header says.
* ``WeChatClient.fetch_access_token`` hard-codes ``https://api.weixin.qq.com/cgi-bin/token``, so
  overriding ``API_BASE_URL`` alone is not enough: see :func:`wechatpy_client`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes import Clock, FakeServer

if TYPE_CHECKING:
    from wechatpy import WeChatClient

DEFAULT_APPID = "wx0000000000fake01"
DEFAULT_SECRET = "fake-app-secret-0000000000000001"

# errmsg texts as WeChat sends them (without the " rid: ..." suffix real answers append since 2023,
# so product code must never compare errmsg strings, only errcode).
ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40006: "invalid meida size",
    40007: "invalid media_id",
    40013: "invalid appid",
    40014: "invalid access_token",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    46003: "menu no exist",
    47001: "data format error",
    48001: "api unauthorized",
}

# Endpoints that address one user through the JSON field "touser".
_SEND_PATHS = ("message/custom/send", "message/template/send")


@dataclass
class WeChatCall:
    """One request the fake received; ``path`` is relative to /cgi-bin/ (e.g. "message/custom/send")."""

    path: str
    query: dict[str, str]
    body: Any  # decoded JSON (dict) or None
    at: float
    errcode: int | None = None  # what the fake answered (None while in flight / for non-JSON answers)


@dataclass
class UploadedMedia:
    """A temporary material uploaded through media/upload (kept whole, for the test to inspect)."""

    media_type: str
    filename: str
    data: bytes


# Temporary material limits of voice (新增临时素材): 2 MB, at most 60 s, AMR or MP3.
VOICE_MAX_BYTES = 2 * 1024 * 1024
VOICE_MAX_SECONDS = 60.0
_QR_ACTIONS = frozenset({"QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"})


def _multipart_file(raw: bytes, content_type: str) -> tuple[str, bytes] | None:
    """(filename, bytes) of the form field "media" in a multipart/form-data body."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "media":
            payload = part.get_payload(decode=True)
            return str(part.get_filename() or ""), payload if isinstance(payload, bytes) else b""
    return None


def _voice_problem(data: bytes) -> int | None:
    """The errcode WeChat gives a voice upload that breaks its limits, else None."""
    if len(data) > VOICE_MAX_BYTES:
        return 40006
    is_mp3 = data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    if not (is_mp3 or data.startswith(b"#!AMR")):
        return 40004
    if is_mp3:
        import io

        import soundfile

        try:
            info = soundfile.info(io.BytesIO(data))
        except RuntimeError:
            return 40004
        if info.duration > VOICE_MAX_SECONDS:
            return 40006
    return None


@dataclass
class WeChatFault:
    path_suffix: str | None
    errcode: int
    errmsg: str
    times: int
    openid: str | None
    http_status: int = 200


class _Answer(Exception):
    """Raised inside a handler to answer with an errcode envelope (or a bare HTTP error)."""

    def __init__(self, errcode: int, errmsg: str | None = None, http_status: int = 200) -> None:
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg if errmsg is not None else ERRMSG.get(errcode, "error")
        self.http_status = http_status


class FakeWeChat(FakeServer):
    """Fake of ``https://api.weixin.qq.com/cgi-bin/``; clients use :attr:`api_base`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = time.monotonic,
        *,
        appid: str = DEFAULT_APPID,
        secret: str = DEFAULT_SECRET,
    ) -> None:
        super().__init__(host, port, clock)
        self.appid = appid
        self.secret = secret
        self.apps: dict[str, str] = {appid: secret}
        self.calls: list[WeChatCall] = []
        self.unknown_paths: list[str] = []
        self.menu: dict[str, Any] | None = None
        self.tokens_issued: list[str] = []
        self._valid_tokens: dict[str, str] = {}  # token -> appid
        self._stable: dict[str, str] = {}  # appid -> current stable token
        self._unsubscribed: set[str] = set()
        self._closed_windows: set[str] = set()
        self._faults: list[WeChatFault] = []
        self._msgids = itertools.count(2_000_000_001)
        self.media: dict[str, UploadedMedia] = {}  # temporary material (media/upload) by media_id
        self.qrcodes: dict[str, dict[str, Any]] = {}  # parametric QR content url -> qrcode/create body

    @property
    def api_base(self) -> str:
        """``http://127.0.0.1:PORT/cgi-bin/`` - drop-in for wechatpy's ``API_BASE_URL``."""
        return f"{self.base_url}/cgi-bin/"

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/cgi-bin/{path:.+}", self._handle)
        return app

    # ------------------------------------------------------------------------------------------------
    # faults and state
    # ------------------------------------------------------------------------------------------------
    def add_app(self, appid: str, secret: str) -> None:
        self.apps[appid] = secret

    def expire_tokens(self) -> None:
        """Invalidate every issued token: the next call with one answers 40001."""
        self._valid_tokens.clear()
        self._stable.clear()

    def issue_token(self, appid: str | None = None) -> str:
        """Mint a valid token without an HTTP round trip (for clients given ``access_token=``)."""
        appid = appid or self.appid
        token = f"FAKE_{secrets.token_urlsafe(24)}"
        self._valid_tokens[token] = appid
        self.tokens_issued.append(token)
        return token

    def unsubscribe(self, openid: str) -> None:
        """Sends to ``openid`` answer 43004 "require subscribe"; user/info shows subscribe=0."""
        self._unsubscribed.add(openid)

    def subscribe(self, openid: str) -> None:
        self._unsubscribed.discard(openid)

    def close_window(self, openid: str) -> None:
        """The 48 h customer-service window is over: custom sends to ``openid`` answer 45015."""
        self._closed_windows.add(openid)

    def open_window(self, openid: str) -> None:
        self._closed_windows.discard(openid)

    def inject(
        self,
        path_suffix: str | None = "message/custom/send",
        errcode: int = 45015,
        errmsg: str | None = None,
        times: int = 1,
        openid: str | None = None,
        *,
        http_status: int = 200,
    ) -> None:
        """Answer the next ``times`` requests whose path ends with ``path_suffix`` (None: any) and,
        if given, whose ``touser``/``openid`` is ``openid`` with ``errcode``.  ``http_status`` != 200
        sends a bare HTTP error instead (wechatpy raises WeChatClientException(errcode=None))."""
        message = errmsg if errmsg is not None else ERRMSG.get(errcode, "error")
        self._faults.append(WeChatFault(path_suffix, errcode, message, times, openid, http_status))

    def delay(
        self, seconds: float, path_suffix: str | None = "message/custom/send", times: int | None = 1
    ) -> None:
        """Answer the next ``times`` matching requests ``seconds`` late (``times=None``: until cleared)."""
        self._add_delay(seconds, path_suffix, times)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()
        self._unsubscribed.clear()
        self._closed_windows.clear()

    # ------------------------------------------------------------------------------------------------
    # inspection
    # ------------------------------------------------------------------------------------------------
    def calls_to(self, path: str) -> list[WeChatCall]:
        return [c for c in self.calls if c.path == path]

    def sent_custom_messages(self, openid: str | None = None) -> list[dict[str, Any]]:
        """Bodies of successful message/custom/send calls."""
        return self._sent("message/custom/send", openid)

    def sent_templates(self, openid: str | None = None) -> list[dict[str, Any]]:
        """Bodies of successful message/template/send calls."""
        return self._sent("message/template/send", openid)

    def _sent(self, path: str, openid: str | None) -> list[dict[str, Any]]:
        return [
            c.body
            for c in self.calls
            if c.path == path
            and c.errcode == 0
            and isinstance(c.body, dict)
            and (openid is None or c.body.get("touser") == openid)
        ]

    # ------------------------------------------------------------------------------------------------
    # request handling
    # ------------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"].strip("/")
        raw = await request.read()
        body: Any = None
        if raw and request.content_type == "multipart/form-data":
            found = _multipart_file(raw, request.headers.get("Content-Type", ""))
            body = {"filename": found[0], "data": found[1]} if found else None
        elif raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = raw.decode("utf-8", "replace")
        call = WeChatCall(path=path, query=dict(request.query), body=body, at=self.clock())
        self.calls.append(call)
        await self._sleep(self._take_delay(path, lambda rule, key: key.endswith(rule)))
        try:
            result = self._route(request.method, path, call)
        except _Answer as answer:
            if answer.http_status != 200:
                return web.Response(status=answer.http_status, text=answer.errmsg)
            call.errcode = answer.errcode
            return self._json({"errcode": answer.errcode, "errmsg": answer.errmsg})
        call.errcode = int(result.get("errcode", 0))
        return self._json(result)

    @staticmethod
    def _json(payload: dict[str, Any]) -> web.Response:
        # WeChat answers UTF-8 JSON with literal (not \\u-escaped) Chinese.
        return web.Response(
            text=json.dumps(payload, ensure_ascii=False), content_type="application/json", charset="utf-8"
        )

    def _target(self, call: WeChatCall) -> str | None:
        if isinstance(call.body, dict) and isinstance(call.body.get("touser"), str):
            return call.body["touser"]
        return call.query.get("openid")

    def _check_faults(self, call: WeChatCall) -> None:
        target = self._target(call)
        for fault in self._faults:
            if fault.path_suffix is not None and not call.path.endswith(fault.path_suffix):
                continue
            if fault.openid is not None and fault.openid != target:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            raise _Answer(fault.errcode, fault.errmsg, fault.http_status)

    def _check_token(self, call: WeChatCall) -> str:
        token = call.query.get("access_token")
        if not token:
            raise _Answer(41001)
        if token not in self._valid_tokens:
            raise _Answer(40001)
        return self._valid_tokens[token]

    def _route(self, method: str, path: str, call: WeChatCall) -> dict[str, Any]:
        if path == "token":
            self._check_faults(call)
            return self._token(call.query)
        if path == "stable_token":
            self._check_faults(call)
            return self._stable_token(call.body if isinstance(call.body, dict) else {})
        self._check_token(call)
        self._check_faults(call)
        body = call.body if isinstance(call.body, dict) else {}
        if path in _SEND_PATHS:
            if method != "POST" or not body:
                raise _Answer(47001)
            touser = body.get("touser")
            if not isinstance(touser, str) or not touser:
                raise _Answer(40003)
            if touser in self._unsubscribed:
                raise _Answer(43004)
            if path == "message/custom/send":
                if touser in self._closed_windows:
                    raise _Answer(45015)
                msgtype = body.get("msgtype")
                if not isinstance(msgtype, str) or msgtype not in body:
                    raise _Answer(47001)
                if msgtype == "voice":
                    media = self.media.get(str((body.get("voice") or {}).get("media_id", "")))
                    if media is None or media.media_type != "voice":
                        raise _Answer(40007)
                return {"errcode": 0, "errmsg": "ok"}
            if not body.get("template_id"):
                raise _Answer(40037, "invalid template_id")
            return {"errcode": 0, "errmsg": "ok", "msgid": next(self._msgids)}
        if path == "menu/create":
            if not isinstance(body.get("button"), list):
                raise _Answer(47001)
            self.menu = body
            return {"errcode": 0, "errmsg": "ok"}
        if path == "menu/get":
            if self.menu is None:
                raise _Answer(46003)
            return {"menu": self.menu}
        if path == "menu/delete":
            self.menu = None
            return {"errcode": 0, "errmsg": "ok"}
        if path == "user/info":
            return self._user_info(call.query)
        if path == "media/upload":
            return self._upload(call)
        if path == "qrcode/create":
            return self._create_qrcode(body)
        self.unknown_paths.append(path)
        return {"errcode": 0, "errmsg": "ok"}

    def _upload(self, call: WeChatCall) -> dict[str, Any]:
        media_type = call.query.get("type", "")
        if media_type not in ("image", "voice", "video", "thumb"):
            raise _Answer(40004)
        if not isinstance(call.body, dict) or not call.body.get("data"):
            raise _Answer(41005, "media data missing")
        data: bytes = call.body["data"]
        if media_type == "voice":
            problem = _voice_problem(data)
            if problem is not None:
                raise _Answer(problem)
        media_id = f"MEDIA_{secrets.token_urlsafe(24)}"
        self.media[media_id] = UploadedMedia(media_type, str(call.body.get("filename", "")), data)
        call.body = {"filename": call.body.get("filename"), "size": len(data)}  # keep the log small
        return {"type": media_type, "media_id": media_id, "created_at": int(time.time())}

    def _create_qrcode(self, body: dict[str, Any]) -> dict[str, Any]:
        action = body.get("action_name")
        scene = (body.get("action_info") or {}).get("scene") or {}
        if action not in _QR_ACTIONS or not isinstance(scene, dict):
            raise _Answer(40053, "invalid action info")
        if "STR" in str(action):
            value = scene.get("scene_str")
            if not isinstance(value, str) or not 1 <= len(value) <= 64:
                raise _Answer(40053, "invalid action info")
        elif not isinstance(scene.get("scene_id"), int):
            raise _Answer(40053, "invalid action info")
        url = f"http://weixin.qq.com/q/{secrets.token_urlsafe(18)}"
        self.qrcodes[url] = body
        answer: dict[str, Any] = {"ticket": secrets.token_urlsafe(40), "url": url}
        if "LIMIT" not in str(action):
            answer["expire_seconds"] = int(body.get("expire_seconds") or 60)
        return answer

    def scene_of(self, url: str) -> str | None:
        """The scene a parametric code made by this fake carries (what a scan event reports)."""
        body = self.qrcodes.get(url)
        if body is None:
            return None
        scene = body["action_info"]["scene"]
        return str(scene.get("scene_str", scene.get("scene_id")))

    def _token(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("grant_type") != "client_credential":
            raise _Answer(40002)
        appid = query.get("appid", "")
        if appid not in self.apps:
            raise _Answer(40013)
        if query.get("secret") != self.apps[appid]:
            raise _Answer(40125)
        # Real WeChat keeps the previous token valid for 5 more minutes; keeping it valid until
        # expire_tokens() is the same as far as a test can tell.
        return {"access_token": self.issue_token(appid), "expires_in": 7200}

    def _stable_token(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("grant_type") != "client_credential":
            raise _Answer(40002)
        appid = str(body.get("appid", ""))
        if appid not in self.apps:
            raise _Answer(40013)
        if body.get("secret") != self.apps[appid]:
            raise _Answer(40125)
        current = self._stable.get(appid)
        if current is None or current not in self._valid_tokens or body.get("force_refresh"):
            current = self.issue_token(appid)
            self._stable[appid] = current
        return {"access_token": current, "expires_in": 7200}

    def _user_info(self, query: dict[str, str]) -> dict[str, Any]:
        openid = query.get("openid")
        if not openid:
            raise _Answer(40003)
        if openid in self._unsubscribed:
            return {"subscribe": 0, "openid": openid}
        # Since 2021-12 WeChat no longer returns nickname/headimgurl.
        return {
            "subscribe": 1,
            "openid": openid,
            "language": query.get("lang", "zh_CN"),
            "subscribe_time": 1_700_000_000,
            "remark": "",
            "groupid": 0,
            "tagid_list": [],
            "subscribe_scene": "ADD_SCENE_QR_CODE",
            "qr_scene": 0,
            "qr_scene_str": "",
        }


def wechatpy_client(
    wx: FakeWeChat, appid: str | None = None, secret: str | None = None, **kwargs: Any
) -> WeChatClient:
    """A real ``wechatpy.WeChatClient`` wired to ``wx``.

    Two overrides are needed: ``API_BASE_URL`` for the API calls, and ``fetch_access_token``
    because wechatpy 1.8.18 hard-codes the official token URL in it.  wechatpy is synchronous:
    from a test running in the same event loop as the fake, call it via ``asyncio.to_thread``
    or the fake can never answer (deadlock until the requests timeout).
    """
    from wechatpy import WeChatClient  # local import: wechatpy is slow-ish to import

    api_base = wx.api_base

    class FakeBackedWeChatClient(WeChatClient):
        API_BASE_URL = api_base

        def fetch_access_token(self) -> dict[str, Any]:
            return self._fetch_access_token(
                url=f"{api_base}token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    kwargs.setdefault("timeout", 10)
    return FakeBackedWeChatClient(appid or wx.appid, secret or wx.secret, **kwargs)
