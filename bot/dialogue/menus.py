"""The button sets the dialogue offers, built from the taxonomy and the subscriber's state."""

from __future__ import annotations

from bot import calculator_texts, texts
from bot.dialogue.replies import Button, rows
from subscriptions.views import SubscriberView
from vocabulary import taxonomy
from vocabulary.actions import Kind, encode

ButtonRows = tuple[tuple[Button, ...], ...]


def main_menu(subscriber: SubscriberView | None = None) -> ButtonRows:
    paused = subscriber is not None and subscriber.preference.paused
    pause = Button(texts.BTN_RESUME, encode(Kind.MENU, "resume")) if paused else Button(
        texts.BTN_PAUSE, encode(Kind.MENU, "pause"))
    return (
        (Button(texts.BTN_MY, encode(Kind.MENU, "my")), Button(texts.BTN_LATEST, encode(Kind.MENU, "latest"))),
        (Button(texts.BTN_SUBSCRIBE, encode(Kind.MENU, "sub")), Button(texts.BTN_HELP, encode(Kind.MENU, "help"))),
        (Button(texts.BTN_SETTINGS, encode(Kind.MENU, "setup")), pause),
        (Button(calculator_texts.BTN_CALCULATOR, encode(Kind.CALCULATOR, "start")),),
    )


def my_menu(subscriber: SubscriberView) -> ButtonRows:
    paused = subscriber.preference.paused
    pause = Button(texts.BTN_RESUME, encode(Kind.MENU, "resume")) if paused else Button(
        texts.BTN_PAUSE, encode(Kind.MENU, "pause"))
    return (
        (Button(texts.BTN_SUBSCRIBE, encode(Kind.MENU, "sub")), Button(texts.BTN_FREQUENCY, encode(Kind.MENU, "freq"))),
        (pause, Button(texts.BTN_UNSUBSCRIBE_ALL, encode(Kind.MENU, "unsuball"))),
        (Button(texts.BTN_LATEST, encode(Kind.MENU, "latest")), Button(texts.BTN_SETTINGS, encode(Kind.MENU, "setup"))),
    )


def person_menu() -> ButtonRows:
    return (
        (
            Button(texts.BTN_RESIDENT, encode(Kind.PERSON, "resident")),
            Button(texts.BTN_ENTERPRISE, encode(Kind.PERSON, "enterprise")),
            Button(texts.BTN_HUB, encode(Kind.PERSON, "hub")),
        ),
        (Button(texts.BTN_SKIP, encode(Kind.PERSON, "skip")),),
    )


def township_menu() -> ButtonRows:
    towns = [Button(r.name, encode(Kind.TOWNSHIP, r.code)) for r in taxonomy.regions() if r.kind == "township"]
    return (
        *rows(towns, 3),
        (Button(texts.BTN_WHOLE_COUNTY, encode(Kind.TOWNSHIP, "county")), Button(texts.BTN_SKIP,
                                                                               encode(Kind.TOWNSHIP, "skip"))),
    )


def offered_topics(subscriber: SubscriberView) -> list[taxonomy.Topic]:
    """Topics for the subscriber's audience, plus any it already has."""
    wanted = subscriber.audience
    return [
        t
        for t in taxonomy.topics()
        if wanted == "both" or t.audience in (wanted, "both") or t.code in subscriber.topics
    ]


def topics_menu(subscriber: SubscriberView) -> ButtonRows:
    chosen = set(subscriber.topics)
    buttons = [
        Button((texts.CHECKED if t.code in chosen else "") + t.name, encode(Kind.TOPIC, t.code))
        for t in offered_topics(subscriber)
    ]
    all_label = (texts.CHECKED if subscriber.all_topics else "") + texts.BTN_ALL_TOPICS
    return (
        *rows(buttons, 2),
        (Button(all_label, encode(Kind.ALL_TOPICS)), Button(texts.BTN_DONE, encode(Kind.TOPICS_DONE))),
    )


def frequency_menu(with_skip: bool = True) -> ButtonRows:
    choices = (
        (Button(texts.BTN_IMMEDIATE, encode(Kind.FREQUENCY, "immediate")),),
        (Button(texts.BTN_DAILY, encode(Kind.FREQUENCY, "daily")),
         Button(texts.BTN_WEEKLY, encode(Kind.FREQUENCY, "weekly"))),
    )
    return (*choices, (Button(texts.BTN_SKIP, encode(Kind.FREQUENCY, "skip")),)) if with_skip else choices


def enterprise_menu() -> ButtonRows:
    return ((Button(texts.BTN_SKIP, encode(Kind.SKIP_ENTERPRISE)),),)


def feedback_buttons(answer_id: int) -> tuple[Button, ...]:
    return (
        Button(texts.BTN_USEFUL, encode(Kind.FEEDBACK, f"{answer_id}.1")),
        Button(texts.BTN_NOT_USEFUL, encode(Kind.FEEDBACK, f"{answer_id}.0")),
    )


def label_key(label: str) -> str:
    """A label as a user would type it: without the check mark and spaces."""
    return label.replace(texts.CHECKED.strip(), "").replace(" ", "").strip()
