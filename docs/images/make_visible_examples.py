"""Make the pictures of docs/visible-labels.md: a synthetic, photo-like landscape, before and after
`aimark.visible.overlay`.

    python docs/images/make_visible_examples.py

writes visible-before.png, visible-after.png, visible-after-light.png and visible-styles.png
beside this script. Everything is generated here (numpy), so the pictures can be remade anywhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from aimark.visible import overlay

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 640, 400


def _fractal(shape: tuple[int, int], rng: np.random.Generator, beta: float) -> np.ndarray:
    """Noise with a 1/f^beta amplitude spectrum, scaled to mean 0, std 1."""
    h, w = shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    amp = np.maximum(np.hypot(fx, fy), 1.0 / max(h, w)) ** -beta
    field = np.fft.irfft2(amp * np.exp(2j * np.pi * rng.random(amp.shape)), s=shape)
    return (field - field.mean()) / field.std()


def _ridge(x: np.ndarray, rng: np.random.Generator, base: float, rough: float) -> np.ndarray:
    """A mountain skyline: the height (in rows) of a ridge at each column."""
    line = _fractal((1, x.size), rng, 1.6)[0]
    return base + rough * line


def landscape(seed: int = 7, *, misty: bool = False) -> Image.Image:
    """A sky gradient with a sun, two mountain ridges and a textured meadow."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    t = y / HEIGHT
    if misty:
        top, horizon = np.array([198, 212, 226]), np.array([246, 243, 236])
    else:
        top, horizon = np.array([38, 84, 160]), np.array([250, 196, 140])
    img = top + (horizon - top) * (t[..., None] ** 0.8)
    sun = np.exp(-((x - 0.3 * WIDTH) ** 2 + (y - 0.42 * HEIGHT) ** 2) / (2 * 28.0**2))
    img += (np.array([255, 244, 214]) - img) * sun[..., None] * 0.9
    clouds = np.clip(_fractal((HEIGHT, WIDTH), rng, 1.9), 0, None) * (1 - t) ** 2
    img += (255 - img) * 0.35 * clouds[..., None]

    cols = np.arange(WIDTH, dtype=np.float64)
    far = _ridge(cols, rng, 0.55 * HEIGHT, 22)
    near = _ridge(cols, rng, 0.68 * HEIGHT, 30)
    far_colour = np.array([196, 204, 214]) if misty else np.array([96, 104, 140])
    near_colour = np.array([150, 168, 160]) if misty else np.array([46, 66, 70])
    texture = _fractal((HEIGHT, WIDTH), rng, 1.5)[..., None]
    img = np.where((y > far[None, :])[..., None], far_colour + 6 * texture, img)
    img = np.where((y > near[None, :])[..., None], near_colour + 10 * texture, img)

    meadow = y > 0.82 * HEIGHT + 8 * np.sin(x / 90)
    grass = (np.array([214, 222, 196]) if misty else np.array([58, 96, 44])) * (
        0.85 + 0.3 * t[..., None]
    )
    img = np.where(meadow[..., None], grass + 14 * texture, img)
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def main() -> None:
    photo = landscape()
    photo.save(HERE / "visible-before.png", optimize=True)
    overlay(photo).save(HERE / "visible-after.png", optimize=True)
    misty = landscape(3, misty=True)
    overlay(misty, position="top-right").save(HERE / "visible-after-light.png", optimize=True)
    styles = overlay(photo, "AI-generated", position="top-left", style="text")
    styles = overlay(styles, "AI-generated image", position="bottom", style="banner")
    styles.save(HERE / "visible-styles.png", optimize=True)
    for name in ("before", "after", "after-light", "styles"):
        path = HERE / f"visible-{name}.png"
        print(path.name, path.stat().st_size // 1024, "KB")


if __name__ == "__main__":
    main()
