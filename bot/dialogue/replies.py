"""What the dialogue core answers: channel-neutral text and buttons each front end renders."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    """A choice offered to the user: an `action` (see `vocabulary.actions`) or a `url`."""

    label: str
    action: str = ""
    url: str = ""


@dataclass(frozen=True)
class Reply:
    """One message. `text` is plain text (front ends escape it). `replace` asks the front end to
    edit the message whose button was pressed instead of sending a new one (multi-select)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    replace: bool = False
    notice: str = ""  # a short toast where the channel has one (Telegram callback answer)

    @property
    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


@dataclass
class Replies:
    """Replies of one turn, in order."""

    items: list[Reply] = field(default_factory=list)

    def add(self, text: str, buttons: tuple[tuple[Button, ...], ...] = (), **kw: object) -> None:
        self.items.append(Reply(text, buttons, **kw))  # type: ignore[arg-type]


def rows(buttons: list[Button], per_row: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))
