"""Label and verify throughput against bare c2pa-python on the same JPEGs, in the same run.

    python benchmarks/bench_c2pa.py [--repeat 30]

Baseline ("bare"): c2pa-python alone -- Builder + sign in memory with the same signer,
manifest and settings (thumbnail off); Reader + json() + validation state for reading.
aimark: Labeler.label_image (XMP + EXIF + the same C2PA signature) and Verifier.verify_bytes
(sniff, limits, metadata and C2PA), plus the C2PA layer alone (ManifestReader.read).
Prints medians and the ratio aimark / bare (targets: <= 1.3 for label, <= 1.2 for the C2PA
verify layer).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import c2pa
import numpy as np
from PIL import Image

import aimark
from aimark.manifest.c2pa_io import ManifestReader
from aimark.manifest.definitions import ai_manifest

SHARED_PHOTO = (
    Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "photos" / "P1000827.jpg"
)


def photo(width: int, height: int) -> bytes:
    """A photo-like JPEG: a real photo resized when available, else textured gradients."""
    if SHARED_PHOTO.exists():
        with Image.open(SHARED_PHOTO) as im:
            base = im.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    else:
        rng = np.random.default_rng(0)
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        arr = np.stack([128 + 90 * np.sin(x / 97), 128 + 90 * np.cos(y / 61), (x + y) % 256], -1)
        arr += rng.normal(0, 10, arr.shape)
        base = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    base.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def paired_ms(
    bare: Callable[[], object], ours: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Median milliseconds of ``bare`` and ``ours``, run alternately so that drift in CPU
    speed or load hits both alike."""
    bare(), ours()  # warm up
    tb, to = [], []
    for _ in range(repeat):
        for fn, acc in ((bare, tb), (ours, to)):
            t0 = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - t0)
    return statistics.median(tb) * 1000, statistics.median(to) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()

    dev = aimark.create_dev_credentials(tempfile.mkdtemp())
    creds = dev.credentials()
    labeler = aimark.Labeler(creds, generator=("bench-model", "1.0"))
    verifier = aimark.Verifier(trust=dev.root_cert)
    layer = ManifestReader(aimark.TrustAnchors.from_files(dev.root_cert))

    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, creds.cert_chain, creds.private_key, None)
    )
    sign_ctx = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    read_ctx = c2pa.Context.from_dict(
        {
            "trust": {"user_anchors": dev.root_cert.read_text()},
            "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
        }
    )

    n, mime = args.repeat, "image/jpeg"
    print(f"aimark {aimark.__version__}, c2pa-python {c2pa.sdk_version()}, repeat={args.repeat}")
    print(f"{'image':>8} {'MB':>5} | {'op':<18} {'bare ms':>8} {'aimark ms':>10} {'ratio':>6}")
    for label, (w, h) in (("1 MP", (1152, 864)), ("12 MP", (4000, 3000))):
        data = photo(w, h)
        definition = json.dumps(
            ai_manifest(
                generator=aimark.Generator("bench-model", "1.0"),
                content_id="urn:uuid:bench",
                title="bench.jpg",
                mime="image/jpeg",
                source_type_uri=aimark.DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA.uri,
            )
        )

        def bare_sign(data: bytes = data, definition: str = definition) -> bytes:
            out = io.BytesIO()
            with c2pa.Builder(definition, context=sign_ctx) as b:
                b.sign(signer, "image/jpeg", io.BytesIO(data), out)
            return out.getvalue()

        signed = bare_sign()

        def bare_read(signed: bytes = signed) -> str:
            with c2pa.Reader("image/jpeg", io.BytesIO(signed), context=read_ctx) as r:
                json.loads(r.json())
                return r.get_validation_state()

        assert bare_read() == "Trusted"
        ours = labeler.label_image(data).data
        assert verifier.verify_bytes(ours).verdict.status is aimark.Status.LABELLED_TRUSTED

        rows = [
            ("label (sign+meta)", *paired_ms(bare_sign, lambda d=data: labeler.label_image(d), n)),
            ("verify: C2PA layer", *paired_ms(bare_read, lambda s=signed: layer.read(s, mime), n)),
            (
                "verify: full report",
                *paired_ms(bare_read, lambda o=ours: verifier.verify_bytes(o), n),
            ),
        ]
        for op, bare, ours_ms in rows:
            print(
                f"{label:>8} {len(data) / 1e6:5.2f} | {op:<18} {bare:8.2f} {ours_ms:10.2f} "
                f"{ours_ms / bare:6.2f}"
            )


if __name__ == "__main__":
    main()
