"""Manifest repository at scale, and the fingerprint's match and false-match rates.

    python benchmarks/bench_repository.py                    # 1,000,000 manifests (SQLite)
    python benchmarks/bench_repository.py --n 100000 --queries 500
    python benchmarks/bench_repository.py --parts scale --backend postgres   # a throwaway server

Scale (``build/bench-repository/``, rebuilt each run): ``--n`` synthetic records of real size
(a 3,500-byte manifest store, as aimark's signed manifests are without a thumbnail; one
``io.aimark.image.2`` payload; one 256-bit PDQ fingerprint), inserted in transactions of 1,000.
Printed: the insert rate, the disk per manifest, and the latency (p50, p99, one core) of
``by_binding`` and ``by_fingerprint`` (radius 31): half the fingerprint queries are a stored
fingerprint with up to 31 bits flipped (must be found), half are random (must find nothing);
the baseline in the same run is a primary-key lookup of a manifest id.

Fingerprints: PDQ distances, on the photos of benchmarks/_wm_corpus.py, between each photo and
its own re-encodes (JPEG 75, JPEG 50 + resize 50 %, WebP 60, crop 90 %, screenshot 0.8) and
between distinct photos; the match threshold is 31 bits. Printed: the fraction of re-encodes
matched and of distinct pairs falsely matched (with the pair count).
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from aimark.repository import Binding, ManifestRecord, SQLiteRepository, open_repository
from aimark.repository.fingerprint import MATCH_DISTANCE, PDQ_ALG, distance, fingerprint
from aimark.repository.postgres import PostgresRepository

ROOT = Path(__file__).resolve().parents[1]


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


def scale(n: int, queries: int, backend: str = "sqlite") -> None:
    folder = ROOT / "build" / "bench-repository"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if backend == "postgres":
        sys.path.insert(0, str(ROOT / "tests"))
        import pg_server

        why = pg_server.why_not()
        if why:
            sys.exit(f"no PostgreSQL server: {why}")
        with pg_server.server() as url:
            _scale(lambda: open_repository(url), n, queries, "PostgreSQL 15, loopback")
        return
    path = folder / "manifests.db"
    _scale(lambda: SQLiteRepository(path), n, queries, "SQLite")


def _scale(open_repo, n: int, queries: int, label: str) -> None:
    repo = open_repo()
    rng = np.random.default_rng(1)
    store = rng.bytes(3500)
    payloads = rng.integers(0, 2**63, n, dtype=np.int64)
    prints = [int.from_bytes(rng.bytes(32), "big") for _ in range(n)]
    t0 = time.perf_counter()
    batch = 1000
    for start in range(0, n, batch):
        repo.add_many(
            [
                ManifestRecord(
                    f"urn:c2pa:{i:012d}",
                    store,
                    "image/jpeg",
                    content_id=f"urn:aimark:{int(payloads[i]):016x}",
                    bindings=(Binding("io.aimark.image.2", f"{int(payloads[i]):016x}"),),
                    fingerprints=(Binding(PDQ_ALG, f"{prints[i]:064x}"),),
                    created=1.0,
                )
                for i in range(start, min(n, start + batch))
            ]
        )
        if start and start % (n // 10 or 1) == 0:
            print(f"  {start:,} inserted", file=sys.stderr, flush=True)
    insert_s = time.perf_counter() - t0
    vacuum_s = None
    if isinstance(repo, PostgresRepository):
        # what autovacuum does after a bulk load (it sets the visibility map that lets the
        # fingerprint lookup read the covering index alone); timed and printed apart
        t = time.perf_counter()
        repo._db.execute("VACUUM (ANALYZE)")
        vacuum_s = time.perf_counter() - t
    repo.close()
    repo = open_repo()
    size = repo.stats().bytes or 0
    pick = rng.integers(0, n, queries)
    by_id, by_binding, fp_near, fp_random = [], [], [], []
    found_near = found_random = 0
    for i in pick:
        t = time.perf_counter()
        repo.manifest(f"urn:c2pa:{int(i):012d}")
        by_id.append(time.perf_counter() - t)
        t = time.perf_counter()
        hits = repo.by_binding("io.aimark.image.2", f"{int(payloads[i]):016x}")
        by_binding.append(time.perf_counter() - t)
        assert hits and hits[0].manifest_id == f"urn:c2pa:{int(i):012d}"
        q = prints[int(i)]
        for bit in rng.choice(256, int(rng.integers(0, MATCH_DISTANCE + 1)), replace=False):
            q ^= 1 << int(bit)
        t = time.perf_counter()
        hits = repo.by_fingerprint(PDQ_ALG, f"{q:064x}", MATCH_DISTANCE)
        fp_near.append(time.perf_counter() - t)
        found_near += any(h.manifest_id == f"urn:c2pa:{int(i):012d}" for h in hits)
        r = int.from_bytes(rng.bytes(32), "big")
        t = time.perf_counter()
        hits = repo.by_fingerprint(PDQ_ALG, f"{r:064x}", MATCH_DISTANCE)
        fp_random.append(time.perf_counter() - t)
        found_random += bool(hits)
    repo.close()
    print(f"\n## Scale: {n:,} manifests, {label} ({queries} queries of each kind)\n")
    print("| measure | value |\n|---|---:|")
    print(f"| insert rate (transactions of {batch:,}) | {n / insert_s:,.0f} manifests/s |")
    print(f"| disk per manifest (3,500-byte store) | {size / n:,.0f} bytes |")
    if vacuum_s is not None:
        print(f"| VACUUM (ANALYZE) after the load | {vacuum_s:,.0f} s |")
    for label, xs in (
        ("manifest by id (baseline)", by_id),
        ("by_binding (watermark payload)", by_binding),
        ("by_fingerprint, a stored one ≤ 31 bits away", fp_near),
        ("by_fingerprint, a random one", fp_random),
    ):
        print(f"| {label}: p50 / p99 | {_pct(xs, 50):.2f} / {_pct(xs, 99):.2f} ms |")
    print(
        f"| stored fingerprints found (≤ 31 bits) | {found_near} of {queries} |\n"
        f"| random fingerprints that matched anything | {found_random} of {queries} |"
    )
    print(
        f"\nRatios to the id lookup in the same run: by_binding p99 "
        f"{_pct(by_binding, 99) / _pct(by_id, 99):.1f}×, by_fingerprint p99 "
        f"{_pct(fp_near, 99) / _pct(by_id, 99):.1f}×."
    )


def _encode(im: Image.Image, fmt: str, **kw) -> np.ndarray:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


ATTACKS = {
    "JPEG 75": lambda im: _encode(im, "JPEG", quality=75),
    "JPEG 50 + resize 50%": lambda im: _encode(
        im.resize((im.width // 2, im.height // 2)), "JPEG", quality=50
    ),
    "WebP 60": lambda im: _encode(im, "WEBP", quality=60),
    "crop 90%": lambda im: np.asarray(
        im.crop((im.width // 20, im.height // 20, im.width * 19 // 20, im.height * 19 // 20))
    ),
    "screenshot 0.8": lambda im: _encode(
        im.resize((round(im.width * 0.8), round(im.height * 0.8))), "PNG"
    ),
}  # fmt: skip


def fingerprints() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _wm_corpus import _CROPS, load_photos

    photos = load_photos()
    source = {name: src for name, src, *_ in _CROPS}
    fps = {name: fingerprint(a) for name, a in photos.items()}
    usable = {n: f for n, f in fps.items() if f.usable}
    print(f"\n## PDQ fingerprints on {len(photos)} photos ({len(usable)} of quality ≥ 50)\n")
    print("| attack | matched (≤ 31 bits) | median distance | max distance |\n|---|---:|---:|---:|")
    for attack, fn in ATTACKS.items():
        ds = [
            distance(usable[n].value, fingerprint(fn(Image.fromarray(photos[n]))).value)
            for n in usable
        ]
        hit = sum(d <= MATCH_DISTANCE for d in ds)
        print(f"| {attack} | {hit} of {len(ds)} | {statistics.median(ds):.0f} | {max(ds)} |")
    names = list(usable)
    pairs = [
        distance(usable[a].value, usable[b].value)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if source.get(a, a) != source.get(b, b)  # crops of one source are one picture
    ]
    false = sum(d <= MATCH_DISTANCE for d in pairs)
    print(
        f"\nDistinct photos: {false} of {len(pairs)} pairs within 31 bits (min {min(pairs)}, "
        f"median {statistics.median(pairs):.0f}); pairs of a photo and its own crops or "
        "downscales in the corpus are left out."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--parts", default="scale,fingerprints")
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if "fingerprints" in parts:
        fingerprints()
    if "scale" in parts:
        scale(args.n, args.queries, args.backend)


if __name__ == "__main__":
    main()
