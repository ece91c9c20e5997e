"""The polyphase resampler: espeak's 22,050 Hz to the 16,000 Hz the Opus and MP3 encoders take."""

from __future__ import annotations

import numpy as np
import pytest

from push.voice.encode import resample
from push.voice.engine import Speech

SOURCE = 22_050


def _tone(frequency: float, rate: int, seconds: float = 1.0, amplitude: float = 10_000) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * frequency * np.arange(int(rate * seconds)) / rate)


@pytest.mark.parametrize("target", [16_000, 12_000, 24_000])
@pytest.mark.parametrize("frequency", [200.0, 1_000.0, 3_000.0])
def test_a_tone_in_the_pass_band_keeps_its_shape(target: int, frequency: float) -> None:
    speech = Speech(_tone(frequency, SOURCE).astype(np.int16), SOURCE)
    out = resample(speech, target)
    assert out.sample_rate == target and out.samples.dtype == np.int16
    assert len(out.samples) == SOURCE * target // SOURCE
    inner = slice(100, -100)  # the ends see the zero padding
    error = out.samples[inner] - _tone(frequency, target)[inner]
    assert np.sqrt(np.mean(error ** 2)) < 10  # of an amplitude of 10,000: within a few units


def test_what_the_new_rate_cannot_carry_is_filtered_out_not_folded_back() -> None:
    speech = Speech(_tone(9_500.0, SOURCE).astype(np.int16), SOURCE)
    out = resample(speech, 16_000)  # 9.5 kHz is above 8 kHz: it would alias to 6.5 kHz
    assert np.sqrt(np.mean(out.samples[100:-100].astype(float) ** 2)) < 20


def test_loud_speech_is_clipped_not_wrapped_and_same_rate_is_left_alone() -> None:
    square = np.where(np.arange(SOURCE) % 100 < 50, 32_767, -32_768).astype(np.int16)
    out = resample(Speech(square, SOURCE), 16_000)
    assert out.samples.max() == 32_767 and out.samples.min() == -32_768  # overshoot clipped
    same = Speech(square, 16_000)
    assert resample(same, 16_000) is same
    assert len(resample(Speech(np.zeros(0, np.int16), SOURCE)).samples) == 0
