"""The keyed image watermark: golden vectors, dtypes and layouts, robustness to a fast subset of
attacks, no false detections, bad input, keys, and the wiring into label / verify."""

from __future__ import annotations

import hashlib
import io
import os
import stat

import numpy as np
import pytest
from PIL import Image, ImageEnhance

import aimark
from aimark.watermark.image import MIN_SIZE, SCHEME_ID, detect, detect_batch, embed
from aimark.watermark.image._pattern import layout_for
from aimark.watermark.image.code import CODED_BITS, decode_payload, encode_payload
from conftest import SHARED, pink_image

GOLDEN_KEY = aimark.WatermarkKey(bytes(range(32)))
# a fixed key where a test needs the mark to be found (detection strength varies a little
# from key to key; a fresh random key would make such a test flaky)
WIRING_KEY = aimark.WatermarkKey(b"aimark wiring test key 32 bytes!")
PAYLOAD = 0x0123456789ABCDEF


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------- golden vectors


def test_golden_scheme_constants():
    """Pins the keyed layout and the code: any accidental change to the scheme fails here."""
    lay = layout_for(GOLDEN_KEY)
    assert GOLDEN_KEY.key_id == "c862e15a67cd482e"
    assert lay.harmonics.tolist() == GOLDEN_HARMONICS
    assert (
        _digest(
            lay.sync.astype(np.int8),
            lay.message_sign.astype(np.int8),
            lay.bit_index.astype(np.int16),
        )
        == GOLDEN_LAYOUT
    )
    assert _digest(encode_payload(PAYLOAD)) == GOLDEN_CODE
    assert CODED_BITS == 312 and SCHEME_ID == "io.aimark.image.1"


def test_golden_detection():
    image = pink_image(384, 512, seed=7)
    marked = embed(image, GOLDEN_KEY, PAYLOAD)
    result = detect(marked, GOLDEN_KEY)
    assert result.detected and result.payload == PAYLOAD
    assert result.score == pytest.approx(GOLDEN_SCORE, abs=0.75)
    assert result.p_value < 1e-12


# values recorded from the scheme as designed (see docs/watermark-image.md)
GOLDEN_HARMONICS = [[7, 5], [-8, 3], [5, 6], [4, 10], [-5, 9], [-9, 6], [8, 3], [-2, 9]]
GOLDEN_LAYOUT = "9b459e7dc976086d"
GOLDEN_CODE = "d92bc855a129f73b"
GOLDEN_SCORE = 11.5


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("layout", ["gray", "rgb", "rgba"])
def test_round_trip_dtypes_and_layouts(dtype, layout):
    base = pink_image(320, 400, seed=1).astype(np.float64) / 255.0
    if layout == "gray":
        arr = base.mean(axis=2)
    elif layout == "rgba":
        alpha = np.linspace(0, 1, base.shape[1])[None, :].repeat(base.shape[0], 0)
        arr = np.dstack([base, alpha])
    else:
        arr = base
    if dtype is np.uint8:
        arr = np.round(arr * 255).astype(np.uint8)
    elif dtype is np.uint16:
        arr = np.round(arr * 65535).astype(np.uint16)
    else:
        arr = arr.astype(np.float32)
    before = arr.copy()
    marked = embed(arr, GOLDEN_KEY, PAYLOAD)
    assert np.array_equal(arr, before), "the input must not be modified"
    assert marked.shape == arr.shape and marked.dtype == arr.dtype
    if layout == "rgba":
        assert np.array_equal(marked[..., 3], arr[..., 3]), "alpha must be untouched"
    assert not np.array_equal(marked, arr)
    result = detect(marked, GOLDEN_KEY)
    assert result.detected and result.payload == PAYLOAD


def test_invisibility_budget():
    image = pink_image(384, 512, seed=3)
    marked = embed(image, GOLDEN_KEY, PAYLOAD)
    mse = np.mean((marked.astype(float) - image) ** 2)
    psnr = 10 * np.log10(255**2 / mse)
    assert 39.5 <= psnr <= 42.5
    stronger = embed(image, GOLDEN_KEY, PAYLOAD, strength=2.0)
    assert np.mean((stronger.astype(float) - image) ** 2) > 3 * mse


# ------------------------------------------------------------------ attacks (fast subset)


def _jpeg(a: np.ndarray, q: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=q)
    return np.asarray(Image.open(buf).convert("RGB"))


def _resize(a: np.ndarray, s: float) -> np.ndarray:
    h, w = a.shape[:2]
    return np.asarray(
        Image.fromarray(a).resize((round(w * s), round(h * s)), Image.Resampling.BICUBIC)
    )


ATTACKS = {
    "jpeg60": lambda a: _jpeg(a, 60),
    "resize60": lambda a: _resize(a, 0.6),
    "crop60": lambda a: a[40 : 40 + int(a.shape[0] * 0.75), 90 : 90 + int(a.shape[1] * 0.8)],
    "rotate3": lambda a: np.asarray(Image.fromarray(a).rotate(3, Image.Resampling.BICUBIC)),
    "flip": lambda a: a[:, ::-1],
    "brightness0.8": lambda a: np.asarray(ImageEnhance.Brightness(Image.fromarray(a)).enhance(0.8)),
}


@pytest.fixture(scope="module")
def marked_pair():
    image = pink_image(480, 640, seed=11)
    return image, embed(image, GOLDEN_KEY, PAYLOAD)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_survives_attack_and_clean_stays_clean(attack, marked_pair):
    image, marked = marked_pair
    found = detect(ATTACKS[attack](marked), GOLDEN_KEY)
    assert found.detected and found.payload == PAYLOAD, found
    clean = detect(ATTACKS[attack](image), GOLDEN_KEY)
    assert not clean.detected and clean.payload is None


@pytest.mark.skipif(not (SHARED / "photos").is_dir(), reason="shared photos absent")
@pytest.mark.parametrize("name", ["earth_apollo17.jpg", "P1000827.jpg", "TUSCANY.TIF"])
def test_real_photos(name):
    photo = np.asarray(Image.open(SHARED / "photos" / name).convert("RGB"))
    marked = embed(photo, GOLDEN_KEY, PAYLOAD)
    result = detect(_jpeg(marked, 75), GOLDEN_KEY)
    assert result.detected and result.payload == PAYLOAD
    assert not detect(photo, GOLDEN_KEY).detected


def test_no_false_detections_on_clean_images_and_other_keys():
    """A small false-positive check (the 5,000-input run is in benchmarks/)."""
    trials = 0
    for seed in range(8):
        image = pink_image(256 + 16 * seed, 320, seed=100 + seed)
        other = embed(image, aimark.WatermarkKey.generate(), PAYLOAD)
        for candidate in (image, other, np.full_like(image, 128)):
            result = detect(candidate, aimark.WatermarkKey.generate())
            assert not result.detected and result.payload is None
            trials += 1
    assert trials == 24


def test_detect_batch_matches_detect(marked_pair):
    image, marked = marked_pair
    batch = detect_batch([marked, image], GOLDEN_KEY)
    assert [r.detected for r in batch] == [True, False]
    assert batch[0].payload == detect(marked, GOLDEN_KEY).payload
    two_keys = detect_batch([marked], [aimark.WatermarkKey.generate(), GOLDEN_KEY])
    assert [r.detected for r in two_keys] == [False, True]


# ----------------------------------------------------------------------------- bad input


def test_bad_inputs():
    key = GOLDEN_KEY
    with pytest.raises(ValueError, match="NaN"):
        embed(np.full((200, 200), np.nan, np.float32), key, 1)
    with pytest.raises(ValueError, match="NaN"):
        detect(np.full((200, 200), np.nan, np.float32), key)
    with pytest.raises(ValueError, match="empty"):
        detect(np.zeros((0, 0), np.uint8), key)
    with pytest.raises(ValueError, match="too small"):
        embed(np.zeros((1, 1, 3), np.uint8), key, 1)
    small = detect(np.zeros((1, 1, 3), np.uint8), key)
    assert small.status == "too-small" and not small.detected
    assert detect(np.zeros((MIN_SIZE - 1, 500), np.uint8), key).status == "too-small"
    with pytest.raises(TypeError, match="WatermarkKey"):
        detect(np.zeros((200, 200), np.uint8), b"x" * 32)
    with pytest.raises(TypeError, match="WatermarkKey"):
        embed(np.zeros((200, 200), np.uint8), "key", 1)
    with pytest.raises(ValueError, match="payload"):
        embed(np.zeros((200, 200), np.uint8), key, 2**64)
    with pytest.raises(ValueError, match="payload"):
        embed(np.zeros((200, 200), np.uint8), key, -1)
    with pytest.raises(ValueError):
        embed(np.zeros((200, 200, 2), np.uint8), key, 1)
    with pytest.raises(TypeError):
        embed(np.zeros((200, 200), bool), key, 1)
    with pytest.raises(ValueError, match="threshold"):
        detect(np.zeros((200, 200), np.uint8), key, threshold=0)


def test_code_rejects_noise_and_corrects_errors():
    rng = np.random.default_rng(5)
    clean = 1.0 - 2.0 * encode_payload(PAYLOAD)
    assert decode_payload(clean + rng.normal(0, 0.6, clean.size)).payload == PAYLOAD
    assert all(decode_payload(rng.normal(0, 1, clean.size)).payload is None for _ in range(200))


# ----------------------------------------------------------------------------- keys


def test_keys_save_load_env(tmp_path, monkeypatch):
    key = aimark.WatermarkKey.generate()
    path = tmp_path / "k"
    key.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert aimark.WatermarkKey.load(path) == key
    with pytest.raises(aimark.WatermarkKeyError, match="exists"):
        key.save(path)
    monkeypatch.setenv("AIMARK_WATERMARK_KEY", key.to_text())
    assert aimark.WatermarkKey.from_env() == key
    assert key.key_id in repr(key) and key.to_text() not in repr(key)
    assert aimark.WatermarkKey.generate() != key
    for bad in ("", "nonsense", "aimark-watermark-key-v1:@@@", "aimark-watermark-key-v1:AAAA"):
        with pytest.raises(aimark.WatermarkKeyError):
            aimark.WatermarkKey.from_text(bad)
    monkeypatch.delenv("AIMARK_WATERMARK_KEY")
    with pytest.raises(aimark.WatermarkKeyError, match="not set"):
        aimark.WatermarkKey.from_env()


# ----------------------------------------------------------------------------- wiring


def test_label_verify_with_watermark(creds, dev):
    key = WIRING_KEY
    labeler = aimark.Labeler(creds, generator="wm-model 1", watermark_key=key)
    result = labeler.label_image(Image.fromarray(pink_image(384, 512, seed=21)), format="jpeg")
    assert result.layers == ("watermark", "xmp", "exif", "c2pa")
    assert result.content_id == f"urn:aimark:{result.watermark_payload:016x}"
    verifier = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key])
    report = verifier.verify(result.data)
    assert report.verdict.status is aimark.Status.LABELLED_TRUSTED
    assert report.watermark.detected and report.watermark.content_id == result.content_id
    assert report.c2pa.soft_bindings == ((SCHEME_ID, f"{result.watermark_payload:016x}"),)
    assert "c2pa.watermarked" in [a.action for a in report.c2pa.actions]
    assert any("matches the manifest's soft binding" in r for r in report.verdict.reasons)
    # strip everything by re-saving: the watermark still labels the image
    stripped = io.BytesIO()
    Image.open(io.BytesIO(result.data)).save(stripped, "JPEG", quality=80)
    after = verifier.verify(stripped.getvalue())
    assert after.c2pa.state is aimark.C2paState.ABSENT
    assert after.verdict.status is aimark.Status.LABELLED_WATERMARK
    assert after.verdict.backing is aimark.Backing.WATERMARK
    assert result.content_id in after.verdict.summary
    # without the key there is nothing to see; with another key neither
    assert aimark.verify(stripped.getvalue()).verdict.status is aimark.Status.NOT_LABELLED
    other = aimark.Verifier(watermark_keys=[aimark.WatermarkKey.generate()])
    assert not other.verify(stripped.getvalue()).watermark.detected


def test_watermark_on_encoded_input_keeps_metadata(creds, tmp_path):
    key = WIRING_KEY
    src = tmp_path / "in.png"
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    Image.fromarray(pink_image(300, 420, seed=4)).save(src, exif=exif.tobytes())
    labeler = aimark.Labeler(creds, generator="m", watermark_key=key)
    out = labeler.label_image(src)
    assert out.layers[0] == "watermark"
    report = aimark.verify(out.data, watermark_keys=[key])
    assert report.watermark.detected
    assert report.metadata.exif["Make"] == "CameraMaker"


def test_small_images_and_gifs_skip_the_watermark_with_a_warning(creds):
    key = aimark.WatermarkKey.generate()
    labeler = aimark.Labeler(creds, generator="m", watermark_key=key)
    with pytest.warns(aimark.LabelWarning, match="under 128 px"):
        small = labeler.label_image(Image.new("RGB", (100, 100)), format="png")
    assert "watermark" not in small.layers and small.watermark_payload is None
    gif = io.BytesIO()
    Image.fromarray(pink_image(200, 200)).convert("P").save(gif, "GIF")
    with pytest.warns(aimark.LabelWarning, match="GIF"):
        out = labeler.label_image(gif.getvalue())
    assert "watermark" not in out.layers


def test_sixteen_bit_and_palette_inputs(creds):
    key = WIRING_KEY
    labeler = aimark.Labeler(creds, generator="m", watermark_key=key)
    gray = np.asarray(Image.fromarray(pink_image(300, 400, seed=8)).convert("L"))
    gray16 = gray.astype(np.uint16) * 257
    png16 = io.BytesIO()
    Image.fromarray(gray16).save(png16, "PNG")
    out = labeler.label_image(png16.getvalue())
    assert out.layers[0] == "watermark"
    assert Image.open(io.BytesIO(out.data)).mode == "I;16"  # still 16-bit
    assert aimark.verify(out.data, watermark_keys=[key]).watermark.detected
    with pytest.warns(aimark.LabelWarning, match="GIF"):
        gif = labeler.label_image(Image.fromarray(pink_image(300, 400)), format="gif")
    assert "watermark" not in gif.layers
