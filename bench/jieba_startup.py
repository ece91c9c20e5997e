"""jieba start-up and throughput, each measurement in a fresh interpreter.

Run from the repository root: `.venv/bin/python -m bench.jieba_startup`.

cold: no marshal cache yet (a private temp dir), so jieba builds its prefix dictionary;
warm: the cache written by the cold run is reused; user dictionary: load_userdict plus the
taxonomy words our tokenizer adds; throughput: lcut and lcut_for_search over a sample of
county-style policy text (the project's labelled set), after initialisation.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_INIT = """
import json, logging, time
t0 = time.perf_counter()
import jieba
jieba.setLogLevel(logging.WARNING)
tk = jieba.Tokenizer()
tk.tmp_dir = {tmp!r}
tk.initialize()
print(json.dumps({{"import_and_init_s": time.perf_counter() - t0}}))
"""

_USERDICT = """
import json, logging, time
import jieba
jieba.setLogLevel(logging.WARNING)
from policies.text import tokenizer as t
tok = t.get_tokenizer()
tok._jieba.tmp_dir = {tmp!r}
tok._jieba.initialize()
t0 = time.perf_counter()
tok._jieba.load_userdict(str(t.USER_DICT))
t1 = time.perf_counter()
tok._add_taxonomy_words()
t2 = time.perf_counter()
from vocabulary.taxonomy import dictionary_words
n = len(dictionary_words())
print(json.dumps({{"userdict_s": t1 - t0, "taxonomy_words_s": t2 - t1, "taxonomy_words": n}}))
"""

_THROUGHPUT = """
import json, logging, time
import jieba
jieba.setLogLevel(logging.WARNING)
from policies.text import tokenizer as t
tok = t.get_tokenizer()
tok._jieba.tmp_dir = {tmp!r}
tok.initialize()
rows = [json.loads(x) for x in open({sample!r}, encoding="utf-8") if x.strip()]
text = "\\n".join(r["title"] + "\\n" + r["text"] for r in rows) * 20
out = {{"chars": len(text)}}
for name, cut in (("lcut", tok._jieba.lcut), ("lcut_for_search", tok._jieba.lcut_for_search),
                  ("tokenizer.index_tokens", tok.index_tokens)):
    t0 = time.perf_counter()
    tokens = cut(text)
    elapsed = time.perf_counter() - t0
    out[name] = {{"tokens_per_s": len(tokens) / elapsed, "chars_per_s": len(text) / elapsed}}
print(json.dumps(out))
"""


def _run(code: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    sample = str(REPO / "bench" / "data" / "tagging_set.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        cold = _run(_INIT.format(tmp=tmp))["import_and_init_s"]
        warm = [_run(_INIT.format(tmp=tmp))["import_and_init_s"] for _ in range(3)]
        user = _run(_USERDICT.format(tmp=tmp))
        speed = _run(_THROUGHPUT.format(tmp=tmp, sample=sample))
    runs = ", ".join(f"{w:.2f}" for w in warm)
    print(f"jieba import + initialise, cold (no cache): {cold:.2f} s")
    print(f"jieba import + initialise, warm (cache):    {min(warm):.2f} s (best of 3: {runs})")
    print(f"user dictionary load_userdict:              {user['userdict_s'] * 1000:.1f} ms")
    print(
        f"taxonomy words added ({user['taxonomy_words']}):          {user['taxonomy_words_s'] * 1000:.1f} ms"
    )
    print(f"throughput over {speed['chars']:,} characters of policy text:")
    for name in ("lcut", "lcut_for_search", "tokenizer.index_tokens"):
        figures = speed[name]
        tokens, chars = figures["tokens_per_s"], figures["chars_per_s"]
        print(f"  {name:<24} {tokens:>10,.0f} tokens/s {chars:>10,.0f} chars/s")


if __name__ == "__main__":
    main()
