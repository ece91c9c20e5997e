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

import numpy as np
import soundfile

from push.voice.engine import Speech

TARGET_RATE = 16_000
WECHAT_CHUNK_SECONDS = 55.0
_TAPS = 63


def resample(speech: Speech, rate: int = TARGET_RATE) -> Speech:
    """Low-pass below the new Nyquist frequency (windowed sinc), then interpolate: enough for
    a formant voice, without pulling in scipy."""
    if speech.sample_rate == rate or len(speech.samples) == 0:
        return speech
    x = speech.samples.astype(np.float32)
    if rate < speech.sample_rate:
        cutoff = 0.45 * rate / speech.sample_rate  # in cycles per input sample
        n = np.arange(_TAPS) - (_TAPS - 1) / 2
        taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(_TAPS)
        x = np.convolve(x, (taps / taps.sum()).astype(np.float32), mode="same")
    count = round(len(x) * rate / speech.sample_rate)
    positions = np.arange(count, dtype=np.float64) * speech.sample_rate / rate
    y = np.interp(positions, np.arange(len(x)), x)
    return Speech(np.clip(np.round(y), -32768, 32767).astype(np.int16), rate)


def _write(speech: Speech, fmt: str, subtype: str) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, speech.samples, speech.sample_rate, format=fmt, subtype=subtype)
    return out.getvalue()


# libsndfile maps this to the Opus bitrate: 0.99 gives ~9 kbit/s, which Opus codes as wideband
# speech (SILK) at half the CPU of the default ~27 kbit/s, with no audible loss for this voice.
OPUS_COMPRESSION_LEVEL = 0.99


def ogg_opus(speech: Speech) -> bytes:
    out = io.BytesIO()
    audio = resample(speech)
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
