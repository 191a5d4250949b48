"""Image watermark detection speed of this checkout against an earlier commit, in one run.

    python benchmarks/bench_detect_ab.py 0ecb268            # against that commit
    python benchmarks/bench_detect_ab.py HEAD~3 --rounds 5 --photos 8

The earlier commit's ``src`` is checked out into ``build/detect-ab/<rev>`` (``git worktree``).
Both builds then run alternately, each round in a fresh subprocess, single thread, on the same
clean 1080p arrays (the first fixture photos of ``../shared/fixtures/photos``, resized) with the
same random key: ``detect`` with the newest scheme alone and with the default schemes. Printed:
the median over rounds of each build's median milliseconds, and the ratio. Alternating in one
run is what makes the ratio meaningful on a shared machine whose speed drifts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "fixtures" / "photos"

_CHILD = r"""
import glob, json, sys, time
import numpy as np
from PIL import Image
from aimark import WatermarkKey
from aimark.watermark.image import detect
from aimark.watermark.image import SCHEMES
paths = sorted(glob.glob(sys.argv[1] + "/*"))[: int(sys.argv[2])]
key = WatermarkKey.from_text(sys.argv[3])
ims = [np.asarray(Image.open(p).convert("RGB").resize((1920, 1080))) for p in paths]
for im in ims:
    detect(im, key)
out = {}
for _ in range(3):
    for im in ims:
        for name, schemes in (("newest alone", SCHEMES[:1]), ("default", SCHEMES)):
            t = time.perf_counter()
            detect(im, key, schemes=schemes)
            out.setdefault(name, []).append(time.perf_counter() - t)
print(json.dumps({k: 1000 * float(np.median(v)) for k, v in out.items()}))
"""


def _worktree(rev: str) -> Path:
    dest = ROOT / "build" / "detect-ab" / rev.replace("/", "_").replace("~", "-")
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(dest), rev], check=True
        )
    return dest / "src"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the earlier commit (anything git rev-parse takes)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--photos", type=int, default=6)
    args = ap.parse_args()
    if not PHOTOS.is_dir():
        sys.exit(f"{PHOTOS} is absent: nothing to measure on")
    from aimark import WatermarkKey

    key = WatermarkKey.generate().to_text()
    builds = {args.rev: _worktree(args.rev), "this checkout": ROOT / "src"}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    results: dict[str, list[dict[str, float]]] = {b: [] for b in builds}
    for _ in range(args.rounds):
        for name, src in builds.items():
            run = subprocess.run(
                [sys.executable, "-c", _CHILD, str(PHOTOS), str(args.photos), key],
                env={**env, "PYTHONPATH": str(src)},
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode:
                sys.exit(f"{name} failed:\n{run.stderr}")
            results[name].append(json.loads(run.stdout))
    print(f"detect, clean 1080p, {args.photos} photos, {args.rounds} alternating rounds")
    old, new = (results[b] for b in builds)
    for what in old[0]:
        a = statistics.median(r[what] for r in old)
        b = statistics.median(r[what] for r in new)
        print(f"  {what}: {args.rev} {a:.1f} ms, this checkout {b:.1f} ms ({a / b:.2f}× faster)")


if __name__ == "__main__":
    main()
