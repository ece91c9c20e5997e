"""A saved copy of the built Q&A index, so a restart does not hash millions of stored tokens
again (13 s at 10,000 policies; a snapshot loads in a fraction of that).

    loaded = await open_engine(session, directory, phone="12345")     # snapshot when it fits, else build
    write_snapshot(capture(loaded.engine, loaded.fingerprint), directory)  # after a build, N changes, shutdown

The snapshot is one file, `<data_dir>/qa_index/snapshot.bin`: a JSON header (format,
fingerprint of the database it was built from, where each array lies, a CRC-32 of the
rest), then the numpy arrays of the BM25 index, each aligned, then a marshal blob of the
vocabulary, the per-slot filters and the policy cards. Loading maps the file into memory
and reads the arrays in place (no copy, no zip members to unpack: 0.7 s of the restart at
10,000 policies with the earlier .npz); the CRC still catches a damaged file. It is
written to a temporary file and renamed, so a crash mid-write leaves the old one, and a
process that mapped the old one keeps reading it.

Never stale: the fingerprint covers everything the index is made of (released policies and
their current revisions, the outbox, interpretations of released policies, the FAQ tokens
and links, the index format and field weights). Any difference means "rebuild from the
database"; so does a file that cannot be read (logged). The FAQ rows themselves are always
read from the database (they are few), so only their tokens and links are fingerprinted.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import marshal
import mmap
import os
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from policies.models import Interpretation, Policy, PolicyStatus
from policies.qa import store
from policies.qa.cards import PolicyCard
from policies.qa.engine import QaEngine
from policies.qa.views import FaqView
from policies.search.bm25 import K1, B, BM25Index, IndexState
from policies.search.document import FIELD_WEIGHTS
from policies.search.lookup import ExactLookup
from policies.search.synonyms import SynonymTable

log = logging.getLogger(__name__)

# Bump when the arrays, the card tuple or the way documents are built from tokens change.
FORMAT_VERSION = 3
SNAPSHOT_FILE = "snapshot.bin"
OLD_SNAPSHOT_FILES = ("snapshot.npz",)
MAGIC = b"PDQASNP3"
_ALIGN = 64
_LENGTH = struct.Struct("<Q")
_ARRAYS = ("offsets", "base_slots", "base_tfs", "df", "doc_term_offsets", "doc_terms", "lengths")


def snapshot_path(directory: Path) -> Path:
    return directory / SNAPSHOT_FILE


def _format_key() -> dict[str, object]:
    # marshal's format and numpy's dtypes follow the interpreter; a snapshot is only reused
    # by the same Python minor version.
    return {"format": FORMAT_VERSION, "python": list(sys.version_info[:2]), "weights": FIELD_WEIGHTS,
            "k1": K1, "b": B}


async def database_fingerprint(session: AsyncSession, faqs: Sequence[FaqView]) -> str:
    """A digest of the database state the index is built from. Cheap (aggregates only, no
    token columns read for policies) and changes with every change that could alter an
    answer: publish, amend, repeal, expire, delete, an interpretation saved, a FAQ changed."""
    released = Policy.status.in_(PolicyStatus.RELEASED)
    policies = (await session.execute(
        select(func.count(), func.max(Policy.updated_at), func.sum(Policy.id), func.sum(Policy.current_revision))
        .where(released))).one()
    last_event = await store.latest_event_id(session)
    interpretations = (await session.execute(
        select(func.count(), func.max(Interpretation.updated_at), func.sum(func.length(Interpretation.tokens)))
        .join(Policy, Policy.id == Interpretation.policy_id).where(released))).one()
    faq_digest = hashlib.sha256()
    for faq in sorted(faqs, key=lambda f: f.id):
        faq_digest.update(repr((faq.id, faq.policy_ids, faq.phrasing_tokens)).encode("utf-8"))
    state = {
        "key": _format_key(),
        "policies": [str(v) for v in policies],
        "last_event": last_event,
        "interpretations": [str(v) for v in interpretations],
        "faqs": faq_digest.hexdigest(),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode("utf-8")).hexdigest()


# ----- writing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capture:
    """What a snapshot holds, taken from a live engine in one step on the event loop; writing
    it out (`write_snapshot`) may then run in a thread while the engine keeps changing."""

    fingerprint: str
    state: IndexState
    cards: list[PolicyCard]
    lookup: bytes  # marshalled at capture time: its sets change in place afterwards


def capture(engine: QaEngine, fingerprint: str) -> Capture:
    """Call with an engine that reflects exactly the database state `fingerprint` describes
    (read the fingerprint before bringing the engine up to date, never after)."""
    search = engine.search_engine
    return Capture(fingerprint=fingerprint, state=search.index.export_state(), cards=engine.cards(),
                   lookup=marshal.dumps(search.lookup.export_state()))


def _card_tuple(card: PolicyCard) -> tuple[object, ...]:
    return (card.policy_id, card.title, card.doc_no, card.agency, card.status, card.body, card.revision_tokens,
            dict(card.elements), card.interpretation_tokens, list(card.keywords), list(card.topics), card.audience,
            card.year)


def _card_of(values: Sequence[object]) -> PolicyCard:
    (policy_id, title, doc_no, agency, status, body, revision_tokens, elements, interpretation_tokens, keywords,
     topics, audience, year) = values
    return PolicyCard(policy_id=policy_id, title=title, doc_no=doc_no, agency=agency, status=status,  # type: ignore[arg-type]
                      body=body, revision_tokens=revision_tokens, elements=elements,  # type: ignore[arg-type]
                      interpretation_tokens=interpretation_tokens, keywords=tuple(keywords),  # type: ignore[arg-type]
                      topics=tuple(topics), audience=audience, year=year)  # type: ignore[arg-type]


def write_snapshot(snapshot: Capture, directory: Path) -> Path:
    """Write atomically (temporary file, then rename); returns the file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    state = snapshot.state
    meta = {"key": _format_key(), "fingerprint": snapshot.fingerprint, "policies": len(state.documents),
            "terms": len(state.terms), "weights": state.weights, "k1": state.k1, "b": state.b}
    blob = marshal.dumps((state.terms, state.documents, [_card_tuple(c) for c in snapshot.cards], snapshot.lookup))
    parts: list[bytes | memoryview] = []
    layout: dict[str, list[object]] = {}
    offset = 0
    for name in _ARRAYS:
        array = np.ascontiguousarray(getattr(state, name))
        pad = -offset % _ALIGN
        parts.append(bytes(pad))
        offset += pad
        layout[name] = [array.dtype.str, list(array.shape), offset]
        parts.append(memoryview(array).cast("B"))
        offset += array.nbytes
    layout["blob"] = ["|u1", [len(blob)], offset]
    parts.append(blob)
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    meta["arrays"] = layout
    meta["crc32"] = crc
    header = json.dumps(meta).encode("utf-8")
    header += b" " * (-(len(MAGIC) + _LENGTH.size + len(header)) % _ALIGN)
    target = snapshot_path(directory)
    handle, temporary = tempfile.mkstemp(prefix=".snapshot-", suffix=".bin", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(MAGIC + _LENGTH.pack(len(header)) + header)
            for part in parts:
                out.write(part)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in OLD_SNAPSHOT_FILES:
        (directory / old).unlink(missing_ok=True)
    return target


# ----- reading -------------------------------------------------------------------------------


def _read_header(mapped: mmap.mmap) -> tuple[dict[str, object], int]:
    """The header and where the payload starts; ValueError when this is not a snapshot."""
    fixed = len(MAGIC) + _LENGTH.size
    if len(mapped) < fixed or mapped[: len(MAGIC)] != MAGIC:
        raise ValueError("not a Q&A index snapshot")
    (length,) = _LENGTH.unpack(mapped[len(MAGIC) : fixed])
    if fixed + length > len(mapped):
        raise ValueError("snapshot header runs past the end of the file")
    return json.loads(mapped[fixed : fixed + length]), fixed + length


def _open_mapped(path: Path) -> mmap.mmap:
    with path.open("rb") as handle:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def snapshot_fingerprint(directory: Path) -> str | None:
    """The fingerprint a saved snapshot was made at; None when there is none or it is unreadable."""
    try:
        mapped = _open_mapped(snapshot_path(directory))
    except FileNotFoundError:
        return None
    except Exception:  # any damage: the caller rebuilds
        log.warning("Q&A index snapshot in %s is unreadable", directory, exc_info=True)
        return None
    try:
        return str(_read_header(mapped)[0]["fingerprint"])
    except Exception:
        log.warning("Q&A index snapshot in %s is unreadable", directory, exc_info=True)
        return None
    finally:
        mapped.close()


def _arrays(mapped: mmap.mmap, meta: dict[str, object], start: int) -> dict[str, np.ndarray]:
    """Every array of the payload as a read-only view of the mapped file, after the CRC."""
    payload = memoryview(mapped)[start:]
    if zlib.crc32(payload) != meta["crc32"]:
        raise ValueError("snapshot CRC does not match")
    arrays = {}
    for name, (dtype, shape, offset) in meta["arrays"].items():  # type: ignore[attr-defined]
        count = int(np.prod(shape)) if shape else 1
        arrays[name] = np.frombuffer(mapped, dtype=np.dtype(dtype), count=count,
                                     offset=start + int(offset)).reshape(shape)
    return arrays


def load_snapshot(
    directory: Path,
    fingerprint: str,
    faqs: Sequence[FaqView],
    *,
    tokenize: Callable[[str], list[str]] | None = None,
    phone: str | None = None,
    synonyms: SynonymTable | None = None,
) -> QaEngine | None:
    """The engine saved in `directory` when it was made at `fingerprint`; None when there is
    no snapshot, it was made at another database state or format (rebuild), or it is damaged
    (rebuild, and the damage is logged)."""
    path = snapshot_path(directory)
    if not path.exists():
        return None
    try:
        mapped = _open_mapped(path)
        meta, start = _read_header(mapped)
        if meta.get("key") != json.loads(json.dumps(_format_key())) or meta.get("fingerprint") != fingerprint:
            log.info("Q&A index snapshot is from another database state or format; rebuilding")
            return None
        arrays = _arrays(mapped, meta, start)
        terms, documents, card_tuples, lookup_state = marshal.loads(arrays.pop("blob"))
        state = IndexState(weights=meta["weights"], k1=meta["k1"], b=meta["b"], terms=terms,  # type: ignore[arg-type]
                           documents=documents, **arrays)
        index = BM25Index.from_state(state)
        cards = [_card_of(values) for values in card_tuples]
        lookup = ExactLookup.from_state(marshal.loads(lookup_state))
        if len(cards) != len(index) or any(c.policy_id not in index for c in cards):
            raise ValueError("cards and index disagree")
    except Exception:  # truncated, bad CRC, wrong shapes, foreign bytes: all mean rebuild
        log.warning("Q&A index snapshot %s is damaged; rebuilding from the database", path, exc_info=True)
        return None
    return QaEngine.restore(index, cards, faqs, tokenize=tokenize, phone=phone, synonyms=synonyms, lookup=lookup)


# ----- start-up ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadedEngine:
    engine: QaEngine
    fingerprint: str  # the database state the engine reflects
    from_snapshot: bool


async def open_engine(
    session: AsyncSession,
    directory: Path | None,
    *,
    phone: str | None = None,
    tokenize: Callable[[str], list[str]] | None = None,
    synonyms: SynonymTable | None = None,
) -> LoadedEngine:
    """The engine at start-up: from the snapshot when it was made at the database's current
    state, else built from stored tokens (the caller then saves a snapshot of it). No
    directory: always built."""
    faqs = await store.load_faqs(session)
    fingerprint = await database_fingerprint(session, faqs)
    # Loading creates only objects that live as long as the process (cards, vocabulary): the
    # cyclic collector would walk them again and again while they are made, and a full
    # collection afterwards costs 0.3 s at 10,000 policies for the little garbage there is.
    # So: no collection while loading, and the result frozen out of every later pass (as
    # QaEngine.load does), which keeps answers free of 10-20 ms collector pauses.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        engine = None if directory is None else load_snapshot(directory, fingerprint, faqs, tokenize=tokenize,
                                                              phone=phone, synonyms=synonyms)
        from_snapshot = engine is not None
        if engine is None:
            cards = await store.load_policy_cards(session)
            engine = QaEngine.build(cards, faqs, tokenize=tokenize, phone=phone, synonyms=synonyms)
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
    return LoadedEngine(engine=engine, fingerprint=fingerprint, from_snapshot=from_snapshot)
