"""The weak-watermark warning: one line in the CLI, one LabelWarning in Python, with the
reason the picture measures (dark, flat, small, dense texture) and a remedy that was tried."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aimark

KEY = aimark.WatermarkKey(b"aimark weak-mark test key, 32 B!")


def noise_blocks() -> Image.Image:
    """Uniform random colour noise upscaled 8× (bilinear) to 1600×1200: large-amplitude blocks
    that the v3 mark cannot hide in, not read back even losslessly."""
    rng = np.random.default_rng(7)
    small = Image.fromarray(rng.integers(0, 256, (150, 200, 3), dtype=np.uint8))
    return small.resize((1600, 1200), Image.BILINEAR)


CASES = {  # name: (picture, --watermark-strength, the reason it must give)
    "flat": (lambda: Image.new("RGB", (640, 480), (128, 128, 128)), "0.3", "too flat"),
    "dark": (lambda: Image.new("RGB", (256, 256)), "1", "too dark (mean luma 0 of 255)"),
    "noise": (noise_blocks, "1", "dense high-contrast texture the mark cannot hide in"),
}


def run_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimark", *map(str, args)], capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_prints_one_note_with_the_measured_reason(dev, tmp_path, name):
    make, strength, reason = CASES[name]
    src = tmp_path / f"{name}.png"
    make().save(src)
    keyfile = tmp_path / "wm.key"
    KEY.save(keyfile)
    proc = run_cli(
        "label", src, "-o", tmp_path / "out.png", "--cert", dev.cert_chain, "--key",
        dev.private_key, "--model", "m", "--watermark-key", keyfile,
        "--watermark-strength", strength,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("aimark: note: the invisible watermark"), (
        proc.stderr
    )
    assert reason in lines[0] and "sys:1" not in proc.stderr and "Warning" not in proc.stderr
    assert "-120" not in lines[0]  # the probe's floor is said in words, not as a margin
    remedy = "--watermark-strength " in lines[0] and "watermark_strength=" in lines[0]
    assert remedy or "this picture cannot hold the mark" in lines[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_python_warns_once_per_image_with_the_same_wording(creds, name):
    make, strength, reason = CASES[name]
    labeler = aimark.Labeler(
        creds, generator="m", watermark_key=KEY, watermark_strength=float(strength)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = labeler.label_image(make(), format="png")
    weak = [w for w in caught if issubclass(w.category, aimark.LabelWarning)]
    assert len(weak) == 1 and len(caught) == 1, [str(w.message) for w in caught]
    message = str(weak[0].message)
    assert message == result.warnings[0] and reason in message
    assert result.watermark_check is not None and not result.watermark_check.survived


def test_a_suggested_strength_is_one_that_survives(creds):
    labeler = aimark.Labeler(creds, generator="m", watermark_key=KEY, watermark_strength=0.3)
    flat = Image.new("RGB", (640, 480), (128, 128, 128))
    with pytest.warns(aimark.LabelWarning, match="too flat") as caught:
        labeler.label_image(flat, format="png", content_id="urn:test:flat")
    message = str(caught[0].message)
    assert "a stronger, more visible mark survives" in message, message
    suggested = float(message.split("watermark_strength=")[1].rstrip(")"))
    stronger = aimark.Labeler(creds, generator="m", watermark_key=KEY, watermark_strength=suggested)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at the suggested strength
        out = stronger.label_image(flat, format="png", content_id="urn:test:flat")
    assert out.watermark_check is not None and out.watermark_check.survived
