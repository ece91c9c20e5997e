"""Import and tag throughput: documents per second through `policies.importer`.

    .venv/bin/python -m bench.import_throughput [--documents 200] [--backend sqlite|postgres]

Writes synthetic county documents (built from the project's own labelled tagging set, with
varied 文号 so each is a new draft) to a temporary folder, imports them into a fresh database,
and prints documents/s for tag suggestion alone and for the whole import (read, header,
suggest, validate, tokenise, insert). When ../shared/data/real-policies.jsonl exists it also
times tag suggestion on those real texts (read from there, never copied).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from core.db import Database
from core.migrate import upgrade_database
from core.settings import Settings
from policies.importer import ImportLimits, import_paths
from policies.text.suggest import suggest_tags
from policies.text.tokenizer import get_tokenizer

TAGGING_SET = Path(__file__).resolve().parent / "data" / "tagging_set.jsonl"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REAL_POLICIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-policies.jsonl"


def synthetic_documents(count: int) -> list[str]:
    samples = [json.loads(line) for line in TAGGING_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    documents = []
    for n in range(count):
        sample = samples[n % len(samples)]
        documents.append(
            f"{sample['title']}\n泾政办发〔2026〕{n + 1}号\n\n各乡（镇）人民政府，县直各部门：\n\n{sample['text']}\n\n"
            f"泾源县人民政府办公室\n2026年3月{n % 28 + 1}日\n"
        )
    return documents


@asynccontextmanager
async def scratch_database(backend: str, folder: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database; on PostgreSQL a throw-away one dropped afterwards."""
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
        name = None
    else:
        import asyncpg

        name = f"pd_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN_URL)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    try:
        await upgrade_database(db)
        yield db
    finally:
        await db.dispose()
        if name:
            admin = await asyncpg.connect(PG_ADMIN_URL)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def run(documents: int, backend: str) -> None:
    started = time.perf_counter()
    get_tokenizer().initialize()
    print(f"jieba initialise (with user dictionary and taxonomy words): {time.perf_counter() - started:.2f} s")

    texts = synthetic_documents(documents)
    started = time.perf_counter()
    for text in texts:
        suggest_tags(text)
    elapsed = time.perf_counter() - started
    print(f"tag suggestion only: {documents} documents in {elapsed:.2f} s = {documents / elapsed:.1f} documents/s")

    if REAL_POLICIES.exists():
        real = [json.loads(line) for line in REAL_POLICIES.read_text(encoding="utf-8").splitlines() if line.strip()]
        started = time.perf_counter()
        for item in real:
            suggest_tags(item.get("text", ""), title=item.get("title", ""))
        elapsed = time.perf_counter() - started
        chars = sum(len(item.get("text", "")) for item in real)
        print(f"tag suggestion on {len(real)} real policies ({chars / len(real):.0f} chars each): "
              f"{len(real) / elapsed:.1f} documents/s")
    else:
        print(f"({REAL_POLICIES} absent: real-policy timing skipped)")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for n, text in enumerate(texts):
            (folder / f"doc{n:05d}.txt").write_text(text, encoding="utf-8")
        async with scratch_database(backend, Path(tmp)) as db:
            started = time.perf_counter()
            report = await import_paths(db, [folder], progress=True, limits=ImportLimits.from_settings(Settings()))
            elapsed = time.perf_counter() - started
    print(f"full import ({backend}): {report.created} created, {report.skipped} skipped, {report.failed} failed "
          f"in {elapsed:.2f} s = {documents / elapsed:.1f} documents/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    asyncio.run(run(args.documents, args.backend))


if __name__ == "__main__":
    main()
