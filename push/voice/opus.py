"""OGG/Opus through libopus itself (ctypes) and an Ogg writer of our own (RFC 3533, RFC 7845).

libsndfile always encodes Opus at complexity 10 and picks the mode from the bitrate, which costs
about 1.5 s of CPU per minute of speech (ADR 0013). libopus set for speech (VOIP application,
voice signal, 24 kbit/s, a moderate complexity) makes the same minute in a small fraction of
that, at a tenth of the size. libopus is Debian's `libopus0` (present wherever chromium or most
audio software is); without it `encode` returns None and the caller keeps libsndfile.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import struct
from functools import lru_cache

import numpy as np

_APPLICATION_VOIP = 2048
_SET_BITRATE = 4002
_SET_COMPLEXITY = 4010
_SET_SIGNAL = 4024
_SIGNAL_VOICE = 3001
_GET_LOOKAHEAD = 4027

RATES = (8_000, 12_000, 16_000, 24_000, 48_000)  # the input rates libopus takes
BITRATE = 24_000  # wideband speech is clear at 24 kbit/s (SILK); ~180 KB a minute
COMPLEXITY = 0  # of 0..10: espeak's voice gains nothing audible above it, and it costs a fifth of 10's CPU
FRAME_MS = 20
_MAX_PACKET = 4_000  # bytes; libopus's own recommendation for one packet's buffer
_PACKETS_PER_PAGE = 50  # one second of 20 ms frames per Ogg page
_VENDOR = b"policy-direct libopus"


@lru_cache(maxsize=1)
def _libopus() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("opus") or "libopus.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int32]
    lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_encoder_ctl.restype = ctypes.c_int  # variadic: arguments are passed as ctypes ints
    return lib


def available() -> bool:
    return _libopus() is not None


def encode(samples: np.ndarray, rate: int) -> bytes | None:
    """Mono 16-bit PCM at one of `RATES` as an OGG/Opus file; None without libopus."""
    lib = _libopus()
    if lib is None or rate not in RATES:
        return None
    error = ctypes.c_int(0)
    encoder = lib.opus_encoder_create(rate, 1, _APPLICATION_VOIP, ctypes.byref(error))
    if error.value != 0 or not encoder:
        return None
    try:
        for request, value in ((_SET_BITRATE, BITRATE), (_SET_COMPLEXITY, COMPLEXITY), (_SET_SIGNAL, _SIGNAL_VOICE)):
            lib.opus_encoder_ctl(ctypes.c_void_p(encoder), ctypes.c_int(request), ctypes.c_int(value))
        lookahead = ctypes.c_int(0)
        lib.opus_encoder_ctl(ctypes.c_void_p(encoder), ctypes.c_int(_GET_LOOKAHEAD), ctypes.byref(lookahead))
        frame = rate * FRAME_MS // 1000
        pcm = np.ascontiguousarray(samples, dtype=np.int16)
        # Room for the encoder's look-ahead, so the end granule (which trims it) stays within
        # what the packets decode to.
        padded = np.zeros(-(-(len(pcm) + lookahead.value + 1) // frame) * frame, dtype=np.int16)
        padded[: len(pcm)] = pcm
        buffer = ctypes.create_string_buffer(_MAX_PACKET)
        packets: list[bytes] = []
        base = padded.ctypes.data
        for start in range(0, len(padded), frame):
            size = lib.opus_encode(encoder, base + start * 2, frame, buffer, _MAX_PACKET)
            if size < 0:
                return None
            packets.append(buffer.raw[:size])
    finally:
        lib.opus_encoder_destroy(encoder)
    scale = 48_000 // rate  # Ogg granule positions count 48 kHz samples (RFC 7845 section 4)
    return _ogg(packets, pre_skip=lookahead.value * scale, frame_48k=frame * scale,
                samples_48k=len(pcm) * scale, rate=rate)


def _ogg(packets: list[bytes], *, pre_skip: int, frame_48k: int, samples_48k: int, rate: int) -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, rate, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", len(_VENDOR)) + _VENDOR + struct.pack("<I", 0)
    serial = 0x50444F50  # any fixed number: one logical stream per file
    pages = [_page([head], 0, serial, 0, bos=True), _page([tags], 0, serial, 1)]
    end = pre_skip + samples_48k  # the last page's granule trims the padding of the last frame
    group: list[bytes] = []
    lacing = 0
    done = 0
    for n, packet in enumerate(packets, start=1):
        group.append(packet)
        lacing += len(packet) // 255 + 1
        done = n
        following = packets[n] if n < len(packets) else None
        if following is None or len(group) >= _PACKETS_PER_PAGE or lacing + len(following) // 255 + 1 > 255:
            granule = end if following is None else min(end, done * frame_48k)
            pages.append(_page(group, granule, serial, len(pages), eos=following is None))
            group, lacing = [], 0
    return b"".join(pages)


def _page(packets: list[bytes], granule: int, serial: int, sequence: int, *, bos: bool = False,
          eos: bool = False) -> bytes:
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    if len(lacing) > 255:
        raise ValueError("too many segments for one Ogg page")
    flags = (0x02 if bos else 0) | (0x04 if eos else 0)
    header = b"OggS" + struct.pack("<BBqIII", 0, flags, granule, serial, sequence, 0) + bytes([len(lacing)]) + lacing
    body = b"".join(packets)
    checksum = _crc(header + body)
    return header[:22] + struct.pack("<I", checksum) + header[26:] + body


@lru_cache(maxsize=1)
def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return tuple(table)


def _crc(data: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, no reflection, zero start): not zlib's crc32."""
    table = _crc_table()
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) ^ byte) & 0xFF]
    return crc
