"""The personal-data guard on real policy texts and on hostile input.

Run from the repository root: `.venv/bin/python -m bench.pii_guard [--passes 5]`.

real: every text of `../shared/data/real-policies.jsonl` (public documents, which should hold no
personal data at all, so every finding is a false positive), findings by kind and milliseconds
per pass over the whole set; skipped when the file is absent.
hostile: long runs of short digit groups (the worst case of the separated-number scan), in
milliseconds per 100,000 characters.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from policies.pii import find_pii

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-policies.jsonl"
HOSTILE = {"1 repeated": "1 ", "13 repeated": "13 ", "6 2 repeated": "6 2 ", "card groups": "6217 0002 1234 5678 "}
HOSTILE_CHARS = 200_000


def _real_texts() -> list[str]:
    with REAL.open(encoding="utf-8") as lines:
        return ["\n".join(v for v in json.loads(line).values() if isinstance(v, str)) for line in lines if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    if REAL.exists():
        texts = _real_texts()
        kinds = Counter(f.kind for text in texts for f in find_pii(text))
        started = time.perf_counter()
        for _ in range(args.passes):
            for text in texts:
                find_pii(text)
        per_pass = (time.perf_counter() - started) / args.passes
        print(f"real policies: {len(texts)} texts, {sum(map(len, texts))} characters, "
              f"{per_pass * 1000:.0f} ms per pass, findings {dict(kinds) or 'none'}")
    else:
        print(f"real policies: skipped ({REAL} not found)")
    for name, unit in HOSTILE.items():
        text = unit * (HOSTILE_CHARS // len(unit))
        started = time.perf_counter()
        found = len(find_pii(text))
        elapsed = time.perf_counter() - started
        print(f"hostile '{name}': {len(text)} characters, {found} findings, "
              f"{elapsed * 1000 * 100_000 / len(text):.0f} ms per 100,000 characters")


if __name__ == "__main__":
    main()
