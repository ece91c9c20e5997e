"""OGG/Opus written by libopus and our own Ogg pages: files every player (here libsndfile, which
checks each page's CRC) reads back at the right length, rate and sound."""

from __future__ import annotations

import io
import os
import struct

import numpy as np
import pytest
import soundfile

from push.voice import encode, opus
from push.voice.engine import Speech
from tests.fakes.telegram_api import is_ogg_opus

RATE = 16_000

# CI installs libopus0 (.ci/run); elsewhere a machine without it uses libsndfile, tested below.
pytestmark = pytest.mark.skipif(not opus.available() and not os.environ.get("CI"),
                                reason="libopus (Debian libopus0) is not installed")


def tone(seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (9000 * np.sin(2 * np.pi * 440 * t) * np.sin(np.pi * t / seconds)).astype(np.int16)


def pages(data: bytes) -> list[tuple[int, int, int, bytes, bytes]]:
    """(flags, granule, sequence, header with a zero CRC, body) of every Ogg page."""
    found, at = [], 0
    while at < len(data):
        assert data[at:at + 4] == b"OggS"
        flags, granule, _serial, sequence, _crc, count = struct.unpack_from("<xBqIIIB", data, at + 4)
        lacing = data[at + 27:at + 27 + count]
        size = 27 + count + sum(lacing)
        header = data[at:at + 22] + b"\0\0\0\0" + data[at + 26:at + 27 + count]
        found.append((flags, granule, sequence, header, data[at + 27 + count:at + size]))
        at += size
    return found


def test_the_ogg_crc_is_the_non_reflected_crc32_with_zero_start() -> None:
    assert opus._crc(b"123456789") == 0x89A1897F  # CRC-32/POSIX's check value without its final xor


def test_a_clip_decodes_to_the_same_length_rate_and_sound() -> None:
    source = tone(7.3)
    data = opus.encode(source, RATE)
    assert data is not None and is_ogg_opus(data)
    decoded, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    assert rate == RATE and len(decoded) == len(source)  # the last granule trims look-ahead and padding
    correlation = np.corrcoef(source.astype(float), decoded.astype(float))[0, 1]
    assert correlation > 0.9


def test_pages_are_numbered_flagged_and_checksummed() -> None:
    data = opus.encode(tone(3.0), RATE)
    assert data is not None
    found = pages(data)
    assert [p[2] for p in found] == list(range(len(found)))
    assert found[0][0] == 0x02 and found[0][4].startswith(b"OpusHead") and found[1][4].startswith(b"OpusTags")
    assert found[-1][0] == 0x04 and all(p[0] == 0 for p in found[1:-1])
    granules = [p[1] for p in found[2:]]
    assert granules == sorted(granules)
    pre_skip = struct.unpack_from("<H", found[0][4], 10)[0]
    assert granules[-1] == pre_skip + 3 * 48_000
    for _flags, _granule, _sequence, header, body in found:
        stored = struct.unpack_from("<I", data, data.index(header[:22]) + 22)[0]
        assert stored == opus._crc(header + body)


def test_large_packets_are_laced_across_pages_within_255_segments() -> None:
    packets = [bytes([n % 251]) * 700 for n in range(200)]  # 3 lacing values each
    data = opus._ogg(packets, pre_skip=312, frame_48k=960, samples_48k=200 * 960 - 400, rate=RATE)
    found = pages(data)
    assert all(len(header) - 27 <= 255 for _f, _g, _s, header, _b in found)
    assert b"".join(p[4] for p in found[2:]) == b"".join(packets)


def test_without_libopus_libsndfile_still_makes_the_clip(monkeypatch: pytest.MonkeyPatch) -> None:
    speech = Speech(tone(2.0, 22_050), 22_050)
    monkeypatch.setattr(opus, "_libopus", lambda: None)
    assert opus.encode(speech.samples, RATE) is None
    data = encode.ogg_opus(speech)
    assert is_ogg_opus(data)
    decoded, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    assert rate == RATE and abs(len(decoded) - 2 * RATE) < RATE // 10
