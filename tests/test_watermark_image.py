"""The keyed image watermark: golden vectors (io.aimark.image.2, and .1 still detected), dtypes
and layouts, a fast subset of the attacks, no false detections and calibrated p-values, the
survival check and its warning, bad input, keys, and the wiring into label / verify."""

from __future__ import annotations

import hashlib
import io
import math
import os
import stat

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

import aimark
from aimark.watermark.image import (
    MIN_SIZE,
    SCHEME_ID,
    SCHEMES,
    check_survival,
    detect,
    detect_batch,
    embed,
)
from aimark.watermark.image._schemes.v1.code import CODED_BITS, decode_payload, encode_payload
from aimark.watermark.image._schemes.v1.layout import SCHEME_ID as SCHEME_V1
from aimark.watermark.image._schemes.v1.layout import layout_for
from aimark.watermark.image._schemes.v2.code import CODED_BITS as CODED_BITS2
from aimark.watermark.image._schemes.v2.code import decode_payload as decode_payload2
from aimark.watermark.image._schemes.v2.code import encode_payload as encode_payload2
from aimark.watermark.image._schemes.v2.layout import CHIPS, VARIANTS, variant_for
from aimark.watermark.image._schemes.v2.layout import SCHEME_ID as SCHEME_V2
from aimark.watermark.image._schemes.v2.layout import layout_for as layout2_for
from aimark.watermark.image._schemes.v3.embed import SCHEME_ID as SCHEME_V3
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


def _layout_digest(lay) -> str:
    """Digest of a v2-format layout (.2 and .3): chip roles and per-variant signs."""
    return _digest(
        lay.search_idx.astype(np.int16),
        lay.test_idx.astype(np.int16),
        lay.message_idx.astype(np.int16),
        lay.search_sign.astype(np.int8),
        lay.test_sign.astype(np.int8),
        lay.message_sign.astype(np.int8),
    )


# ----------------------------------------------------------------------------- golden vectors


def test_golden_scheme_v3_constants():
    """Pins io.aimark.image.3: .2's tile under its own key derivations, informed chips."""
    lay = layout2_for(GOLDEN_KEY, SCHEME_V3)
    assert SCHEME_ID == SCHEME_V3 == "io.aimark.image.3"
    assert SCHEMES == (SCHEME_V3, SCHEME_V2, SCHEME_V1)
    layout = _layout_digest(lay)
    assert layout == GOLDEN3_LAYOUT
    assert variant_for(GOLDEN_KEY, PAYLOAD, SCHEME_V3) == GOLDEN3_VARIANT
    tile = lay.tile(GOLDEN3_VARIANT, encode_payload2(PAYLOAD))
    assert _digest(tile.astype(np.int8)) == GOLDEN3_TILE
    image = pink_image(384, 512, seed=7)
    delta = embed(image, GOLDEN_KEY, PAYLOAD).astype(float) - image
    assert 38.0 <= 10 * math.log10(255**2 / np.mean(delta**2)) <= 41.0


def test_golden_detection_v3_and_the_schemes_apart():
    image = pink_image(384, 512, seed=7)
    marked = embed(image, GOLDEN_KEY, PAYLOAD)
    result = detect(marked, GOLDEN_KEY)
    assert result.detected and result.payload == PAYLOAD and result.scheme == SCHEME_V3
    assert result.score == pytest.approx(GOLDEN3_SCORE, abs=0.5)
    assert result.p_value < 1e-9
    # a .3 mark is not a .2 mark of the same key, and the other way round
    assert not detect(marked, GOLDEN_KEY, schemes=[SCHEME_V2]).detected
    v2 = embed(image, GOLDEN_KEY, PAYLOAD, scheme=SCHEME_V2)
    assert not detect(v2, GOLDEN_KEY, schemes=[SCHEME_V3]).detected
    assert detect(v2, GOLDEN_KEY).scheme == SCHEME_V2


def test_golden_scheme_v2_constants():
    """Pins io.aimark.image.2: any accidental change to the layout or the code fails here."""
    lay = layout2_for(GOLDEN_KEY)
    assert GOLDEN_KEY.key_id == "c862e15a67cd482e"
    assert SCHEME_V2 == "io.aimark.image.2"
    assert (CHIPS, VARIANTS, CODED_BITS2) == (24, 8, 288)
    layout = _layout_digest(lay)
    assert layout == GOLDEN2_LAYOUT
    assert _digest(encode_payload2(PAYLOAD)) == GOLDEN2_CODE
    assert variant_for(GOLDEN_KEY, PAYLOAD) == GOLDEN2_VARIANT
    tile = lay.tile(GOLDEN2_VARIANT, encode_payload2(PAYLOAD))
    assert _digest(tile.astype(np.int8)) == GOLDEN2_TILE
    # the rendered pattern: a quarter of the short side per tile, the payload's chips
    image = pink_image(384, 512, seed=7)
    delta = embed(image, GOLDEN_KEY, PAYLOAD, scheme=SCHEME_V2).astype(float) - image
    assert 39.8 <= 10 * math.log10(255**2 / np.mean(delta**2)) <= 41.0


def test_golden_detection_v2():
    marked = embed(pink_image(384, 512, seed=7), GOLDEN_KEY, PAYLOAD, scheme=SCHEME_V2)
    result = detect(marked, GOLDEN_KEY)
    assert result.detected and result.payload == PAYLOAD and result.scheme == SCHEME_V2
    assert result.score == pytest.approx(GOLDEN2_SCORE, abs=0.5)
    assert result.p_value < 1e-9


def test_golden_scheme_v1_constants_and_still_detected():
    """io.aimark.image.1 (aimark 0.1) is still embedded on request and detected by default."""
    lay = layout_for(GOLDEN_KEY)
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
    assert CODED_BITS == 312 and SCHEME_V1 == "io.aimark.image.1"
    image = pink_image(384, 512, seed=7)
    marked = embed(image, GOLDEN_KEY, PAYLOAD, scheme=SCHEME_V1)
    result = detect(marked, GOLDEN_KEY)
    assert result.detected and result.payload == PAYLOAD and result.scheme == SCHEME_V1
    assert result.score == pytest.approx(GOLDEN_SCORE, abs=0.75)
    assert result.p_value < 1e-12
    # asked for v2 or v3 only, a v1 mark is not found
    assert not detect(marked, GOLDEN_KEY, schemes=[SCHEME_V2, SCHEME_V3]).detected
    # and neither a v2 nor a v3 mark is taken for a v1 one
    for scheme in (SCHEME_V2, SCHEME_V3):
        other = embed(image, GOLDEN_KEY, PAYLOAD, scheme=scheme)
        assert not detect(other, GOLDEN_KEY, schemes=[SCHEME_V1]).detected


# values recorded from the schemes as designed (see docs/watermark-image.md)
GOLDEN2_LAYOUT = "fbf1f3671dc6e3da"
GOLDEN2_CODE = "7e0f765d032622ba"
GOLDEN2_VARIANT = 6
GOLDEN2_TILE = "b2dec3896754d6c2"
GOLDEN2_SCORE = 8.5
GOLDEN3_LAYOUT = "7ba610e725673f3f"
GOLDEN3_VARIANT = 6
GOLDEN3_TILE = "f04662d440f0d87a"
GOLDEN3_SCORE = 9.2
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
    assert 39.8 <= psnr <= 41.0
    stronger = embed(image, GOLDEN_KEY, PAYLOAD, strength=2.0)
    assert np.mean((stronger.astype(float) - image) ** 2) > 3 * mse


# ------------------------------------------------------------------ attacks (fast subset)


def _jpeg(a: np.ndarray, q: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=q)
    return np.asarray(Image.open(buf))


def _resize(a: np.ndarray, s: float) -> np.ndarray:
    h, w = a.shape[:2]
    return np.asarray(
        Image.fromarray(a).resize((round(w * s), round(h * s)), Image.Resampling.BICUBIC)
    )


def _rotate(a: np.ndarray, deg: float) -> np.ndarray:
    return np.asarray(Image.fromarray(a).rotate(deg, Image.Resampling.BICUBIC))


def _crop(a: np.ndarray, area: float, top: float, left: float) -> np.ndarray:
    h, w = a.shape[:2]
    ch, cw = int(h * math.sqrt(area)), int(w * math.sqrt(area))
    y0, x0 = int((h - ch) * top), int((w - cw) * left)
    return a[y0 : y0 + ch, x0 : x0 + cw]


# a fast subset of benchmarks/bench_watermark_image.py's attacks (the full table is there)
ATTACKS = {
    "jpeg50": lambda a: _jpeg(a, 50),
    "jpeg30": lambda a: _jpeg(a, 30),
    "resize33": lambda a: _resize(a, 0.33),
    "resize200": lambda a: _resize(a, 2.0),
    "crop50": lambda a: _crop(a, 0.5, 0.7, 0.2),
    "rotate10": lambda a: _rotate(a, 10),
    "rotate90": lambda a: np.rot90(a).copy(),
    "flip": lambda a: a[:, ::-1],
    "letterbox": lambda a: np.pad(a, ((a.shape[1] // 4, a.shape[1] // 4), (0, 0), (0, 0))),
    "noise15": lambda a: np.clip(
        a + np.random.default_rng(0).normal(0, 15, a.shape), 0, 255
    ).astype(np.uint8),
    "blur2": lambda a: np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(2))),
    "brightness0.7": lambda a: np.asarray(ImageEnhance.Brightness(Image.fromarray(a)).enhance(0.7)),
    "grayscale": lambda a: np.asarray(Image.fromarray(a).convert("L")),
    "crop70-resize50-jpeg70": lambda a: _jpeg(_resize(_crop(a, 0.7, 0.3, 0.6), 0.5), 70),
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
    assert found.scheme == SCHEME_ID and found.p_value < 1e-7
    clean = detect(ATTACKS[attack](image), GOLDEN_KEY)
    assert not clean.detected and clean.payload is None and clean.p_value > 1e-4


@pytest.mark.skipif(not (SHARED / "photos").is_dir(), reason="shared photos absent")
@pytest.mark.parametrize("name", ["earth_apollo17.jpg", "P1000827.jpg", "TUSCANY.TIF"])
def test_real_photos(name):
    photo = np.asarray(Image.open(SHARED / "photos" / name).convert("RGB"))
    marked = embed(photo, GOLDEN_KEY, PAYLOAD)
    result = detect(_jpeg(marked, 75), GOLDEN_KEY)
    assert result.detected and result.payload == PAYLOAD
    assert not detect(photo, GOLDEN_KEY).detected


def test_no_false_detections_on_clean_images_and_other_keys():
    """A small false-positive check (the 10,000-input run is in benchmarks/)."""
    trials = 0
    for seed in range(8):
        image = pink_image(256 + 16 * seed, 320, seed=100 + seed)
        other = embed(image, aimark.WatermarkKey.generate(), PAYLOAD)
        old = embed(image, GOLDEN_KEY, PAYLOAD, scheme=SCHEME_V1)
        for candidate in (image, other, np.full_like(image, 128)):
            result = detect(candidate, aimark.WatermarkKey.generate())
            assert not result.detected and result.payload is None
            trials += 1
        # a v1 mark of the same key is not read as a v2 one
        assert not detect(old, GOLDEN_KEY, schemes=[SCHEME_ID]).detected
    assert trials == 24


def test_p_values_are_calibrated():
    """Unmarked images with random keys: the v2 p-value is uniform (a statistical test,
    deterministic here: fixed images, fixed keys). 300 trials; at 0.1 the count is
    Binomial(300, 0.1), mean 30, 99.9 % interval [14, 50]; at 0.5 it is [123, 177]."""
    ps = []
    for i in range(300):
        image = pink_image(192 + 8 * (i % 6), 256, seed=1000 + i)
        key = aimark.WatermarkKey(hashlib.sha256(b"calibration %d" % i).digest())
        ps.append(detect(image, key, schemes=[SCHEME_ID]).p_value)
    ps = np.array(ps)
    assert 14 <= int((ps <= 0.1).sum()) <= 50
    assert 123 <= int((ps <= 0.5).sum()) <= 177
    assert (ps > 1e-6).all()


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
    assert small.status == "inconclusive" and small.reason == "too-small" and not small.detected
    assert detect(np.zeros((MIN_SIZE - 1, 500), np.uint8), key).reason == "too-small"
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
    with pytest.raises(ValueError, match="unknown watermark scheme"):
        embed(np.zeros((200, 200), np.uint8), key, 1, scheme="io.aimark.image.9")
    with pytest.raises(ValueError, match="unknown watermark scheme"):
        detect(np.zeros((200, 200), np.uint8), key, schemes=["nope"])
    with pytest.raises(ValueError, match="at least one"):
        detect(np.zeros((200, 200), np.uint8), key, schemes=[])
    with pytest.raises(ValueError, match="strength"):
        embed(np.zeros((200, 200), np.uint8), key, 1, strength=0)


@pytest.mark.parametrize(
    "encode, decode", [(encode_payload, decode_payload), (encode_payload2, decode_payload2)]
)
def test_code_rejects_noise_and_corrects_errors(encode, decode):
    rng = np.random.default_rng(5)
    clean = 1.0 - 2.0 * encode(PAYLOAD)
    assert decode(clean + rng.normal(0, 0.6, clean.size)).payload == PAYLOAD
    assert decode(clean + rng.normal(0, 1.0, clean.size)).payload == PAYLOAD
    # pure noise: a payload only if a random word passes the CRC (2^-24 for v2, 2^-32 for v1)
    assert all(decode(rng.normal(0, 1, clean.size)).payload is None for _ in range(300))


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
    assert report.watermark.scheme == SCHEME_ID
    assert result.watermark_check is not None and result.watermark_check.survived
    assert result.watermark_check.margin_db > 0
    assert report.c2pa.soft_bindings == ((SCHEME_ID, f"{result.watermark_payload:016x}"),)
    assert "c2pa.watermarked.bound" in [a.action for a in report.c2pa.actions]
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


# ----------------------------------------------------------------------------- weak images


def test_survival_check_finds_strong_and_weak_marks():
    photo = pink_image(384, 512, seed=3)
    strong = check_survival(embed(photo, GOLDEN_KEY, PAYLOAD), GOLDEN_KEY, PAYLOAD)
    assert strong.survived and strong.margin_db > 1 and strong.quality == 75
    black = np.zeros((256, 256, 3), np.uint8)
    weak = check_survival(embed(black, GOLDEN_KEY, PAYLOAD), GOLDEN_KEY, PAYLOAD)
    assert not weak.survived and weak.margin_db < 0
    assert weak.to_dict()["survived"] is False


def test_flat_images_get_a_mark_that_stays_invisible(creds):
    gray = np.full((512, 512, 3), 128, np.uint8)
    marked = embed(gray, GOLDEN_KEY, PAYLOAD)
    psnr = 10 * math.log10(255**2 / np.mean((marked.astype(float) - gray) ** 2))
    assert 42 <= psnr <= 50  # weaker than on photos, not nothing
    assert detect(_jpeg(marked, 75), GOLDEN_KEY).payload == PAYLOAD
    labeler = aimark.Labeler(creds, generator="m", watermark_key=GOLDEN_KEY)
    out = labeler.label_image(Image.fromarray(gray), format="png")
    assert out.watermark_check is not None and out.watermark_check.survived


def test_label_warns_when_the_mark_would_not_survive(creds):
    labeler = aimark.Labeler(creds, generator="m", watermark_key=GOLDEN_KEY)
    with pytest.warns(aimark.LabelWarning, match="would not survive a JPEG 75") as caught:
        out = labeler.label_image(Image.new("RGB", (256, 256)), format="png")
    assert "watermark" in out.layers
    assert out.watermark_check is not None and not out.watermark_check.survived
    assert "too dark" in str(caught[0].message)  # the measured reason (black: mean luma 0)
    quiet = aimark.Labeler(creds, generator="m", watermark_key=GOLDEN_KEY, check_watermark=False)
    assert quiet.label_image(Image.new("RGB", (256, 256)), format="png").watermark_check is None


# ----------------------------------------------------------------------------- memory


def _peak_traced(fn) -> tuple[object, int]:
    """(result, peak bytes numpy allocated while running fn) — numpy reports to tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("scheme", [SCHEME_ID, SCHEME_V2, SCHEME_V1])
def test_embedding_needs_the_output_and_a_few_strips(scheme):
    """A watermark is added a band of rows at a time: an embed allocates the output (3 bytes
    per RGB pixel) and a bounded working set, whatever the image's size (0.2.0: 16 B/px)."""
    photo = pink_image(2304, 3072, seed=5)  # 7 MP
    pixels = photo.shape[0] * photo.shape[1]
    marked, peak = _peak_traced(lambda: embed(photo, GOLDEN_KEY, PAYLOAD, scheme=scheme))
    assert detect(marked, GOLDEN_KEY).payload == PAYLOAD
    assert peak < 3 * pixels + 48 * 2**20, f"{peak / pixels:.1f} bytes per pixel"
    # v1 has no survival probe: its mark is probed as the default scheme's (memory only)
    probed = SCHEME_ID if scheme == SCHEME_V1 else scheme
    check, peak = _peak_traced(lambda: check_survival(marked, GOLDEN_KEY, PAYLOAD, scheme=probed))
    if scheme != SCHEME_V1:
        assert check.survived
    # the round trip keeps the luma (1 B/px) and decodes it reduced by the DCT (0.2.0: 9 B/px)
    assert peak < 1.5 * pixels + 16 * 2**20, f"{peak / pixels:.1f} bytes per pixel"


def test_the_survival_check_agrees_with_a_full_size_round_trip():
    """The check's reduced decode estimates the same margin as decoding the whole JPEG."""
    photo = pink_image(1152, 1536, seed=6)
    marked = embed(photo, GOLDEN_KEY, PAYLOAD)
    quick = check_survival(marked, GOLDEN_KEY, PAYLOAD)
    full = detect(_jpeg(marked, 75), GOLDEN_KEY)
    assert quick.survived and full.payload == PAYLOAD
    assert quick.p_value < 1e-6 and full.p_value < 1e-6


@pytest.mark.parametrize(
    ("size", "scale"), [((4001, 2999), 4), ((2048, 1536), 2), ((1023, 767), 1)]
)
def test_jpeg_luma_is_decoded_as_luma_at_the_smallest_dct_scale(size, scale, monkeypatch):
    """The detector's decode asks libjpeg for the Y channel alone (no chroma) at the largest
    DCT scale that keeps the short side at least 512 px: 1/4 for 4001x2999, which asking for
    the size rounded up turned into 1/2."""
    from PIL import JpegImagePlugin

    from aimark.media import image_io

    drafts = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(self, mode, requested):  # type: ignore[no-untyped-def]
        result = original(self, mode, requested)
        drafts.append((mode, self.decoderconfig[0]))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buf, "JPEG", quality=95)
    luma = image_io.decode_luma(buf.getvalue())
    assert drafts == [("L", scale)]
    assert luma.shape == (-(-size[1] // scale), -(-size[0] // scale))
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        converted = im.convert("L").getpixel((size[0] // 2, size[1] // 2))
    assert abs(int(luma[luma.shape[0] // 2, luma.shape[1] // 2]) - converted) <= 2


# ----------------------------------------------------------------------------- verdicts


def test_a_picture_that_cannot_tell_is_inconclusive_not_absent(creds):
    """A flat picture (no detail to hold or keep a mark) is "inconclusive: too-flat", never
    "not-detected" and never a detection; a photo without the mark is "not-detected"; a flat
    picture that carries the mark is still found; verify says which."""
    flat = np.full((512, 512, 3), 200, np.uint8)
    d = detect(flat, GOLDEN_KEY)
    assert (d.detected, d.status, d.reason) == (False, "inconclusive", "too-flat")
    assert d.to_dict()["reason"] == "too-flat"
    photo = pink_image(384, 512, seed=11)
    d = detect(photo, GOLDEN_KEY)
    assert (d.detected, d.status, d.reason) == (False, "not-detected", None)
    marked = detect(embed(flat, GOLDEN_KEY, PAYLOAD), GOLDEN_KEY)
    assert marked.detected and marked.payload == PAYLOAD and marked.reason is None
    buf = io.BytesIO()
    Image.fromarray(flat).save(buf, "PNG")
    report = aimark.Verifier(watermark_keys=[GOLDEN_KEY]).verify(buf.getvalue())
    assert report.watermark.status == "inconclusive" and report.watermark.reason == "too-flat"
    assert report.to_dict()["watermark"]["reason"] == "too-flat"
    assert any("inconclusive" in r for r in report.verdict.reasons)
    assert report.verdict.status.value == "not-labelled"


def test_a_sync_without_a_payload_is_inconclusive(monkeypatch):
    """The key's sync pattern found (p at most the threshold) but no payload decoded:
    "inconclusive: payload-unreadable", which is not a detection."""
    from aimark.watermark.image._schemes.v2 import detect as v2

    monkeypatch.setattr(v2, "_decision", lambda tries: (1e-9, None, 0.0, 7.0))
    d = detect(pink_image(384, 512, seed=12), GOLDEN_KEY, schemes=[SCHEME_ID])
    assert (d.detected, d.status, d.reason, d.payload) == (
        False,
        "inconclusive",
        "payload-unreadable",
        None,
    )
