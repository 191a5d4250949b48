"""The image watermark's scheme table: the verbs read it, and a scheme registered at runtime
(a trivial test-only one here) is embedded and detected through the public functions."""

from __future__ import annotations

import numpy as np
import pytest

import aimark
from aimark.keys import WatermarkKey
from aimark.watermark.image import SCHEMES, detect, detect_batch, embed, registry
from aimark.watermark.image.registry import Detection, ImageScheme

KEY = aimark.WatermarkKey(b"aimark registry test key 32 byte")
FAKE_ID = "test.fake.1"


class FakeScheme(ImageScheme):
    """Writes the payload's low byte, repeated and keyed, into the parity of the first row."""

    id = FAKE_ID
    min_size = 64

    def __init__(self) -> None:
        self.analysed = 0

    @staticmethod
    def _mask(key: WatermarkKey, width: int) -> np.ndarray:
        return np.frombuffer(key.derive("test.fake/mask", width), np.uint8) & 1

    @staticmethod
    def _bits(byte: int, width: int) -> np.ndarray:
        return np.array([(byte >> (i % 8)) & 1 for i in range(width)], np.uint8)

    def embed(self, arr, key, payload, strength):
        out = arr.copy()
        row = out[0] if out.ndim == 2 else out[0, :, 0]
        row[:] = (row & 0xFE) | (self._bits(payload & 0xFF, row.size) ^ self._mask(key, row.size))
        return out

    def analyse(self, arr):
        self.analysed += 1
        return (arr[0] if arr.ndim == 2 else arr[0, :, 0]) & 1

    def detect_key(self, analysis, key, threshold):
        bits = analysis ^ self._mask(key, analysis.size)
        byte = sum(int(b) << i for i, b in enumerate(bits[:8]))
        p = 2.0 ** (8 - analysis.size)  # every bit after the first byte repeats it
        if not np.array_equal(bits, self._bits(byte, analysis.size)) or p > threshold:
            return Detection.nothing(self.id, threshold)
        return Detection(True, p, byte, 1.0, float(analysis.size), threshold, "detected", self.id)


@pytest.fixture
def fake():
    scheme = FakeScheme()
    registry.register(scheme)
    try:
        yield scheme
    finally:
        registry.unregister(FAKE_ID)


def test_the_built_in_table():
    built_in = ("io.aimark.image.3", "io.aimark.image.2", "io.aimark.image.1")
    assert registry.ids() == SCHEMES == built_in
    assert [s.id for s in registry.BUILT_IN] == list(SCHEMES)
    with pytest.raises(ValueError, match="built-in"):
        registry.unregister(SCHEMES[0])
    with pytest.raises(ValueError, match="unknown watermark scheme"):
        detect(np.zeros((200, 200), np.uint8), KEY, schemes=[FAKE_ID])


def test_a_registered_scheme_is_embedded_and_detected(fake):
    assert registry.ids() == (*SCHEMES, FAKE_ID)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(FakeScheme())
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (96, 160, 3), dtype=np.uint8)
    marked = embed(image, KEY, 0x5A, scheme=FAKE_ID)
    r = detect(marked, KEY, schemes=[FAKE_ID])
    assert (r.detected, r.payload, r.scheme) == (True, 0x5A, FAKE_ID)
    assert not detect(image, KEY, schemes=[FAKE_ID]).detected
    # tried after the built-in schemes (which do not find it), and analysed once for 2 keys
    other = aimark.WatermarkKey(bytes(range(32)))
    fake.analysed = 0
    found, missed = detect_batch([marked], [KEY, other], schemes=registry.ids())
    assert found.detected and found.scheme == FAKE_ID and found.payload == 0x5A
    assert not missed.detected and fake.analysed == 1
    # too small for the fake scheme
    assert detect(image[:32], KEY, schemes=[FAKE_ID]).reason == "too-small"


def test_unregistered_is_gone():
    assert FAKE_ID not in registry.ids()
