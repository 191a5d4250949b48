"""A rendered corpus of content classes for the image watermark benchmarks (issue 21): the
kinds of picture the watermark is measured to fail on, made with numpy / Pillow / OpenCV,
nothing downloaded.

    python benchmarks/_wm_classes.py                 # list the classes and picture sizes
    python benchmarks/_wm_classes.py --save DIR      # also write the pictures as PNG

Each picture is a function of (class, index) alone: its generator is seeded with both, and its
size cycles over the generator sizes 1024², 1216×832, 832×1216, 768². Within a class the index
also cycles over the class's variants, so any ``n >= len(variants)`` pictures cover them all.

Classes:

- ``periodic``: bookshelf-like vertical spines; brick and tile grids with grout, at pitches that
  divide a quarter of the short side (the v2 mark's tile period) and at others; stripes and
  zebra-like warped stripes; window facades; woven fabric.
- ``dense-texture``: fur-like oriented noise; foliage-like multi-scale blobs; gravel / clutter
  (thousands of small random shapes); each at full, half or a quarter of its fine detail
  (``TEXTURE_CONTRAST``), from busier than most photographed textures to moderately busy.
- ``flat``: studio backdrops (soft gradient, one shaded object); UI-like flat panels with text;
  diagrams (boxes, arrows, labels on white).
- ``dark``: low-key pictures (mean luma under 50, checked) with some detail: night street with
  lit windows, a candle-lit still life, dark foliage.
- ``smooth``: AI-smooth pictures: large soft colour fields, bokeh (blurred discs of light), sky
  gradients with soft clouds.

No ``faces`` class: a drawn face is a cartoon, not the skin, hair and eye detail of a
photographed or generated face, and would say nothing about faces.

The rendered pictures carry a light film of noise where a camera or a generator would leave one
(periodic, dense-texture, dark: σ 1.5 grey levels) and none where a flat or smooth generated
picture is clean (flat, smooth).
"""

from __future__ import annotations

import argparse
import itertools
import math
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIZES = [(1024, 1024), (1216, 832), (832, 1216), (768, 768)]  # (width, height)
Rng = np.random.Generator
Render = Callable[[Rng, int, int, int], np.ndarray]  # (rng, width, height, index) -> RGB


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _film(a: np.ndarray, rng: Rng, sigma: float = 1.5) -> np.ndarray:
    return _u8(a.astype(np.float64) + rng.normal(0, sigma, a.shape))


def _colour(rng: Rng, lo: int = 30, hi: int = 230) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(lo, hi, 3))
    return r, g, b


def _lighting(h: int, w: int, rng: Rng, depth: float = 0.25) -> np.ndarray:
    """A soft multiplicative light falloff, (h, w, 1)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    d = np.hypot(x - cx, y - cy) / math.hypot(w, h)
    return (1 - depth * d / d.max())[..., None]


def _smooth_field(h: int, w: int, rng: Rng, cells: int, channels: int = 3) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a cells×cells grid of random values, bicubic upscaled."""
    small = rng.random((cells, cells, channels)).astype(np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    big = big.reshape(h, w, channels)
    return np.clip(big, 0, 1).astype(np.float64)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def period(h: int, w: int) -> float:
    """The v2 mark's tile period (a quarter of the short side)."""
    return min(h, w) / 4


# ----------------------------------------------------------------------------- periodic


def bookshelf(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Shelves of book spines: near-constant spine widths, shelf boards, titles as bands."""
    im = Image.new("RGB", (w, h), (70, 45, 30))
    d = ImageDraw.Draw(im)
    shelves = int(rng.integers(3, 6))
    pitch = h / shelves
    spine = float(rng.uniform(14, 34))
    for s in range(shelves):
        top, bottom = round(s * pitch + 0.08 * pitch), round((s + 1) * pitch - 0.06 * pitch)
        x = float(rng.uniform(0, spine))
        while x < w:
            sw = spine * rng.uniform(0.85, 1.15)
            c = _colour(rng, 20, 220)
            ht = top + round(rng.uniform(0, 0.25) * (bottom - top))  # spine top
            d.rectangle((round(x), ht, round(x + sw) - 2, bottom), fill=c)
            for band in range(int(rng.integers(0, 3))):
                by = ht + round((0.15 + 0.3 * band) * (bottom - ht))
                light = tuple(min(255, v + 60) for v in c)
                d.rectangle((round(x) + 2, by, round(x + sw) - 4, by + 4), fill=light)
            x += sw
        d.rectangle((0, bottom, w, bottom + round(0.06 * pitch)), fill=(110, 75, 45))
    return _film(np.asarray(im) * _lighting(h, w, rng), rng)


def bricks(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Brick courses (half-offset) or square tiles with grout; the pitch is the mark's period
    divided by 2, 3, 4 or 6 for some pictures, free for the others."""
    divisors = (4, 2, 6, 3, 0)
    k = divisors[(i // 5) % len(divisors)]
    tiles = (i // 5) % 2 == 1
    cell = period(h, w) / k if k else float(rng.uniform(23, 71))
    bw, bh = (cell, cell) if tiles else (cell, cell / 2)
    grout = max(2, round(0.08 * bh))
    base = np.array(_colour(rng, 90, 200), np.float64)
    im = Image.new("RGB", (w, h), tuple(int(v) for v in base * 0.55 + 90))
    d = ImageDraw.Draw(im)
    for r in range(math.ceil(h / bh) + 1):
        off = (bw / 2 if r % 2 and not tiles else 0.0) - bw
        for c in range(math.ceil(w / bw) + 2):
            x0, y0 = off + c * bw, r * bh
            fill = _u8(base * rng.uniform(0.8, 1.15) + rng.normal(0, 6, 3))
            d.rectangle(
                (round(x0), round(y0), round(x0 + bw) - grout, round(y0 + bh) - grout),
                fill=tuple(int(v) for v in fill),
            )
    a = np.asarray(im).astype(np.float64)
    a *= 0.85 + 0.3 * _smooth_field(h, w, rng, 24, 1)  # weathering
    return _film(a * _lighting(h, w, rng), rng)


def stripes(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Hard stripes (awning, zebra when warped by low-frequency noise)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    theta = float(rng.uniform(0, math.pi))
    pitch = float(rng.uniform(12, 48))
    u = x * math.cos(theta) + y * math.sin(theta)
    if (i // 5) % 2 == 0:  # zebra
        u += 60 * (_smooth_field(h, w, rng, 6, 1)[..., 0] - 0.5)
    s = (np.sin(2 * math.pi * u / pitch) > 0).astype(np.float64)
    s = cv2.GaussianBlur(s, (0, 0), 0.8)
    c0, c1 = np.array(_colour(rng, 0, 60)), np.array(_colour(rng, 180, 255))
    a = c0 + s[..., None] * (c1 - c0)
    return _film(a * _lighting(h, w, rng), rng)


def facade(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """A building front: a regular grid of framed windows on a rendered wall."""
    wall = np.array(_colour(rng, 120, 220), np.float64)
    a = np.ones((h, w, 3)) * wall * (0.9 + 0.2 * _smooth_field(h, w, rng, 16, 1))
    im = Image.fromarray(_u8(a))
    d = ImageDraw.Draw(im)
    px, py = float(rng.uniform(60, 140)), float(rng.uniform(80, 170))
    ww, wh = px * rng.uniform(0.45, 0.65), py * rng.uniform(0.45, 0.65)
    frame = tuple(int(v) for v in _u8(wall * 0.5))
    for r in range(math.ceil(h / py) + 1):
        for c in range(math.ceil(w / px) + 1):
            x0, y0 = c * px + (px - ww) / 2, r * py + (py - wh) / 2
            glass = _u8(np.array((60, 80, 100)) * rng.uniform(0.6, 1.6))
            d.rectangle(
                (round(x0) - 4, round(y0) - 4, round(x0 + ww) + 4, round(y0 + wh) + 4), fill=frame
            )
            d.rectangle(
                (round(x0), round(y0), round(x0 + ww), round(y0 + wh)),
                fill=tuple(int(v) for v in glass),
            )
            d.line(
                (round(x0 + ww / 2), round(y0), round(x0 + ww / 2), round(y0 + wh)),
                fill=frame,
                width=3,
            )
            d.rectangle(
                (round(x0) - 8, round(y0 + wh) + 4, round(x0 + ww) + 8, round(y0 + wh) + 10),
                fill=tuple(int(v) for v in _u8(wall * 1.1)),
            )
    return _film(np.asarray(im) * _lighting(h, w, rng), rng)


def fabric(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Plain weave: warp and weft threads alternately over and under, with thread shading."""
    t = float(rng.uniform(5, 12))  # thread pitch in px
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    cu, cv = np.floor(x / t), np.floor(y / t)
    fu, fv = (x / t) % 1, (y / t) % 1
    warp_on_top = (cu + cv) % 2 == 0
    shade_warp = np.sin(math.pi * fu) ** 0.7  # round thread across its width
    shade_weft = np.sin(math.pi * fv) ** 0.7
    shade = np.where(warp_on_top, shade_warp, shade_weft)
    c_warp, c_weft = np.array(_colour(rng)), np.array(_colour(rng))
    col = np.where(warp_on_top[..., None], c_warp, c_weft)
    a = col * (0.45 + 0.55 * shade[..., None])
    a *= 0.9 + 0.2 * _smooth_field(h, w, rng, 10, 1)  # folds
    return _film(a * _lighting(h, w, rng), rng)


# ----------------------------------------------------------------------------- dense texture

TEXTURE_CONTRAST = (1.0, 0.5, 0.25)  # by (index // 3) % 3: full, half, quarter detail


def _texture(a: np.ndarray, i: int) -> np.ndarray:
    """The fine detail of ``a`` (the difference from a σ 8 blur) scaled by the picture's
    contrast step, so the class spans busy to moderately busy textures."""
    k = TEXTURE_CONTRAST[(i // 3) % len(TEXTURE_CONTRAST)]
    if k == 1.0:
        return a
    x = a.astype(np.float64)
    base = cv2.GaussianBlur(x, (0, 0), 8)
    return _u8(base + k * (x - base))


def fur(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Oriented noise: white noise smeared along a slowly turning direction (hairs)."""
    n = rng.normal(0, 1, (h, w)).astype(np.float32)
    base_angle = float(rng.uniform(0, 180))
    length = int(rng.integers(11, 25))
    out = np.zeros((h, w), np.float64)
    weight = np.maximum(_smooth_field(h, w, rng, 5, 3), 1e-6)  # all three 0: no NaN
    weight /= weight.sum(axis=2, keepdims=True)
    for j, da in enumerate((-25.0, 0.0, 25.0)):
        k = np.zeros((length, length), np.float32)
        k[length // 2, :] = 1.0
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), base_angle + da, 1)
        k = cv2.warpAffine(k, rot, (length, length))
        k /= k.sum()
        out += weight[..., j] * cv2.filter2D(n, -1, k)
    out = out / (out.std() + 1e-9)
    tone = np.array(_colour(rng, 60, 200), np.float64)
    a = tone * (1 + 0.35 * out[..., None]) * (0.7 + 0.5 * _smooth_field(h, w, rng, 8, 1))
    return _film(_texture(a, i), rng)


def foliage(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Leaves at many scales: thousands of green-ish ellipses, large to small, on dark gaps."""
    im = Image.new("RGB", (w, h), (15, 30, 10))
    d = ImageDraw.Draw(im)
    hue = rng.uniform(0.7, 1.3, 3) * np.array((70, 130, 45))
    for scale in (40, 20, 10, 5):
        for _ in range(int(w * h / (scale * scale) * 0.9)):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            rx, ry = scale * rng.uniform(0.5, 1.2), scale * rng.uniform(0.25, 0.7)
            c = _u8(hue * rng.uniform(0.35, 1.5))
            d.ellipse((x - rx, y - ry, x + rx, y + ry), fill=tuple(int(v) for v in c))
    a = cv2.GaussianBlur(np.asarray(im), (0, 0), 0.7).astype(np.float64)
    return _film(_texture(a * _lighting(h, w, rng, 0.4), i), rng)


def gravel(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Clutter: many small random polygons (stones) with a highlight and a shadow each."""
    im = Image.new("RGB", (w, h), (80, 72, 62))
    d = ImageDraw.Draw(im)
    tone = rng.uniform(0.8, 1.2, 3)
    for _ in range(int(w * h / 90)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(3, 14)
        k = int(rng.integers(5, 9))
        ang = np.sort(rng.uniform(0, 2 * math.pi, k))
        rad = r * rng.uniform(0.6, 1.0, k)
        pts = [(x + q * math.cos(p), y + q * math.sin(p)) for p, q in zip(ang, rad, strict=True)]
        grey = rng.uniform(50, 200)
        c = _u8(grey * tone * rng.uniform(0.85, 1.15, 3))
        d.polygon([(px + 1.5, py + 1.5) for px, py in pts], fill=(25, 22, 20))
        d.polygon(pts, fill=tuple(int(v) for v in c))
        d.ellipse((x - r / 3, y - r / 2, x, y - r / 6), fill=tuple(int(v) for v in _u8(c * 1.2)))
    return _film(_texture(np.asarray(im) * _lighting(h, w, rng), i), rng)


# ----------------------------------------------------------------------------- flat


def studio(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """A product shot: a soft two-colour backdrop gradient, one shaded object and its shadow."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    c0, c1 = np.array(_colour(rng, 150, 250)), np.array(_colour(rng, 120, 230))
    g = np.clip((y / h) * 1.2 - 0.1 + 0.1 * (x / w), 0, 1)[..., None]
    a = c0 + g * (c1 - c0)
    cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.4, 0.6)
    r = min(w, h) * rng.uniform(0.15, 0.28)
    shadow = np.exp(-(((x - cx) / (1.3 * r)) ** 2 + ((y - cy - r) / (0.25 * r)) ** 2))
    a *= (1 - 0.35 * shadow)[..., None]
    obj = np.array(_colour(rng, 40, 220), np.float64)
    if i % 2:  # a sphere lit from the top left
        dd = ((x - cx) ** 2 + (y - cy) ** 2) / r**2
        inside = dd < 1
        nz = np.sqrt(np.clip(1 - dd, 0, 1))
        lam = np.clip(((cx - x) * 0.5 + (cy - y) * 0.6) / r + nz * 0.6, 0, 1.2)
        shaded = obj * (0.3 + 0.7 * lam[..., None]) + 120 * (lam[..., None] ** 20)
    else:  # a rounded box, lit from the left
        inside = (np.abs(x - cx) < 0.8 * r) & (np.abs(y - cy) < r)
        lam = np.clip(1 - (x - cx + 0.8 * r) / (1.6 * r) * 0.5, 0, 1)
        shaded = obj * (0.5 + 0.5 * lam[..., None])
    soft = cv2.GaussianBlur(inside.astype(np.float64), (0, 0), 1.2)[..., None]
    return _u8(a * (1 - soft) + shaded * soft)


def ui(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """An app screen: flat panels, buttons, icons and lines of text."""
    bg = _colour(rng, 225, 256) if i % 2 else _colour(rng, 20, 50)
    fg = (30, 30, 35) if i % 2 else (230, 230, 235)
    im = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(im)
    accent = _colour(rng, 40, 220)
    d.rectangle((0, 0, w, round(0.08 * h)), fill=accent)
    d.text((20, round(0.02 * h)), "Dashboard", fill=(255, 255, 255), font=_font(h // 30))
    side = round(0.2 * w)
    panel = tuple(int(v) for v in np.clip(np.array(bg) + (-12 if i % 2 else 18), 0, 255))
    d.rectangle((0, round(0.08 * h), side, h), fill=panel)
    for k in range(8):
        yy = round(0.12 * h + k * 0.06 * h)
        d.ellipse((16, yy, 40, yy + 24), fill=_colour(rng, 40, 220))
        d.text((52, yy), f"Menu item {k + 1}", fill=fg, font=_font(h // 50))
    for k in range(int(rng.integers(3, 6))):
        x0 = side + 30 + k % 2 * (w - side) // 2
        y0 = round(0.12 * h) + k // 2 * round(0.28 * h)
        x1, y1 = x0 + (w - side) // 2 - 50, y0 + round(0.24 * h)
        d.rounded_rectangle((x0, y0, x1, y1), radius=12, fill=panel, outline=accent, width=2)
        d.text(
            (x0 + 14, y0 + 12),
            f"Card {k + 1}: {int(rng.integers(10, 999))} items",
            fill=fg,
            font=_font(h // 45),
        )
        for line in range(4):
            ly = y0 + 50 + line * 22
            d.text(
                (x0 + 14, ly),
                "Lorem ipsum dolor sit amet, consectetur",
                fill=fg,
                font=_font(h // 60),
            )
        d.rounded_rectangle((x1 - 110, y1 - 44, x1 - 14, y1 - 12), radius=8, fill=accent)
    return np.asarray(im)


def diagram(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """A flow chart: labelled boxes joined by arrows, on white."""
    im = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    cols, rows = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    boxes = []
    for r in range(rows):
        for c in range(cols):
            cx, cy = (c + 0.5) * w / cols, (r + 0.5) * h / rows
            bw, bh = w / cols * 0.55, h / rows * 0.3
            fill = _colour(rng, 170, 250)
            d.rectangle(
                (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2),
                fill=fill,
                outline=(40, 40, 40),
                width=3,
            )
            d.text(
                (cx - bw / 2 + 10, cy - 10),
                f"Step {r * cols + c + 1}",
                fill=(0, 0, 0),
                font=_font(round(bh / 5)),
            )
            boxes.append((cx, cy, bw, bh))
    for (x0, y0, w0, _), (x1, y1, w1, _) in itertools.pairwise(boxes):
        a, b = (x0 + w0 / 2, y0), (x1 - w1 / 2, y1)
        d.line((a, b), fill=(40, 40, 40), width=3)
        ang = math.atan2(b[1] - a[1], b[0] - a[0])
        head = [
            b,
            (b[0] - 14 * math.cos(ang - 0.4), b[1] - 14 * math.sin(ang - 0.4)),
            (b[0] - 14 * math.cos(ang + 0.4), b[1] - 14 * math.sin(ang + 0.4)),
        ]
        d.polygon(head, fill=(40, 40, 40))
    d.text((20, h - 40), "Figure 1. The pipeline.", fill=(60, 60, 60), font=_font(h // 40))
    return np.asarray(im)


# ----------------------------------------------------------------------------- dark

MAX_DARK_LUMA = 45.0  # the class promises a mean luma under 50; rendered down to this if over


def _dark(a: np.ndarray) -> np.ndarray:
    luma = float(np.mean(a.astype(np.float64) @ np.array((0.299, 0.587, 0.114))))
    return _u8(a * (MAX_DARK_LUMA / luma)) if luma > MAX_DARK_LUMA else a


def night_street(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Night: a dark sky gradient, building silhouettes, scattered lit windows, a street light."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    sky = np.array((10, 14, 35)) + (y / h)[..., None] * np.array((15, 10, 10))
    im = Image.fromarray(_u8(sky))
    d = ImageDraw.Draw(im)
    xx = 0
    while xx < w:
        bw = int(rng.integers(60, 200))
        top = int(h * rng.uniform(0.15, 0.6))
        d.rectangle((xx, top, xx + bw, h), fill=_colour(rng, 8, 25))
        for wy in range(top + 12, h - 20, 26):
            for wx in range(xx + 8, xx + bw - 12, 20):
                if rng.random() < 0.25:
                    glow = _u8(np.array((255, 200, 120)) * rng.uniform(0.4, 1.0))
                    d.rectangle((wx, wy, wx + 9, wy + 13), fill=tuple(int(v) for v in glow))
        xx += bw + int(rng.integers(0, 20))
    a = np.asarray(im).astype(np.float64)
    lx, ly = w * rng.uniform(0.2, 0.8), h * 0.55
    a += (
        90
        * np.exp(-((x - lx) ** 2 + (y - ly) ** 2) / (0.01 * w * h))[..., None]
        * np.array((1.0, 0.8, 0.5))
    )
    return _dark(_film(a, rng))


def candle(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Low key still life: a warm glow falling off into black, textured table and objects."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    cx, cy = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.5)
    glow = np.exp(-np.hypot(x - cx, y - cy) / (0.18 * min(w, h)))[..., None]
    wood = 0.6 + 0.4 * np.sin(y / 7 + 4 * _smooth_field(h, w, rng, 12, 1)[..., 0])[..., None]
    table = (y > h * 0.65)[..., None] * wood * np.array((140, 90, 50))
    wall = (
        (y <= h * 0.65)[..., None]
        * np.array((90, 70, 55))
        * (0.8 + 0.4 * _smooth_field(h, w, rng, 40, 1))
    )
    a = (table + wall) * glow * 1.4
    im = Image.fromarray(_u8(a))
    d = ImageDraw.Draw(im)
    for _ in range(3):
        ox, ow = w * rng.uniform(0.1, 0.9), w * rng.uniform(0.04, 0.1)
        oh = h * rng.uniform(0.1, 0.3)
        d.rectangle(
            (ox - ow, h * 0.65 - oh, ox + ow, h * 0.65),
            fill=tuple(int(v) for v in _u8(np.array(_colour(rng, 20, 90)) * 0.6)),
        )
    d.ellipse((cx - 6, cy - 18, cx + 6, cy + 6), fill=(255, 230, 160))
    return _dark(_film(np.asarray(im), rng))


def dark_foliage(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Foliage at dusk: the foliage texture at a quarter of its light."""
    return _dark(_u8(foliage(rng, w, h, 0).astype(np.float64) * rng.uniform(0.25, 0.4)))


# ----------------------------------------------------------------------------- smooth


def colour_field(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Large soft colour blends (a generator's abstract wallpaper)."""
    f = _smooth_field(h, w, rng, int(rng.integers(3, 6)))
    a = 40 + 190 * f
    return _u8(cv2.GaussianBlur(a, (0, 0), min(w, h) / 40))


def bokeh(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """Out-of-focus lights: discs of colour on a dark-to-mid gradient, heavily blurred."""
    y = np.mgrid[0:h, 0:w][0].astype(np.float64)
    base = np.array(_colour(rng, 20, 90)) * (0.6 + 0.6 * (y / h))[..., None]
    im = Image.fromarray(_u8(base))
    d = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(25, 60))):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.02, 0.08) * min(w, h)
        d.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=_colour(rng, 120, 256))
    return _u8(cv2.GaussianBlur(np.asarray(im).astype(np.float64), (0, 0), min(w, h) / 90))


def sky(rng: Rng, w: int, h: int, i: int) -> np.ndarray:
    """A clear-to-hazy sky gradient with soft clouds."""
    y = np.mgrid[0:h, 0:w][0].astype(np.float64) / h
    top, bottom = np.array((40, 90, 170)) * rng.uniform(0.8, 1.2), np.array((200, 180, 170))
    a = top + y[..., None] ** 1.5 * (bottom - top)
    cloud = _smooth_field(h, w, rng, 7, 1) * _smooth_field(h, w, rng, 3, 1)
    cloud = np.clip((cloud - 0.25) * 2.5, 0, 1)
    a = a * (1 - cloud) + 235 * cloud
    return _u8(cv2.GaussianBlur(a, (0, 0), 3))


# ----------------------------------------------------------------------------- the corpus

CLASSES: dict[str, list[Render]] = {
    "periodic": [bookshelf, bricks, stripes, facade, fabric],
    "dense-texture": [fur, foliage, gravel],
    "flat": [studio, ui, diagram],
    "dark": [night_street, candle, dark_foliage],
    "smooth": [colour_field, bokeh, sky],
}


def picture(cls: str, index: int) -> tuple[str, np.ndarray]:
    """(name, RGB uint8 array) of picture ``index`` of class ``cls``; the same every time."""
    variants = CLASSES[cls]
    render = variants[index % len(variants)]
    w, h = SIZES[index % len(SIZES)]
    rng = np.random.default_rng([zlib.crc32(cls.encode()), index])
    a = np.ascontiguousarray(render(rng, w, h, index))
    assert a.shape == (h, w, 3) and a.dtype == np.uint8, (cls, index, a.shape)
    return f"{cls}-{index:02d}-{render.__name__.replace('_', '-')}-{w}x{h}", a


def luma_mean(a: np.ndarray) -> float:
    return float(np.mean(a.astype(np.float64) @ np.array((0.299, 0.587, 0.114))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-class", type=int, default=8)
    ap.add_argument("--save", type=Path, help="write the pictures as PNG into this folder")
    args = ap.parse_args()
    for cls in CLASSES:
        for i in range(args.per_class):
            name, a = picture(cls, i)
            print(f"{name:44s} luma {luma_mean(a):6.1f}  std {a.std():5.1f}")
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                Image.fromarray(a).save(args.save / f"{name}.png")


if __name__ == "__main__":
    main()
