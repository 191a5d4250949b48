"""What labelling a generated image costs against encoding it, in the same run.

    python benchmarks/bench_label.py [--repeat 20] [--megapixels 1]

A pipeline holds a PIL image (here a real photo resized to ~1 MP, or textured gradients
without the shared fixtures) and writes it either plainly (``Image.save`` at the quality
aimark uses: JPEG/WebP 95, PNG Pillow's default) or through ``Labeler.label_image(image,
"out.<ext>")`` (encode + XMP + EXIF + C2PA signature, atomically written; with a key also the
watermark and its survival check). Both are timed alternately, median of ``--repeat``; the
ratio is label / plain save of the same format. Before aimark 0.2.1 ``out.jpg`` got PNG bytes:
the "0.2.0 (PNG under .jpg)" row shows what that cost.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from PIL import Image

import aimark

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_c2pa import photo


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--megapixels", type=float, default=1.0)
    args = ap.parse_args()
    w = int((args.megapixels * 1e6 * 4 / 3) ** 0.5)
    h = w * 3 // 4
    with Image.open(io.BytesIO(photo(w, h))) as im:
        image = im.convert("RGB")
    image.format = None  # a model's output: no format of its own
    tmp = Path(tempfile.mkdtemp())
    dev = aimark.create_dev_credentials(tmp / "creds")
    plain_labeler = aimark.Labeler(dev.credentials(), generator=("bench", "1"))
    keyed = aimark.Labeler(
        dev.credentials(), generator=("bench", "1"), watermark_key=aimark.WatermarkKey.generate()
    )
    rows = [
        ("JPEG", "out.jpg", {"quality": 95}, plain_labeler),
        ("WebP", "out.webp", {"quality": 95}, plain_labeler),
        ("PNG", "out.png", {}, plain_labeler),
        ("JPEG + watermark", "out.jpg", {"quality": 95}, keyed),
    ]
    print(f"# labelling a {w}x{h} PIL image ({w * h / 1e6:.2f} MP), median of {args.repeat}")
    print("| output | plain save | label_image | ratio |")
    print("| --- | ---: | ---: | ---: |")
    warnings.simplefilter("ignore")
    for name, dst, options, labeler in rows:
        fmt = aimark.ImageFormat.parse(dst.rsplit(".", 1)[1])

        def plain(fmt: aimark.ImageFormat = fmt, options: dict = options, dst: str = dst) -> None:
            image.save(tmp / ("plain-" + dst), fmt.pillow_name, **options)

        def label(labeler: aimark.Labeler = labeler, dst: str = dst) -> None:
            labeler.label_image(image, tmp / dst, overwrite=True)

        plain(), label()  # warm up
        p, lab = [], []
        for _ in range(args.repeat):  # alternately, so that drift hits both alike
            p.append(_median_ms(plain, 1))
            lab.append(_median_ms(label, 1))
        mp, ml = statistics.median(p), statistics.median(lab)
        print(f"| {name} | {mp:.1f} ms | {ml:.1f} ms | **{ml / mp:.2f}** |")
    jpeg_save = statistics.median(
        _median_ms(lambda: image.save(tmp / "p.jpg", "JPEG", quality=95), 1) for _ in range(5)
    )
    png_label = statistics.median(
        _median_ms(lambda: plain_labeler.label_image(image, tmp / "x.png", overwrite=True), 1)
        for _ in range(5)
    )
    print(
        f"| 0.2.0 (PNG under .jpg) | {jpeg_save:.1f} ms (the JPEG asked for) | "
        f"{png_label:.1f} ms | {png_label / jpeg_save:.2f} |"
    )
    for f in tmp.glob("*"):
        if f.is_file():
            os.unlink(f)


if __name__ == "__main__":
    main()
