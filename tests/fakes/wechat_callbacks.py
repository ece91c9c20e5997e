"""Helpers for tests that play the WeChat server calling OUR ``/wechat`` endpoint.

* URL verification: ``GET /wechat?signature=&timestamp=&nonce=&echostr=`` -> we must echo echostr.
* Messages/events: ``POST /wechat?signature=&timestamp=&nonce=&openid=`` with XML.  In safe mode
  (安全模式) the query also has ``encrypt_type=aes&msg_signature=`` and the body is
  ``<xml><ToUserName/><Encrypt/></xml>``; ``msg_signature`` signs token+timestamp+nonce+Encrypt while
  ``signature`` still signs only token+timestamp+nonce.
* Our encrypted reply is ``<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto

from core import clock

DEFAULT_OFFICIAL_ACCOUNT = "gh_fake000000001"  # the 公众号's original id (ToUserName of user messages)


def signature(token: str, timestamp: str | int, nonce: str | int, *extra: str) -> str:
    """WeChat's signature: sha1 over the sorted, concatenated values (``extra``: e.g. Encrypt)."""
    parts = sorted([token, str(timestamp), str(nonce), *extra])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def _now() -> str:
    # The application's clock, so that a test with a fixed clock still signs fresh requests.
    return str(int(clock.now().timestamp()))


def _nonce() -> str:
    return str(secrets.randbelow(10**9))


def verification_query(
    token: str, echostr: str, timestamp: str | None = None, nonce: str | None = None
) -> dict[str, str]:
    """Query params of WeChat's server-URL verification GET (we answer with ``echostr``)."""
    timestamp, nonce = timestamp or _now(), nonce or _nonce()
    return {
        "signature": signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }


def _cdata(value: str) -> str:
    # "]]>" cannot appear inside CDATA; split it the standard way.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml(fields: dict[str, str | int]) -> str:
    lines = [
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}>{_cdata(v)}</{k}>" for k, v in fields.items()
    ]
    return "<xml>" + "".join(lines) + "</xml>"


def _msg_id() -> int:
    return 23_000_000_000_000_000 + secrets.randbelow(10**15)


def text_message_xml(
    to_user: str = DEFAULT_OFFICIAL_ACCOUNT,
    from_user: str = "o_fake_openid_0001",
    content: str = "你好",
    msg_id: int | None = None,
    create_time: int | None = None,
) -> str:
    """A user's text message as WeChat POSTs it."""
    return _xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": create_time if create_time is not None else int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id if msg_id is not None else _msg_id(),
        }
    )


def event_xml(
    from_user: str,
    event: str = "subscribe",
    event_key: str | None = None,
    create_time: int | None = None,
    to_user: str = DEFAULT_OFFICIAL_ACCOUNT,
) -> str:
    """An event push: ``subscribe``/``unsubscribe``/``CLICK``/``VIEW``/``SCAN``...

    Events carry no MsgId: WeChat retries are deduplicated by FromUserName + CreateTime.
    ``subscribe`` with an ``event_key`` like ``qrscene_123`` is a scan-to-follow.
    """
    fields: dict[str, str | int] = {
        "ToUserName": to_user,
        "FromUserName": from_user,
        "CreateTime": create_time if create_time is not None else int(time.time()),
        "MsgType": "event",
        "Event": event,
    }
    if event_key is not None:
        fields["EventKey"] = event_key
    return _xml(fields)


def voice_message_xml(
    to_user: str = DEFAULT_OFFICIAL_ACCOUNT,
    from_user: str = "o_fake_openid_0001",
    media_id: str = "fake_voice_media_id",
    msg_id: int | None = None,
    create_time: int | None = None,
    recognition: str | None = None,
    voice_format: str = "amr",
) -> str:
    """A voice message; ``recognition`` is WeChat's speech-to-text (only if enabled for the account)."""
    fields: dict[str, str | int] = {
        "ToUserName": to_user,
        "FromUserName": from_user,
        "CreateTime": create_time if create_time is not None else int(time.time()),
        "MsgType": "voice",
        "MediaId": media_id,
        "Format": voice_format,
        "MsgId": msg_id if msg_id is not None else _msg_id(),
    }
    if recognition is not None:
        fields["Recognition"] = recognition
    return _xml(fields)


def image_message_xml(
    to_user: str = DEFAULT_OFFICIAL_ACCOUNT,
    from_user: str = "o_fake_openid_0001",
    pic_url: str = "http://mmbiz.qpic.cn/fake.jpg",
    media_id: str = "fake_image_media_id",
    msg_id: int | None = None,
    create_time: int | None = None,
) -> str:
    """An image message."""
    return _xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": create_time if create_time is not None else int(time.time()),
            "MsgType": "image",
            "PicUrl": pic_url,
            "MediaId": media_id,
            "MsgId": msg_id if msg_id is not None else _msg_id(),
        }
    )


def xml_fields(xml: str) -> dict[str, Any]:
    """Parse a flat WeChat XML document into a dict (e.g. to inspect our passive reply)."""
    parsed = xmltodict.parse(xml)["xml"]
    return dict(parsed) if parsed else {}


def signed_post(
    token: str,
    xml: str,
    encrypt_aes_key: str | None = None,
    app_id: str | None = None,
    *,
    openid: str | None = None,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> tuple[dict[str, str], str]:
    """Query params and body of WeChat's POST carrying ``xml``, in plain or safe (AES) mode.

    ``openid`` defaults to the message's FromUserName.  Pass ``encrypt_aes_key`` (the 43-char
    EncodingAESKey) and ``app_id`` for safe mode.
    """
    timestamp, nonce = timestamp or _now(), nonce or _nonce()
    fields = xml_fields(xml)
    query = {
        "signature": signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid or str(fields.get("FromUserName", "")),
    }
    if encrypt_aes_key is None:
        return query, xml
    if app_id is None:
        raise ValueError("safe mode needs app_id (the AppID is part of the encrypted payload)")
    envelope = xml_fields(WeChatCrypto(token, encrypt_aes_key, app_id).encrypt_message(xml, nonce, timestamp))
    query["encrypt_type"] = "aes"
    query["msg_signature"] = envelope["MsgSignature"]
    body = _xml({"ToUserName": str(fields.get("ToUserName", "")), "Encrypt": envelope["Encrypt"]})
    return query, body


def decrypt_reply(
    token: str, aes_key: str, app_id: str, body: str, query: dict[str, str] | None = None
) -> str:
    """Read our encrypted passive reply; returns the inner XML.

    The reply carries its own MsgSignature/TimeStamp/Nonce (checked here, raising wechatpy's
    InvalidSignatureException when wrong); ``query`` (the request's) is only a fallback for the
    timestamp and nonce.  "" and "success" are returned unchanged (they are never encrypted).
    """
    if body.strip() in ("", "success"):
        return body
    envelope = xml_fields(body)
    query = query or {}
    return WeChatCrypto(token, aes_key, app_id).decrypt_message(
        body,
        envelope.get("MsgSignature", query.get("msg_signature", "")),
        envelope.get("TimeStamp", query.get("timestamp", "")),
        envelope.get("Nonce", query.get("nonce", "")),
    )
