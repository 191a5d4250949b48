"""Detection of Stable Diffusion's public watermark, against images made by the real
invisible-watermark encoder (its dwtDct module, loaded directly so torch is not needed)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aimark
from aimark.watermark.public import PUBLIC_WATERMARKS, detect_public
from conftest import pink_image


def _reference_encoder():
    spec = importlib.util.find_spec("imwatermark")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("invisible-watermark is not installed (dev.py installs it for the tests)")
    for needed in ("cv2", "pywt"):
        if importlib.util.find_spec(needed) is None:
            pytest.skip(f"{needed} is not installed (the [test] extra has it)")
    path = Path(next(iter(spec.submodule_search_locations))) / "maxDct.py"
    mod_spec = importlib.util.spec_from_file_location("_imwatermark_maxdct", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module.EmbedMaxDct


PAYLOADS = {
    "Stable Diffusion 1.x": b"StableDiffusionV1",
    "Stable Diffusion 2.x": b"SDV2",
    "SDXL": bytes.fromhex("B3EC907BB19E"),
}


@pytest.mark.parametrize("name", list(PAYLOADS))
@pytest.mark.parametrize("order", ["BGR", "RGB"])
def test_detects_real_encoder_output(name, order):
    encoder_cls = _reference_encoder()
    bits = list(np.unpackbits(np.frombuffer(PAYLOADS[name], np.uint8)))
    encoder = encoder_cls(bits, wmLen=len(bits))
    image = pink_image(512, 512, seed=3)
    if order == "BGR":  # the documented use: the encoder is given BGR
        marked = np.ascontiguousarray(
            encoder.encode(np.ascontiguousarray(image[..., ::-1]))[..., ::-1]
        )
    else:  # pipelines that hand it RGB
        marked = encoder.encode(image.copy())
    png = io.BytesIO()
    Image.fromarray(marked).save(png, "PNG")  # lossless, as SD pipelines save
    found = {d.name.split(" (")[0]: d for d in detect_public(np.asarray(Image.open(png)))}
    hit = found[name]
    assert hit.detected and hit.channel_order == order and hit.p_value < 1e-6
    assert [n for n, d in found.items() if d.detected] == [name]


def test_no_false_claims_on_clean_images():
    for seed in range(12):
        image = pink_image(256 + 32 * (seed % 4), 384, seed=seed)
        assert not any(d.detected for d in detect_public(image))
    assert not any(d.detected for d in detect_public(np.full((300, 300, 3), 200, np.uint8)))
    assert all(not d.detected for d in detect_public(np.zeros((100, 100, 3), np.uint8)))
    with pytest.raises(ValueError):
        detect_public(np.zeros((300, 300), np.uint8))
    assert set(PUBLIC_WATERMARKS) == {n + " (invisible-watermark dwtDct)" for n in PAYLOADS}


def test_verify_reports_public_watermark():
    encoder_cls = _reference_encoder()
    bits = list(np.unpackbits(np.frombuffer(PAYLOADS["SDXL"], np.uint8)))
    marked = encoder_cls(bits, wmLen=48).encode(
        np.ascontiguousarray(pink_image(512, 512)[..., ::-1])
    )
    png = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(marked[..., ::-1])).save(png, "PNG")
    report = aimark.verify(png.getvalue(), public_watermarks=True)
    assert report.watermark.public_detected == ("SDXL (invisible-watermark dwtDct)",)
    assert report.verdict.status is aimark.Status.LABELLED_UNSIGNED
    assert report.verdict.backing is aimark.Backing.PUBLIC_WATERMARK
    assert aimark.verify(png.getvalue()).verdict.status is aimark.Status.NOT_LABELLED
