"""The roles every access test walks: one principal per row, as an API token and as a
console account, so that a rule is checked for all of them, not for the one in mind."""

from __future__ import annotations

from dataclasses import dataclass

from core.db import Database
from subscriptions import service as subscriptions
from web import accounts

HR = "泾源县人力资源和社会保障局"
COMMERCE = "泾源县商务局"
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Actor:
    name: str  # also the console username
    role: str
    agency: str | None
    own_hub: bool = False  # hub operators: of the park the fixtures' enterprise belongs to


ACTORS = (
    Actor("admin", "admin", None),
    Actor("editor_own", "editor", HR),  # the department that drafts in these tests
    Actor("editor_other", "editor", COMMERCE),
    Actor("reviewer", "reviewer", HR),  # reviews the drafting department's policies
    Actor("hub_operator", "hub_operator", "泾源县工业园区管委会", own_hub=True),
    Actor("viewer", "viewer", HR),
)


@dataclass
class Cast:
    tokens: dict[str, str]
    park_id: int
    other_hub_id: int


async def cast(db: Database, *, console: bool = False) -> Cast:
    """A token (and, with `console`, an account) for every actor; the park and another hub."""
    async with db.session() as s:
        park = await subscriptions.create_hub(s, name="泾源县工业园区", kind="park", join_code="park-cast1")
        other = await subscriptions.create_hub(s, name="泾源县商贸协会", kind="association", join_code="assoc-cast")
    tokens: dict[str, str] = {}
    for actor in ACTORS:
        hub_id = park.id if actor.role == "hub_operator" else None
        async with db.session() as s:
            agency = actor.agency or "县政务公开办"
            tokens[actor.name] = await accounts.create_token(s, agency, actor.role, hub_id=hub_id)
            if console:
                await accounts.create_user(s, actor.name, PASSWORD, actor.role, actor.agency, hub_id=hub_id)
    return Cast(tokens, park.id, other.id)
