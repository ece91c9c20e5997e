"""One batch of an import: up to `importer.BATCH` validated rows applied with a handful of
queries, not a few per row.

Rows that exist are read as columns (`StoredContact`, `NewEnterprise(stored=True)`), compared
with the row in memory, and only what differs is written back (one executemany UPDATE per
table). Rows this batch creates are plain `NewContact` / `NewEnterprise` objects written as
tuples by `import_write.Writer`. The match index is refreshed for the contacts whose facts
changed only: a re-import of an unchanged file reads, compares, and writes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.db import driver_connection
from core.errors import DomainError, ValidationFailed
from subscriptions import matching, store
from subscriptions.import_rows import Parsed
from subscriptions.import_write import NewContact, NewEnterprise, StoredContact, Writer, new_ids
from subscriptions.models import HubMember, Subscriber
from subscriptions.views import ImportReport, RowError

Contact = StoredContact | NewContact

ENTERPRISE_UPDATE = ("name", "industry", "size", "qualifications", "township", "verified", "updated_at")
CONTACT_UPDATE = ("township", "groups")


class _JsonLists:
    """JSON list columns as read through the driver (text, or None), decoded once per
    distinct value: a registry repeats a few qualification and group lists."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {}

    def __call__(self, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, str):  # already decoded by a driver codec
            return list(value)
        if value not in self.seen:
            self.seen[value] = json.loads(value)
        return list(self.seen[value])


class Batch:
    def __init__(self, session: AsyncSession, report: ImportReport, *, copy: bool = True) -> None:
        self.s = session
        self.report = report
        self.copy = copy
        self.enterprises: dict[str, NewEnterprise] = {}
        self.addresses: dict[tuple[str, str], int] = {}  # existing (channel, address) → owner id
        self.owners: dict[int, StoredContact] = {}
        self.new_owner: dict[tuple[str, str], NewContact] = {}  # addresses this batch adds
        self.topics: dict[int, set[str]] = {}
        self.keywords: dict[int, set[str]] = {}
        self.hubs: dict[str, int] = {}
        self.members: set[tuple[int, int]] = set()
        self.pending: list[tuple[Parsed, NewContact]] = []  # new contacts, addresses added after the ids
        self.pending_members: list[tuple[int, NewEnterprise]] = []
        self.new_enterprises: list[NewEnterprise] = []
        self.changed_enterprises: dict[int, NewEnterprise] = {}  # stored ones whose profile differs
        self.changed_contacts: dict[int, StoredContact] = {}  # stored ones whose township/groups differ
        self.topic_rows: list[tuple[int, str]] = []
        self.keyword_rows: list[tuple[int, str, str]] = []
        self.touched: set[int] = set()  # stored contacts whose index rows may change

    async def run(self, rows: list[Parsed]) -> None:
        if not rows:
            return
        await self._prefetch(rows)
        for row in rows:
            try:
                outcome = self._apply(row)
            except DomainError as exc:
                self.report.errors.append(RowError(row.number, exc.field or "", exc.message))
                continue
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        writer = Writer((await self.s.connection()).dialect.name, now(), copy=self.copy)
        if self.changed_enterprises:  # their contacts' index rows follow the enterprise's profile
            ids = sorted(self.changed_enterprises)
            for part in store.chunks(ids):
                found = await self.s.execute(select(Subscriber.id).where(Subscriber.enterprise_id.in_(part)))
                self.touched |= set(found.scalars())
        # Nothing has been written yet: these are the index rows before the batch.
        before = await store.index_rows_of(self.s, self.touched) if self.touched else set()
        await self._write(writer)
        if self.touched:
            after = await store.index_rows_of(self.s, self.touched)
            await store.apply_index_diff(self.s, before, after)
        await writer.index_rows(self.s, self._new_index_rows(), [sub.id for _row, sub in self.pending])

    def _new_index_rows(self) -> list[tuple[Any, ...]]:
        """Index rows (match_key tuples) of the contacts this batch created, from what was just
        written, without reading it back. An imported contact has neither "all topics" nor
        "recommend by profile", so its rows are its home township × its topic and keyword keys
        (`matching.index_rows` for that case; the tests compare the two); the keys are worked
        out once per distinct (topics, keywords). Any other contact goes the general way."""
        rows: list[tuple[Any, ...]] = []
        keyed_of: dict[tuple[Any, ...], list[tuple[str, str, str]]] = {}
        for _row, sub in self.pending:
            ent = sub.enterprise
            if sub.all_topics or sub.recommend_by_profile:
                keywords = [(k, tuple(tokens.split(" "))) for k, tokens in sub.keywords]
                facts = store.facts_of(sub, ent, set(sub.topics), keywords, set())  # type: ignore[arg-type]
                rows += [(r.key, r.township, r.subscriber_id, r.detail, r.kind, r.audience, r.industry, r.rest)
                         for r in matching.index_rows(facts)]  # fmt: skip
                continue
            shape = (tuple(sub.topics), tuple(sub.keywords))
            keyed = keyed_of.get(shape)
            if keyed is None:
                keys = [("t:" + topic, "", "") for topic in sub.topics]
                for keyword, tokens in sub.keywords:
                    anchor, rest = matching.anchor_and_rest(tuple(tokens.split(" ")))
                    keys.append(("k:" + anchor, keyword, rest))
                keyed = keyed_of[shape] = list(dict.fromkeys(keys))
            town = (ent.township if ent is not None else sub.township) or matching.NO_TOWNSHIP
            industry = ent.industry if ent is not None and sub.kind == "enterprise" else ""
            kind, audience, sid = matching.KIND_CODE[sub.kind], matching.AUDIENCE_CODE[sub.audience], sub.id
            rows += [(key, town, sid, detail, kind, audience, industry, rest) for key, detail, rest in keyed]
        return rows

    async def _select(self, sql: str, *values: Any) -> list[Any]:
        """Rows of a plain query through the driver; `{any1}`, `{any2}`… in `sql` stand for
        "= any of the list given as that parameter" (an array on PostgreSQL, a JSON array read
        by json_each on SQLite): one statement per look-up for the whole batch, where IN lists
        of 500 took about fifty, each compiled by SQLAlchemy and planned by the server."""
        driver = await driver_connection(self.s)  # inside the session's transaction
        sqlite = (await self.s.connection()).dialect.name == "sqlite"
        marks = {}
        params: list[Any] = []
        for n, value in enumerate(values, start=1):
            if isinstance(value, list):
                marks[f"any{n}"] = "IN (SELECT value FROM json_each(?))" if sqlite else f"= ANY(${n})"
                params.append(json.dumps(value) if sqlite else value)
            else:
                marks[f"p{n}"] = "?" if sqlite else f"${n}"
                params.append(value)
        if sqlite:
            return list(await driver.execute_fetchall(sql.format(**marks), params))
        return list(await driver.fetch(sql.format(**marks), *params))

    async def _prefetch(self, rows: list[Parsed]) -> None:
        codes = sorted({r.credit_code for r in rows if r.credit_code})
        json_lists = _JsonLists()
        if codes:
            for code, name, industry, size, quals, township, verified, ent_id in await self._select(
                "SELECT credit_code, name, industry, size, qualifications, township, verified, id FROM enterprise "
                "WHERE credit_code {any1}", codes
            ):  # fmt: skip
                self.enterprises[code] = NewEnterprise(code, name, industry, size, json_lists(quals), township,
                                                       bool(verified), ent_id, stored=True)  # fmt: skip
        for channel in sorted({r.channel for r in rows if r.address}):
            addresses = sorted({r.address for r in rows if r.address and r.channel == channel})
            found = await self._select(
                "SELECT address, subscriber_id FROM channel_address WHERE channel = {p1} AND address {any2}",
                channel, addresses,
            )  # fmt: skip
            for address, owner_id in found:
                self.addresses[(channel, address)] = owner_id
        owner_ids = sorted(set(self.addresses.values()))
        if owner_ids:
            for sid, kind, ent_id, township, groups in await self._select(
                'SELECT id, kind, enterprise_id, township, "groups" FROM subscriber WHERE id {any1}', owner_ids
            ):
                self.owners[sid] = StoredContact(sid, kind, ent_id, township, json_lists(groups))
            for sid, topic in await self._select(
                "SELECT subscriber_id, topic FROM subscription_topic WHERE subscriber_id {any1}", owner_ids
            ):
                self.topics.setdefault(sid, set()).add(topic)
            for sid, keyword in await self._select(
                "SELECT subscriber_id, keyword FROM subscription_keyword WHERE subscriber_id {any1}", owner_ids
            ):
                self.keywords.setdefault(sid, set()).add(keyword)
        if any(r.hub for r in rows):
            self.hubs = {name: hid for hid, name in (await store.hub_names(self.s)).items()}
            ent_ids = sorted(e.id for e in self.enterprises.values())
            for part in store.chunks(ent_ids):
                found_m = await self.s.execute(
                    select(HubMember.hub_id, HubMember.enterprise_id).where(HubMember.enterprise_id.in_(part))
                )
                self.members |= {(h, e) for h, e in found_m.all()}

    def _apply(self, row: Parsed) -> str:
        # Checks first, changes after: a row that fails changes nothing.
        if row.kind == "enterprise":
            return self._apply_enterprise(row)
        return self._apply_resident(row)

    def _owner_of(self, row: Parsed) -> Contact | None:
        key = (row.channel, row.address)
        owner_id = self.addresses.get(key)
        if owner_id is not None:
            return self.owners.get(owner_id)
        return self.new_owner.get(key)

    def _apply_resident(self, row: Parsed) -> str:
        owner = self._owner_of(row)
        if owner is not None and owner.kind != "resident":
            raise ValidationFailed("这个渠道地址已登记为企业或园区联系人。", field="address")
        if owner is None:
            sub = NewContact("resident", (row.name or row.contact)[:120], row.township, list(row.groups), "resident")
            self._new_contact(row, sub)
            return "created"
        changed = owner.township != row.township or owner.groups != list(row.groups)
        if changed:
            owner.township, owner.groups = row.township, list(row.groups)
            if isinstance(owner, StoredContact):
                self.changed_contacts[owner.id] = owner
                self.touched.add(owner.id)
        changed = self._criteria(owner, row) or changed
        return "updated" if changed else "unchanged"

    def _apply_enterprise(self, row: Parsed) -> str:
        ent = self.enterprises.get(row.credit_code)
        owner = self._owner_of(row) if row.channel else None
        if owner is not None and not self._belongs(owner, ent):
            raise ValidationFailed("这个渠道地址已登记在另一位订阅者名下。", field="address")
        hub_id = None
        if row.hub:
            hub_id = self.hubs.get(row.hub)
            if hub_id is None:
                raise ValidationFailed(f"没有登记名为“{row.hub}”的园区或协会。", field="hub")
        created = ent is None
        changed = False
        if ent is None:
            ent = NewEnterprise(row.credit_code, row.name, row.industry, row.size, list(row.qualifications),
                                row.township)  # fmt: skip
            self.new_enterprises.append(ent)  # inserted in bulk by _write
            self.enterprises[row.credit_code] = ent
        else:
            quals = list(row.qualifications)
            stored = (ent.name, ent.industry, ent.size, ent.qualifications, ent.township, ent.verified)
            # The county's registry vouches for the enterprise (one first named in a chat included).
            if stored != (row.name, row.industry, row.size, quals, row.township, True):
                ent.name, ent.industry, ent.size, ent.township, ent.verified = (
                    row.name, row.industry, row.size, row.township, True
                )  # fmt: skip
                ent.qualifications = quals
                changed = True
                if ent.stored:
                    self.changed_enterprises[ent.id] = ent
        if row.channel and owner is None:
            sub = NewContact("enterprise", row.contact, "", [], "enterprise", enterprise=ent)
            self._new_contact(row, sub)
            changed = True
        elif owner is not None:
            changed = self._criteria(owner, row) or changed
        pending = any(h == hub_id and e is ent for h, e in self.pending_members)
        if hub_id is not None and (hub_id, ent.id) not in self.members and not pending:
            self.pending_members.append((hub_id, ent))
            changed = True
        if created:
            return "created"
        return "updated" if changed else "unchanged"

    def _belongs(self, owner: Contact, ent: NewEnterprise | None) -> bool:
        if ent is None:
            return False
        if isinstance(owner, NewContact):
            return owner.enterprise is ent
        return owner.enterprise_id is not None and ent.stored and owner.enterprise_id == ent.id

    def _new_contact(self, row: Parsed, sub: NewContact) -> None:
        sub.topics, sub.keywords = list(row.topics), list(row.keywords)
        self.pending.append((row, sub))  # inserted in bulk by _write
        self.new_owner[(row.channel, row.address)] = sub

    def _criteria(self, sub: Contact, row: Parsed) -> bool:
        if isinstance(sub, NewContact):  # a second row for a contact this batch creates
            known = {k for k, _ in sub.keywords}
            more_topics = [t for t in row.topics if t not in sub.topics]
            more_keywords = [(k, t) for k, t in row.keywords if k not in known]
            sub.topics += more_topics
            sub.keywords += more_keywords
            return bool(more_topics or more_keywords)
        topics = self.topics.setdefault(sub.id, set())
        keywords = self.keywords.setdefault(sub.id, set())
        new_topics = [t for t in row.topics if t not in topics]
        new_keywords = [(k, t) for k, t in row.keywords if k not in keywords]
        if not (new_topics or new_keywords):
            return False
        self.topic_rows += [(sub.id, t) for t in new_topics]
        self.keyword_rows += [(sub.id, k, t) for k, t in new_keywords]
        topics.update(new_topics)
        keywords.update(k for k, _ in new_keywords)
        self.touched.add(sub.id)
        return True

    async def _write(self, writer: Writer) -> None:
        await writer.update(self.s, "enterprise", ENTERPRISE_UPDATE, [
            (e.name, e.industry, e.size, writer.json(e.qualifications), e.township, writer.flag(e.verified), writer.at,
             e.id)
            for e in self.changed_enterprises.values()
        ])  # fmt: skip
        await writer.update(self.s, "subscriber", CONTACT_UPDATE, [
            (c.township, writer.json(c.groups), c.id) for c in self.changed_contacts.values()
        ])  # fmt: skip
        for ent, new_id in zip(self.new_enterprises, await new_ids(self.s, "enterprise", len(self.new_enterprises)),
                               strict=True):  # fmt: skip
            ent.id = new_id
        await writer.insert(self.s, "enterprise", [writer.enterprise(e) for e in self.new_enterprises])
        contacts = [sub for _row, sub in self.pending]
        for sub, new_id in zip(contacts, await new_ids(self.s, "subscriber", len(contacts)), strict=True):
            sub.id = new_id
            if sub.enterprise is not None:
                sub.enterprise_id = sub.enterprise.id
        await writer.insert(self.s, "subscriber", [writer.contact(sub) for sub in contacts])
        addresses = []
        for row, sub in self.pending:
            addresses.append(writer.address(sub.id, row.channel, row.address))
            self.topic_rows += [(sub.id, t) for t in sub.topics]
            self.keyword_rows += [(sub.id, k, t) for k, t in sub.keywords]
        members = [(h, e.id, "import", writer.at) for h, e in self.pending_members]
        await writer.insert(self.s, "channel_address", addresses)
        await writer.insert(self.s, "subscription_topic", self.topic_rows)
        await writer.insert(self.s, "subscription_keyword", self.keyword_rows)
        await writer.insert(self.s, "hub_member", members)
