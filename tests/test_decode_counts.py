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
from aimark.watermark.image import SCHEME_ID

pytest.importorskip("pdqhash", reason="PDQ fingerprints need pdqhash (aimark[repository])")

KEY = aimark.WatermarkKey(b"aimark decode-count test key 32b")


@contextlib.contextmanager
def counting_decodes(of: bytes | None = None):
    """Yields a list that gets one entry per image Pillow decodes (with ``of``: only decodes
    of those encoded bytes, e.g. a labeller's input, not its own survival-check JPEG)."""
    decoded: list[str] = []
    original = ImageFile.ImageFile.load

    def load(self):  # type: ignore[no-untyped-def]
        source = getattr(self.fp, "getvalue", None)
        if self.tile and (of is None or (source is not None and source() == of)):
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


def test_label_decodes_and_reads_metadata_once(creds, tmp_path, monkeypatch):
    """An encoded JPEG labelled with a badge, a watermark and a repository: one decode of the
    input (the badge and the mark edit the same pixels, the fingerprint is of them), one read
    of its metadata, and the manifest label comes from the signer's store."""
    from aimark.media import containers

    src = _jpeg(_photo(5))
    reads: list[int] = []
    read_metadata = containers.read_metadata

    def counting_read(data, fmt):  # type: ignore[no-untyped-def]
        if data == src:
            reads.append(1)
        return read_metadata(data, fmt)

    monkeypatch.setattr(containers, "read_metadata", counting_read)
    repo = SQLiteRepository(tmp_path / "m.db")
    lab = aimark.Labeler(creds, generator="m", watermark_key=KEY, repository=repo)
    with counting_decodes() as every, counting_decodes(of=src) as decoded:
        result = lab.label_image(src, visible=True)
    assert set(result.layers) >= {"visible", "watermark", "c2pa", "repository"}
    assert decoded == ["JPEG"], decoded
    # the only other decode: the survival check's own JPEG 75 round trip (no decode of the
    # labelled output for its fingerprint)
    assert len(every) == 2 and result.watermark_check is not None, every
    assert len(reads) == 1
    record = repo.manifest(
        repo.by_binding(SCHEME_ID, f"{result.watermark_payload:016x}")[0].manifest_id
    )
    assert record is not None and record.fingerprints  # filed with its PDQ fingerprint
    assert aimark.verify(result.data).c2pa.manifest == record.manifest_id
