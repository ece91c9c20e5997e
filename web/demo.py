"""`python run.py demo`: a living demo data set so a newcomer sees the system work.

Loads the project's own demo policies (with interpretations) through the real lifecycle
(draft → review → publish), residents and enterprises who subscribed through the web inbox,
two hubs (an industrial park and an association) with members, FAQ entries and console
accounts with random passwords (returned once, for the command to print). Idempotent:
running it again adds nothing it already added.
Publishing writes outbox events, so `python run.py` then pushes the policies to the demo
subscribers' web inboxes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from stdnum.cn import uscc

from core.db import Database
from core.errors import Conflict
from policies import service as policies
from policies.service import draft_from_mapping, faq
from subscriptions import service as subscriptions
from vocabulary.labels import label
from web import accounts, demo_items
from web.models import AuditEntry, User

DEMO_DIR = Path(__file__).resolve().parent / "demo_data"
DEMO_ACTOR = "demo"  # the audit log's actor for what the demo created
EDITOR, REVIEWER = "demo-editor", "demo-reviewer"


@dataclass
class DemoReport:
    policies: list[str] = field(default_factory=list)
    subscribers: int = 0
    hubs: list[str] = field(default_factory=list)
    faqs: int = 0
    accounts: list[str] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)  # username → password, shown once
    already_loaded: bool = False


def _load(name: str) -> Any:
    return json.loads((DEMO_DIR / name).read_text(encoding="utf-8"))


async def _publish_policies(db: Database, report: DemoReport) -> dict[str, int]:
    ids: dict[str, int] = {}
    for item in _load("policies.json"):
        draft, _notes = draft_from_mapping(item)
        async with db.reader() as session:
            existing, _ = await policies.list_policies(session, limit=1000)
        known = {p.doc_no: p.id for p in existing}
        if draft.doc_no in known:
            ids[draft.doc_no] = known[draft.doc_no]  # type: ignore[index]
            report.already_loaded = True
            continue
        async with db.session() as session:
            view = await policies.create_draft(session, draft, EDITOR)
        await demo_items.add_to_draft(db, view, EDITOR)
        async with db.session() as session:
            await policies.submit(session, view.id, EDITOR)
        async with db.session() as session:
            await policies.approve(session, view.id, REVIEWER, "演示数据")
        async with db.session() as session:
            await policies.publish(session, view.id, EDITOR)
        ids[view.doc_no or view.title] = view.id
        report.policies.append(view.title)
    return ids


async def _subscribers(db: Database, people: dict[str, Any], report: DemoReport) -> None:
    for person in people["residents"]:
        async with db.session() as session:
            if await subscriptions.find_address(session, "web", person["inbox"]):
                continue
            sub = await subscriptions.create_resident(
                session, display_name=person["name"], township=person["township"], groups=person["groups"],
                channel="web", address=person["inbox"],
            )
            await subscriptions.subscribe_topics(session, sub.id, person["topics"])
            if person.get("keywords"):
                await subscriptions.add_keywords(session, sub.id, person["keywords"])
        report.subscribers += 1
    enterprise_ids: list[int] = []
    for item in people["enterprises"]:
        code = item["code17"] + uscc.calc_check_digit(item["code17"])
        async with db.session() as session:
            enterprise = await subscriptions.save_enterprise(
                session, name=item["name"], credit_code=code, industry=item["industry"], size=item["size"],
                qualifications=item["qualifications"], township=item["township"],
            )
            enterprise_ids.append(enterprise.id)
            if await subscriptions.find_address(session, "web", item["contact"]):
                continue
            contact = await subscriptions.add_enterprise_contact(
                session, enterprise.id, channel="web", address=item["contact"], display_name=f"{item['name']}联系人"
            )
            if item["topics"]:
                await subscriptions.subscribe_topics(session, contact.id, item["topics"])
            if item.get("recommend"):
                await subscriptions.set_recommend_by_profile(session, contact.id, True)
        report.subscribers += 1
    for hub in people["hubs"]:
        async with db.session() as session:
            try:
                created = await subscriptions.create_hub(
                    session, name=hub["name"], kind=hub["kind"], township=hub["township"], join_code=hub["join_code"]
                )
            except Conflict:
                continue
            await subscriptions.add_hub_contact(session, created.id, channel="web", address=hub["contact"])
            for index in hub["members"]:
                await subscriptions.add_hub_member(session, created.id, enterprise_ids[index], via="import")
        report.hubs.append(f"{hub['name']}（邀请码 {hub['join_code']}）")


async def _faqs(db: Database, people: dict[str, Any], policy_ids: dict[str, int], report: DemoReport) -> None:
    async with db.reader() as session:
        existing = {f.question for f in await faq.list_faqs(session, limit=1000)}
    for item in people["faqs"]:
        if item["question"] in existing:
            continue
        async with db.session() as session:
            await faq.create_faq(
                session,
                faq.FaqInput(question=item["question"], answer=item["answer"], variants=tuple(item["variants"]),
                             policy_ids=(policy_ids[item["policy_doc_no"]],), department=item["department"]),
                actor=EDITOR,
            )
        report.faqs += 1


async def _accounts(db: Database, people: dict[str, Any], report: DemoReport) -> None:
    # A fixed demo password would be a known password on every server that ever ran the demo.
    for account in people["accounts"]:
        password = secrets.token_urlsafe(12)
        try:
            async with db.session() as session:
                await accounts.create_user(session, account["username"], password, account["role"],
                                           account["agency"], actor=DEMO_ACTOR)
        except Conflict:
            continue
        report.accounts.append(f"{account['username']}（{label('role', account['role'])}）")
        report.passwords[account["username"]] = password


async def demo_accounts_left(db: Database) -> list[str]:
    """Active accounts the demo created whose password nobody has changed since."""
    async with db.reader() as session:
        created = set((await session.execute(select(AuditEntry.target).where(
            AuditEntry.actor == DEMO_ACTOR, AuditEntry.action == "user.create"))).scalars())
        if not created:
            return []
        changed = set((await session.execute(select(AuditEntry.target).where(
            AuditEntry.action == "user.password", AuditEntry.target.in_(created)))).scalars())
        active = (await session.execute(select(User.username).where(
            User.username.in_(created - changed), User.active.is_(True)))).scalars()
        return sorted(active)


async def load_demo(db: Database) -> DemoReport:
    report = DemoReport()
    people = _load("people.json")
    # Subscribers first, so the publications below reach them through the normal fan-out.
    await _subscribers(db, people, report)
    policy_ids = await _publish_policies(db, report)
    await _faqs(db, people, policy_ids, report)
    await _accounts(db, people, report)
    return report
