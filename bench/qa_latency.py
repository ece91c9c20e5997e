"""Q&A latency and index build/restart time at 10,000 synthetic policies.

    .venv/bin/python -m bench.qa_latency                 # in-process figures + restart path
    .venv/bin/python -m bench.qa_latency --compare       # also SQLite FTS5 and PostgreSQL full-text
    .venv/bin/python -m bench.qa_latency --policies 2000 # a smaller corpus

Corpus: the 64 policies of bench/data/qa (tokenised with the project tokenizer, so questions
have real answers) plus synthetic policies of ~1,000 characters: half sentences taken from
those policies with places and figures varied, half sentences of words drawn from jieba's
dictionary (weight freq^0.5). Synthetic texts are tokenised with rjieba's search mode (the
same kind of tokens, 20× faster) because only the index is measured, not the tokenizer.
Questions: the 254 questions of bench/data/qa, answered through QaEngine.ask (normalising,
jieba tokenising, synonyms, exact lookup, BM25, FAQ match, passage) in-process.
Restart: the corpus is written to a SQLite database with its stored tokens, and a fresh
process times import + jieba start-up + engine load + first answer, twice: without a
snapshot (build from stored tokens; the snapshot is then written) and with it
(policies/qa/snapshot.py, loaded because the database fingerprint matches).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.qa_eval import load_policies, load_questions, policy_cards
from policies.qa.cards import PolicyCard
from policies.qa.engine import QaEngine
from policies.text.tokenizer import get_tokenizer

TOWNS = ["泾河源镇", "六盘山镇", "新民乡", "兴盛乡", "黄花乡", "大湾乡", "香水镇"]
AGENCIES = ["泾源县人力资源和社会保障局", "泾源县民政局", "泾源县住房和城乡建设局", "泾源县医疗保障局",
            "泾源县农业农村局", "泾源县教育体育局", "泾源县卫生健康局", "泾源县财政局"]
ISSUERS = ["泾政发", "泾政办发", "泾人社发", "泾民发", "泾建发", "泾医保发", "泾农发", "泾教体发"]
_WORD = re.compile(r"[\w\u3400-\u9fff]")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def dictionary_words(rng: random.Random, n: int) -> list[str]:
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    words, weights = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) >= 2:
            words.append(parts[0])
            weights.append(int(parts[1]) ** 0.5)
    return rng.choices(words, weights, k=n)


def synthetic_cards(count: int, seed: int = 11) -> list[PolicyCard]:
    import rjieba

    rng = random.Random(seed)
    policies = load_policies()
    seed_sentences = [s for p in policies for s in re.split(r"(?<=[。；])", p["body"] + "".join(
        p["elements"].values())) if len(s) > 8]
    stopwords = get_tokenizer().stopwords
    pool = dictionary_words(rng, 400_000)
    cards = []
    for i in range(count):
        base = rng.choice(policies)
        title = f"{rng.choice(TOWNS)}{base['title'].removeprefix('泾源县')}（{2015 + i % 10}年第{i}号）"
        parts: list[str] = []
        while sum(map(len, parts)) < 1000:
            if rng.random() < 0.5:
                sentence = rng.choice(seed_sentences)
                sentence = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(0, 9)), sentence)
                parts.append(sentence.replace("本县", rng.choice(TOWNS)))
            else:
                start = rng.randrange(len(pool) - 12)
                parts.append("".join(pool[start : start + rng.randint(6, 12)]) + "。")
        body = "".join(parts)
        tokens = [t.strip().lower() for t in rjieba.cut_for_search(f"{title}\n{body}")
                  if t.strip() and t.strip() not in stopwords and _WORD.search(t)]
        policy_id = 1000 + i
        cards.append(PolicyCard(
            policy_id=policy_id, title=title, doc_no=f"{rng.choice(ISSUERS)}〔{2015 + i % 10}〕{100 + i}号",
            agency=rng.choice(AGENCIES), status=rng.choice(["published"] * 8 + ["expired", "repealed"]),
            body=body, revision_tokens=" ".join(tokens), year=2015 + i % 10,
        ))
    return cards


def corpus(count: int) -> list[PolicyCard]:
    tokenizer = get_tokenizer()
    own = policy_cards(load_policies(), tokenizer.index_tokens)
    return own + synthetic_cards(max(0, count - len(own)))


@dataclass
class Timings:
    """Per answer, in milliseconds: wall clock and this process's CPU time (the machine is
    shared: CPU time says what an answer costs, wall time what it took at that load). The
    first round asks every question for the first time; later rounds repeat them (the
    engine remembers how it understood a question, not its answer)."""

    first_wall: list[float] = field(default_factory=list)
    first_cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    ranks: list[float] = field(default_factory=list)

    def line(self, label: str, wall: list[float], cpu: list[float]) -> str:
        return (f"{label}: CPU p50 {statistics.median(cpu):.2f} ms, p95 {percentile(cpu, 95):.2f} ms; "
                f"wall p50 {statistics.median(wall):.2f} ms, p95 {percentile(wall, 95):.2f} ms, "
                f"max {max(wall):.2f} ms")


def time_answers(engine: QaEngine, questions: list[str], rounds: int = 3) -> Timings:
    timings = Timings()
    for round_ in range(rounds):
        for q in questions:
            c0, t0 = time.process_time(), time.perf_counter()
            engine.ask(q)
            wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
            (timings.first_wall if round_ == 0 else timings.wall).append(wall)
            (timings.first_cpu if round_ == 0 else timings.cpu).append(cpu)
            t0 = time.perf_counter()
            engine.rank(q)
            timings.ranks.append((time.perf_counter() - t0) * 1000)
    return timings


def write_database(cards: list[PolicyCard], path: Path) -> None:
    from sqlalchemy import insert

    from core.db import Database
    from core.migrate import upgrade_database
    from policies.models import Interpretation, Policy, PolicyRevision

    async def run() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade_database(db)
        at = datetime(2026, 1, 1, tzinfo=UTC)
        async with db.session() as session:
            for chunk in range(0, len(cards), 2000):
                part = cards[chunk : chunk + 2000]
                await session.execute(insert(Policy), [
                    {"id": c.policy_id, "title": c.title, "doc_no": c.doc_no, "agency": c.agency, "status": c.status,
                     "keywords": list(c.keywords), "topics": list(c.topics), "audience": c.audience or "both",
                     "doc_year": c.year, "created_by": "bench", "created_at": at, "updated_at": at,
                     "current_revision": 1} for c in part])
                await session.execute(insert(PolicyRevision), [
                    {"policy_id": c.policy_id, "number": 1, "title": c.title, "body": c.body,
                     "tokens": c.revision_tokens, "created_by": "bench", "created_at": at} for c in part])
                interpretations = [
                    {"policy_id": c.policy_id, "elements": dict(c.elements), "tokens": c.interpretation_tokens,
                     "updated_at": at} for c in part if c.elements]
                if interpretations:  # an empty list would execute one row of defaults
                    await session.execute(insert(Interpretation), interpretations)
        await db.dispose()

    asyncio.run(run())


def run_restart(database: Path, snapshot_dir: Path, pycache: Path | None = None) -> dict[str, object]:
    """A fresh process (bench._qa_restart) from exec to the first answer. `pycache`: let it
    read and write bytecode there, as an installed application has (this machine's
    environment sets PYTHONDONTWRITEBYTECODE, so every process otherwise compiles every
    module it imports: 1.5 s of CPU before anything else)."""
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    t0 = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-m", "bench._qa_restart", str(database), str(snapshot_dir)],
                         capture_output=True, text=True, check=True, env=env)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    # The child's own clock starts after its imports; the process as a whole did not.
    figures["process"] = time.perf_counter() - t0 - float(figures["snapshot_write"])
    figures["process_cpu"] = c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime
    return figures  # type: ignore[no-any-return]


def fts5_compare(cards: list[PolicyCard], questions: list[str]) -> None:
    tokenizer = get_tokenizer()
    conn = sqlite3.connect(":memory:")
    t0 = time.perf_counter()
    conn.execute("CREATE VIRTUAL TABLE doc USING fts5(title, body, tokenize='unicode61')")
    conn.executemany("INSERT INTO doc(rowid, title, body) VALUES (?, ?, ?)",
                     [(c.policy_id, c.title, c.revision_tokens) for c in cards])
    conn.commit()
    build = time.perf_counter() - t0
    times = []
    for q in questions * 3:
        t0 = time.perf_counter()
        tokens = [t.replace('"', "") for t in tokenizer.query_tokens(q) if t.replace('"', "")]
        if tokens:
            match = " OR ".join(f'"{t}"' for t in tokens)
            conn.execute("SELECT rowid FROM doc WHERE doc MATCH ? ORDER BY bm25(doc, 4.0, 1.0) LIMIT 10",
                         (match,)).fetchall()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"SQLite FTS5 (unicode61 over stored tokens, OR query, bm25 title 4x): build {build:.2f} s; "
          f"query p50 {percentile(times, 50):.2f} ms, p95 {percentile(times, 95):.2f} ms "
          f"(tokenising included, no synonyms/exact lookup/passage)")


def postgres_compare(cards: list[PolicyCard], questions: list[str]) -> None:
    import asyncpg

    tokenizer = get_tokenizer()

    async def run() -> None:
        try:
            conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres", timeout=3)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            print(f"PostgreSQL full-text: skipped ({exc})")
            return
        try:
            await conn.execute("DROP TABLE IF EXISTS bench_qa_doc")
            t0 = time.perf_counter()
            await conn.execute("CREATE TABLE bench_qa_doc (id int PRIMARY KEY, title text, tokens text, tsv tsvector)")
            await conn.copy_records_to_table("bench_qa_doc", records=[
                (c.policy_id, c.title, c.revision_tokens) for c in cards], columns=["id", "title", "tokens"])
            await conn.execute("UPDATE bench_qa_doc SET tsv = setweight(to_tsvector('simple', title), 'A') || "
                               "to_tsvector('simple', tokens)")
            await conn.execute("CREATE INDEX ON bench_qa_doc USING gin (tsv)")
            build = time.perf_counter() - t0
            times = []
            for q in questions * 3:
                t0 = time.perf_counter()
                tokens = [re.sub(r"[^\w\u3400-\u9fff]", "", t) for t in tokenizer.query_tokens(q)]
                tokens = [t for t in tokens if t]
                if tokens:
                    await conn.fetch(
                        "SELECT id FROM bench_qa_doc, to_tsquery('simple', $1) q WHERE tsv @@ q "
                        "ORDER BY ts_rank(tsv, q) DESC LIMIT 10", " | ".join(tokens))
                times.append((time.perf_counter() - t0) * 1000)
            print(f"PostgreSQL full-text (tsvector 'simple' over stored tokens, GIN, OR query, ts_rank): "
                  f"build {build:.2f} s; query p50 {percentile(times, 50):.2f} ms, "
                  f"p95 {percentile(times, 95):.2f} ms (tokenising and loopback included; ts_rank is not BM25)")
        finally:
            await conn.execute("DROP TABLE IF EXISTS bench_qa_doc")
            await conn.close()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--compare", action="store_true", help="also measure SQLite FTS5 and PostgreSQL")
    args = parser.parse_args()
    tokenizer = get_tokenizer()
    tokenizer.initialize()
    t0 = time.perf_counter()
    cards = corpus(args.policies)
    tokens = sum(len(c.revision_tokens.split()) for c in cards) / len(cards)
    chars = sum(len(c.body) for c in cards) / len(cards)
    print(f"Corpus: {len(cards)} policies, {chars:.0f} characters and {tokens:.0f} stored tokens each on average "
          f"(generated and tokenised in {time.perf_counter() - t0:.1f} s)")

    t0 = time.perf_counter()
    engine = QaEngine.build(cards, phone="12345")
    print(f"Index build from stored tokens (QaEngine.build): {time.perf_counter() - t0:.2f} s")
    gc.collect()
    gc.freeze()  # as QaEngine.load does at start-up

    questions = [q.text for q in load_questions()]
    timings = time_answers(engine, questions)
    print(f"Answer (QaEngine.ask, {len(questions)} questions, tokenising included; load average "
          f"{os.getloadavg()[0]:.1f}):")
    print("  " + timings.line("asked the first time", timings.first_wall, timings.first_cpu))
    print("  " + timings.line("asked again (2 more rounds)", timings.wall, timings.cpu))
    print(f"Ranking only (QaEngine.rank): p50 {statistics.median(timings.ranks):.2f} ms, "
          f"p95 {percentile(timings.ranks, 95):.2f} ms")

    rng = random.Random(5)
    changes = []
    for card in rng.sample(cards, 200):
        t0 = time.perf_counter()
        engine.put_policy(card.with_status("repealed" if card.status == "published" else "published"))
        changes.append((time.perf_counter() - t0) * 1000)
    print(f"Incremental change (put_policy, one policy re-indexed): p50 {statistics.median(changes):.2f} ms, "
          f"p95 {percentile(changes, 95):.2f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "qa.db"
        t0 = time.perf_counter()
        write_database(cards, database)
        print(f"Restart path: wrote {len(cards)} policies with stored tokens to SQLite in "
              f"{time.perf_counter() - t0:.1f} s; fresh process:")
        snapshot_dir = Path(tmp) / "qa_index"
        pycache = Path(tmp) / "pycache"
        runs = [("without snapshot (build from stored tokens, then write the snapshot)", None),
                ("with snapshot, no bytecode (this environment: every module compiled at start)", None),
                ("with snapshot, bytecode cached (as installed; the first of two runs writes it)", pycache),
                ("with snapshot, bytecode cached", pycache)]
        for label, cache in runs:
            figures = run_restart(database, snapshot_dir, cache)
            print(f"  {label}: imports {figures['import']:.2f} s + jieba start-up {figures['jieba']:.2f} s + "
                  f"engine load {figures['load']:.2f} s + first answer {figures['first_answer'] * 1000:.1f} ms "
                  f"= ready in {figures['total']:.2f} s; whole process from exec to first answer "
                  f"{figures['process']:.2f} s wall, {figures['process_cpu']:.2f} s CPU "
                  f"({figures['policies']} policies; first answer: {figures['answer']}; load average "
                  f"{os.getloadavg()[0]:.1f})")
            if not figures["from_snapshot"]:
                print(f"    snapshot written in {figures['snapshot_write']:.2f} s after the first answer "
                      f"({figures['snapshot_mb']:.0f} MB)")

    if args.compare:
        fts5_compare(cards, questions)
        postgres_compare(cards, questions)


if __name__ == "__main__":
    main()
