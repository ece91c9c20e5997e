"""The set-up flow: who are you → township → topics → delivery preference → (enterprise)
credit code. Each step is skippable, each answer is saved at once (an abandoned flow keeps
what was given), and the whole flow can be run again with “设置”."""

from __future__ import annotations

import re

from bot import texts
from bot.dialogue import claims, hubs, menus, subscribing
from bot.dialogue.context import Step, Turn
from bot.dialogue.replies import Reply
from core.errors import DomainError
from subscriptions import service as subscriptions
from vocabulary import taxonomy

PERSON_LABELS = {"resident": texts.BTN_RESIDENT, "enterprise": texts.BTN_ENTERPRISE, "hub": texts.BTN_HUB}
# Who a contact says it is decides which policies it wants by default.
PERSON_AUDIENCE = {"resident": "resident", "enterprise": "enterprise", "hub": "both"}
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}")


async def begin(turn: Turn, *, welcome: str = texts.WELCOME_NEW) -> list[Reply]:
    turn.conversation.reset()
    turn.conversation.data["onboarding"] = True
    turn.conversation.step = Step.PERSON
    return [Reply(welcome), Reply(texts.ASK_KIND, menus.person_menu())]


async def choose_person(turn: Turn, choice: str) -> list[Reply]:
    said = texts.SKIPPED
    if choice in PERSON_AUDIENCE:
        turn.subscriber = await subscriptions.set_audience(turn.session, turn.subscriber.id, PERSON_AUDIENCE[choice])
        turn.conversation.data["person"] = choice
        said = texts.KIND_SET.format(label=PERSON_LABELS[choice])
        if choice == "hub":
            said += "\n" + texts.HUB_NOTE
    turn.conversation.step = Step.TOWNSHIP
    return [Reply(said, replace=True), Reply(texts.ASK_TOWNSHIP, menus.township_menu())]


async def choose_township(turn: Turn, choice: str) -> list[Reply]:
    said = texts.SKIPPED
    region = taxonomy.region_by_code(choice)
    if region is not None and region.kind == "township":
        turn.subscriber = await subscriptions.set_townships(turn.session, turn.subscriber.id, [region.code])
        said = texts.TOWNSHIP_SET.format(name=region.name)
    elif choice == "county":
        turn.subscriber = await subscriptions.set_townships(turn.session, turn.subscriber.id, [])
        said = texts.WHOLE_COUNTY_SET
    if not turn.conversation.data.get("onboarding"):
        turn.conversation.reset()
        return [Reply(said, menus.main_menu(turn.subscriber), replace=True)]
    replies = [Reply(said, replace=True)]
    return replies + await subscribing.show_topics(turn, prompt=texts.ASK_TOPICS)


async def topics_done(turn: Turn) -> list[Reply]:
    chosen = "全部主题" if turn.subscriber.all_topics else subscribing.topic_names(turn.subscriber.topics)
    said = texts.SUBSCRIBED_TOPICS.split("\n", 1)[0].format(names=chosen) if chosen else texts.SKIPPED
    if not turn.conversation.data.get("onboarding"):
        turn.conversation.reset()
        return [Reply(said, replace=True), Reply(texts.NEXT_STEPS, menus.main_menu(turn.subscriber))]
    turn.conversation.step = Step.FREQUENCY
    return [Reply(said, replace=True), Reply(texts.ASK_FREQUENCY, menus.frequency_menu())]


async def choose_frequency(turn: Turn, choice: str) -> list[Reply]:
    said = texts.SKIPPED
    if choice in subscribing.FREQUENCY_LABELS:
        said = await subscribing.set_frequency(turn, choice)
    if not turn.conversation.data.get("onboarding"):
        turn.conversation.reset()
        return [Reply(said, menus.main_menu(turn.subscriber), replace=True)]
    if turn.conversation.data.get("person") == "enterprise" and turn.subscriber.enterprise_id is None:
        turn.conversation.step = Step.ENTERPRISE
        return [Reply(said, replace=True), Reply(texts.ASK_CREDIT_CODE, menus.enterprise_menu())]
    return [Reply(said, replace=True), *await finish(turn)]


async def skip_enterprise(turn: Turn) -> list[Reply]:
    if turn.conversation.data.get("onboarding"):
        return [Reply(texts.SKIPPED, replace=True), *await finish(turn)]
    turn.conversation.reset()
    return [Reply(texts.SKIPPED + texts.NEXT_STEPS, menus.main_menu(turn.subscriber), replace=True)]


async def finish(turn: Turn) -> list[Reply]:
    turn.conversation.reset()
    mine = await subscriptions.my_subscriptions(turn.session, turn.subscriber.id)
    return [Reply(texts.ONBOARDING_DONE.format(summary=mine.text) + "\n" + texts.NEXT_STEPS,
                  menus.main_menu(turn.subscriber))]


def parse_enterprise(text: str) -> tuple[str | None, str]:
    """(credit code or None, enterprise name) from "91640424MA76XXXXXX 泾源县某某公司"."""
    compact = text.strip()
    found = _CREDIT_CODE.search(compact)
    if found is None:
        return None, compact
    code = found.group(0).upper()
    name = (compact[: found.start()] + " " + compact[found.end():]).strip(" ，,：:")
    return code, name


async def register_enterprise(turn: Turn, text: str) -> list[Reply]:
    """Text received while waiting for "credit code + name". A new enterprise is registered
    (unverified) with this contact; an existing one is never changed or joined on the user's
    word: a pending claim is filed instead (see `subscriptions.claims`)."""
    if subscriptions.looks_like_invite(text):
        return await claims.redeem(turn, text)
    code, name = parse_enterprise(text)
    if code is None:
        return [Reply(texts.CREDIT_CODE_BAD.format(problem="没有找到18位统一社会信用代码。"), menus.enterprise_menu())]
    if not name:
        return [Reply(texts.CREDIT_CODE_NEEDS_NAME, menus.enterprise_menu())]
    try:
        outcome = await subscriptions.register_from_chat(turn.session, turn.subscriber.id, name=name, credit_code=code)
    except DomainError as exc:
        return [Reply(texts.CREDIT_CODE_BAD.format(problem=exc.message), menus.enterprise_menu())]
    turn.subscriber = await subscriptions.get_subscriber(turn.session, turn.subscriber.id)
    invite = turn.conversation.data.pop("invite", None)
    if outcome.outcome == "claimed":
        said = texts.ENTERPRISE_CLAIM_PENDING + ("\n" + texts.HUB_JOIN_AFTER_CLAIM if invite else "")
        replies = [Reply(said)]
    else:
        assert outcome.enterprise is not None
        turn.subscriber = await subscriptions.set_recommend_by_profile(turn.session, turn.subscriber.id, True)
        created = outcome.outcome == "created"
        template = texts.ENTERPRISE_SAVED_UNVERIFIED if created else texts.ENTERPRISE_ALREADY_CONTACT
        replies = [Reply(template.format(name=outcome.enterprise.name))]
        if invite:
            replies += await hubs.join(turn, str(invite))
    if turn.conversation.data.get("onboarding"):
        return replies + await finish(turn)
    turn.conversation.reset()
    replies[-1] = Reply(replies[-1].text + "\n" + texts.NEXT_STEPS, menus.main_menu(turn.subscriber))
    return replies
