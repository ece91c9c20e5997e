"""The channel-agnostic dialogue: one incoming event in, channel-neutral replies out.

Front ends (Telegram, WeChat, web chat) build a `Turn` (unit of work, subscriber, saved
conversation), call one of `start`, `text`, `command`, `press`, `non_text`, render the
replies and save `turn.conversation`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from bot import texts
from bot.dialogue import (
    binding,
    claims,
    hubs,
    library,
    menus,
    onboarding,
    posters,
    pushed,
    questions,
    subscribing,
    voice,
)
from bot.dialogue.answers import Answerer
from bot.dialogue.calculator import CalculatorChat
from bot.dialogue.context import Step, Turn
from bot.dialogue.intents import COMMANDS, Intent, parse
from bot.dialogue.replies import Reply
from core.errors import DomainError
from push.service import poster_of_payload
from subscriptions.views import SubscriberView
from vocabulary.actions import Action, Kind, decode

MAX_TEXT_CHARS = 1000  # longer messages are not questions; the Q&A engine reads at most 200 anyway
_NUMBERS = re.compile(r"^\d{1,3}(?:[\s,，、]+\d{1,3})*$")
_POLICY_PAYLOAD = re.compile(r"^p(\d{1,10})$")

Handler = Callable[[Turn, Action], Awaitable[list[Reply]]]


def is_new(sub: SubscriberView) -> bool:
    return not (sub.topics or sub.keywords or sub.all_topics or sub.recommend_by_profile)


class Dialogue:
    def __init__(self, answerer: Answerer, *, base_url: str, phone: str,
                 bind_targets: binding.BindTargets | None = None, link_secret: str = "") -> None:
        self.answerer = answerer
        self.bind_targets = bind_targets or binding.BindTargets()
        self.base_url = base_url.rstrip("/")
        self.phone = phone
        self.link_secret = link_secret  # verifies the signed poster payload of /start
        self.calculator = CalculatorChat(self.base_url, phone)
        self._press: dict[str, Handler] = {
            Kind.CALCULATOR: self.calculator.press,
            Kind.ACK: lambda t, a: pushed.acknowledge(t, a.number),
            Kind.UNSUB: lambda t, a: pushed.unsubscribe_like_this(t, a.number),
            Kind.FORWARD: lambda t, a: pushed.forward_to_members(t, a.number),
            Kind.INTERPRET: lambda t, a: library.interpretation(t, a.number, self.base_url),
            Kind.ASK: lambda t, a: questions.ask_about(t, a.number, self.base_url, self.phone),
            Kind.OPEN: lambda t, a: library.open_policy(t, a.number, self.base_url),
            Kind.FEEDBACK: lambda t, a: questions.feedback(t, a.arg, self.answerer, self.phone),
            Kind.PERSON: lambda t, a: onboarding.choose_person(t, a.arg),
            Kind.TOWNSHIP: lambda t, a: onboarding.choose_township(t, a.arg),
            Kind.TOPIC: lambda t, a: subscribing.toggle_topic(t, a.arg),
            Kind.ALL_TOPICS: lambda t, a: subscribing.toggle_all_topics(t),
            Kind.TOPICS_DONE: lambda t, a: onboarding.topics_done(t),
            Kind.FREQUENCY: lambda t, a: onboarding.choose_frequency(t, a.arg),
            Kind.SKIP_ENTERPRISE: lambda t, a: onboarding.skip_enterprise(t),
            Kind.MENU: self._menu,
            Kind.POSTER_SUBSCRIBE: lambda t, a: posters.subscribe_like_this(t, a.number, self.base_url),
            Kind.POSTER_ASK: lambda t, a: posters.ask_from_poster(t, a.number, self.base_url, self.phone),
        }

    # --- entry points ---------------------------------------------------------------------

    async def start(self, turn: Turn, payload: str = "") -> list[Reply]:
        """First contact, /start with an optional deep-link payload, or a WeChat follow."""
        payload = (payload or "").strip()
        return await self._guarded(turn, lambda: self._start(turn, payload))

    async def text(self, turn: Turn, text: str) -> list[Reply]:
        return await self._guarded(turn, lambda: self._text(turn, text or ""))

    async def command(self, turn: Turn, name: str, args: str = "") -> list[Reply]:
        """A Telegram command (without the slash); unknown commands get the list of real ones."""
        intent = COMMANDS.get(name.lower())
        if intent is None:
            return [Reply(texts.UNKNOWN_COMMAND.format(command="/" + name[:32]), menus.main_menu(turn.subscriber))]
        if intent == Intent.SETUP:
            return await self.start(turn, args)
        return await self._guarded(turn, lambda: self._intent(turn, intent, args))

    async def press(self, turn: Turn, action: str) -> list[Reply]:
        parsed = decode(action)
        handler = self._press.get(parsed.kind)
        if handler is None:
            return [Reply(texts.STALE_BUTTON, menus.main_menu(turn.subscriber), notice=texts.STALE_BUTTON)]
        return await self._guarded(turn, lambda: handler(turn, parsed))

    async def non_text(self, turn: Turn, kind: str) -> list[Reply]:
        return [Reply(texts.NON_TEXT.get(kind, texts.NON_TEXT_DEFAULT), menus.main_menu(turn.subscriber))]

    # --- behaviour ------------------------------------------------------------------------

    async def _guarded(self, turn: Turn, run: Callable[[], Awaitable[list[Reply]]]) -> list[Reply]:
        """Bad input a service refused becomes its Chinese message, never a crash."""
        try:
            return await run()
        except DomainError as exc:
            return [Reply(f"{exc.message}\n{texts.NEXT_STEPS}", menus.main_menu(turn.subscriber))]

    async def _start(self, turn: Turn, payload: str) -> list[Reply]:
        if payload.startswith(binding.PAYLOAD_PREFIX):
            return await binding.redeem(turn, payload[len(binding.PAYLOAD_PREFIX):])
        if payload.startswith("hub-"):
            return await hubs.follow_invite(turn, payload)
        poster_id = poster_of_payload(payload, self.link_secret)
        if poster_id is not None:
            return await posters.start_from_poster(turn, poster_id, self.base_url)
        policy = _POLICY_PAYLOAD.match(payload)
        if policy:
            return await library.open_policy(turn, int(policy.group(1)), self.base_url)
        if is_new(turn.subscriber):
            return await onboarding.begin(turn)
        turn.conversation.reset()
        return [Reply(texts.WELCOME_BACK, menus.main_menu(turn.subscriber))]

    async def _text(self, turn: Turn, text: str) -> list[Reply]:
        text = text.strip()
        if not text:
            return [Reply(texts.EMPTY_MESSAGE, menus.main_menu(turn.subscriber))]
        if len(text) > MAX_TEXT_CHARS:
            return [Reply(texts.TOO_LONG.format(limit=MAX_TEXT_CHARS))]
        typed = await self.calculator.typed(turn, text)  # before numbered options: an age is a number too
        if typed is not None:
            return typed
        options = turn.conversation.data.get("options") or []
        if options and _NUMBERS.match(text):
            return await self._numbered(turn, text, options)
        step_reply = await self._in_step(turn, text)
        if step_reply is not None:
            return step_reply
        parsed = parse(text)
        return await self._intent(turn, parsed.intent, parsed.rest)

    async def _numbered(self, turn: Turn, text: str, options: list[str]) -> list[Reply]:
        """Channels without buttons list them numbered; "3" or "1 4 5" presses them."""
        replies: list[Reply] = []
        for number in (int(n) for n in re.split(r"[\s,，、]+", text)):
            if not 1 <= number <= len(options):
                return [Reply(texts.BAD_OPTION.format(n=number))]
            replies = await self.press(turn, options[number - 1])
        return replies

    async def _in_step(self, turn: Turn, text: str) -> list[Reply] | None:
        """Typed answers inside the set-up flow; None hands the text to the ordinary intents
        (so a question asked mid-flow is answered, and the flow simply ends)."""
        step = turn.conversation.step
        if step == Step.IDLE:
            return None
        parsed = parse(text)
        if step == Step.ENTERPRISE:
            if parsed.intent != Intent.QUESTION or not re.search(r"[0-9A-Za-z]{10}", text):
                turn.conversation.reset()
                return None
            return await onboarding.register_enterprise(turn, text)
        menu = self._menu_of(turn, step)
        wanted = menus.label_key(text)
        for button in (b for row in menu for b in row):
            if button.action and menus.label_key(button.label) == wanted:
                return await self.press(turn, button.action)
        if step == Step.TOPICS:
            found, unknown = subscribing.resolve_topics(subscribing.split_words(text))
            if found and not unknown:
                return await subscribing.subscribe(turn, text)
        turn.conversation.reset()
        return None

    @staticmethod
    def _menu_of(turn: Turn, step: str) -> tuple[tuple[object, ...], ...]:
        return {
            Step.PERSON: menus.person_menu,
            Step.TOWNSHIP: menus.township_menu,
            Step.TOPICS: lambda: menus.topics_menu(turn.subscriber),
            Step.FREQUENCY: menus.frequency_menu,
        }.get(step, lambda: ())()

    async def _intent(self, turn: Turn, intent: str, rest: str) -> list[Reply]:
        if intent != Intent.QUESTION:
            turn.conversation.reset()
        if intent == Intent.SUBSCRIBE:
            return await subscribing.subscribe(turn, rest)
        if intent == Intent.UNSUBSCRIBE:
            return await subscribing.unsubscribe(turn, rest)
        if intent == Intent.MY:
            return await subscribing.my_subscriptions(turn)
        if intent == Intent.LATEST:
            return await library.latest(turn, self.base_url)
        if intent == Intent.HELP:
            return [Reply(texts.HELP.format(phone=self.phone), menus.main_menu(turn.subscriber))]
        if intent == Intent.PAUSE:
            return await subscribing.pause(turn)
        if intent == Intent.RESUME:
            return await subscribing.resume(turn)
        if intent == Intent.SETUP:
            return await onboarding.begin(turn, welcome=texts.SETUP_AGAIN)
        if intent == Intent.ACK:
            return await pushed.acknowledge_latest(turn)
        if intent == Intent.VOICE_ON:
            return await voice.turn_on(turn)
        if intent == Intent.VOICE_OFF:
            return await voice.turn_off(turn)
        if intent == Intent.CALCULATOR:
            return await self.calculator.begin(turn)
        if intent == Intent.BIND:
            return await (binding.redeem(turn, rest) if rest else binding.offer(turn, self.bind_targets))
        if intent in claims.INTENTS:
            return await claims.handle(turn, intent, rest)
        return await questions.ask(turn, rest, self.answerer, self.base_url, self.phone)

    async def _menu(self, turn: Turn, action: Action) -> list[Reply]:
        simple = {
            "my": Intent.MY, "latest": Intent.LATEST, "help": Intent.HELP, "pause": Intent.PAUSE,
            "resume": Intent.RESUME, "setup": Intent.SETUP, "unsuball": Intent.UNSUBSCRIBE,
            "bind": Intent.BIND,
        }
        if action.arg in simple:
            return await self._intent(turn, simple[action.arg], "")
        if action.arg == "sub":
            turn.conversation.reset()
            return await subscribing.show_topics(turn)
        if action.arg == "freq":
            turn.conversation.reset()
            return await subscribing.show_frequency(turn)
        return [Reply(texts.STALE_BUTTON, menus.main_menu(turn.subscriber))]
