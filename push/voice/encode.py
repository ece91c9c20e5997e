"""PCM to the formats the channels take, with libsndfile from the `soundfile` wheel (OGG/Opus
and MP3 built in; no ffmpeg).

- OGG/Opus, 16 kHz mono: Telegram sendVoice and the web page's audio player. Opus only takes
  8/12/16/24/48 kHz, so espeak's 22.05 kHz is resampled first.
- MP3, 16 kHz mono, in chunks of at most 55 s cut at sentence pauses: WeChat voice messages
  may not exceed 60 s (and 2 MB).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import numpy as np
import soundfile

from push.voice import opus
from push.voice.engine import Speech

TARGET_RATE = 16_000
WECHAT_CHUNK_SECONDS = 55.0
_HALF_TAPS = 16  # taps each side of an output sample: a 32-tap windowed-sinc low-pass


@lru_cache(maxsize=8)
def _polyphase(source: int, target: int) -> tuple[int, int, np.ndarray]:
    """The resampler for source → target Hz as (block_in, block_out, weights): output block b is
    `x[b * block_in : b * block_in + len(weights)] @ weights`, with block_in / block_out the rate
    ratio in lowest terms. Each output sample gets the windowed-sinc taps for its exact position
    between input samples, so the resampling is exact (no interpolation step) and the filter
    runs only where an output sample is needed."""
    g = gcd(source, target)
    block_in, block_out = source // g, target // g
    cutoff = 0.45 * min(source, target) / source  # cycles per input sample, below both Nyquists
    weights = np.zeros((block_in + 2 * _HALF_TAPS, block_out), dtype=np.float64)
    for j in range(block_out):
        base, rest = divmod(j * block_in, block_out)
        offsets = np.arange(-_HALF_TAPS + 1, _HALF_TAPS + 1)  # input samples around the position
        distance = offsets - rest / block_out
        taps = 2 * cutoff * np.sinc(2 * cutoff * distance) * (0.5 + 0.5 * np.cos(np.pi * distance / _HALF_TAPS))
        weights[base + offsets + _HALF_TAPS - 1 + 1, j] = taps / taps.sum()
    return block_in, block_out, weights.astype(np.float32)


def resample(speech: Speech, rate: int = TARGET_RATE) -> Speech:
    """Rational polyphase resampling as one matrix product over a strided view of the samples:
    a few milliseconds of CPU per minute of speech, without scipy."""
    if speech.sample_rate == rate or len(speech.samples) == 0:
        return speech
    block_in, block_out, weights = _polyphase(speech.sample_rate, rate)
    count = len(speech.samples) * rate // speech.sample_rate
    blocks = -(-count // block_out)
    x = np.zeros(blocks * block_in + len(weights), dtype=np.float32)
    x[_HALF_TAPS:_HALF_TAPS + len(speech.samples)] = speech.samples
    windows = np.lib.stride_tricks.as_strided(x, shape=(blocks, len(weights)),
                                              strides=(block_in * x.itemsize, x.itemsize), writeable=False)
    y = (windows @ weights).reshape(-1)[:count]
    np.rint(y, out=y)
    np.clip(y, -32768, 32767, out=y)
    return Speech(y.astype(np.int16), rate)


def _write(speech: Speech, fmt: str, subtype: str) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, speech.samples, speech.sample_rate, format=fmt, subtype=subtype)
    return out.getvalue()


# libsndfile maps this to the Opus bitrate (0: the most, 1: the least) and always encodes at the
# highest complexity. Measured on the one-minute reading at 16 kHz (CPU of the encode alone): 0.99
# (~9 kbit/s, SILK) 2.2 s, 0.81-0.95 (hybrid) about 4 s, 0.8 and below (CELT) about 1.6 s. 0.75
# (~68 kbit/s, ~500 KB a minute) is CELT with a margin from that edge: a quarter less CPU than 0.99
# for a clip seven times the size, still small beside Telegram's and the web page's limits.
OPUS_COMPRESSION_LEVEL = 0.75


def ogg_opus(speech: Speech, *, use_libopus: bool = True) -> bytes:
    """libopus set for speech when the system has it (`push.voice.opus`); libsndfile otherwise."""
    audio = resample(speech)
    if use_libopus:
        data = opus.encode(audio.samples, audio.sample_rate)
        if data is not None:
            return data
    out = io.BytesIO()
    soundfile.write(out, audio.samples, audio.sample_rate, format="OGG", subtype="OPUS",
                    compression_level=OPUS_COMPRESSION_LEVEL)
    return out.getvalue()


def mp3(speech: Speech) -> bytes:
    return _write(resample(speech), "MP3", "MPEG_LAYER_III")


@dataclass(frozen=True)
class Chunk:
    data: bytes
    seconds: float


def join(parts: Sequence[Speech]) -> Speech:
    if not parts:
        raise ValueError("nothing to join")
    rate = parts[0].sample_rate
    return Speech(np.concatenate([p.samples for p in parts]), rate)


def mp3_chunks(sentences: Sequence[Speech], limit: float = WECHAT_CHUNK_SECONDS) -> list[Chunk]:
    """Sentences packed into MP3 files of at most `limit` seconds each, never cutting a sentence
    (one longer than `limit` on its own is cut at the limit)."""
    chunks: list[Chunk] = []
    batch: list[Speech] = []
    length = 0.0

    def flush() -> None:
        nonlocal batch, length
        if batch:
            whole = join(batch)
            chunks.append(Chunk(mp3(whole), whole.seconds))
        batch, length = [], 0.0

    for sentence in sentences:
        pieces = [sentence]
        if sentence.seconds > limit:
            step = int(limit * sentence.sample_rate)
            pieces = [Speech(sentence.samples[i:i + step], sentence.sample_rate)
                      for i in range(0, len(sentence.samples), step)]
        for piece in pieces:
            if length + piece.seconds > limit:
                flush()
            batch.append(piece)
            length += piece.seconds
    flush()
    return chunks
