"""A free-text question answered with the policy it comes from, and 有用/没用 feedback."""

from __future__ import annotations

from bot import texts
from bot.dialogue import menus
from bot.dialogue.answers import Answerer
from bot.dialogue.context import Turn
from bot.dialogue.library import card_buttons, card_text, find_policy, policy_link
from bot.dialogue.replies import Button, Reply
from bot.dialogue.voice import BTN_READ_ALOUD, faq_listen_url, listen_url
from policies.views import Answer, PolicyRef
from vocabulary.actions import Kind, encode

QUESTION_SHOWN_CHARS = 30


def _facts(ref: PolicyRef) -> str:
    return "，".join(p for p in (ref.doc_no, ref.agency, ref.validity_label) if p)


def answer_text(answer: Answer, base_url: str, phone: str, logged: bool) -> str:
    if answer.kind == "invalid":
        return texts.ASK_IN_CHINESE
    if answer.kind == "small_talk":
        return answer.text
    if answer.kind == "choices" and answer.policy is not None:
        lines = [texts.ANSWER_CHOICES] + [
            texts.ANSWER_ALTERNATIVE_LINE.format(n=n, title=p.title, validity=p.validity_label,
                                                 link=policy_link(base_url, p.policy_id))
            for n, p in enumerate((answer.policy, *answer.alternatives), 1)
        ]
        lines.append(texts.ANSWER_CHOICES_FOOTER.format(phone=answer.phone or phone))
        return "\n".join(lines)
    if not answer.answered or (answer.policy is None and answer.faq_answer is None):
        shown = answer.question if len(answer.question) <= QUESTION_SHOWN_CHARS else (
            answer.question[:QUESTION_SHOWN_CHARS] + "…")
        text = texts.NOT_FOUND.format(question=shown, phone=answer.phone or phone)
        return text + (texts.NOT_FOUND_LOGGED if logged else "")
    lines: list[str] = []
    ref = answer.policy
    if answer.kind == "faq" and answer.faq_answer:
        lines.append(answer.faq_answer)
        if ref is not None:
            lines.append(texts.ANSWER_FAQ_BASIS.format(title=ref.title, facts=_facts(ref),
                                                       link=policy_link(base_url, ref.policy_id)))
    elif ref is not None:
        lines.append(texts.ANSWER_FROM.format(title=ref.title, facts=_facts(ref)))
        if answer.passage is not None:
            lines.append(answer.passage.marked())
        if not ref.is_valid:
            lines.append(texts.ANSWER_NOT_VALID.format(validity=ref.validity_label))
        lines.append(texts.ANSWER_LINK.format(link=policy_link(base_url, ref.policy_id)))
    if answer.alternatives:
        lines.append(texts.ANSWER_ALTERNATIVES)
        lines += [
            texts.ANSWER_ALTERNATIVE_LINE.format(n=n, title=p.title, validity=p.validity_label,
                                                 link=policy_link(base_url, p.policy_id))
            for n, p in enumerate(answer.alternatives, 1)
        ]
    lines.append(texts.ANSWER_NEXT)
    return "\n".join(lines)


def answer_buttons(answer: Answer, base_url: str) -> tuple[tuple[Button, ...], ...]:
    out: list[tuple[Button, ...]] = []
    if answer.answered and answer.answer_id is not None:
        out.append(menus.feedback_buttons(answer.answer_id))
    # 朗读: a knowledge-base answer is read as written; otherwise the cited valid policy's key points.
    read_aloud: tuple[Button, ...] = ()
    if answer.kind == "choices":
        pass
    elif answer.faq_id is not None:
        read_aloud = (Button(BTN_READ_ALOUD, url=faq_listen_url(base_url, answer.faq_id)),)
    elif answer.policy is not None and answer.policy.status == "published":
        read_aloud = (Button(BTN_READ_ALOUD, url=listen_url(base_url, answer.policy.policy_id)),)
    if answer.policy is not None and answer.kind != "choices":
        out.append((Button(texts.BTN_OPEN_PAGE, url=policy_link(base_url, answer.policy.policy_id)), *read_aloud))
    elif read_aloud:
        out.append(read_aloud)
    choices = ((answer.policy, *answer.alternatives) if answer.kind == "choices" and answer.policy is not None
               else answer.alternatives)
    for n, ref in enumerate(choices, 1):
        out.append((Button(f"{n}. {ref.title[:18]}", encode(Kind.OPEN, ref.policy_id)),))
    return tuple(out)


async def ask(turn: Turn, question: str, answerer: Answerer, base_url: str, phone: str) -> list[Reply]:
    answer = await answerer.answer(turn.session, question, channel=turn.channel)
    text = answer_text(answer, base_url, phone, answerer.logs_questions)
    buttons = answer_buttons(answer, base_url)
    if not answer.answered:
        buttons = menus.main_menu(turn.subscriber)
    return [Reply(text, buttons)]


async def feedback(turn: Turn, arg: str, answerer: Answerer, phone: str) -> list[Reply]:
    answer_id, _, useful = arg.partition(".")
    if not answer_id.isdigit() or useful not in ("0", "1"):
        return [Reply(texts.STALE_BUTTON)]
    stored = await answerer.feedback(turn.session, int(answer_id), useful == "1")
    if not stored and answerer.logs_questions:
        return [Reply(texts.FEEDBACK_UNKNOWN)]
    if useful == "1":
        return [Reply(texts.FEEDBACK_THANKS_USEFUL, notice=texts.FEEDBACK_THANKS_USEFUL)]
    return [Reply(texts.FEEDBACK_THANKS_NOT_USEFUL.format(phone=phone))]


async def ask_about(turn: Turn, policy_id: int | None, base_url: str, phone: str) -> list[Reply]:
    """The 我要咨询 button of a pushed policy: show what it is and invite the question."""
    policy = await find_policy(turn, policy_id)
    if policy is None:
        return [Reply(texts.POLICY_GONE, menus.main_menu(turn.subscriber))]
    text = card_text(policy, base_url) + "\n" + texts.ASK_ABOUT_POLICY.format(title=policy.title, phone=phone)
    return [Reply(text, card_buttons(policy, base_url))]
