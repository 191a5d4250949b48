"""The cost of the shape of label and verify (decodes, metadata reads, parses) against an
earlier commit, in one alternating run.

    python benchmarks/bench_shape_ab.py f58bd4d            # against that commit
    python benchmarks/bench_shape_ab.py f58bd4d --rounds 7 --megapixels 4

The earlier commit's ``src`` is checked out into ``build/shape-ab/<rev>`` (``git worktree``).
Both builds run alternately, each round in a fresh subprocess, single thread, on the same
inputs: a JPEG photo (the first fixture photo of ``../shared/fixtures/photos`` resized, or a
textured gradient without them) at ``--megapixels``. Measured in each round (median of 5):

- ``label``: an encoded JPEG labelled with a visible badge, the watermark (and its survival
  check) and a SQLite manifest repository;
- ``verify``: a stripped copy of the labelled JPEG verified with the watermark key and the
  repository (so the credentials are recovered);
- the peak resident memory of the round (VmHWM).

Printed: the median over rounds of each build's figures, and the ratio. Alternating in one run
is what makes the ratio meaningful on a shared machine whose speed drifts.
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
import glob, io, json, sys, tempfile, time, warnings
import numpy as np
from PIL import Image
import aimark
from aimark.repository import SQLiteRepository
warnings.simplefilter("ignore")
photos, mp = sys.argv[1], float(sys.argv[2])
w = int((mp * 1e6 * 4 / 3) ** 0.5); h = w * 3 // 4
found = sorted(glob.glob(photos + "/*.jpg"))
if found:
    im = Image.open(found[0]).convert("RGB").resize((w, h))
else:
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(x / 41) * np.cos(y / 37)
    noise = np.random.default_rng(0).normal(0, 6, (h, w))
    a = np.clip(base + noise, 0, 255).astype(np.uint8)
    im = Image.fromarray(np.stack([a, a[::-1], a[:, ::-1]], -1))
buf = io.BytesIO(); im.save(buf, "JPEG", quality=92); src = buf.getvalue()
tmp = tempfile.mkdtemp()
dev = aimark.create_dev_credentials(tmp + "/creds")
key = aimark.WatermarkKey.from_text(sys.argv[3])
repo = SQLiteRepository(tmp + "/m.db")
lab = aimark.Labeler(dev.credentials(), generator="bench", watermark_key=key, repository=repo)
labelled = bytes(lab.label_image(src, visible=True))
out = io.BytesIO(); Image.open(io.BytesIO(labelled)).convert("RGB").save(out, "JPEG", quality=90)
stripped = out.getvalue()
ver = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key], repository=tmp + "/m.db")
assert ver.verify(stripped).recovery is not None
times = {"label": [], "verify": []}
for _ in range(5):
    t = time.perf_counter()
    lab.label_image(src, visible=True)
    times["label"].append(time.perf_counter() - t)
    t = time.perf_counter()
    ver.verify(stripped)
    times["verify"].append(time.perf_counter() - t)
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0].split()[1]
res = {k + " ms": 1000 * float(np.median(v)) for k, v in times.items()}
res["peak MB"] = int(hwm) / 1024
print(json.dumps(res))
"""


def _worktree(rev: str) -> Path:
    dest = ROOT / "build" / "shape-ab" / rev.replace("/", "_").replace("~", "-")
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(dest), rev], check=True
        )
    return dest / "src"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the earlier commit (anything git rev-parse takes)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--megapixels", type=float, default=4.0)
    args = ap.parse_args()
    from aimark import WatermarkKey

    key = WatermarkKey.generate().to_text()
    builds = {args.rev: _worktree(args.rev), "this checkout": ROOT / "src"}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    results: dict[str, list[dict[str, float]]] = {b: [] for b in builds}
    for _ in range(args.rounds):
        for name, src in builds.items():
            run = subprocess.run(
                [sys.executable, "-c", _CHILD, str(PHOTOS), str(args.megapixels), key],
                env={**env, "PYTHONPATH": str(src)},
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode:
                sys.exit(f"{name} failed:\n{run.stderr}")
            results[name].append(json.loads(run.stdout))
    print(
        f"# label (badge + watermark + repository) and verify (key + repository) of a "
        f"{args.megapixels:g} MP JPEG, {args.rounds} alternating rounds"
    )
    print(f"| measure | {args.rev} | this checkout | ratio |")
    print("| --- | ---: | ---: | ---: |")
    old, new = (results[b] for b in builds)
    for what in old[0]:
        a = statistics.median(r[what] for r in old)
        b = statistics.median(r[what] for r in new)
        print(f"| {what} | {a:.1f} | {b:.1f} | {a / b:.2f}× |")


if __name__ == "__main__":
    main()
