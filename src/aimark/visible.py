"""Visible labels: an "AI-generated" badge drawn into the pixels of an image.

Explicit labels are the ones people see without any tool: GB 45438-2025 asks for a prominent
text label at an edge or corner of a generated picture, and Article 50(4) of the EU AI Act asks
deployers to disclose deep fakes. C2PA manifests, metadata and watermarks (the rest of aimark)
are the implicit labels; this module is the explicit one.

- `overlay` returns a new image with the label drawn at an edge or corner;
- `badge_box` says which rectangle `overlay` changes, without drawing;
- `contrast_ratio` is the WCAG 2.x contrast ratio the label's colours are chosen by.

The label scales with the image: its text (cap height to descender) is 5 % of the shorter side,
never under 12 px, and shrinks to fit where the image is too narrow; an image too small for
6 px text is returned unlabelled. Its colours are chosen from the pixels under it, so that the
text stands out from what surrounds it by at least 4.5:1 (WCAG AA).

Example:
    >>> from PIL import Image
    >>> from aimark.visible import badge_box, overlay
    >>> photo = Image.new("RGB", (640, 400), (90, 140, 200))
    >>> labelled = overlay(photo)
    >>> labelled.size, labelled.mode
    ((640, 400), 'RGB')
    >>> x0, y0, x1, y1 = badge_box(photo.size)
    >>> labelled.getpixel((x0 - 1, y0 - 1)) == photo.getpixel((x0 - 1, y0 - 1))
    True
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from typing import Union

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["POSITIONS", "STYLES", "badge_box", "contrast_ratio", "overlay"]

#: where the label goes: the four corners, or centred along the top or bottom edge
POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom")
#: "badge": text on a rounded, semi-opaque plate; "text": outlined text on the image itself;
#: "banner": a full-width strip along the top or bottom edge
STYLES = ("badge", "text", "banner")

FontSource = Union[str, "os.PathLike[str]", None]
_FontKey = Union[str, None]  # a FontSource as a cache key


def _font_key(font: FontSource) -> _FontKey:
    return None if font is None else os.fspath(font)


_TEXT_FRACTION = 0.05  # text height / shorter side, at scale 1
_MIN_TEXT_PX = 12  # the smallest text height chosen for legibility...
_MIN_FIT_PX = 6  # ...and the smallest it shrinks to, to fit a small image
_MARGIN_FRACTION = 0.025  # the gap to the image's edges / shorter side
_MIN_CONTRAST = 4.5  # WCAG AA for normal text
_CONTRAST_AIM = _MIN_CONTRAST + 0.2  # aimed at: rounding and edges stay above 4.5
_PLATE_ALPHA = 0.5  # the plate's opacity where the image allows it; raised where needed
_SUPERSAMPLE = 4  # the plate's rounded corners are drawn this much larger, then averaged

_BLACK = (0, 0, 0)
_WHITE = (255, 255, 255)
_INK = (24, 24, 24)  # dark text: near-black reads softer than pure black on a light plate

# (plate colour, text colour): light text on a dark plate, dark text on a light plate
_SCHEMES = ((_BLACK, _WHITE), (_WHITE, _INK))


def contrast_ratio(rgb1: tuple[float, float, float], rgb2: tuple[float, float, float]) -> float:
    """The WCAG 2.x contrast ratio of two sRGB colours (0-255 per channel), from 1 to 21.

    ``(L1 + 0.05) / (L2 + 0.05)`` with L the relative luminance of the lighter (L1) and the
    darker (L2) colour. WCAG AA asks 4.5 for normal text, 3 for large text.

    Example:
        >>> from aimark.visible import contrast_ratio
        >>> round(contrast_ratio((0, 0, 0), (255, 255, 255)), 1)
        21.0
        >>> round(contrast_ratio((118, 118, 118), (255, 255, 255)), 2)
        4.54
    """
    colours = []
    for rgb in (rgb1, rgb2):
        if len(rgb) != 3:
            raise ValueError(f"a colour is 3 channels (R, G, B), not {rgb!r}")
        colours.append(tuple(float(c) for c in rgb))
    lum1, lum2 = (float(_luminance(np.asarray(c))) for c in colours)
    return (max(lum1, lum2) + 0.05) / (min(lum1, lum2) + 0.05)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB values 0-255, over the last axis."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def _contrast(lum: np.ndarray, other: float) -> np.ndarray:
    return (np.maximum(lum, other) + 0.05) / (np.minimum(lum, other) + 0.05)


# --- fonts ----------------------------------------------------------------------------------


class _Face:
    """Text at one height: its block (ink width x cap-top-to-descender) and its masks."""

    def block(self, text: str, stroke: int) -> tuple[int, int]:
        raise NotImplementedError

    def render(self, text: str, stroke: int) -> tuple[Image.Image, Image.Image]:
        """The glyphs' coverage and the glyphs-plus-outline coverage ("L", block-sized)."""
        raise NotImplementedError


class _FreeTypeFace(_Face):
    def __init__(self, font: ImageFont.FreeTypeFont) -> None:
        self.font = font
        self.cap_top = font.getbbox("H", anchor="ls")[1]
        self.desc_bottom = font.getbbox("g", anchor="ls")[3]

    def _bbox(self, text: str, stroke: int) -> tuple[int, int, int, int]:
        left, top, right, bottom = self.font.getbbox(text, anchor="ls", stroke_width=stroke)
        top = min(top, self.cap_top - stroke)
        bottom = max(bottom, self.desc_bottom + stroke)
        return int(left), int(top), int(right), int(bottom)

    def block(self, text: str, stroke: int) -> tuple[int, int]:
        left, top, right, bottom = self._bbox(text, stroke)
        return right - left, bottom - top

    def render(self, text: str, stroke: int) -> tuple[Image.Image, Image.Image]:
        left, top, right, bottom = self._bbox(text, stroke)
        masks = []
        for width in (0, stroke):
            mask = Image.new("L", (right - left, bottom - top), 0)
            ImageDraw.Draw(mask).text(
                (-left, -top), text, fill=255, font=self.font, anchor="ls", stroke_width=width
            )
            masks.append(mask)
        return masks[0], masks[1]


class _BitmapFace(_Face):
    """Pillow's bitmap default font (no FreeType): drawn at its own size, then scaled."""

    def __init__(self, font: ImageFont.ImageFont, height: int) -> None:
        self.font = font
        self.height = height

    def _native(self, text: str) -> Image.Image:
        try:
            bottom = int(self.font.getbbox(text + "Hg")[3])
            width = int(self.font.getbbox(text)[2])
            mask = Image.new("L", (max(1, width), max(1, bottom)), 0)
            ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=self.font)
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"the fallback bitmap font cannot draw {text!r}: pass font= a TrueType font"
            ) from exc
        return mask

    def _size(self, native: Image.Image, stroke: int) -> tuple[int, int]:
        k = self.height / native.height
        return max(1, round(native.width * k)) + 2 * stroke, self.height + 2 * stroke

    def block(self, text: str, stroke: int) -> tuple[int, int]:
        return self._size(self._native(text), stroke)

    def render(self, text: str, stroke: int) -> tuple[Image.Image, Image.Image]:
        native = self._native(text)
        width, height = self._size(native, stroke)
        scaled = native.resize((width - 2 * stroke, height - 2 * stroke), Image.Resampling.LANCZOS)
        fill = Image.new("L", (width, height), 0)
        fill.paste(scaled, (stroke, stroke))
        halo = fill.filter(ImageFilter.MaxFilter(2 * stroke + 1)) if stroke else fill
        return fill, halo


@functools.lru_cache(maxsize=64)
def _truetype(font: _FontKey, size: int) -> ImageFont.FreeTypeFont | None:
    """The font at a pixel size; None where Pillow's scalable default font is unavailable."""
    if font is not None:
        return ImageFont.truetype(os.fspath(font), size)
    try:
        loaded = ImageFont.load_default(size=size)
    except (OSError, ImportError, ValueError):
        return None
    return loaded if isinstance(loaded, ImageFont.FreeTypeFont) else None


@functools.lru_cache(maxsize=64)
def _face(font: _FontKey, height: int) -> _Face:
    """A face whose cap-top-to-descender height is at least ``height`` px."""
    reference = _truetype(font, 100)
    if reference is None:
        return _BitmapFace(ImageFont.load_default_imagefont(), height)
    size = max(1, math.ceil(height * 100 / _FreeTypeFace(reference).block("Hg", 0)[1]))
    face = _FreeTypeFace(reference)
    for _ in range(8):  # hinting can make a size a pixel short of its share
        loaded = _truetype(font, size)
        if loaded is None:
            break
        face = _FreeTypeFace(loaded)
        if face.block("Hg", 0)[1] >= height:
            break
        size += 1
    return face


@functools.lru_cache(maxsize=256)
def _check_glyphs(font: _FontKey, text: str) -> None:
    """ValueError for characters the font draws as its "missing glyph" box."""
    probe = _truetype(font, 32)
    if probe is None:
        return
    notdef = probe.getmask("\uffff")
    notdef_key = (notdef.size, bytes(notdef))
    missing = sorted({ch for ch in text if not ch.isspace() and _mask_key(probe, ch) == notdef_key})
    if missing:
        which = "Pillow's default font" if font is None else f"the font {os.fspath(font)!r}"
        raise ValueError(
            f"{which} has no glyph for {''.join(missing)!r}: pass font= the path of a font "
            "that covers the text (e.g. a CJK font for Chinese labels)"
        )


def _mask_key(font: ImageFont.FreeTypeFont, ch: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(ch)
    return mask.size, bytes(mask)


# --- layout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    box: tuple[int, int, int, int]  # in the image
    face: _Face
    text_xy: tuple[int, int]  # the text block's top-left, in the box
    stroke: int  # the outline's width ("text" style)
    radius: int  # the plate's corner radius ("badge" style)


def _check(text: object, position: object, style: object, scale: object, font: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if not text.strip():
        raise ValueError("text must not be empty")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError("text must be one line, without control characters")
    if position not in POSITIONS:
        raise ValueError(f"unknown position {position!r}: use one of {', '.join(POSITIONS)}")
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: use one of {', '.join(STYLES)}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"scale must be a number, not {type(scale).__name__}")
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, not {scale!r}")
    if font is not None and not isinstance(font, (str, os.PathLike)):
        raise TypeError(f"font must be the path of a font file, not {type(font).__name__}")


def _geometry(style: str, height: int, short_side: int) -> tuple[int, int, int, int]:
    """(margin, pad_x, pad_y, stroke) for text ``height`` px high in an image."""
    margin = 0 if style == "banner" else round(_MARGIN_FRACTION * short_side)
    if style == "text":
        return margin, 0, 0, max(1, round(height / 12))
    return margin, round(0.55 * height), round(0.3 * height), 0


def _fitted(
    size: tuple[int, int], text: str, style: str, height: int, font: FontSource
) -> tuple[_Face, int, int, int, int, int, int] | None:
    """(face, block_w, block_h, margin, pad_x, pad_y, stroke) if text ``height`` px fits."""
    margin, pad_x, pad_y, stroke = _geometry(style, height, min(size))
    face = _face(_font_key(font), height)
    block_w, block_h = face.block(text, stroke)
    if block_w + 2 * pad_x > size[0] - 2 * margin or block_h + 2 * pad_y > size[1] - 2 * margin:
        return None
    return face, block_w, block_h, margin, pad_x, pad_y, stroke


def _layout(
    size: tuple[int, int], text: str, position: str, style: str, scale: float, font: FontSource
) -> _Layout | None:
    width, height = size
    short = min(width, height)
    target = min(short, max(_MIN_TEXT_PX, round(short * _TEXT_FRACTION * scale)))
    fitted = _fitted(size, text, style, target, font)
    low, high = _MIN_FIT_PX, target - 1
    while fitted is None and low <= high:  # the largest text height that fits
        mid = (low + high + 1) // 2
        if _fitted(size, text, style, mid, font) is None:
            high = mid - 1
        else:
            low = mid
            if low == high:
                fitted = _fitted(size, text, style, low, font)
    if fitted is None:
        return None
    face, block_w, block_h, margin, pad_x, pad_y, stroke = fitted
    box_w = width if style == "banner" else block_w + 2 * pad_x
    box_h = block_h + 2 * pad_y
    vertical, _, horizontal = position.partition("-")
    if style == "banner":
        x0, x1 = 0, width
        tx = {"left": pad_x, "right": width - pad_x - block_w}.get(
            horizontal, (width - block_w) // 2
        )
    else:
        x0 = {"left": margin, "right": width - margin - box_w}.get(horizontal, (width - box_w) // 2)
        x1, tx = x0 + box_w, pad_x
    y0 = margin if vertical == "top" else height - margin - box_h
    radius = round(0.3 * box_h) if style == "badge" else 0
    return _Layout((x0, y0, x1, y0 + box_h), face, (tx, pad_y), stroke, radius)


def badge_box(
    size: tuple[int, int],
    text: str = "AI-generated",
    *,
    position: str = "bottom-right",
    style: str = "badge",
    scale: float = 1.0,
    font: FontSource = None,
) -> tuple[int, int, int, int]:
    """The rectangle ``(left, top, right, bottom)`` that `overlay` draws in, for an image size.

    ``right`` and ``bottom`` are exclusive, as in ``Image.crop``; `overlay` leaves every pixel
    outside it as it was. ``(0, 0, 0, 0)`` when the image is too small for the label (6 px text
    at the least): `overlay` then draws nothing.

    Example:
        >>> from aimark.visible import badge_box
        >>> badge_box((640, 400), position="top-left")
        (10, 10, ...)
        >>> badge_box((1, 1))
        (0, 0, 0, 0)
    """
    _check(text, position, style, scale, font)
    _check_glyphs(_font_key(font), text)
    width, height = (int(v) for v in size)
    if width < 1 or height < 1:
        raise ValueError(f"an image size is (width, height) of at least 1 px, not {size!r}")
    layout = _layout((width, height), text, position, style, float(scale), font)
    return layout.box if layout is not None else (0, 0, 0, 0)


# --- drawing --------------------------------------------------------------------------------


def _converted(image: Image.Image) -> Image.Image:
    """A copy in RGB, or in RGBA where the image has transparency."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    return image.convert("RGBA" if has_alpha else "RGB")


def _over(
    c_dst: np.ndarray, a_dst: np.ndarray, colour: tuple[int, int, int], a_src: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Straight-alpha "over": a solid colour with coverage ``a_src`` onto (c_dst, a_dst)."""
    a_src = a_src[..., None]
    a_out = a_src + a_dst * (1 - a_src)
    with np.errstate(invalid="ignore", divide="ignore"):
        c_out = (np.asarray(colour, np.float64) * a_src + c_dst * a_dst * (1 - a_src)) / a_out
    return np.where(a_out > 0, c_out, c_dst), a_out


def _backdrops(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The colours a region can show: as is where opaque, over black and white where not."""
    flat_rgb, flat_a = rgb.reshape(-1, 3), alpha.reshape(-1, 1)
    if np.all(flat_a >= 1):
        return flat_rgb
    return np.concatenate([flat_rgb * flat_a, flat_rgb * flat_a + 255 * (1 - flat_a)])


def _plate_colours(
    backdrop: np.ndarray,
) -> tuple[tuple[int, int, int], tuple[int, int, int], float]:
    """(plate, text, opacity): the scheme that needs the least opacity for the contrast aim."""
    best: tuple[float, float, tuple[int, int, int], tuple[int, int, int]] | None = None
    for plate, ink in _SCHEMES:
        ink_lum = float(_luminance(np.asarray(ink)))
        for alpha in np.linspace(_PLATE_ALPHA, 1.0, 20):
            shown = alpha * np.asarray(plate, np.float64) + (1 - alpha) * backdrop
            worst = float(_contrast(_luminance(shown), ink_lum).min())
            if worst >= _CONTRAST_AIM:
                break
        candidate = (float(alpha), -worst, plate, ink)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    assert best is not None
    return best[2], best[3], best[0]


def _text_colours(backdrop: np.ndarray) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(text, outline): the text colour that stands out more from the region on average."""
    mean_lum = float(_luminance(backdrop).mean())
    white = _contrast(np.asarray(1.0), mean_lum)
    dark = _contrast(np.asarray(float(_luminance(np.asarray(_INK)))), mean_lum)
    return (_WHITE, _INK) if white >= dark else (_INK, _WHITE)


def _plate_mask(size: tuple[int, int], radius: int) -> np.ndarray:
    if radius <= 0:
        return np.ones((size[1], size[0]))
    k = _SUPERSAMPLE
    big = Image.new("L", (size[0] * k, size[1] * k), 0)
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, size[0] * k - 1, size[1] * k - 1), radius=radius * k, fill=255
    )
    return np.asarray(big.resize(size, Image.Resampling.BOX), np.float64) / 255


def overlay(
    image: Image.Image,
    text: str = "AI-generated",
    *,
    position: str = "bottom-right",
    style: str = "badge",
    scale: float = 1.0,
    font: FontSource = None,
) -> Image.Image:
    """A new image with a visible label (default "AI-generated") drawn at an edge or corner.

    The input is never modified. The result has the input's size; it is RGBA where the input
    has transparency (RGBA, LA, PA, or a palette/grey image with a transparent colour: the
    alpha outside the label is kept), RGB for every other mode (L, P, CMYK, I;16, ...).

    - ``position``: one of `POSITIONS` ("top" and "bottom" are centred).
    - ``style``: "badge" (text on a rounded, semi-opaque plate), "text" (text with an outline,
      no plate) or "banner" (a full-width strip along the top or bottom edge).
    - ``scale``: the text height relative to the default (5 % of the shorter side, at least
      12 px); the label shrinks to fit a small image, and is left out under 6 px text.
    - ``font``: the path of a TrueType/OpenType font; by default Pillow's own scalable font,
      which covers Latin scripts only (text it cannot draw raises ValueError).

    The colours come from the pixels under the label: light text on a dark plate or dark text
    on a light plate, whichever needs less opacity, with the opacity raised until the text
    contrasts with every plate pixel by 4.5:1 or more (WCAG AA); where the image is
    transparent, over both a black and a white background. `badge_box` gives the rectangle.

    Example:
        >>> from PIL import Image
        >>> from aimark.visible import badge_box, overlay
        >>> white = Image.new("RGB", (320, 200), "white")
        >>> out = overlay(white, position="top-left")
        >>> box = badge_box(white.size, position="top-left")
        >>> sorted(out.crop(box).getcolors(256 * 256))[-1][1]   # the most common colour: plate
        (255, 255, 255)
        >>> white.getpixel((0, 0)), out.getpixel((box[2] + 1, box[3] + 1))
        ((255, 255, 255), (255, 255, 255))
    """
    if not isinstance(image, Image.Image):
        raise TypeError(f"image must be a PIL.Image.Image, not {type(image).__name__}")
    _check(text, position, style, scale, font)
    _check_glyphs(_font_key(font), text)
    out = _converted(image)
    layout = _layout(out.size, text, position, style, float(scale), font)
    if layout is None:
        return out
    x0, y0, x1, y1 = layout.box
    region = np.asarray(out.crop(layout.box), np.float64)
    rgb = region[..., :3]
    alpha = region[..., 3:] / 255 if out.mode == "RGBA" else np.ones((*rgb.shape[:2], 1))
    backdrop = _backdrops(rgb, alpha)

    fill, halo = layout.face.render(text, layout.stroke)
    text_cov = np.zeros(rgb.shape[:2])
    halo_cov = np.zeros(rgb.shape[:2])
    tx, ty = layout.text_xy
    th, tw = fill.height, fill.width
    text_cov[ty : ty + th, tx : tx + tw] = np.asarray(fill, np.float64) / 255
    halo_cov[ty : ty + th, tx : tx + tw] = np.asarray(halo, np.float64) / 255

    if layout.stroke:  # "text": outlined text on the image
        ink, outline = _text_colours(backdrop)
        rgb, alpha = _over(rgb, alpha, outline, halo_cov)
    else:  # "badge" and "banner": text on a plate
        plate, ink, opacity = _plate_colours(backdrop)
        plate_cov = _plate_mask((x1 - x0, y1 - y0), layout.radius) * opacity
        rgb, alpha = _over(rgb, alpha, plate, plate_cov)
    rgb, alpha = _over(rgb, alpha, ink, text_cov)

    pixels = np.concatenate([rgb, alpha * 255], axis=-1) if out.mode == "RGBA" else rgb
    drawn = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), out.mode)
    out.paste(drawn, (x0, y0))
    return out
