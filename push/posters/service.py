"""The one door into QR posters for `web`, `bot`, `run.py` and the benches.

Making posters (the caller checks the clerk may act for the policy's agency):
    await create_posters(session, policy_id, [PlaceInput], actor, batch="") -> [PosterView]
    await poster_pages(session, [poster ids], base_url, secret, phone) -> [PosterPage]
    await mark_printed(session, [poster ids])
    shared_layout().pdf(pages) / .png(page)      (blocking: run in a thread)
Scans (public):
    await open_scan(session, code, secret, ip, user_agent) -> ScanOutcome
Credits (chat):
    await credit(session, poster_id, CreditKind.X, subscriber_id, channel) -> bool
Figures:
    await posters_with_counts(session, policy_id=None) -> [PosterRow]
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now as clock_now
from core.clock import today_in_china
from core.errors import NotFound, ValidationFailed
from policies import service as policies
from policies.service import find_doc_nos
from policies.views import PolicyView
from push.posters import store
from push.posters.content import PlaceHasPersonalData, PolicyKeyPoints, checked_place, key_points
from push.posters.layout import PosterPage
from push.posters.links import poster_code, poster_id_of, poster_link
from push.posters.models import CreditKind, PlaceKind, Poster, PosterCredit, PosterScan
from push.posters.store import PosterCounts
from vocabulary.codes import PolicyStatus

__all__ = [
    "CreditKind",
    "PlaceInput",
    "PlaceKind",
    "PosterCounts",
    "PosterPage",
    "PosterRow",
    "PosterView",
    "ScanOutcome",
    "chat_payload",
    "create_posters",
    "credit",
    "get_poster",
    "mark_printed",
    "open_scan",
    "policy_key_points",
    "poster_code",
    "poster_id_of",
    "poster_link",
    "poster_of_payload",
    "poster_pages",
    "posters_with_counts",
    "successor_of",
    "visitor_key",
    "wechat_scene",
]

MAX_PLACES_PER_BATCH = 500
WECHAT_SCENE_PREFIX = "p:"  # scene_str of the poster's WeChat parametric code
CHAT_PAYLOAD_PREFIX = "q"  # /start payload (Telegram, web chat) of a chat opened from a poster


@dataclass(frozen=True)
class PlaceInput:
    name: str
    kind: str = PlaceKind.OTHER
    township: str = ""


@dataclass(frozen=True)
class PosterView:
    id: int
    policy_id: int
    policy_title: str
    place_name: str
    place_kind: str
    township: str
    batch: str
    created_by: str
    created_at: datetime
    printed_at: datetime | None
    print_count: int
    wechat_qr_url: str

    @property
    def place_label(self) -> str:
        kind = PlaceKind.LABELS.get(self.place_kind, "")
        where = f"{self.township} {self.place_name}" if self.township else self.place_name
        return f"{where}（{kind}）" if kind and kind not in self.place_name else where


@dataclass(frozen=True)
class PosterRow:
    poster: PosterView
    counts: PosterCounts


def _view(p: Poster) -> PosterView:
    return PosterView(p.id, p.policy_id, p.policy_title, p.place_name, p.place_kind, p.township, p.batch,
                      p.created_by, p.created_at, p.printed_at, p.print_count, p.wechat_qr_url)


def wechat_scene(poster_id: int) -> str:
    return f"{WECHAT_SCENE_PREFIX}{int(poster_id)}"


def chat_payload(poster_id: int, secret: str) -> str:
    """Deep-link payload (Telegram `/start`, web chat `?start=`) of a chat opened from a poster."""
    return CHAT_PAYLOAD_PREFIX + poster_code(poster_id, secret)


def poster_of_payload(payload: str, secret: str) -> int | None:
    """The poster a chat start came from: a WeChat scene "p:<id>" (or "qrscene_p:<id>", the form
    of a follow event), or a signed chat payload "q<code>"; None for anything else."""
    payload = (payload or "").strip()
    if payload.startswith("qrscene_"):
        payload = payload[len("qrscene_"):]
    if payload.startswith(WECHAT_SCENE_PREFIX):
        number = payload[len(WECHAT_SCENE_PREFIX):]
        return int(number) if number.isdigit() and 0 < len(number) < 12 else None
    if payload.startswith(CHAT_PAYLOAD_PREFIX) and secret:
        return poster_id_of(payload[len(CHAT_PAYLOAD_PREFIX):], secret)
    return None


def visitor_key(secret: str, day: date, ip: str, user_agent: str) -> str:
    """Counts a visitor once a day without keeping the address: keyed by the app's secret and
    the day, so it cannot be reversed by trying every address, nor followed across days."""
    message = f"{day.isoformat()}|{ip}|{user_agent[:300]}".encode()
    return hmac.new(f"poster-visitor:{secret}".encode(), message, hashlib.sha256).hexdigest()[:40]


async def get_poster(session: AsyncSession, poster_id: int) -> PosterView:
    found = await store.poster(session, poster_id)
    if found is None:
        raise NotFound(f"没有编号为 {poster_id} 的海报", field="poster_id")
    return _view(found)


async def create_posters(session: AsyncSession, policy_id: int, places: Sequence[PlaceInput], actor: str,
                         *, batch: str = "", now: datetime | None = None) -> list[PosterView]:
    """One poster per place for a published policy; place names with personal data are refused."""
    policy = await policies.get_policy(session, policy_id)
    if policy.status != PolicyStatus.PUBLISHED:
        raise ValidationFailed(f"只有有效的政策才能制作海报（当前状态：{policy.validity_label}）", field="policy_id")
    if not places:
        raise ValidationFailed("请至少填写一个张贴地点", field="places")
    if len(places) > MAX_PLACES_PER_BATCH:
        raise ValidationFailed(f"一次最多制作 {MAX_PLACES_PER_BATCH} 张海报", field="places")
    at = now or clock_now()
    rows = []
    for n, place in enumerate(places, 1):
        try:
            name = checked_place(place.name)
        except PlaceHasPersonalData as exc:
            raise ValidationFailed(f"第 {n} 个地点：{exc}", field="places") from exc
        kind = place.kind if place.kind in PlaceKind.ALL else PlaceKind.OTHER
        rows.append(Poster(policy_id=policy.id, policy_title=policy.title, place_name=name, place_kind=kind,
                           township=" ".join(place.township.split())[:100], batch=batch[:40],
                           created_by=actor[:200], created_at=at, print_count=0, wechat_qr_url=""))
    return [_view(p) for p in await store.add_posters(session, rows)]


async def policy_key_points(session: AsyncSession, policy: PolicyView, default_phone: str) -> PolicyKeyPoints:
    revision = await policies.get_revision(session, policy.id)
    interpretation = await policies.get_interpretation(session, policy.id)
    return key_points(policy, revision.body, interpretation, default_phone)


async def poster_pages(session: AsyncSession, poster_ids: Sequence[int], base_url: str, secret: str,
                       default_phone: str) -> list[PosterPage]:
    """What each poster prints, from the policy's current revision."""
    posters = await store.posters_by_ids(session, poster_ids)
    if len(posters) != len(set(poster_ids)):
        raise NotFound("部分海报不存在", field="poster_id")
    points: dict[int, PolicyKeyPoints] = {}
    pages = []
    for p in posters:
        if p.policy_id not in points:
            policy = await policies.get_policy(session, p.policy_id)
            points[p.policy_id] = await policy_key_points(session, policy, default_phone)
        link = poster_link(base_url, p.id, secret)
        pages.append(PosterPage(
            number=str(p.id), place=_view(p).place_label, link=link, short_link=link.split("://", 1)[-1],
            points=points[p.policy_id], wechat_qr_url=p.wechat_qr_url,
            footer=f"{points[p.policy_id].agency}　以政策原文为准",
        ))
    return pages


async def mark_printed(session: AsyncSession, poster_ids: Sequence[int], now: datetime | None = None) -> None:
    await store.mark_printed(session, poster_ids, now or clock_now())


async def set_wechat_qr(session: AsyncSession, poster_id: int, url: str) -> None:
    await store.set_wechat_qr(session, poster_id, url)


@dataclass(frozen=True)
class ScanOutcome:
    poster: PosterView | None  # None: the link is forged, altered or of a deleted poster
    counted: bool = False  # False for a repeat scan by the same visitor on the same day


async def open_scan(session: AsyncSession, code: str, secret: str, *, ip: str, user_agent: str,
                    now: datetime | None = None, record: bool = True) -> ScanOutcome:
    """Verify the signed code and record a "poster scan" hop, once per visitor and day
    (`record=False`: verify only, e.g. for an address over its scan rate)."""
    poster_id = poster_id_of(code, secret)
    found = await store.poster(session, poster_id) if poster_id else None
    if found is None:
        return ScanOutcome(None)
    if not record:
        return ScanOutcome(_view(found))
    at = now or clock_now()
    day = today_in_china(at)
    row = PosterScan(poster_id=found.id, policy_id=found.policy_id, day=day,
                     visitor_key=visitor_key(secret, day, ip, user_agent),
                     in_wechat="MicroMessenger" in user_agent, scanned_at=at)
    return ScanOutcome(_view(found), await store.insert_once(session, row))


async def credit(session: AsyncSession, poster_id: int, kind: str, subscriber_id: int, channel: str,
                 now: datetime | None = None) -> bool:
    """Credit a subscription or consultation to the poster it started from (once per person)."""
    found = await store.poster(session, poster_id)
    if found is None or kind not in CreditKind.LABELS:
        return False
    row = PosterCredit(poster_id=found.id, policy_id=found.policy_id, kind=kind, subscriber_id=subscriber_id,
                       channel=channel, credited_at=now or clock_now())
    return await store.insert_once(session, row)


async def posters_with_counts(session: AsyncSession, policy_id: int | None = None) -> list[PosterRow]:
    posters = await store.posters_of_policies(session, None if policy_id is None else [policy_id])
    counts = await store.counts(session, [p.id for p in posters])
    return [PosterRow(_view(p), counts[p.id]) for p in posters]


async def successor_of(session: AsyncSession, policy: PolicyView) -> PolicyView | None:
    """The valid policy that replaced a repealed or expired one: a 文号 named in the repeal
    reason, else the newest valid policy of the same agency on a shared topic."""
    named: list[str] = []
    for entry in await policies.history(session, policy.id):
        if entry.action in ("repeal", "expire"):
            named.extend(find_doc_nos(entry.detail))
    valid, _ = await policies.list_policies(session, statuses=[PolicyStatus.PUBLISHED], limit=10_000)
    candidates = [p for p in valid if p.id != policy.id]
    for doc_no in named:
        for p in candidates:
            if p.doc_no == doc_no:
                return p
    related = [p for p in candidates if p.agency == policy.agency and set(p.topics) & set(policy.topics)]
    return related[0] if related else None
