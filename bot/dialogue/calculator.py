"""The 政策计算器 flow in the chats: a few questions by buttons (and the age typed), or the
profile already registered, then the items the asker qualifies for, may qualify for (需核实)
and nearly qualifies for, with amount, deadline, how to apply and the phone, and a link to the
public page with the same answers.

The answers so far live in `conversation.data["calc"]` (small JSON), so the flow survives
between turns on every channel; `data["calc"]["await"]` marks that a typed age is expected."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from bot import calculator_texts as texts
from bot.dialogue.context import Turn
from bot.dialogue.replies import Button, Reply, rows
from core.clock import today_in_china
from policies.service import CatalogueCache, allowed_options, cards, how_to_get, yuan_text
from policies.views import SIZE_LABELS, STANDING_LABELS, AnswerCard, CalculatorResult, Profile, Standing
from subscriptions.service import registered_profile
from vocabulary.actions import Action, Kind, encode

SHOWN_PER_GROUP = 3
UNSURE = "-"
NONE_OF_THEM = "none"
DONE = "ok"


def _button(label: str, arg: str) -> Button:
    return Button(label, encode(Kind.CALCULATOR, arg))


def _state(turn: Turn) -> dict[str, Any]:
    state = turn.conversation.data.get("calc")
    if not isinstance(state, dict):
        state = turn.conversation.data["calc"] = {}
    return state


class CalculatorChat:
    def __init__(self, base_url: str, phone: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.phone = phone
        self.catalogue = CatalogueCache()

    # --- entry points -----------------------------------------------------------------

    async def begin(self, turn: Turn) -> list[Reply]:
        turn.conversation.data["calc"] = {}
        choices = [_button(texts.BTN_ENTERPRISE, "k.enterprise"), _button(texts.BTN_RESIDENT, "k.resident")]
        if await registered_profile(turn.session, turn.subscriber) is not None:
            choices.append(_button(texts.BTN_MINE, "mine"))
        return [Reply(texts.ASK_KIND, (tuple(choices),))]

    async def press(self, turn: Turn, action: Action) -> list[Reply]:
        what, _, value = action.arg.partition(".")
        state = _state(turn)
        state.pop("await", None)
        if what == "start":
            return await self.begin(turn)
        if what == "mine":
            profile = await registered_profile(turn.session, turn.subscriber)
            return await self.begin(turn) if profile is None else await self._result(turn, profile, {})
        if what == "k" and value in ("enterprise", "resident"):
            state.clear()
            state["kind"] = value
            if turn.subscriber.township:
                state["township"] = turn.subscriber.township
                return self._next(turn, state)
            return [self._ask_township()]
        if "kind" not in state:
            return await self.begin(turn)  # a button from an old result: start again
        if what in ("t", "i", "s"):
            state[{"t": "township", "i": "industry", "s": "size"}[what]] = None if value == UNSURE else value
            return self._next(turn, state)
        if what in ("q", "g"):
            return await self._toggle(turn, state, "qualifications" if what == "q" else "groups", value)
        if what == "a":  # 跳过 the age
            state["age"] = None
            return await self._finish(turn, state)
        return await self.begin(turn)

    async def typed(self, turn: Turn, text: str) -> list[Reply] | None:
        """The typed age while it is expected; None when no answer is expected (or the text is
        not one), so the ordinary dialogue handles it."""
        state = turn.conversation.data.get("calc")
        if not isinstance(state, dict) or state.get("await") != "age":
            return None
        digits = text.strip().removesuffix("周岁").removesuffix("岁").strip()
        if not digits.isdigit():
            state.pop("await", None)
            return None
        if not 0 <= int(digits) <= 150:
            return [Reply(texts.BAD_AGE, ((_button(texts.BTN_SKIP, "a." + UNSURE),),))]
        state.pop("await", None)
        state["age"] = int(digits)
        return await self._finish(turn, state)

    # --- questions ----------------------------------------------------------------------

    def _ask_township(self) -> Reply:
        towns = [_button(name, f"t.{code}") for code, name in allowed_options()["township"]]
        return Reply(texts.ASK_TOWNSHIP, (*rows(towns, 3), (_button(texts.BTN_UNSURE, "t." + UNSURE),)))

    def _next(self, turn: Turn, state: dict[str, Any]) -> list[Reply]:
        if "township" not in state:
            return [self._ask_township()]
        if state["kind"] == "enterprise":
            if "industry" not in state:
                sections = [_button(name, f"i.{code}") for code, name in allowed_options()["industry"]]
                return [Reply(texts.ASK_INDUSTRY, (*rows(sections, 2), (_button(texts.BTN_UNSURE, "i." + UNSURE),)))]
            if "size" not in state:
                sizes = [_button(label, f"s.{code}") for code, label in SIZE_LABELS.items()]
                return [Reply(texts.ASK_SIZE, (*rows(sizes, 2), (_button(texts.BTN_UNSURE, "s." + UNSURE),)))]
            return [self._choices(state, "qualifications")]
        return [self._choices(state, "groups")]

    def _choices(self, state: dict[str, Any], field: str, replace: bool = False) -> Reply:
        kind, prompt, prefix = (("qualification", texts.ASK_QUALIFICATIONS, "q") if field == "qualifications"
                                else ("person_group", texts.ASK_GROUPS, "g"))
        chosen = set(state.get(f"{field}_picked", []))
        buttons = [_button((texts.CHECKED if code in chosen else "") + name, f"{prefix}.{code}")
                   for code, name in allowed_options()[kind]]
        last = (_button(texts.BTN_NONE_OF_THEM, f"{prefix}.{NONE_OF_THEM}"),
                _button(texts.BTN_UNSURE, f"{prefix}.{UNSURE}"), _button(texts.BTN_DONE, f"{prefix}.{DONE}"))
        return Reply(prompt, (*rows(buttons, 2), last), replace=replace)

    async def _toggle(self, turn: Turn, state: dict[str, Any], field: str, value: str) -> list[Reply]:
        picked: list[str] = state.setdefault(f"{field}_picked", [])
        if value in (DONE, NONE_OF_THEM, UNSURE):
            # 完成 with nothing picked is "none of them" too: the asker looked at the list.
            state[field] = None if value == UNSURE else ([] if value == NONE_OF_THEM else list(picked))
            if field == "groups":
                state["await"] = "age"
                return [Reply(texts.ASK_AGE, ((_button(texts.BTN_SKIP, "a." + UNSURE),),))]
            return await self._finish(turn, state)
        kind = "qualification" if field == "qualifications" else "person_group"
        if value in dict(allowed_options()[kind]):
            picked.remove(value) if value in picked else picked.append(value)
        return [self._choices(state, field, replace=True)]

    # --- the answer ---------------------------------------------------------------------

    async def _finish(self, turn: Turn, state: dict[str, Any]) -> list[Reply]:
        answers = {k: v for k, v in state.items() if k in ("kind", "township", "industry", "size", "qualifications",
                                                              "groups", "age") and v is not None}
        profile = Profile(**{k: frozenset(v) if isinstance(v, list) else v for k, v in answers.items()})
        turn.conversation.data.pop("calc", None)
        return await self._result(turn, profile, answers)

    async def _result(self, turn: Turn, profile: Profile, answers: dict[str, Any]) -> list[Reply]:
        catalogue = await self.catalogue.current(turn.session)
        result = catalogue.calculate(profile, today_in_china())
        url = self._page_url(profile)
        if result.empty:
            return [Reply(texts.NOTHING_FOUND.format(phone=self.phone),
                          ((Button(texts.BTN_FULL_RESULT, url=url),),))]
        # The link is in the text too: Telegram shows link buttons for https addresses only.
        text = self._text(result) + "\n" + texts.FULL_RESULT.format(url=url)
        return [Reply(text, ((Button(texts.BTN_FULL_RESULT, url=url),),))]

    def _text(self, result: CalculatorResult) -> str:
        lines = [texts.RESULT_TITLE]
        if result.qualified_value_yuan:
            lines.append(texts.TOTAL_LINE.format(amount=yuan_text(result.qualified_value_yuan).removesuffix("元")))
        for standing, group in cards(result, self.phone).items():
            count = result.counts[standing]
            if not count:
                continue
            lines.append(texts.GROUP_LINE.format(label=STANDING_LABELS[standing], count=count))
            for n, card in enumerate(group[:SHOWN_PER_GROUP], start=1):
                lines.extend(self._card_lines(n, card, standing))
            if count > SHOWN_PER_GROUP:
                lines.append(texts.MORE_LINE.format(more=count - SHOWN_PER_GROUP))
        return "\n".join(lines)

    @staticmethod
    def _card_lines(n: int, card: AnswerCard, standing: str) -> list[str]:
        lines = [texts.ITEM_LINE.format(n=n, name=card.name, amount=card.amount or "详见政策", deadline=card.deadline),
                 texts.HOW_LINE.format(how=how_to_get(card), phone=card.phone)]
        if card.to_verify:
            lines.append(texts.VERIFY_LINE.format(conditions="；".join(card.to_verify)))
        if standing == Standing.NEARLY and card.missing:
            lines.append(texts.MISSING_LINE.format(conditions="；".join(card.missing)))
        return lines

    def _page_url(self, profile: Profile) -> str:
        params: list[tuple[str, str]] = [("kind", profile.kind or "")]
        for name in ("township", "industry", "size", "age"):
            value = getattr(profile, name)
            if value is not None:
                params.append((name, str(value)))
        for name in ("qualifications", "groups"):
            held = getattr(profile, name)
            if held is not None:
                params.extend((name, code) for code in sorted(held) or [NONE_OF_THEM])
        return f"{self.base_url}/calculator?{urlencode(params)}#results"
