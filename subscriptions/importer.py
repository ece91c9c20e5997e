"""Bulk import of enterprises and residents from a registry export (.csv or .xlsx).

Columns (header row, Chinese or English names; order free, unknown columns ignored):

| column | meaning |
| --- | --- |
| 类型 / kind | 企业 or 居民 (default: 企业 when a credit code or enterprise name is given) |
| 名称 / name | enterprise name, or the resident's display name |
| 统一社会信用代码 / credit_code | enterprises: validated with its check character |
| 行业 / industry, 规模 / size, 资质 / qualifications | enterprise profile |
| 人群 / groups | resident groups (高校毕业生、退役军人…) |
| 乡镇 / township | |
| 渠道 / channel, 地址 / address | telegram, wechat, wecom_robot or web, and the address |
| 联系人 / contact | the contact's display name |
| 主题 / topics, 关键词 / keywords | criteria for the contact (separated by 、 , ; or spaces) |
| 园区协会 / hub | name of a registered hub the enterprise is a member of |

Each row is validated on its own; a bad row is reported (row number, field, Chinese message)
and skipped, the others are imported. Re-importing the same file changes nothing: an
enterprise is found by credit code, a contact by its channel address. Rows are committed in
batches; each batch runs in its own unit of work.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from core.clock import now
from core.db import Database
from core.errors import DomainError, ValidationFailed
from subscriptions import matching, store
from subscriptions.import_rows import Parsed, Parser, read_rows
from subscriptions.import_write import NewContact, NewEnterprise, Writer, new_ids
from subscriptions.matching import IndexRow
from subscriptions.models import (
    ChannelAddress,
    Enterprise,
    HubMember,
    Subscriber,
    SubscriptionKeyword,
    SubscriptionTopic,
)
from subscriptions.views import ImportReport, RowError

log = logging.getLogger(__name__)

BATCH = 5_000


async def import_subscribers(db: Database, path: str | Path, progress: bool = True) -> ImportReport:
    """Import enterprises and residents from a .csv or .xlsx file; see the module docstring."""
    rows = read_rows(Path(path))
    report = ImportReport(rows=len(rows))
    bar = tqdm(total=len(rows), unit="行", desc="导入订阅者", disable=not progress)
    batches = 0
    parser = Parser()
    try:
        for start in range(0, len(rows), BATCH):
            parsed: list[Parsed] = []
            for row in rows[start : start + BATCH]:
                try:
                    parsed.append(parser.parse(row))
                except DomainError as exc:
                    report.errors.append(RowError(row.number, exc.field or "", exc.message))
            await _apply_batch(db, parsed, report)
            batches += 1
            if db.dialect == "postgresql" and batches & (batches - 1) == 0:  # after batch 1, 2, 4, 8…
                await _refresh_statistics(db)
            bar.update(min(BATCH, len(rows) - start))
    finally:
        bar.close()
    report.errors.sort(key=lambda e: e.row)
    return report


ROW_REFUSED = "这一行无法保存（数据库拒绝：内容超长、格式不符或与已有数据冲突），请核对后重新导入。"


async def _apply_batch(db: Database, parsed: list[Parsed], report: ImportReport) -> None:
    """One unit of work for the rows; if the database refuses it, each half is tried on its own,
    down to single rows, so one bad row is reported and the good rows around it are imported."""
    attempt = ImportReport(rows=0)
    try:
        async with db.session() as session:
            await _Batch(session, attempt).run(parsed)
    except DBAPIError:
        if len(parsed) == 1:
            log.warning("subscriber import: the database refused one row")
            report.errors.append(RowError(parsed[0].number, "", ROW_REFUSED))
            return
        middle = len(parsed) // 2
        await _apply_batch(db, parsed[:middle], report)
        await _apply_batch(db, parsed[middle:], report)
        return
    _add(report, attempt)


IMPORTED_TABLES = "enterprise, subscriber, channel_address, subscription_topic, subscription_keyword, match_key"


async def _refresh_statistics(db: Database) -> None:
    """PostgreSQL plans the next batch's look-ups from table statistics; tables that grew from
    nearly empty would otherwise be scanned whole for every chunk (autovacuum comes too late)."""
    async with db.session() as session:
        await session.execute(text(f"ANALYZE {IMPORTED_TABLES}"))


def _add(report: ImportReport, part: ImportReport) -> None:
    report.created += part.created
    report.updated += part.updated
    report.unchanged += part.unchanged
    report.errors += part.errors


Contact = Subscriber | NewContact
Firm = Enterprise | NewEnterprise


class _Batch:
    """Applies up to BATCH validated rows with a handful of queries, not a few per row.

    Rows that exist are loaded as ORM objects and changed in place (the session flushes
    them); rows this batch creates are plain `NewContact` / `NewEnterprise` objects written
    as tuples by `import_write.Writer` (building ORM objects cost more than the inserts)."""

    def __init__(self, session: AsyncSession, report: ImportReport) -> None:
        self.s = session
        self.report = report
        self.enterprises: dict[str, Firm] = {}
        self.addresses: dict[tuple[str, str], int] = {}  # existing (channel, address) → owner id
        self.owners: dict[int, Subscriber] = {}
        self.new_owner: dict[tuple[str, str], NewContact] = {}  # addresses this batch adds
        self.topics: dict[int, set[str]] = {}
        self.keywords: dict[int, set[str]] = {}
        self.hubs: dict[str, int] = {}
        self.members: set[tuple[int, int]] = set()
        self.pending: list[tuple[Parsed, NewContact]] = []  # new contacts, addresses added after the ids
        self.pending_members: list[tuple[int, Firm]] = []
        self.new_enterprises: list[NewEnterprise] = []
        self.topic_rows: list[tuple[int, str]] = []
        self.keyword_rows: list[tuple[int, str, str]] = []
        self.touched: set[int] = set()

    async def run(self, rows: list[Parsed]) -> None:
        if not rows:
            return
        await self._prefetch(rows)
        before = await store.index_rows_of(self.s, self.touched)
        for row in rows:
            try:
                outcome = self._apply(row)
            except DomainError as exc:
                self.report.errors.append(RowError(row.number, exc.field or "", exc.message))
                continue
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        writer = Writer((await self.s.connection()).dialect.name, now())
        await self._write(writer)
        after = await store.index_rows_of(self.s, self.touched)
        await store.apply_index_diff(self.s, before, after)
        await writer.index_rows(self.s, self._new_index_rows(), [sub.id for _row, sub in self.pending])

    def _new_index_rows(self) -> set[IndexRow]:
        """Index rows of the contacts this batch created, from what was just written (the same
        facts `store.load_facts` would read back, without reading them)."""
        rows: set[IndexRow] = set()
        for _row, sub in self.pending:
            keywords = [(k, tuple(tokens.split(" "))) for k, tokens in sub.keywords]
            facts = store.facts_of(sub, sub.enterprise, set(sub.topics), keywords, set())  # type: ignore[arg-type]
            rows |= matching.index_rows(facts)
        return rows

    async def _prefetch(self, rows: list[Parsed]) -> None:
        codes = sorted({r.credit_code for r in rows if r.credit_code})
        for part in store.chunks(codes):
            for ent in (await self.s.execute(select(Enterprise).where(Enterprise.credit_code.in_(part)))).scalars():
                self.enterprises[ent.credit_code or ""] = ent
        # By channel, then address: the unique (channel, address) index answers it; by address
        # alone every chunk scanned the whole table, so a large import slowed down as it grew.
        for channel in sorted({r.channel for r in rows if r.address}):
            addresses = sorted({r.address for r in rows if r.address and r.channel == channel})
            for part in store.chunks(addresses):
                found = await self.s.execute(
                    select(ChannelAddress.address, ChannelAddress.subscriber_id).where(
                        ChannelAddress.channel == channel, ChannelAddress.address.in_(part)
                    )
                )
                for address, owner_id in found:
                    self.addresses[(channel, address)] = owner_id
        owner_ids = sorted(set(self.addresses.values()))
        ent_ids = sorted(e.id for e in self.enterprises.values())
        for part in store.chunks(ent_ids):
            self.touched |= set(
                (await self.s.execute(select(Subscriber.id).where(Subscriber.enterprise_id.in_(part)))).scalars()
            )
        for part in store.chunks(owner_ids):
            for sub in (await self.s.execute(select(Subscriber).where(Subscriber.id.in_(part)))).scalars():
                self.owners[sub.id] = sub
        self.touched |= set(owner_ids)
        for part in store.chunks(sorted(self.owners)):
            found_t = await self.s.execute(
                select(SubscriptionTopic.subscriber_id, SubscriptionTopic.topic).where(
                    SubscriptionTopic.subscriber_id.in_(part)
                )
            )
            for sid, topic in found_t:
                self.topics.setdefault(sid, set()).add(topic)
            found_k = await self.s.execute(
                select(SubscriptionKeyword.subscriber_id, SubscriptionKeyword.keyword).where(
                    SubscriptionKeyword.subscriber_id.in_(part)
                )
            )
            for sid, keyword in found_k:
                self.keywords.setdefault(sid, set()).add(keyword)
        if any(r.hub for r in rows):
            self.hubs = {name: hid for hid, name in (await store.hub_names(self.s)).items()}
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
        changed = owner.township != row.township or list(owner.groups or []) != list(row.groups)
        owner.township, owner.groups = row.township, list(row.groups)
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
        profile = {
            "name": row.name,
            "industry": row.industry,
            "size": row.size,
            "qualifications": list(row.qualifications),
            "township": row.township,
        }
        created = ent is None
        changed = False
        if ent is None:
            ent = NewEnterprise(row.credit_code, row.name, row.industry, row.size, list(row.qualifications),
                                row.township)  # fmt: skip
            self.new_enterprises.append(ent)  # inserted in bulk by _write
            self.enterprises[row.credit_code] = ent
        elif isinstance(ent, NewEnterprise):  # created by an earlier row of this batch
            diff = {k: v for k, v in profile.items() if getattr(ent, k) != v}
            for key, value in diff.items():
                setattr(ent, key, value)
            changed = bool(diff)
        else:
            # The county's registry vouches for the enterprise (one first named in a chat included).
            diff = {k: v for k, v in {**profile, "verified": True}.items() if getattr(ent, k) != v}
            for key, value in diff.items():
                setattr(ent, key, value)
            if diff:
                ent.updated_at = now()
                changed = True
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

    def _belongs(self, owner: Contact, ent: Firm | None) -> bool:
        if ent is None:
            return False
        if isinstance(owner, NewContact):
            return owner.enterprise is ent
        return owner.enterprise_id is not None and owner.enterprise_id == ent.id

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
        self.topic_rows += [(sub.id, t) for t in new_topics]
        self.keyword_rows += [(sub.id, k, t) for k, t in new_keywords]
        topics.update(new_topics)
        keywords.update(k for k, _ in new_keywords)
        if new_topics or new_keywords:
            self.touched.add(sub.id)
        return bool(new_topics or new_keywords)

    async def _write(self, writer: Writer) -> None:
        await self.s.flush()  # changes to rows that existed
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
