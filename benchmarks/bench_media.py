"""Labelling and verifying video, audio and documents, against bare c2pa-python in the same run.

    python benchmarks/bench_media.py             # the files of ../shared/fixtures/media
    python benchmarks/bench_media.py --rounds 9

For every file: ``Labeler.label_media`` (structure walk, XMP, sign) against c2pa-python's
``Builder.sign`` of the same manifest on the same bytes, and ``Verifier.verify_bytes`` (sniff,
structure walk, C2PA, XMP/ID3) against c2pa-python's ``Reader`` on the signed file; medians of
``--rounds``, single thread, development credentials made in a temporary folder. Printed: the
milliseconds, the ratios (aimark ÷ c2pa) and the bytes the label adds.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import c2pa  # noqa: E402

import aimark  # noqa: E402
from aimark.manifest.definitions import ai_manifest  # noqa: E402
from aimark.media.formats import sniff_media  # noqa: E402

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "media"
_SAFE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


def _median_ms(fn, rounds: int) -> float:
    fn()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if not MEDIA.is_dir():
        sys.exit(f"{MEDIA} is absent: nothing to measure")
    warnings.simplefilter("ignore")
    dev = aimark.create_dev_credentials(tempfile.mkdtemp())
    creds = dev.credentials()
    labeler = aimark.Labeler(creds, generator=("bench-model", "1.0"))
    verifier = aimark.Verifier(trust=dev.root_cert)
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, creds.cert_chain, creds.private_key, None)
    )
    sign_ctx = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}, **_SAFE})
    read_ctx = c2pa.Context.from_dict(
        {"trust": {"user_anchors": dev.root_cert.read_text()}, **_SAFE}
    )
    print(f"aimark {aimark.__version__}, {args.rounds} rounds, medians, one thread")
    print(
        "| file | bytes | added | label | c2pa sign | ratio | verify | c2pa read | ratio |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for path in sorted(MEDIA.iterdir()):
        data = path.read_bytes()
        fmt = sniff_media(data)
        if fmt is None:
            continue
        definition = json.dumps(
            ai_manifest(
                generator=aimark.Generator.coerce(("bench-model", "1.0")),
                content_id="urn:uuid:bench",
                source_type_uri=aimark.DigitalSourceType.TRAINED_ALGORITHMIC_MEDIA.uri,
                title=path.name,
                mime=fmt.mime,
            )
        )

        def bare_sign(d=data, m=fmt.mime, defn=definition) -> bytes:
            out = io.BytesIO()
            with c2pa.Builder(defn, context=sign_ctx) as b:
                b.sign(signer, m, io.BytesIO(d), out)
            return out.getvalue()

        signed = labeler.label_media(data).data

        def bare_read(d=signed, m=fmt.mime) -> str:
            with c2pa.Reader(m, io.BytesIO(d), context=read_ctx) as r:
                r.json()
                return r.get_validation_state()

        ours_label = _median_ms(lambda d=data: labeler.label_media(d), args.rounds)
        theirs_sign = _median_ms(bare_sign, args.rounds)
        ours_verify = _median_ms(lambda d=signed: verifier.verify_bytes(d), args.rounds)
        theirs_read = _median_ms(bare_read, args.rounds)
        print(
            f"| {path.name} | {len(data):,} | +{len(signed) - len(data):,} | "
            f"{ours_label:.1f} ms | {theirs_sign:.1f} ms | {ours_label / theirs_sign:.2f} | "
            f"{ours_verify:.1f} ms | {theirs_read:.1f} ms | {ours_verify / theirs_read:.2f} |"
        )


if __name__ == "__main__":
    main()
