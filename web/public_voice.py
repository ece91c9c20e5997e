"""Listening to a policy (播报, work-plan item 32): `/p/{id}/listen`, a page with an audio player
of the policy's key points, and the audio itself (`/p/{id}/audio.ogg`, `/p/{id}/audio-{n}.mp3`).

The page is where the chat's 朗读 buttons and WeChat pushes outside the 48-hour window point.
The clip is made once per revision and served from the disk cache afterwards.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import FileResponse, Response

from core.errors import NotFound
from policies import service as policies
from push.service import posters, reading_script, voice_service_for
from push.views import MP3, OGG, EngineUnavailable, VoiceClip, VoiceService
from web.api.fields import MAX_ID
from web.templating import templates

router = APIRouter(include_in_schema=False)

PublicId = Annotated[int, Path(ge=1, le=MAX_ID)]
T = TypeVar("T")
AUDIO_CACHE = "public, max-age=600"  # a new revision makes a new clip; the page always asks again


def _voice(request: Request) -> VoiceService:
    return voice_service_for(request.app.state.db, request.app.state.settings)


async def _made(make: Callable[[], Awaitable[T | None]], unavailable: str, missing: str) -> T:
    """What `make` returns; 503 with `unavailable` without a speech engine, 404 with `missing`
    when there is nothing to read."""
    try:
        found = await make()
    except EngineUnavailable as exc:
        raise HTTPException(503, unavailable) from exc
    if found is None:
        raise HTTPException(404, missing)
    return found


async def _clip(request: Request, policy_id: int, fmt: str) -> VoiceClip:
    return await _made(lambda: _voice(request).policy_clip(policy_id, fmt),
                       "语音播报暂不可用（服务器未安装语音引擎），请查看政策全文",
                       "这份政策没有语音播报（未发布、已失效或已废止）")


@router.get("/p/{policy_id}/listen")
async def listen_page(request: Request, policy_id: PublicId) -> Response:
    async with request.app.state.db.reader() as session:
        try:
            policy = await policies.get_policy(session, policy_id)
        except NotFound as exc:
            raise HTTPException(404, "没有找到这份政策") from exc
        if policy.status != "published":
            raise HTTPException(404, "这份政策已失效或尚未发布，没有语音播报")
        points = await posters.policy_key_points(session, policy, request.app.state.settings.consultation_phone)
    mp3 = await _clip(request, policy_id, MP3)
    return templates.TemplateResponse(request, "public/listen.html", {
        "title": policy.title, "script": reading_script(points),
        "intro": "点击播放，收听这份政策的要点（谁可以申请、可以享受什么、截止时间、怎么申请、咨询电话）。",
        "ogg_url": f"/p/{policy.id}/audio.ogg",
        "mp3_urls": [f"/p/{policy.id}/audio-{n}.mp3" for n in range(1, len(mp3.parts) + 1)],
        "back_url": f"/p/{policy.id}", "back_label": "查看政策全文",
    })


@router.get("/p/{policy_id}/audio.ogg")
async def audio_ogg(request: Request, policy_id: PublicId) -> Response:
    clip = await _clip(request, policy_id, OGG)
    return FileResponse(clip.parts[0], media_type="audio/ogg", headers={"Cache-Control": AUDIO_CACHE})


@router.get("/p/{policy_id}/audio-{part}.mp3")
async def audio_mp3(request: Request, policy_id: PublicId, part: Annotated[int, Path(ge=1, le=20)]) -> Response:
    clip = await _clip(request, policy_id, MP3)
    if part > len(clip.parts):
        raise HTTPException(404, "没有这一段语音")
    return FileResponse(clip.parts[part - 1], media_type="audio/mpeg", headers={"Cache-Control": AUDIO_CACHE})


async def _faq(request: Request, faq_id: int, fmt: str) -> tuple[str, list[str], VoiceClip]:
    return await _made(lambda: _voice(request).faq_clip(faq_id, fmt),
                       "语音播报暂不可用（服务器未安装语音引擎）", "没有找到这条常见问题")


@router.get("/faq/{faq_id}/listen")
async def faq_listen_page(request: Request, faq_id: PublicId) -> Response:
    question, script, mp3 = await _faq(request, faq_id, MP3)
    return templates.TemplateResponse(request, "public/listen.html", {
        "title": question, "script": script, "intro": "点击播放，收听这条常见问题的解答。",
        "ogg_url": f"/faq/{faq_id}/audio.ogg",
        "mp3_urls": [f"/faq/{faq_id}/audio-{n}.mp3" for n in range(1, len(mp3.parts) + 1)],
        "back_url": "/library", "back_label": "政策文件库",
    })


@router.get("/faq/{faq_id}/audio.ogg")
async def faq_audio_ogg(request: Request, faq_id: PublicId) -> Response:
    _question, _script, clip = await _faq(request, faq_id, OGG)
    return FileResponse(clip.parts[0], media_type="audio/ogg", headers={"Cache-Control": AUDIO_CACHE})


@router.get("/faq/{faq_id}/audio-{part}.mp3")
async def faq_audio_mp3(request: Request, faq_id: PublicId, part: Annotated[int, Path(ge=1, le=20)]) -> Response:
    _question, _script, clip = await _faq(request, faq_id, MP3)
    if part > len(clip.parts):
        raise HTTPException(404, "没有这一段语音")
    return FileResponse(clip.parts[part - 1], media_type="audio/mpeg", headers={"Cache-Control": AUDIO_CACHE})
