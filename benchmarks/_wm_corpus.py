"""Shared by the image watermark benchmarks: the photo corpus, the attack suite, quality metrics,
the method protocol and the aimark API shim.

    python benchmarks/_wm_corpus.py            # list the corpus (name and size) and the attacks

Photos (RGB uint8, deterministic, nothing downloaded): scikit-image's bundled data files,
matplotlib's grace_hopper.jpg, PyWavelets' aero / ascent, scikit-learn's china / flower (if
installed), ``../shared/fixtures/photos/*`` (if present), and generator-sized images (512²,
768², 1024², 1024×1536, 1536×1024) cut or DOWNscaled from the larger sources.

Attacks: each row of ``ATTACKS`` maps an RGB uint8 array to an RGB uint8 array. "Random" crops
and noise are seeded by the image's shape and the row, so the same input always gives the same
output. Crop percentages are fractions of the area kept, at the image's aspect. "brightness
×1.3" clips the highlights (Pillow's enhancer saturates at 255): it is the highlight-clipping
row. OpenCV (for the perspective warp, bilateral and non-local means rows) and PyWavelets (the
wavelet row) are needed only when those rows run.
"""

from __future__ import annotations

import inspect
import io
import math
import sys
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, features

from aimark import WatermarkKey
from aimark.watermark.image import SCHEME_ID, detect, embed

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "photos"
SCHEME_V1 = "io.aimark.image.1"
SCHEME_V2 = "io.aimark.image.2"
BENCH_KEY = WatermarkKey(b"aimark benchmark key, not secret")

# ----------------------------------------------------------------------------- photos

_SKIMAGE = {  # name in the corpus: file in skimage/data
    "astronaut": "astronaut.png",
    "chelsea-cat": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "camera-gray": "camera.png",
    "ihc-microscopy": "ihc.png",
    "retina": "retina.jpg",
    "motorcycle-left": "motorcycle_left.png",
    "hubble-deep-field": "hubble_deep_field.jpg",
    "moon-gray": "moon.png",
    "coins-gray": "coins.png",
    "cell-microscopy-gray": "cell.png",
    "clock-motion-blur-gray": "clock_motion.png",
    "brick-texture-gray": "brick.png",
    "grass-texture-gray": "grass.png",
    "gravel-texture-gray": "gravel.png",
    "page-scan-gray": "page.png",
    "text-scan-gray": "text.png",
}

# (name, source, scale, (x0, y0, width, height) of the crop after scaling)
_CROPS = [
    ("retina-down-1024x1024", "retina", 1024 / 1411, (0, 0, 1024, 1024)),
    ("retina-crop-768x768", "retina", 1.0, (321, 321, 768, 768)),
    ("retina-crop-512x512", "retina", 1.0, (250, 450, 512, 512)),
    ("hubble-crop-768x768", "hubble-deep-field", 1.0, (116, 52, 768, 768)),
    ("hubble-crop-512x512", "hubble-deep-field", 1.0, (0, 0, 512, 512)),
    ("hubble-down-768x768", "hubble-deep-field", 768 / 872, (56, 0, 768, 768)),
    ("P1000827-crop-512x512", "P1000827", 1.0, (256, 123, 512, 512)),
    ("P1000827-down-512x512", "P1000827", 512 / 759, (87, 0, 512, 512)),
    ("TUSCANY-doc-0.45x-crop-1024x1024", "TUSCANY-doc", 0.45, (124, 400, 1024, 1024)),
    ("TUSCANY-doc-0.5x-crop-1024x1536", "TUSCANY-doc", 0.5, (251, 57, 1024, 1536)),
    ("TUSCANY-doc-0.62x-crop-1536x1024", "TUSCANY-doc", 0.62, (45, 700, 1536, 1024)),
]


def _rgb(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a[..., :3])


def _open(path: Path | str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L" if im.mode in ("1", "L") else "RGB"))


def load_photos() -> dict[str, np.ndarray]:
    """The corpus: name -> RGB uint8 array (gray sources are repeated into three channels)."""
    photos: dict[str, np.ndarray] = {}
    try:
        import skimage

        root = Path(skimage.__file__).parent / "data"
        for name, file in _SKIMAGE.items():
            photos[name] = _rgb(_open(root / file))
    except ImportError as exc:
        print(f"note: scikit-image photos unavailable ({exc})", file=sys.stderr)
    try:
        import matplotlib

        photos["grace-hopper"] = _rgb(
            _open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")
        )
    except ImportError as exc:
        print(f"note: matplotlib's photo unavailable ({exc})", file=sys.stderr)
    try:
        import pywt

        for name in ("aero", "ascent"):
            with np.load(Path(pywt.__file__).parent / "data" / f"{name}.npz") as z:
                photos[f"{name}-gray"] = _rgb(z["data"])
    except ImportError as exc:
        print(f"note: PyWavelets' photos unavailable ({exc})", file=sys.stderr)
    try:
        from sklearn.datasets import load_sample_images

        bunch = load_sample_images()
        for file, im in zip(bunch.filenames, bunch.images, strict=True):
            photos[f"sklearn-{Path(file).stem}"] = _rgb(im)
    except ImportError:
        print("note: scikit-learn not installed, no china / flower", file=sys.stderr)
    if SHARED.is_dir():
        for p in sorted(SHARED.iterdir()):
            name = "TUSCANY-doc" if p.stem == "TUSCANY" else p.stem
            photos[name] = _rgb(_open(p))
    else:
        print(f"note: {SHARED} absent, its photos and crops skipped", file=sys.stderr)
    for name, src, scale, (x0, y0, w, h) in _CROPS:
        if src not in photos:
            continue
        a = photos[src]
        if scale != 1.0:
            size = (round(a.shape[1] * scale), round(a.shape[0] * scale))
            a = np.asarray(Image.fromarray(a).resize(size, Image.Resampling.LANCZOS))
        photos[name] = np.ascontiguousarray(a[y0 : y0 + h, x0 : x0 + w])
        assert photos[name].shape[:2] == (h, w), name
    sizes = Counter(f"{a.shape[1]}x{a.shape[0]}" for a in photos.values())
    print(
        f"corpus: {len(photos)} photos, "
        + ", ".join(f"{s} ×{n}" if n > 1 else s for s, n in sizes.most_common()),
        file=sys.stderr,
    )
    return photos


def spread(names: list[str], n: int) -> list[str]:
    """``n`` names evenly spread over ``names`` (all of them when n >= len(names))."""
    if n >= len(names):
        return list(names)
    if n <= 1:
        return names[:n]
    return [names[round(i * (len(names) - 1) / (n - 1))] for i in range(n)]


# ----------------------------------------------------------------------------- attacks


def _rng(a: np.ndarray, salt: str) -> np.random.Generator:
    return np.random.default_rng([*a.shape, zlib.crc32(salt.encode())])


def _encode(a: np.ndarray, fmt: str, **options: object) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, fmt, **options)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def jpeg(a: np.ndarray, q: int, subsampling: int = 2) -> np.ndarray:
    return _encode(a, "JPEG", quality=q, subsampling=subsampling)


def webp(a: np.ndarray, q: int) -> np.ndarray:
    return _encode(a, "WEBP", quality=q)


def _avif_available() -> bool:
    if features.check("avif"):
        return True
    try:
        from pillow_heif import register_avif_opener  # older pillow_heif only
    except ImportError:
        return False
    register_avif_opener()
    return True


def avif(a: np.ndarray, q: int) -> np.ndarray:
    return _encode(a, "AVIF", quality=q)


def png(a: np.ndarray) -> np.ndarray:
    return _encode(a, "PNG")


def resize(
    a: np.ndarray,
    sx: float,
    sy: float | None = None,
    resample: Image.Resampling = Image.Resampling.BICUBIC,
) -> np.ndarray:
    h, w = a.shape[:2]
    size = (max(1, round(w * sx)), max(1, round(h * (sx if sy is None else sy))))
    return np.asarray(Image.fromarray(a).resize(size, resample))


def crop(a: np.ndarray, area: float, salt: str) -> np.ndarray:
    """Keep ``area`` of the image (same aspect) at a seeded random offset."""
    h, w = a.shape[:2]
    ch, cw = round(h * math.sqrt(area)), round(w * math.sqrt(area))
    rng = _rng(a, salt)
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return a[y0 : y0 + ch, x0 : x0 + cw]


def _inner_rect(w: int, h: int, deg: float) -> tuple[int, int]:
    """Largest axis-aligned rectangle inside a w×h rectangle rotated by ``deg``."""
    s, c = abs(math.sin(math.radians(deg))), abs(math.cos(math.radians(deg)))
    long, short = max(w, h), min(w, h)
    if short <= 2 * s * c * long or abs(s - c) < 1e-10:
        x = short / 2
        wr, hr = (x / s, x / c) if w >= h else (x / c, x / s)
    else:
        c2 = c * c - s * s
        wr, hr = (w * c - h * s) / c2, (h * c - w * s) / c2
    return math.floor(wr) - 2, math.floor(hr) - 2  # 1 px margin each side: bicubic edge


def rotate(a: np.ndarray, deg: float, recrop: bool) -> np.ndarray:
    """Rotate about the centre, same canvas (black corners); ``recrop`` cuts the largest
    axis-aligned rectangle that holds only image."""
    r = np.asarray(Image.fromarray(a).rotate(deg, Image.Resampling.BICUBIC))
    if recrop:
        h, w = r.shape[:2]
        cw, ch = _inner_rect(w, h, deg)
        y0, x0 = (h - ch) // 2, (w - cw) // 2
        r = r[y0 : y0 + ch, x0 : x0 + cw]
    return r


def shear(a: np.ndarray, k: float) -> np.ndarray:
    """Horizontal shear about the centre row, same canvas."""
    h = a.shape[0]
    im = Image.fromarray(a)
    coeffs = (1.0, k, -k * h / 2, 0.0, 1.0, 0.0)
    return np.asarray(
        im.transform(im.size, Image.Transform.AFFINE, coeffs, Image.Resampling.BICUBIC)
    )


def _pad(a: np.ndarray, new_w: int, new_h: int) -> np.ndarray:
    h, w = a.shape[:2]
    out = np.zeros((new_h, new_w, 3), np.uint8)
    y0, x0 = (new_h - h) // 2, (new_w - w) // 2
    out[y0 : y0 + h, x0 : x0 + w] = a
    return out


def letterbox(a: np.ndarray, bars: str) -> np.ndarray:
    """Pad with black to the first canvas of 16:9, 1:1, 9:16 that adds bars on that side
    ("sides" or "top/bottom"), at least 5 %; 25 % more if none does."""
    h, w = a.shape[:2]
    if bars == "sides":
        widths = sorted(round(h * r) for r in (16 / 9, 1.0, 9 / 16))
        new_w = next((x for x in widths if x > 1.05 * w), round(1.25 * w))
        return _pad(a, new_w, h)
    heights = sorted(round(w / r) for r in (16 / 9, 1.0, 9 / 16))
    new_h = next((y for y in heights if y > 1.05 * h), round(1.25 * h))
    return _pad(a, w, new_h)


def caption_bar(a: np.ndarray) -> np.ndarray:
    """The bottom 15 % replaced by a white bar with a line of black text."""
    im = Image.fromarray(a)
    w, h = im.size
    bar = max(1, round(0.15 * h))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, h - bar, w, h), fill=(255, 255, 255))
    font = ImageFont.load_default(size=max(8, min(bar // 2, w // 20)))
    draw.text((bar // 4, h - bar + bar // 4), "Made with an image model, 2026", (0, 0, 0), font)
    return np.asarray(im)


def noise(a: np.ndarray, sigma: float) -> np.ndarray:
    n = _rng(a, f"noise {sigma}").normal(0, sigma, a.shape)
    return np.clip(np.rint(a + n), 0, 255).astype(np.uint8)


def pil_filter(a: np.ndarray, f: ImageFilter.Filter) -> np.ndarray:
    return np.asarray(Image.fromarray(a).filter(f))


def enhance(a: np.ndarray, kind: str, f: float) -> np.ndarray:
    return np.asarray(getattr(ImageEnhance, kind)(Image.fromarray(a)).enhance(f))


def gamma(a: np.ndarray, g: float) -> np.ndarray:
    lut = np.rint(255 * (np.arange(256) / 255) ** g).astype(np.uint8)
    return lut[a]


def hue_shift(a: np.ndarray, deg: float) -> np.ndarray:
    hsv = np.array(Image.fromarray(a).convert("HSV"))
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(deg / 360 * 256)) % 256
    return np.asarray(Image.fromarray(hsv, "HSV").convert("RGB"))


def grayscale(a: np.ndarray) -> np.ndarray:
    return _rgb(np.asarray(Image.fromarray(a).convert("L")))


def long_side(a: np.ndarray, side: int) -> np.ndarray:
    s = side / max(a.shape[:2])
    return resize(a, s, resample=Image.Resampling.LANCZOS)


def screenshot(a: np.ndarray, scale: float, fmt: str) -> np.ndarray:
    r = resize(a, scale, resample=Image.Resampling.BILINEAR)
    return png(r) if fmt == "PNG" else jpeg(r, 80)


def social(a: np.ndarray) -> np.ndarray:
    """Upload (long side 1080, JPEG 75 4:2:0), then re-share (crop 90 %, JPEG 70)."""
    first = jpeg(long_side(a, 1080), 75)
    return jpeg(crop(first, 0.9, "social"), 70)


def perspective(a: np.ndarray, frac: float, salt: str) -> np.ndarray:
    """Each corner moved by up to ``frac`` of the width / height (seeded, uniform in ±frac),
    the quadrilateral warped back onto the same canvas (bicubic, black outside)."""
    import cv2

    h, w = a.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = _rng(a, salt).uniform(-frac, frac, (4, 2)) * np.float32([w, h])
    m = cv2.getPerspectiveTransform(src, (src + jitter).astype(np.float32))
    return cv2.warpPerspective(a, m, (w, h), flags=cv2.INTER_CUBIC)


def nlm(a: np.ndarray, h: float) -> np.ndarray:
    """OpenCV's colour non-local means (template 7, search 21), strength ``h`` for luma and
    colour."""
    import cv2

    bgr = np.ascontiguousarray(a[..., ::-1])
    return np.ascontiguousarray(cv2.fastNlMeansDenoisingColored(bgr, None, h, h, 7, 21)[..., ::-1])


def bilateral(a: np.ndarray, d: int, sigma: float) -> np.ndarray:
    import cv2

    return cv2.bilateralFilter(np.ascontiguousarray(a), d, sigma, sigma)


def wavelet_denoise(
    a: np.ndarray, sigma: float | None = None, wavelet: str = "db2", levels: int = 3
) -> np.ndarray:
    """BayesShrink soft thresholding per channel and detail band (as scikit-image's
    ``denoise_wavelet(method="BayesShrink")``): each band's threshold is sigma² / its signal
    sigma, with the noise ``sigma`` given, or (None) estimated from the finest diagonal band
    (median absolute value / 0.6745; on clean pictures that estimate is tiny and the filter
    changes next to nothing)."""
    import pywt

    out = np.empty(a.shape, np.float64)
    for c in range(a.shape[2]):
        coeffs = pywt.wavedec2(a[..., c].astype(np.float64), wavelet, level=levels)
        if sigma is None:
            sigma = float(np.median(np.abs(coeffs[-1][2]))) / 0.6745
        new: list = [coeffs[0]]
        for bands in coeffs[1:]:
            kept = []
            for band in bands:
                signal = math.sqrt(max(float(np.mean(band * band)) - sigma * sigma, 0.0))
                t = sigma * sigma / signal if signal > 0 else float(np.max(np.abs(band)))
                kept.append(pywt.threshold(band, t, mode="soft"))
            new.append(tuple(kept))
        out[..., c] = pywt.waverec2(new, wavelet)[: a.shape[0], : a.shape[1]]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def down_up(a: np.ndarray, f: float) -> np.ndarray:
    """Reduce by ``f`` (OpenCV's area average), then bicubic back to the original size."""
    import cv2

    h, w = a.shape[:2]
    small = cv2.resize(a, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _filler(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """An unmarked photo-like picture: colour noise with a 1/f amplitude spectrum."""
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    amp = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(h, w))
    out = np.empty((h, w, 3), np.float64)
    for c in range(3):
        spec = amp * np.exp(2j * np.pi * rng.random(amp.shape))
        x = np.fft.irfft2(spec, (h, w))
        out[..., c] = 128 + 48 * (x - x.mean()) / (x.std() + 1e-12)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def collage(a: np.ndarray) -> np.ndarray:
    """The image as the left half of a canvas twice as wide; the right half another (unmarked,
    seeded) picture of the same size."""
    h, w = a.shape[:2]
    return np.concatenate([a, _filler(h, w, _rng(a, "collage"))], axis=1)


def _rot90(a: np.ndarray, k: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(a, k))


ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda a: a,
    "JPEG 30": lambda a: jpeg(a, 30),
    "JPEG 50": lambda a: jpeg(a, 50),
    "JPEG 75": lambda a: jpeg(a, 75),
    "WebP 50": lambda a: webp(a, 50),
    "WebP 75": lambda a: webp(a, 75),
    "AVIF 50": lambda a: avif(a, 50),
    "resize 33%": lambda a: resize(a, 1 / 3),
    "resize 50%": lambda a: resize(a, 0.5),
    "resize 75%": lambda a: resize(a, 0.75),
    "resize 150%": lambda a: resize(a, 1.5),
    "resize 200%": lambda a: resize(a, 2.0),
    "aspect +10%": lambda a: resize(a, 1.1, 1.0),
    "aspect -10%": lambda a: resize(a, 0.9, 1.0),
    "crop 25% (random)": lambda a: crop(a, 0.25, "crop 25"),
    "crop 50% (random)": lambda a: crop(a, 0.5, "crop 50"),
    **{
        f"rotate {d:+g}°{' recrop' if rc else ''}": (lambda a, d=d, rc=rc: rotate(a, d, rc))
        for d in (2.5, -2.5, 5, -5, 10, -10)
        for rc in (False, True)
    },
    "rotate 90°": lambda a: _rot90(a, 1),
    "rotate 180°": lambda a: _rot90(a, 2),
    "rotate 270°": lambda a: _rot90(a, 3),
    "horizontal flip": lambda a: np.ascontiguousarray(a[:, ::-1]),
    "vertical flip": lambda a: np.ascontiguousarray(a[::-1]),
    "shear 0.05": lambda a: shear(a, 0.05),
    "letterbox (bars left/right)": lambda a: letterbox(a, "sides"),
    "letterbox (bars top/bottom)": lambda a: letterbox(a, "top/bottom"),
    "caption bar 15%": caption_bar,
    "noise σ 10": lambda a: noise(a, 10),
    "noise σ 15": lambda a: noise(a, 15),
    "blur r 2": lambda a: pil_filter(a, ImageFilter.GaussianBlur(2)),
    "median 3": lambda a: pil_filter(a, ImageFilter.MedianFilter(3)),
    "sharpen (unsharp r 2, 150%)": lambda a: pil_filter(a, ImageFilter.UnsharpMask(2, 150, 3)),
    "gamma 0.7": lambda a: gamma(a, 0.7),
    "brightness ×0.7": lambda a: enhance(a, "Brightness", 0.7),
    "brightness ×1.3": lambda a: enhance(a, "Brightness", 1.3),
    "contrast ×1.3": lambda a: enhance(a, "Contrast", 1.3),
    "saturation ×0.5": lambda a: enhance(a, "Color", 0.5),
    "hue shift 30°": lambda a: hue_shift(a, 30),
    "grayscale": grayscale,
    **{
        f"screenshot {s:g} + {fmt}": (lambda a, s=s, fmt=fmt: screenshot(a, s, fmt))
        for s in (0.67, 0.8, 1.25)
        for fmt in ("PNG", "JPEG 80")
    },
    "social (1080 + JPEG 75, crop 90% + JPEG 70)": social,
    "crop 70% + resize 50% + JPEG 70": lambda a: jpeg(resize(crop(a, 0.7, "chain"), 0.5), 70),
    # the rows of issue 21 (image watermark v3): geometry, patch denoisers, collage
    "perspective ±4%": lambda a: perspective(a, 0.04, "perspective"),
    "crop 30% (random)": lambda a: crop(a, 0.3, "crop 30"),
    "crop 70% (random)": lambda a: crop(a, 0.7, "crop 70"),
    "rotate +7° recrop": lambda a: rotate(a, 7, True),
    "NLM h 5": lambda a: nlm(a, 5),
    "NLM h 10": lambda a: nlm(a, 10),
    "wavelet BayesShrink σ 8": lambda a: wavelet_denoise(a, 8.0),
    "bilateral d 9 σ 50": lambda a: bilateral(a, 9, 50),
    "sharpen (unsharp r 2, 200%)": lambda a: pil_filter(a, ImageFilter.UnsharpMask(2, 200, 3)),
    "collage (left half)": collage,
    "double JPEG 60": lambda a: jpeg(jpeg(a, 60), 60),
    "down ×0.25 + up": lambda a: down_up(a, 0.25),
}
if not _avif_available():
    print("note: no AVIF encoder (Pillow or pillow_heif), row 'AVIF 50' skipped", file=sys.stderr)
    del ATTACKS["AVIF 50"]

FAST_ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    k: ATTACKS[k]
    for k in (
        "none",
        "JPEG 50",
        "WebP 75",
        "resize 50%",
        "aspect +10%",
        "crop 25% (random)",
        "rotate +5° recrop",
        "rotate 90°",
        "horizontal flip",
        "caption bar 15%",
        "noise σ 10",
        "screenshot 0.8 + JPEG 80",
        "social (1080 + JPEG 75, crop 90% + JPEG 70)",
    )
}

# ----------------------------------------------------------------------------- metrics, methods


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * math.log10(255**2 / max(mse, 1e-12))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM over the channels: scikit-image's ``structural_similarity`` (7×7 uniform
    window, sample covariance, K1 0.01, K2 0.03), or the same computation with OpenCV's box
    filter where scikit-image is not installed."""
    try:
        from skimage.metrics import structural_similarity
    except ImportError:
        return _ssim_cv2(a, b)
    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


def _ssim_cv2(a: np.ndarray, b: np.ndarray, win: int = 7) -> float:
    import cv2

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    cov_norm = win * win / (win * win - 1)
    pad = (win - 1) // 2
    scores = []
    for c in range(a.shape[2] if a.ndim == 3 else 1):
        x = (a[..., c] if a.ndim == 3 else a).astype(np.float64)
        y = (b[..., c] if b.ndim == 3 else b).astype(np.float64)

        def mean(z: np.ndarray) -> np.ndarray:
            return cv2.boxFilter(z, -1, (win, win), borderType=cv2.BORDER_REFLECT)

        ux, uy = mean(x), mean(y)
        vx = cov_norm * (mean(x * x) - ux * ux)
        vy = cov_norm * (mean(y * y) - uy * uy)
        vxy = cov_norm * (mean(x * y) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        scores.append(float(s[pad:-pad, pad:-pad].mean()))
    return float(np.mean(scores))


class Method(Protocol):
    """A watermark under test, holding its own key and payload."""

    name: str

    def embed(self, a: np.ndarray) -> np.ndarray: ...

    def detect(self, a: np.ndarray) -> tuple[bool, bool]:
        """(detected, exact payload)."""
        ...


def scheme_kw_supported() -> bool:
    """Whether aimark's embed takes ``scheme=`` (the multi-scheme API)."""
    return "scheme" in inspect.signature(embed).parameters


def mark(a: np.ndarray, key: WatermarkKey, payload: int, scheme: str | None = None) -> np.ndarray:
    """aimark's embed; ``scheme=None`` is the default (newest) scheme."""
    return embed(a, key, payload) if scheme is None else embed(a, key, payload, scheme=scheme)


def default_scheme(photo: np.ndarray) -> str:
    """The id of the scheme ``embed`` uses by default (found by marking ``photo``)."""
    if not scheme_kw_supported():
        return SCHEME_ID
    return detect(mark(photo, BENCH_KEY, 1), BENCH_KEY).scheme


def write_block(path: Path, text: str, start: str, end: str) -> None:
    """Replace the block between the markers ``start`` and ``end`` of ``path``; without them,
    append the block, markers included, to the end of the file (never losing what it held)."""
    old = path.read_text() if path.exists() else ""
    if start in old and end in old:
        head, rest = old.split(start, 1)
        path.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")
    else:
        sep = "\n" if old and not old.endswith("\n") else ""
        path.write_text(f"{old}{sep}{start}\n{text}\n{end}\n")


if __name__ == "__main__":
    for n, im in load_photos().items():
        print(f"{n:36s} {im.shape[1]}×{im.shape[0]}")
    print(f"\n{len(ATTACKS)} attacks: " + ", ".join(ATTACKS))
