"""Counting tests for the shape of label and verify (issue 20): an encoded image is decoded
at most once per call, whatever layers are on. A decode is counted where Pillow turns encoded
data into pixels (``ImageFile.load`` with tiles to read)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from PIL import Image, ImageFile

import aimark
from aimark.repository import SQLiteRepository

pytest.importorskip("pdqhash", reason="PDQ fingerprints need pdqhash (aimark[repository])")

KEY = aimark.WatermarkKey(b"aimark decode-count test key 32b")


@contextlib.contextmanager
def counting_decodes():
    """Yields a list that gets one entry per image Pillow decodes."""
    decoded: list[str] = []
    original = ImageFile.ImageFile.load

    def load(self):  # type: ignore[no-untyped-def]
        if self.tile:
            decoded.append(self.format or "?")
        return original(self)

    ImageFile.ImageFile.load = load
    try:
        yield decoded
    finally:
        ImageFile.ImageFile.load = original


def _photo(seed: int, size=(800, 600)) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = Image.fromarray((rng.random((12, 16, 3)) * 255).astype(np.uint8))
    base = np.asarray(small.resize(size, Image.Resampling.BICUBIC)).astype(np.float32)
    base += rng.normal(0, 6, base.shape)
    return Image.fromarray(base.clip(0, 255).astype(np.uint8))


def _jpeg(im: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="module")
def filed(creds, tmp_path_factory):
    """A labelled JPEG filed in a repository, and a copy stripped of its credentials."""
    db = tmp_path_factory.mktemp("counts") / "m.db"
    repo = SQLiteRepository(db)
    lab = aimark.Labeler(creds, generator="m", watermark_key=KEY, repository=repo)
    labelled = bytes(lab.label_image(_photo(3), format="jpeg"))
    stripped = _jpeg(Image.open(io.BytesIO(labelled)).convert("RGB"), 90)
    return db, labelled, stripped


@pytest.mark.parametrize("public", [False, True], ids=["keys+repository", "+public"])
def test_verify_decodes_once_with_every_layer_on(filed, dev, public):
    db, _, stripped = filed
    verifier = aimark.Verifier(
        trust=dev.root_cert, watermark_keys=[KEY], repository=db, public_watermarks=public
    )
    with counting_decodes() as decoded:
        report = verifier.verify(stripped)
    assert report.watermark.detected and report.recovery is not None
    assert report.verdict.status.value == "labelled-watermark"
    assert report.recovery.status == "recovered"
    assert decoded == ["JPEG"], decoded


def test_verify_decodes_nothing_when_no_layer_needs_pixels(filed, dev):
    _, labelled, _ = filed
    with counting_decodes() as decoded:
        report = aimark.Verifier(trust=dev.root_cert).verify(labelled)
    assert report.verdict.status.value == "labelled-trusted"
    assert decoded == []
