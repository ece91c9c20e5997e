"""Q&A on real material: the shared real policies, loaded the way the application loads
policies, asked the questions of bench/data/qa/real_questions.jsonl and
bench/data/qa/real_questions_more.jsonl.

    .venv/bin/python -m bench.qa_real                    # tuning part, held-out part, whole set
    .venv/bin/python -m bench.qa_real --misses           # also list what we get wrong (tuning part)
    .venv/bin/python -m bench.qa_real --tuning-only      # while tuning: never print the held-out part

The policies (../shared/data/real-policies.jsonl, read from there and never copied) go
through policies.service (draft → submit → approve → publish) into a throw-away SQLite
database, and the engine is loaded from that database as at start-up. The questions were
written before any tuning; every third one (split "holdout") is only scored at the end.
The second file (all split "tune", 124 questions written later, again before any engine
change it led to) enlarges the tuning part where the first was thin: colloquial answerable
questions of low confidence, against which the offer boundary is calibrated. The tuning part
is the first file's "tune" questions plus the second file; the held-out part is unchanged.

Scoring follows what a resident sees: the answer's policy first, then its other choices
("您可能想问" or alternatives) in order, so Recall@3 credits the choices; a 没有找到 answer
ranks nothing. The baseline is plain jieba + BM25 (bm25s) over title and text, which
declines nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bench.qa_eval import Baseline, Question, Scores
from core.db import Database
from core.errors import DomainError
from core.migrate import upgrade_database
from policies import service as policies
from policies.pii import mask_pii
from policies.qa.engine import PLAUSIBLE, QaEngine
from policies.qa.models import AnswerKind
from policies.qa.views import Answer
from policies.service import DraftInput
from policies.text.tokenizer import get_tokenizer

REAL_POLICIES_FILE = Path(__file__).resolve().parents[2] / "shared/data/real-policies.jsonl"
REAL_QUESTIONS_FILE = Path(__file__).resolve().parent / "data" / "qa" / "real_questions.jsonl"
MORE_QUESTIONS_FILE = REAL_QUESTIONS_FILE.with_name("real_questions_more.jsonl")
EDITOR, REVIEWER = "bench-editor", "bench-reviewer"


@dataclass(frozen=True)
class RealQuestion:
    text: str
    relevant: frozenset[str]  # P01… ids of the shared file
    kind: str
    split: str


@dataclass
class RealLibrary:
    engine: QaEngine
    ids: dict[str, int]  # P01… → policy id in the database
    rows: list[dict]  # type: ignore[type-arg]
    refused: list[str] = field(default_factory=list)  # P-ids the service would not publish, with why


def real_policies_available() -> bool:
    return REAL_POLICIES_FILE.exists()


def load_real_rows(path: Path = REAL_POLICIES_FILE) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_real_questions(paths: Sequence[Path] = (REAL_QUESTIONS_FILE, MORE_QUESTIONS_FILE)) -> list[RealQuestion]:
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append(RealQuestion(row["question"], frozenset(row["relevant"]), row["kind"], row["split"]))
    return out


def _draft(row: dict, with_doc_no: bool) -> DraftInput:  # type: ignore[type-arg]
    issued = None
    with contextlib.suppress(ValueError):
        issued = date.fromisoformat(row.get("date") or "")
    return DraftInput(
        # What the PII guard asks a department to do before publishing (a few texts carry
        # a contact's e-mail address).
        title=row["title"], body=mask_pii(row.get("text") or row["title"]),
        agency=(row.get("agency") or "未载明")[:120],
        doc_no=(row.get("doc_no") or None) if with_doc_no else None,
        audience=row.get("audience") if row.get("audience") in ("enterprise", "resident", "both") else "both",
        issued_on=issued, source_url=row.get("source", "")[:500],
    )


async def _publish(db: Database, row: dict) -> int:  # type: ignore[type-arg]
    async with db.session() as session:
        try:
            draft = await policies.create_draft(session, _draft(row, with_doc_no=True), EDITOR)
        except DomainError:
            # A 文号 the validator cannot read is left out rather than the policy.
            draft = await policies.create_draft(session, _draft(row, with_doc_no=False), EDITOR)
    async with db.session() as session:
        await policies.submit(session, draft.id, EDITOR)
    async with db.session() as session:
        await policies.approve(session, draft.id, REVIEWER)
    async with db.session() as session:
        await policies.publish(session, draft.id, EDITOR)
    return draft.id


async def load_real_library(db: Database, rows: Sequence[dict] | None = None) -> RealLibrary:  # type: ignore[type-arg]
    """Publishes every real policy through the policy service into `db` (migrated, empty)
    and loads the Q&A engine from it."""
    rows = list(rows) if rows is not None else load_real_rows()
    ids: dict[str, int] = {}
    refused: list[str] = []
    for row in rows:
        try:
            ids[row["id"]] = await _publish(db, row)
        except DomainError as exc:
            refused.append(f"{row['id']}: {exc}")
    async with db.reader() as session:
        engine = await QaEngine.load(session, phone="12345")
    return RealLibrary(engine=engine, ids=ids, rows=list(rows), refused=refused)


def shown_ranking(answer: Answer) -> list[int]:
    """What the resident sees, in order: the answer's policy, then its choices."""
    if answer.kind in AnswerKind.UNANSWERED or answer.kind in (AnswerKind.INVALID, AnswerKind.SMALL_TALK):
        return []
    ranking = [answer.policy.policy_id] if answer.policy is not None else []
    ranking += [p.policy_id for p in answer.alternatives]
    return list(dict.fromkeys(ranking))


def declined(answer: Answer) -> bool:
    return answer.kind not in AnswerKind.ANSWERED


@dataclass
class RealRun:
    """Per question: (question, gold policy ids, our answer) — kept for curves and floors."""

    rows: list[tuple[RealQuestion, frozenset[int], Answer]] = field(default_factory=list)


def score(library: RealLibrary, questions: Sequence[RealQuestion]) -> tuple[Scores, Scores, RealRun]:
    tokenizer = get_tokenizer()
    by_db_id = {pid: code for code, pid in library.ids.items()}
    baseline_rows = [{"id": library.ids[r["id"]], "title": r["title"], "doc_no": r.get("doc_no") or "",
                      "body": r.get("text", "")} for r in library.rows if r["id"] in library.ids]
    baseline = Baseline(baseline_rows, tokenizer.query_tokens)
    ours, base, run = Scores("ours"), Scores("baseline"), RealRun()
    for q in questions:
        gold = frozenset(library.ids[c] for c in q.relevant if c in library.ids)
        question = Question(q.text, gold, q.kind)
        answer = library.engine.ask(q.text)
        ranking = shown_ranking(answer)
        ours.add(question, ranking, declined(answer), ranking[0] if ranking else None)
        base_ranking = baseline.rank(q.text)
        base.add(question, base_ranking, False, base_ranking[0] if base_ranking else None)
        run.rows.append((q, gold, answer))
    ours.misses = [_named(m, by_db_id) for m in ours.misses]
    return ours, base, run


def _named(line: str, by_db_id: dict[int, str]) -> str:
    """A miss with the shared file's ids (P01…) instead of database ids, for a reader."""
    def rename(match: re.Match[str]) -> str:
        return by_db_id.get(int(match.group(0)), match.group(0))

    def lists(match: re.Match[str]) -> str:
        return re.sub(r"\d+", rename, match.group(0))

    return re.sub(r"(?:gold|ranking)=\[[\d, ]*\]|→ \d+$", lists, line)


TRADE_OFF_STEPS = (0.0, 0.2, 0.25, 0.3, 0.35, 0.38, 0.4, 0.42, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)


def trade_off(run: RealRun, steps: Sequence[float] = TRADE_OFF_STEPS) -> list[str]:
    """If every answer below a confidence were declined instead: answered wrong (the shown
    first policy is wrong, including any answer to a no-answer question) against declined
    right (answerable questions declined), as shares of all questions, and Recall@3 of what
    is still shown. Made from a run with the offer boundary at 0 (everything close to
    anything is offered), so the rows below the engine's boundary show what lowering it
    would do: there, "min confidence" is where "您可能想问" ends and 没有找到 begins."""
    lines = [f"  {'min confidence':>14} {'answered wrong':>15} {'declined (answerable)':>22} "
             f"{'declined (no answer)':>21} {'Recall@3':>9}"]
    answerable = max(1, sum(1 for _, g, _ in run.rows if g))
    unanswerable = max(1, sum(1 for _, g, _ in run.rows if not g))
    total = max(1, len(run.rows))
    for step in steps:
        wrong = declined_answerable = declined_none = hit3 = 0
        for _, gold, answer in run.rows:
            ranking = shown_ranking(answer)
            out = declined(answer) or answer.confidence < step
            if out:
                declined_answerable += bool(gold)
                declined_none += not gold
                continue
            if not gold or (ranking[:1] and ranking[0] not in gold):
                wrong += 1
            hit3 += bool(gold) and any(p in gold for p in ranking[:3])
        lines.append(f"  {step:>14.2f} {wrong / total:>15.3f} {declined_answerable / answerable:>22.3f} "
                     f"{declined_none / unanswerable:>21.3f} {hit3 / answerable:>9.3f}")
    return lines


HEADER = (f"{'engine':<10} {'Recall@1':>9} {'Recall@3':>9} {'MRR':>6} {'answered right':>15} "
          f"{'answerable declined':>20} {'no-answer declined':>19}")


def row(scores: Scores) -> str:
    a, u = max(scores.answerable, 1), max(scores.unanswerable, 1)
    return (f"{scores.name:<10} {scores.hit1 / a:>9.3f} {scores.hit3 / a:>9.3f} {scores.rr / a:>6.3f} "
            f"{scores.answered_right / a:>15.3f} {scores.declined_answerable / a:>20.3f} "
            f"{scores.declined_unanswerable / u:>19.3f}")


async def evaluate_real(splits: Sequence[str] = ("tune", "holdout")) -> tuple[Scores, Scores, RealRun, RealLibrary]:
    """Loads the real policies into a throw-away SQLite database and scores the chosen splits."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'real.db'}")
        try:
            await upgrade_database(db)
            library = await load_real_library(db)
        finally:
            await db.dispose()
    questions = [q for q in load_real_questions() if q.split in splits]
    ours, base, run = score(library, questions)
    return ours, base, run, library


def print_real(splits_to_show: Sequence[tuple[str, tuple[str, ...]]], misses: bool) -> None:
    if not real_policies_available():
        print(f"\n(real policies file not found at {REAL_POLICIES_FILE}; real set skipped)")
        return
    _, _, _, library = asyncio.run(evaluate_real(("tune",)))
    print(f"\nReal set: {len(library.ids)} real policies published through policies.service "
          f"({len(library.refused)} refused), {len(load_real_questions())} questions in residents' words")
    for name in library.refused:
        print(f"  refused {name}")
    for label, splits in splits_to_show:
        ours, base, _ = score(library, [q for q in load_real_questions() if q.split in splits])
        print(f"\n{label}: {ours.answerable} answerable, {ours.unanswerable} with no answer in the corpus")
        print(HEADER)
        print(row(ours))
        print(row(base))
        if misses and splits == ("tune",):
            for line in ours.misses:
                print("  " + line)
    offer = library.engine.offer
    library.engine.offer = 0.0
    try:
        _, _, tuning = score(library, [q for q in load_real_questions() if q.split == "tune"])
    finally:
        library.engine.offer = offer
    print(f"\nTrade-off on the tuning part, where the thresholds were calibrated (if every answer below a "
          f"confidence were declined instead;\n shares: answered wrong of all questions, declined of each kind; "
          f"the engine offers choices from {offer:.2f} and answers from {PLAUSIBLE:.2f}):")
    for line in trade_off(tuning):
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="list the tuning questions we get wrong")
    parser.add_argument("--tuning-only", action="store_true", help="score the tuning part only (while tuning)")
    args = parser.parse_args()
    if args.tuning_only:
        print_real([("Tuning part", ("tune",))], args.misses)
        return
    print_real([("Tuning part", ("tune",)), ("Held-out part", ("holdout",)), ("Whole real set", ("tune", "holdout"))],
               args.misses)


if __name__ == "__main__":
    main()
