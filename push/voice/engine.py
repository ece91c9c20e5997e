"""Speech engines: text in, mono 16-bit PCM out.

The default is espeak-ng 1.52 with its Mandarin voice, loaded from the `espeakng-loader` wheel
through ctypes (no model download, no system package). The voice is a formant synthesiser:
robotic, but intelligible, and it takes a few milliseconds of CPU per minute of speech.
Debian 12's espeak-ng 1.51 misreads the `cmn` voice (it says tone numbers in English), so
when the wheel is missing the fallback runs Debian's command with `cmn-latn-pinyin`, which
reads correctly.

A county with a better licensed voice adds a class with the `SpeechEngine` shape and names it
in VOICE_ENGINE as "package.module:ClassName" (built with no arguments).
"""

from __future__ import annotations

import ctypes
import importlib
import io
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # int16, mono
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


class SpeechEngine(Protocol):
    """What the read-aloud needs from a voice. `key` names engine, voice and settings: it is part
    of the cache key, so changing the voice makes new audio instead of reusing the old."""

    key: str

    def speak(self, text: str) -> Speech: ...


class EngineUnavailable(RuntimeError):
    """No speech engine can run on this machine."""


# espeak-ng's C API (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_RATE = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class EspeakLibraryEngine:
    """libespeak-ng from the `espeakng-loader` wheel, in synchronous mode (PCM comes back
    through the synth callback). The library keeps global state, so one call at a time."""

    VOICE = "cmn"
    RATE = 165  # words per minute; a little slower than espeak's 175, for older listeners

    def __init__(self) -> None:
        try:
            import espeakng_loader  # late: no loop; the voice library loads only when a voice is made
        except ImportError as exc:
            raise EngineUnavailable("未安装 espeakng-loader") from exc
        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # kept referenced: the C side calls it
        self._lib.espeak_Initialize.restype = ctypes.c_int
        data_path = espeakng_loader.get_data_path().encode()
        rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, ctypes.c_char_p(data_path), 0)
        if rate <= 0:
            raise EngineUnavailable("espeak-ng 初始化失败")
        self.sample_rate = int(rate)
        self._lib.espeak_SetSynthCallback(self._callback)
        if self._lib.espeak_SetVoiceByName(ctypes.c_char_p(self.VOICE.encode())) != 0:
            raise EngineUnavailable("espeak-ng 没有普通话语音数据")
        self._lib.espeak_SetParameter(_RATE, self.RATE, 0)
        self.key = f"espeak-ng-lib:{self.VOICE}:{self.RATE}"

    def _collect(self, wav: ctypes.Array[ctypes.c_short], count: int, _events: int) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def speak(self, text: str) -> Speech:
        data = text.encode("utf-8") + b"\0"
        with self._lock:
            self._chunks = []
            self._lib.espeak_Synth(ctypes.c_char_p(data), ctypes.c_size_t(len(data)), 0, _POS_CHARACTER, 0,
                                   _CHARS_UTF8 | _ENDPAUSE, None, None)
            self._lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return Speech(samples.astype(np.int16, copy=False), self.sample_rate)


class EspeakCommandEngine:
    """Debian's `espeak-ng` command with the voice that reads Mandarin correctly in 1.51."""

    VOICE = "cmn-latn-pinyin"
    RATE = 150

    def __init__(self, command: str = "espeak-ng") -> None:
        found = shutil.which(command)
        if found is None:
            raise EngineUnavailable("未找到 espeak-ng 命令（Debian 软件包 espeak-ng）")
        self._command = found
        self.key = f"espeak-ng-cmd:{self.VOICE}:{self.RATE}"

    def speak(self, text: str) -> Speech:
        import soundfile  # late: no loop; libsndfile loads only when audio is encoded

        done = subprocess.run([self._command, "-v", self.VOICE, "-s", str(self.RATE), "--stdout"],
                              input=text.encode("utf-8"), capture_output=True, check=True, timeout=60)
        samples, rate = soundfile.read(io.BytesIO(done.stdout), dtype="int16")
        return Speech(np.asarray(samples, dtype=np.int16), int(rate))


_engine: SpeechEngine | None = None
_engine_lock = threading.Lock()


def load_engine(name: str = "") -> SpeechEngine:
    """The engine VOICE_ENGINE names ("" or "espeak": the wheel's library, else Debian's command;
    "espeak-command": Debian's command; "module:Class": a county's own)."""
    if name and ":" in name:
        module, _, cls = name.partition(":")
        return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]
    if name == "espeak-command":
        return EspeakCommandEngine()
    try:
        return EspeakLibraryEngine()
    except (EngineUnavailable, OSError):
        return EspeakCommandEngine()


def shared_engine(name: str = "") -> SpeechEngine:
    """One engine per process (espeak's library can only be initialised once)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = load_engine(name)
        return _engine
