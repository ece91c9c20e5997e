"""Voice clips on disk: made once per (policy, revision, format, voice), reused for everyone.

Layout: `<cache>/p<policy id>/r<revision>-<voice hash>.ogg` (one file) or `…-<n>.mp3` (WeChat
chunks of ≤55 s), and a `.json` beside them with the durations, written last so that a clip
is either complete or absent. A per-clip lock makes concurrent first requests (a push to
10,000 listeners) synthesise once. Making a newer revision's clip removes the older ones;
`forget` removes a policy's clips when it is repealed or expires.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from push.voice.encode import Chunk, join, mp3_chunks, ogg_opus
from push.voice.engine import SpeechEngine

OGG = "ogg"
MP3 = "mp3"
FORMATS = (OGG, MP3)


@dataclass(frozen=True)
class VoiceClip:
    policy_id: int
    revision: int
    fmt: str
    engine_key: str
    parts: tuple[Path, ...]
    seconds: tuple[float, ...]

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds)

    def data(self, part: int = 0) -> bytes:
        return self.parts[part].read_bytes()


class VoiceLibrary:
    def __init__(self, cache_dir: Path, engine: SpeechEngine) -> None:
        self.cache_dir = Path(cache_dir)
        self.engine = engine
        self.syntheses = 0  # clips made (not served from disk): what a bench or test checks
        self._locks: dict[tuple[int, int, str], asyncio.Lock] = {}
        self._voice = hashlib.sha256(engine.key.encode()).hexdigest()[:10]

    def _stem(self, policy_id: int, revision: int) -> Path:
        return self.cache_dir / f"p{int(policy_id)}" / f"r{int(revision)}-{self._voice}"

    def cached(self, policy_id: int, revision: int, fmt: str) -> VoiceClip | None:
        return self._cached_at(self._stem(policy_id, revision), fmt, policy_id, revision)

    def _cached_at(self, stem: Path, fmt: str, policy_id: int, revision: int) -> VoiceClip | None:
        meta = stem.with_name(f"{stem.name}.{fmt}.json")
        try:
            seconds = json.loads(meta.read_text(encoding="utf-8"))["seconds"]
        except (OSError, ValueError, KeyError):
            return None
        parts = tuple(self._part_path(stem, fmt, n, len(seconds)) for n in range(len(seconds)))
        if not all(p.exists() for p in parts):
            return None
        return VoiceClip(policy_id, revision, fmt, self.engine.key, parts, tuple(float(s) for s in seconds))

    @staticmethod
    def _part_path(stem: Path, fmt: str, n: int, count: int) -> Path:
        return stem.with_name(f"{stem.name}.{fmt}") if count == 1 and fmt == OGG else \
            stem.with_name(f"{stem.name}-{n + 1}.{fmt}")

    async def clip(self, policy_id: int, revision: int, fmt: str, sentences: Sequence[str]) -> VoiceClip:
        """The clip of `sentences` (the policy's reading script), made on first request."""
        clip = await self._clip_at(self._stem(policy_id, revision), (policy_id, revision, fmt), fmt, sentences,
                                   policy_id, revision)
        self.forget(policy_id, keep_revision=revision)
        return clip

    async def text_clip(self, folder: str, fmt: str, sentences: Sequence[str]) -> VoiceClip:
        """The clip of any other text (an FAQ answer), cached under `folder` by its content, so an
        edited text gets new audio."""
        digest = hashlib.sha256("\n".join([self.engine.key, *sentences]).encode()).hexdigest()[:16]
        stem = self.cache_dir / folder / f"t{digest}"
        return await self._clip_at(stem, (folder, digest, fmt), fmt, sentences, 0, 0)

    async def _clip_at(self, stem: Path, key: tuple[object, ...], fmt: str, sentences: Sequence[str],
                       policy_id: int, revision: int) -> VoiceClip:
        if fmt not in FORMATS:
            raise ValueError(f"unknown voice format {fmt}")
        found = self._cached_at(stem, fmt, policy_id, revision)
        if found is not None:
            return found
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            found = self._cached_at(stem, fmt, policy_id, revision)
            if found is not None:
                return found
            clip = await asyncio.to_thread(self._make, stem, policy_id, revision, fmt, list(sentences))
            self.syntheses += 1
        self._locks.pop(key, None)
        return clip

    def _make(self, stem: Path, policy_id: int, revision: int, fmt: str, sentences: list[str]) -> VoiceClip:
        speech = [self.engine.speak(s) for s in sentences if s.strip()]
        if not speech:
            raise ValueError("nothing to read")
        if fmt == OGG:
            whole = join(speech)
            chunks = [Chunk(ogg_opus(whole), whole.seconds)]
        else:
            chunks = mp3_chunks(speech)
        stem.parent.mkdir(parents=True, exist_ok=True)
        parts = []
        for n, chunk in enumerate(chunks):
            path = self._part_path(stem, fmt, n, len(chunks))
            _atomic_write(path, chunk.data)
            parts.append(path)
        seconds = [round(c.seconds, 3) for c in chunks]
        meta = stem.with_name(f"{stem.name}.{fmt}.json")
        _atomic_write(meta, json.dumps({"seconds": seconds, "engine": self.engine.key}).encode())
        return VoiceClip(policy_id, revision, fmt, self.engine.key, tuple(parts), tuple(seconds))

    def forget(self, policy_id: int, keep_revision: int | None = None) -> int:
        return forget_clips(self.cache_dir, policy_id, keep_revision)

    def policies_cached(self) -> list[int]:
        return cached_policies(self.cache_dir)


def forget_clips(cache_dir: Path, policy_id: int, keep_revision: int | None = None) -> int:
    """Remove a policy's clips (all, or all but `keep_revision`'s); returns files removed."""
    folder = Path(cache_dir) / f"p{int(policy_id)}"
    if not folder.is_dir():
        return 0
    if keep_revision is None:
        count = sum(1 for _ in folder.iterdir())
        shutil.rmtree(folder, ignore_errors=True)
        return count
    removed = 0
    for path in folder.iterdir():
        if not path.name.startswith(f"r{int(keep_revision)}-"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def cached_policies(cache_dir: Path) -> list[int]:
    folder = Path(cache_dir)
    if not folder.is_dir():
        return []
    return sorted(int(p.name[1:]) for p in folder.iterdir() if p.name[1:].isdigit())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
