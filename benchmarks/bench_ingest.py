"""What ingest costs a platform against the processing it does anyway, in the same run.

    python benchmarks/bench_ingest.py [--repeat 15] [--megapixels 3] [--max-side 2048]

The upload is a generator-labelled photo (a real one resized, or textured gradients without
the shared fixtures) as PNG. The baseline is what a platform runs without aimark: decode,
scale to ``--max-side`` (Lanczos), encode JPEG 85 — which drops the provenance. Against it:

- ``bare c2pa``: the baseline plus c2pa-python signing the copy with the upload as parent
  ingredient (the least a platform keeping provenance must do);
- ``aimark.ingest``: verify the upload, process, write the labels again, sign, verify the
  copy (no watermark key);
- ``aimark.ingest + key``: the same with the generator's watermark key, so that the mark is
  searched in the upload and again in the copy.

Each is timed alternately, median of ``--repeat``; ratios are against the baseline.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import c2pa
from PIL import Image

import aimark

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_c2pa import photo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--megapixels", type=float, default=3.0)
    ap.add_argument("--max-side", type=int, default=2048)
    args = ap.parse_args()
    w = int((args.megapixels * 1e6 * 4 / 3) ** 0.5)
    h = w * 3 // 4
    with Image.open(io.BytesIO(photo(w, h))) as im:
        picture = im.convert("RGB")
    tmp = Path(tempfile.mkdtemp())
    gen = aimark.create_dev_credentials(tmp / "gen")
    plat = aimark.create_dev_credentials(tmp / "plat")
    key = aimark.WatermarkKey.generate()
    upload = (
        aimark.Labeler(gen.credentials(), generator=("bench", "1"), watermark_key=key)
        .label_image(picture, format="png")
        .data
    )
    trust = [gen.root_cert, plat.root_cert]
    plain = aimark.Ingester(
        plat.credentials(), platform="Bench", verifier=aimark.Verifier(trust=trust)
    )
    keyed = aimark.Ingester(
        plat.credentials(),
        platform="Bench",
        verifier=aimark.Verifier(trust=trust, watermark_keys=[key]),
    )
    creds = plat.credentials()
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, creds.cert_chain, creds.private_key, None)
    )
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    definition = json.dumps(
        {
            "claim_generator_info": [{"name": "bench"}],
            "format": "image/jpeg",
            "assertions": [
                {
                    "label": "c2pa.actions",
                    "data": {
                        "actions": [
                            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["up"]}},
                            {"action": "c2pa.published"},
                        ]
                    },
                }
            ],
        }
    )

    def process() -> bytes:
        with Image.open(io.BytesIO(upload)) as im:
            im = im.convert("RGB")
            scale = min(1.0, args.max_side / max(im.size))
            if scale < 1:
                im = im.resize(
                    (round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS
                )
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=85)
            return buf.getvalue()

    def bare_c2pa() -> bytes:
        data = process()
        builder = c2pa.Builder(definition, context=context)
        with builder:
            ingredient = {"title": "upload.png", "relationship": "parentOf", "instance_id": "up"}
            builder.add_ingredient(json.dumps(ingredient), "image/png", io.BytesIO(upload))
            out = io.BytesIO()
            builder.sign(signer, "image/jpeg", io.BytesIO(data), out)
        return out.getvalue()

    rows = {
        "baseline: decode, resize, JPEG 85": process,
        "bare c2pa-python: + sign, upload as parent": bare_c2pa,
        "aimark.ingest (verify both, labels, sign)": lambda: plain.ingest(upload),
        "aimark.ingest + watermark key": lambda: keyed.ingest(upload),
    }
    times: dict[str, list[float]] = {name: [] for name in rows}
    for fn in rows.values():  # warm up: imports, contexts, the watermark pattern
        fn()
    for _ in range(args.repeat):
        for name, fn in rows.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["baseline: decode, resize, JPEG 85"])
    print(
        f"upload {w}×{h} PNG ({len(upload) / 1e6:.1f} MB) → JPEG 85, long side ≤ "
        f"{args.max_side}; median of {args.repeat}"
    )
    print(f"{'':46} {'ms':>8} {'× baseline':>11}")
    for name in rows:
        ms = statistics.median(times[name]) * 1000
        print(f"{name:46} {ms:8.1f} {ms / 1000 / base:11.2f}")


if __name__ == "__main__":
    main()
