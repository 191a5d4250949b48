"""label_image(visible=True): the badge is drawn on the pixels (and only inside its box),
before the watermark, and the signed manifest records the edit."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

import aimark
from aimark.visible import badge_box
from conftest import encode, natural_image


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_the_badge_is_drawn_inside_its_box_and_recorded(creds, trusted):
    image = natural_image(480, 320, seed=4)
    out = aimark.label_image(image, credentials=creds, generator="m", format="png", visible=True,
                             visible_position="top-left")  # fmt: skip
    assert out.layers[0] == "visible"
    diff = np.abs(_pixels(out.data) - np.asarray(image).astype(int)).sum(axis=2)
    x0, y0, x1, y1 = badge_box(image.size, "AI-generated", position="top-left")
    assert diff[y0:y1, x0:x1].mean() > 20  # drawn there...
    outside = diff.copy()
    outside[y0:y1, x0:x1] = 0
    assert outside.max() == 0  # ...and nowhere else (no watermark key: PNG is lossless)
    report = trusted.verify_bytes(out.data)
    assert report.verdict.status is aimark.Status.LABELLED_TRUSTED
    edits = [a for a in report.c2pa.actions if a.action == "c2pa.edited"]
    assert [a.description for a in edits] == ['visible label "AI-generated" drawn (top-left)']
    plain = aimark.label_image(image, credentials=creds, generator="m", format="png")
    assert "visible" not in plain.layers
    assert not [a for a in trusted.verify_bytes(plain.data).c2pa.actions if a.description]


def test_an_encoded_input_gets_the_badge_and_keeps_its_watermark(creds, dev):
    key = aimark.WatermarkKey.generate()
    jpeg = encode(natural_image(640, 480, seed=8), "jpeg", quality=92)
    lab = aimark.Labeler(creds, generator="m", watermark_key=key)
    out = lab.label_image(jpeg, visible="Made with AI")
    assert out.format is aimark.ImageFormat.JPEG and out.layers[:2] == ("visible", "watermark")
    report = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key]).verify_bytes(out.data)
    assert report.verdict.status is aimark.Status.LABELLED_TRUSTED and report.watermark.detected
    box = badge_box((640, 480), "Made with AI")
    before, after = _pixels(jpeg), _pixels(out.data)
    x0, y0, x1, y1 = box
    assert np.abs(after - before)[y0:y1, x0:x1].mean() > 20


def test_bad_visible_arguments_are_refused(creds):
    with pytest.raises(ValueError, match="position"):
        aimark.label_image(natural_image(), credentials=creds, generator="m", format="png",
                           visible=True, visible_position="middle")  # fmt: skip
    with pytest.raises(TypeError):
        aimark.label_image(natural_image(), credentials=creds, generator="m", format="png",
                           visible=3)  # fmt: skip


CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian fonts-wqy-microhei (.ci/run)
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def test_a_chinese_badge_needs_a_cjk_font_and_says_so(creds, trusted, tmp_path):
    image = natural_image(480, 320, seed=6)
    with pytest.raises(ValueError, match="font"):
        aimark.label_image(image, credentials=creds, generator="m", format="png",
                           visible="AI生成")  # fmt: skip
    font = next((f for f in CJK_FONTS if os.path.exists(f)), None)
    if font is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei; .ci/run does)")
    out = aimark.label_image(image, credentials=creds, generator="m", format="png",
                             visible="AI生成", visible_font=font)  # fmt: skip
    x0, y0, x1, y1 = badge_box(image.size, "AI生成", font=font)
    diff = np.abs(_pixels(out.data) - np.asarray(image).astype(int)).sum(axis=2)
    assert diff[y0:y1, x0:x1].mean() > 20
    report = trusted.verify_bytes(out.data)
    assert report.compliance.get("gb-45438-explicit").status == "met"
    assert any(a.description == 'visible label "AI生成" drawn (bottom-right)'
               for a in report.c2pa.actions)  # fmt: skip
