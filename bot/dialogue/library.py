"""Reading policies in the chat: 最新 (latest for me), one policy's card, its interpretation."""

from __future__ import annotations

from bot import texts
from bot.dialogue import menus
from bot.dialogue.context import Turn
from bot.dialogue.replies import Button, Reply, rows
from bot.dialogue.voice import BTN_READ_ALOUD, listen_url
from core.errors import NotFound
from policies import service as policies
from policies.views import PolicyView
from subscriptions.views import SubscriberView
from vocabulary.actions import Kind, encode

LATEST_COUNT = 5
SCAN_LIMIT = 200  # newest published policies looked at when filtering for the subscriber
SUMMARY_CHARS = 160


def policy_link(base_url: str, policy_id: int) -> str:
    return f"{base_url}/p/{policy_id}"


def _for_subscriber(policy: PolicyView, sub: SubscriberView) -> bool:
    if sub.audience != "both" and policy.audience not in (sub.audience, "both", ""):
        return False
    if sub.all_topics or not sub.topics:
        return True
    return bool(set(policy.topics) & set(sub.topics))


async def latest(turn: Turn, base_url: str) -> list[Reply]:
    published, _ = await policies.list_policies(turn.session, statuses=["published"], limit=SCAN_LIMIT)
    if not published:
        return [Reply(texts.LATEST_EMPTY, menus.main_menu(turn.subscriber))]
    sub = turn.subscriber
    mine = [p for p in published if _for_subscriber(p, sub)][:LATEST_COUNT]
    if mine and (sub.topics or sub.all_topics):
        header = texts.LATEST_HEADER_FOR_YOU
    elif mine:
        header = texts.LATEST_HEADER_ALL
    else:
        header, mine = texts.LATEST_NOTE_NO_MATCH, published[:LATEST_COUNT]
    lines = [header]
    for n, policy in enumerate(mine, 1):
        doc_no = f"（{policy.doc_no}）" if policy.doc_no else ""
        lines.append(texts.LATEST_LINE.format(n=n, title=policy.title, doc_no=doc_no,
                                              link=policy_link(base_url, policy.id)))
    lines.append(texts.LATEST_FOOTER)
    buttons = [Button(f"{n}. {_short(p.title)}", encode(Kind.OPEN, p.id)) for n, p in enumerate(mine, 1)]
    return [Reply("\n".join(lines), rows(buttons, 1))]


def _short(title: str, limit: int = 18) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


async def find_policy(turn: Turn, policy_id: int | None) -> PolicyView | None:
    """A released policy (published, expired or repealed), or None."""
    if policy_id is None:
        return None
    try:
        policy = await policies.get_policy(turn.session, policy_id)
    except NotFound:
        return None
    # Drafts are not public: a forged button or link must not show them.
    return policy if policy.status in ("published", "expired", "repealed") else None


def card_text(policy: PolicyView, base_url: str) -> str:
    lines = [
        texts.CARD_TITLE.format(title=policy.title),
        texts.CARD_FACTS.format(doc_no=policy.doc_no or texts.NO_DOC_NO, agency=policy.agency,
                                validity=policy.validity_label),
    ]
    summary = policy.summary or policy.benefits
    if summary:
        lines.append(summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1] + "…")
    if not policy.is_valid:
        lines.append(texts.CARD_NOT_VALID.format(validity=policy.validity_label))
    lines.append(texts.CARD_LINK.format(link=policy_link(base_url, policy.id)))
    return "\n".join(lines)


def card_buttons(policy: PolicyView, base_url: str) -> tuple[tuple[Button, ...], ...]:
    read_aloud = (Button(BTN_READ_ALOUD, url=listen_url(base_url, policy.id)),) if policy.is_valid else ()
    return (
        (Button(texts.BTN_OPEN_PAGE, url=policy_link(base_url, policy.id)),
         Button(texts.BTN_ASK, encode(Kind.ASK, policy.id)), *read_aloud),
        (Button(texts.BTN_LATEST, encode(Kind.MENU, "latest")), Button(texts.BTN_MY, encode(Kind.MENU, "my"))),
    )


async def open_policy(turn: Turn, policy_id: int | None, base_url: str) -> list[Reply]:
    policy = await find_policy(turn, policy_id)
    if policy is None:
        return [Reply(texts.POLICY_GONE, menus.main_menu(turn.subscriber))]
    text = card_text(policy, base_url) + "\n" + texts.CARD_NEXT.format(example="谁可以申请")
    return [Reply(text, card_buttons(policy, base_url))]


async def interpretation(turn: Turn, policy_id: int | None, base_url: str) -> list[Reply]:
    policy = await find_policy(turn, policy_id)
    if policy is None:
        return [Reply(texts.POLICY_GONE, menus.main_menu(turn.subscriber))]
    found = await policies.get_interpretation(turn.session, policy.id)
    link = policy_link(base_url, policy.id)
    if found is None or not found.elements:
        return [Reply(texts.INTERPRETATION_MISSING.format(link=link), card_buttons(policy, base_url))]
    lines = [texts.INTERPRETATION_HEADER.format(title=policy.title)]
    for key in ("key_points", "scope", "standards", "eligibility", "notes"):
        value = found.elements.get(key)
        if value:
            lines.append(f"· {value}")
    if found.unit or found.phone:
        lines.append(texts.INTERPRETATION_PHONE.format(unit=found.unit or policy.agency, phone=found.phone or "—"))
    lines.append(texts.CARD_LINK.format(link=link))
    return [Reply("\n".join(lines), card_buttons(policy, base_url))]
