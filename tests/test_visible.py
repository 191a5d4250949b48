"""Visible labels (aimark.visible): where the badge goes, that it is legible, that it scales with
the image, and that nothing outside it changes. Legibility is measured on the output pixels,
with the WCAG formula written out again here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter, ImageFont

from aimark import visible
from aimark.visible import POSITIONS, STYLES, badge_box, contrast_ratio, overlay
from conftest import pink_image

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def photo(width: int = 480, height: int = 320, seed: int = 0) -> Image.Image:
    """A photo-like picture: smooth 1/f noise, a gradient, no flat areas."""
    arr = pink_image(height, width, seed).astype(np.float64)
    arr += np.linspace(-40, 40, height)[:, None, None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def luminance(rgb: np.ndarray) -> np.ndarray:
    c = np.asarray(rgb, np.float64) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722


def ratio(lum_a: np.ndarray | float, lum_b: np.ndarray | float) -> np.ndarray:
    hi, lo = np.maximum(lum_a, lum_b), np.minimum(lum_a, lum_b)
    return (hi + 0.05) / (lo + 0.05)


def changed(before: Image.Image, after: Image.Image) -> np.ndarray:
    a = np.asarray(before.convert(after.mode), np.int16)
    b = np.asarray(after, np.int16)
    diff = np.abs(a - b)
    return diff.max(axis=-1) > 0 if diff.ndim == 3 else diff > 0


def _box_pixels(image: Image.Image, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.asarray(image.convert("RGB"), np.float64)[y0:y1, x0:x1]


def _dilate(mask: np.ndarray, size: int = 5) -> np.ndarray:
    grown = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(size))
    return np.asarray(grown) > 0


def _corners(shape: tuple[int, ...]) -> np.ndarray:
    """The four corner squares of a box, half its height a side (round corners lie in them)."""
    h, w = shape[:2]
    corner = np.zeros((h, w), bool)
    c = max(1, h // 2)
    for ys in (slice(0, c), slice(h - c, h)):
        for xs in (slice(0, c), slice(w - c, w)):
            corner[ys, xs] = True
    return corner


def glyphs(size, **kw) -> tuple[np.ndarray, np.ndarray]:
    """Where the glyphs are in the box: (their cores, everything they touch).

    Found by labelling a white picture of the same size, where the text is dark on a white
    plate: the label's geometry depends on the size and the text, not on the picture (if it
    did not, the "cores" would land on the plate and the contrast measured would be ~1)."""
    box = badge_box(size, **kw)
    lum = luminance(_box_pixels(overlay(Image.new("RGB", size, "white"), **kw), box))
    cores, touched = lum < 0.03, _dilate(lum < 0.98)
    assert cores.sum() > 20 and touched.mean() < 0.8
    return cores, touched


def badge_legibility(before: Image.Image, after: Image.Image, box, **kw) -> float:
    """The lowest contrast between the text (its glyphs' cores, median colour) and any plate
    pixel that is not right next to the glyphs; the box's corners (where the rounded plate's
    edge blends into the picture) are left out."""
    cores, touched = glyphs(before.size, **kw)
    lum = luminance(_box_pixels(after, box))
    plate = ~touched & ~_corners(lum.shape)
    assert plate.mean() > 0.2
    ink = float(np.median(lum[cores]))
    return float(ratio(ink, lum[plate]).min())


def outline_legibility(before: Image.Image, after: Image.Image, box, **kw) -> float:
    """For the outlined "text" style: the contrast of the text's and the outline's cores.

    Where they are is found on a black picture, where the text is white in a dark outline."""
    black = Image.new("RGB", before.size, "black")
    x0, y0, x1, y1 = box
    drawn = changed(black, overlay(black, **kw))[y0:y1, x0:x1]
    ref = luminance(_box_pixels(overlay(black, **kw), box))
    text_core = ref > 0.9
    outline_core = drawn & ~_dilate(~drawn, 3) & ~_dilate(ref > 0.02, 3)
    assert text_core.sum() > 20 and outline_core.sum() > 20
    lum = luminance(_box_pixels(after, box))
    return float(ratio(float(np.median(lum[text_core])), float(np.median(lum[outline_core]))))


# --- the WCAG helper ------------------------------------------------------------------------


def test_contrast_ratio_is_wcags():
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert contrast_ratio((10, 20, 30), (10, 20, 30)) == pytest.approx(1.0)
    # WCAG's own example: #767676 on white is the lightest grey that passes AA (4.54:1)
    assert contrast_ratio((0x76, 0x76, 0x76), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio((0x77, 0x77, 0x77), (255, 255, 255)) < 4.5
    rng = np.random.default_rng(5)
    for a, b in rng.integers(0, 256, (50, 2, 3)):
        expected = float(ratio(luminance(a), luminance(b)))
        assert contrast_ratio(tuple(a), tuple(b)) == pytest.approx(expected)
    with pytest.raises(ValueError):
        contrast_ratio((1, 2), (3, 4, 5))


# --- where the pixels change ----------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("position", POSITIONS)
def test_pixels_change_only_inside_the_box(position, style):
    im = photo(seed=POSITIONS.index(position))
    before = im.tobytes()
    out = overlay(im, position=position, style=style)
    assert im.tobytes() == before and im.mode == "RGB"  # the input is untouched
    assert out is not im and out.size == im.size and out.mode == "RGB"

    box = badge_box(im.size, position=position, style=style)
    x0, y0, x1, y1 = box
    assert 0 <= x0 < x1 <= im.width and 0 <= y0 < y1 <= im.height
    diff = changed(im, out)
    inside = np.zeros_like(diff)
    inside[y0:y1, x0:x1] = True
    assert not diff[~inside].any(), "pixels changed outside badge_box"
    # ...and the box is the drawn rectangle, not a loose bound
    ys, xs = np.nonzero(diff)
    assert xs.min() - x0 <= 2 and x1 - 1 - xs.max() <= 2
    assert ys.min() - y0 <= 2 and y1 - 1 - ys.max() <= 2
    if style == "badge":
        assert diff[y0:y1, x0:x1].mean() > 0.8  # a plate, not only glyphs

    # where it is
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    vertical, _, horizontal = position.partition("-")
    assert (cy < im.height / 4) if vertical == "top" else (cy > im.height * 3 / 4)
    if style == "banner":
        assert (x0, x1) == (0, im.width)
        assert y0 == 0 if vertical == "top" else y1 == im.height
    elif horizontal == "left":
        assert x1 < im.width / 2
    elif horizontal == "right":
        assert x0 > im.width / 2
    else:
        assert abs(cx - im.width / 2) <= 1


def test_the_margin_is_proportional():
    small = badge_box((640, 400), position="top-left")
    big = badge_box((6400, 4000), position="top-left")
    assert small[:2] == (10, 10)  # 2.5 % of the shorter side
    assert big[:2] == (100, 100)


# --- legibility -----------------------------------------------------------------------------


BACKGROUNDS = {
    "white": lambda: Image.new("RGB", (640, 400), "white"),
    "black": lambda: Image.new("RGB", (640, 400), "black"),
    "mid-grey": lambda: Image.new("RGB", (640, 400), (119, 119, 119)),
    "noise": lambda: Image.fromarray(
        np.random.default_rng(3).integers(0, 256, (400, 640, 3), dtype=np.uint8)
    ),
    "photo": lambda: photo(640, 400, 9),
    "stripes": lambda: Image.fromarray(
        np.where((np.arange(640) // 3 % 2)[None, :, None], 255, 0).repeat(400, 0).astype(np.uint8)
        * np.ones(3, np.uint8)
    ),
}


@pytest.mark.parametrize("style", ["badge", "banner"])
@pytest.mark.parametrize("background", sorted(BACKGROUNDS))
def test_the_text_contrasts_with_its_plate(background, style):
    im = BACKGROUNDS[background]()
    for position in ("bottom-right", "top-left"):
        kw = {"position": position, "style": style}
        out = overlay(im, **kw)
        assert badge_legibility(im, out, badge_box(im.size, **kw), **kw) >= 4.5, position


@pytest.mark.parametrize("background", sorted(BACKGROUNDS))
def test_outlined_text_contrasts_with_its_outline(background):
    im = BACKGROUNDS[background]()
    kw = {"style": "text", "scale": 2}
    out = overlay(im, **kw)
    assert outline_legibility(im, out, badge_box(im.size, **kw), **kw) >= 4.5


def test_the_colours_follow_the_background():
    white, black = Image.new("RGB", (640, 400), "white"), Image.new("RGB", (640, 400), "black")
    box = badge_box(white.size)
    on_white = luminance(np.asarray(overlay(white).crop(box), np.float64))
    on_black = luminance(np.asarray(overlay(black).crop(box), np.float64))
    # dark text on a light plate, light text on a dark plate: the plate is the majority
    assert np.median(on_white) > 0.8 and on_white.min() < 0.05
    assert np.median(on_black) < 0.05 and on_black.max() > 0.8


def test_the_plate_lets_the_image_show_through_where_it_can():
    im = photo(640, 400, 2)
    box = badge_box(im.size)
    x0, y0, x1, y1 = box
    out = np.asarray(overlay(im), np.float64)[y0:y1, x0:x1]
    middle = (x1 - x0) // 2
    row = out[2:4, middle - 20 : middle + 20]  # plate only: the top padding
    # semi-opaque: the plate still varies with the picture under it
    assert row.std() > 0.5


# --- size -----------------------------------------------------------------------------------


def _height(size, **kw) -> int:
    box = badge_box(size, **kw)
    return box[3] - box[1]


def test_the_badge_grows_with_the_image():
    sizes = [(64, 64), (240, 240), (640, 480), (1920, 1080), (4000, 3000)]
    heights = [_height(s) for s in sizes]
    assert heights == sorted(heights) and heights[-1] > 4 * heights[2] > 4 * heights[0]
    # a minimum: 5 % of 160 px and of 220 px are both under the 12 px floor
    assert _height((160, 160)) == _height((220, 220)) >= 12
    assert _height((640, 480), scale=2) > _height((640, 480)) > _height((640, 480), scale=0.5)


def test_the_text_is_five_percent_of_the_shorter_side():
    for size in [(4000, 3000), (1200, 1600), (640, 400)]:
        im = Image.new("RGB", size, "white")
        out = np.asarray(overlay(im, position="top-left").convert("L"))
        x0, y0, x1, y1 = badge_box(size, position="top-left")
        rows = np.nonzero((out[y0:y1, x0:x1] < 128).any(axis=1))[0]
        ink_height = rows.max() - rows.min() + 1
        assert 0.05 * min(size) - 1 <= ink_height <= 0.07 * min(size)


@pytest.mark.parametrize(
    "size",
    [(1, 1), (2, 7), (16, 16), (20, 300), (300, 20), (64, 64), (100, 30), (3000, 40), (40, 3000)],
    ids=str,
)
def test_the_badge_always_fits(size):
    im = photo(*size) if min(size) >= 2 else Image.new("RGB", size, "red")
    for style in STYLES:
        for position in POSITIONS:
            box = badge_box(size, position=position, style=style)
            out = overlay(im, position=position, style=style)
            assert out.size == size
            if box == (0, 0, 0, 0):  # too small to hold a label: nothing is drawn
                assert out.tobytes() == im.tobytes()
                continue
            x0, y0, x1, y1 = box
            assert 0 <= x0 < x1 <= size[0] and 0 <= y0 < y1 <= size[1]
            assert changed(im, out)[y0:y1, x0:x1].any()
    assert (badge_box(size) != (0, 0, 0, 0)) == (
        size in [(300, 20), (64, 64), (100, 30), (3000, 40)]
    )


def test_a_huge_scale_still_fits():
    for size in [(640, 400), (50, 2000)]:
        for style in STYLES:
            x0, y0, x1, y1 = badge_box(size, scale=1e9, style=style)
            assert 0 <= x0 < x1 <= size[0] and 0 <= y0 < y1 <= size[1]


def test_a_narrow_image_shrinks_the_text_to_fit():
    wide = badge_box((2000, 400))
    narrow = badge_box((110, 400))  # 5 % of 110 px is under the floor, and the floor too wide
    assert narrow[2] - narrow[0] <= 110 and narrow[3] - narrow[1] < wide[3] - wide[1]


# --- the text -------------------------------------------------------------------------------


def test_longer_text_draws_a_wider_label():
    im = photo(800, 400, 4)
    widths = []
    for text in ["AI", "AI-generated", "AI-generated content", "Generated with an AI model"]:
        box = badge_box(im.size, text)
        cols = np.nonzero(changed(im, overlay(im, text)).any(axis=0))[0]
        assert cols.min() >= box[0] and cols.max() < box[2]
        widths.append(cols.max() - cols.min())
    assert widths == sorted(widths) and len(set(widths)) == len(widths)


def test_different_texts_draw_different_pixels():
    im = photo(640, 400, 6)
    a, b = overlay(im, "AI-generated"), overlay(im, "AI generated")  # same length
    assert badge_box(im.size, "AI-generated")[1] == badge_box(im.size, "AI generated")[1]
    assert a.tobytes() != b.tobytes()
    assert overlay(im, "AI-generated").tobytes() == a.tobytes()  # and the same text, the same


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu Sans is not installed")
def test_a_font_file_can_be_given():
    im = photo(640, 400, 1)
    out = overlay(im, font=DEJAVU)
    box = badge_box(im.size, font=DEJAVU)
    assert box != badge_box(im.size) and out.tobytes() != overlay(im).tobytes()
    assert not changed(im, out)[: box[1]].any()
    assert badge_legibility(im, out, box, font=DEJAVU) >= 4.5


def test_text_the_font_cannot_draw_is_refused():
    with pytest.raises(ValueError, match=r"no glyph for '人工'.*font="):
        overlay(photo(), "人工 AI")


@pytest.fixture
def bitmap_only(monkeypatch):
    """Pillow without its scalable default font (as without FreeType): the bitmap fallback."""
    original = ImageFont.load_default

    def load_default(size=None):
        if size is not None:
            raise OSError("no FreeType")
        return original()

    visible._truetype.cache_clear()
    visible._face.cache_clear()
    monkeypatch.setattr(ImageFont, "load_default", load_default)
    yield
    visible._truetype.cache_clear()
    visible._face.cache_clear()


def test_the_bitmap_font_fallback_still_labels(bitmap_only):
    im = Image.new("RGB", (640, 400), "white")
    out = overlay(im)
    box = badge_box(im.size)
    assert not changed(im, out)[: box[1]].any() and changed(im, out)[box[1] :].any()
    assert badge_legibility(im, out, box) >= 4.5
    assert _height((4000, 3000)) > 3 * _height((640, 400))


# --- modes ----------------------------------------------------------------------------------


def test_rgba_keeps_its_alpha_outside_the_badge():
    rgb = np.asarray(photo(480, 320, 8))
    alpha = np.tile(np.linspace(0, 255, 480).astype(np.uint8), (320, 1))
    im = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    out = overlay(im, position="bottom-left")
    assert out.mode == "RGBA" and out.size == im.size
    x0, y0, x1, y1 = badge_box(im.size, position="bottom-left")
    a_in, a_out = np.asarray(im)[..., 3], np.asarray(out)[..., 3]
    outside = np.ones(a_in.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(a_in[outside], a_out[outside])
    assert np.array_equal(np.asarray(im)[outside], np.asarray(out)[outside])
    assert a_out[y0:y1, x0:x1].astype(int).sum() > a_in[y0:y1, x0:x1].astype(int).sum()


@pytest.mark.parametrize("backdrop", ["white", "black"])
def test_a_transparent_image_gets_a_badge_legible_over_any_background(backdrop):
    im = Image.new("RGBA", (640, 400), (0, 0, 0, 0))
    out = overlay(im)
    shown = Image.alpha_composite(Image.new("RGBA", im.size, backdrop), out).convert("RGB")
    plain = Image.new("RGB", im.size, backdrop)
    assert badge_legibility(plain, shown, badge_box(im.size)) >= 4.5


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        *[("L", "RGB"), ("P", "RGB"), ("CMYK", "RGB"), ("1", "RGB"), ("I;16", "RGB")],
        *[("LA", "RGBA"), ("PA", "RGBA"), ("RGBA", "RGBA")],
    ],
)
def test_modes(mode, expected):
    im = photo(320, 200, 2).convert("RGBA" if mode == "PA" else mode.replace("I;16", "I"))
    im = im.convert(mode)
    out = overlay(im)
    assert out.mode == expected and out.size == im.size and im.mode == mode
    box = badge_box(im.size)
    assert changed(im.convert(expected), out)[box[1] : box[3], box[0] : box[2]].any()


def test_a_palette_image_with_a_transparent_colour_keeps_it():
    im = Image.new("P", (320, 200), 0)
    im.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    im.info["transparency"] = 0
    out = overlay(im)
    assert out.mode == "RGBA" and out.getpixel((0, 0))[3] == 0


# --- bad input ------------------------------------------------------------------------------


def test_bad_arguments():
    im = photo(200, 100)
    with pytest.raises(ValueError, match="bottom-right"):
        overlay(im, position="middle")
    with pytest.raises(ValueError, match="banner"):
        overlay(im, style="fancy")
    for text in ["", "   ", "two\nlines"]:
        with pytest.raises(ValueError):
            overlay(im, text)
    for scale in [0, -1, float("nan"), float("inf")]:
        with pytest.raises(ValueError):
            overlay(im, scale=scale)
    with pytest.raises(ValueError):
        badge_box((0, 10))
    with pytest.raises(ValueError, match="position"):
        badge_box((100, 100), position="centre")


@pytest.mark.parametrize(
    "image", [np.zeros((64, 64, 3), np.uint8), b"\x89PNG", "photo.png", Path("photo.png"), None]
)
def test_what_is_not_an_image_is_a_type_error(image):
    with pytest.raises(TypeError):
        overlay(image)


def test_wrong_types_of_arguments():
    im = photo(200, 100)
    with pytest.raises(TypeError):
        overlay(im, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        overlay(im, scale="2")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        overlay(im, font=12)  # type: ignore[arg-type]
    with pytest.raises(OSError):
        overlay(im, font="/nonexistent/font.ttf")
