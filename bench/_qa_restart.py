"""The child process of bench.qa_latency's restart figures (not a bench of its own): from
nothing to the first answer, importing only what a serving process needs for it, through
the same `open_engine` as `start_engine` (snapshot when it matches the database, else a
build, after which the snapshot is written, as start_engine does).

    python -m bench._qa_restart DATABASE SNAPSHOT_DIR      # prints one JSON line
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import asyncio  # noqa: E402  (the clock starts before the imports it measures)
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from core.db import Database  # noqa: E402
from policies.qa.snapshot import capture, open_engine, write_snapshot  # noqa: E402
from policies.text.tokenizer import get_tokenizer  # noqa: E402


def restart(database: Path, snapshot_dir: Path) -> dict[str, object]:
    t_import = time.perf_counter()
    get_tokenizer().initialize()
    t_jieba = time.perf_counter()

    async def load() -> object:
        db = Database(f"sqlite+aiosqlite:///{database}")
        async with db.reader() as session:
            loaded = await open_engine(session, snapshot_dir, phone="12345")
        await db.dispose()
        return loaded

    loaded = asyncio.run(load())
    engine = loaded.engine  # type: ignore[attr-defined]
    t_load = time.perf_counter()
    answer = engine.ask("公租房谁能申请")
    t_first = time.perf_counter()
    write = 0.0
    if not loaded.from_snapshot:  # type: ignore[attr-defined]
        write_snapshot(capture(engine, loaded.fingerprint), snapshot_dir)  # type: ignore[attr-defined]
        write = time.perf_counter() - t_first
    size = sum(f.stat().st_size for f in snapshot_dir.glob("snapshot.*")) if snapshot_dir.exists() else 0
    return {"import": t_import - T0, "jieba": t_jieba - t_import, "load": t_load - t_jieba,
            "first_answer": t_first - t_load, "total": t_first - T0, "policies": len(engine),
            "from_snapshot": loaded.from_snapshot, "snapshot_write": write,  # type: ignore[attr-defined]
            "snapshot_mb": size / 1e6, "answer": answer.policy.title if answer.policy else answer.kind}


if __name__ == "__main__":
    print(json.dumps(restart(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False))
