"""Regenerate the bundled samples in samples/ (run from the repository root).

The images are made here from numpy noise and gradients, so they carry no third-party rights;
the metadata on each imitates what a real generator or tool writes. Two files are copied from
../shared/fixtures when present (a NASA photo in the public domain, and a C2PA test image from
Adobe's c2pa-rs test suite, MIT/Apache-2.0).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from aimark.metadata.xmp import XmpLabel, build_xmp

OUT = Path("samples")
SHARED = Path("..") / "shared" / "fixtures"


def landscape(seed: int, size: tuple[int, int] = (384, 256)) -> Image.Image:
    """A soft procedural 'landscape': sky gradient, hills, texture."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    sky = np.stack([90 + 80 * y / h, 140 + 60 * y / h, 230 - 40 * y / h], -1)
    ridge = h * (0.55 + 0.08 * np.sin(x / 53 + seed) + 0.04 * np.sin(x / 17))
    hills = np.stack([40 + 30 * np.sin(x / 29), 110 + 40 * (y / h), 50 + 0 * x], -1)
    img = np.where((y > ridge)[..., None], hills, sky)
    img += rng.normal(0, 2, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    # 1. A fresh "model output" without any label: the demo labels this one.
    landscape(1).save(OUT / "generated.png", optimize=True)

    # 2. What AUTOMATIC1111 / Forge writes: a PNG text chunk "parameters".
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        "a calm valley at dawn, soft light\nNegative prompt: blurry\n"
        "Steps: 28, Sampler: DPM++ 2M, CFG scale: 6.5, Seed: 1234, Size: 384x256, "
        "Model: example-sd15",
    )
    landscape(2).save(OUT / "a1111-parameters.png", pnginfo=info, optimize=True)

    # 3. What ComfyUI writes: the prompt graph and workflow as JSON text chunks.
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": 7}}}))
    info.add_text("workflow", json.dumps({"nodes": [{"id": 3, "type": "KSampler"}]}))
    landscape(3).save(OUT / "comfyui-workflow.png", pnginfo=info, optimize=True)

    # 4. Only the IPTC digital source type in XMP (unsigned, as many stock sites do).
    xmp = build_xmp(XmpLabel(creator_tool="example-model 2.0"))
    landscape(4).save(OUT / "iptc-xmp-only.jpg", quality=85, xmp=xmp)

    # 5. Third-party files, copied unchanged when the shared fixtures are present.
    for src, name in (
        (SHARED / "photos" / "earth_apollo17.jpg", "photo-nasa-apollo17.jpg"),
        (SHARED / "c2pa" / "C.jpg", "c2pa-adobe-test-C.jpg"),
        (SHARED / "c2pa" / "XCA.jpg", "c2pa-adobe-test-tampered-XCA.jpg"),
    ):
        if src.exists():
            shutil.copyfile(src, OUT / name)
    for p in sorted(OUT.iterdir()):
        print(f"{p}  {p.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
