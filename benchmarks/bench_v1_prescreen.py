"""Calibrate the ``io.aimark.image.1`` pre-screen that decides whether the full v1 search runs.

    python benchmarks/bench_v1_prescreen.py                 # every photo, every attack
    python benchmarks/bench_v1_prescreen.py --photos 12     # a spread subset

For every photo of benchmarks/_wm_corpus.py: the photo unmarked (under the benchmark key and
under 3 other keys), and the photo marked with ``io.aimark.image.1`` then put through every
attack row. Each gets the pre-screen score (``sync.template_score``, the banded grid) and the
score of the single-grid coarse stage it replaced, and the marked ones the full v1 search's
verdict. Printed: the score distributions, how many v1 detections a threshold would lose, how
many unmarked images would pass it (and pay for the full search), and the time per call of
both grids in the same run, on the same analysis images.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from _wm_corpus import ATTACKS, BENCH_KEY, SCHEME_V1, load_photos, spread  # noqa: E402
from aimark import WatermarkKey  # noqa: E402
from aimark.watermark.image import embed  # noqa: E402
from aimark.watermark.image._schemes.v1 import detect as v1  # noqa: E402
from aimark.watermark.image._schemes.v1.layout import layout_for  # noqa: E402
from aimark.watermark.image._schemes.v1.sync import _coarse  # noqa: E402

OTHER_KEYS = [WatermarkKey(bytes([i]) * 32) for i in (1, 2, 3)]


V1_PRESCREEN = v1.PRESCREEN
_analysis = v1.analyse
_v1_template_score = v1.prescreen_score


def _single_grid(an1: v1.Analysis, key: WatermarkKey) -> float:
    best = _coarse(an1.residual, layout_for(key).harmonics, v1._periods(an1.y), 1)
    return best[0][0] if best else 0.0


def _timed(fn, *args) -> tuple[float, float]:
    t = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=0, help="a spread subset of this many photos")
    args = ap.parse_args()
    photos = load_photos()
    names = spread(sorted(photos), args.photos) if args.photos else sorted(photos)
    unmarked: list[tuple[float, float]] = []  # (banded, single)
    marked: list[tuple[float, float, bool, str]] = []  # (banded, single, v1 found, attack)
    t_band: list[float] = []
    t_single: list[float] = []
    for i, name in enumerate(names):
        arr = photos[name]
        an = _analysis(arr)
        for key in (BENCH_KEY, *OTHER_KEYS):
            b, tb = _timed(_v1_template_score, an, key)
            s, ts = _timed(_single_grid, an, key)
            unmarked.append((b, s))
            t_band.append(tb)
            t_single.append(ts)
        m = embed(arr, BENCH_KEY, 0x5EED0000 + i, scheme=SCHEME_V1)
        for attack, fn in ATTACKS.items():
            a = fn(m)
            if min(a.shape[:2]) < 128:
                continue
            an = _analysis(a)
            b = _v1_template_score(an, BENCH_KEY)
            s = _single_grid(an, BENCH_KEY)
            full = v1.detect_key(an, BENCH_KEY, 1e-6)
            marked.append((b, s, bool(full.detected), attack))
        print(f"{i + 1}/{len(names)} {name}", flush=True)

    u = np.array(unmarked)
    found = [(b, s) for b, s, d, _ in marked if d]
    f = np.array(found) if found else np.zeros((0, 2))
    print(
        f"\n{len(names)} photos; unmarked image/key pairs: {len(u)}; marked and attacked: "
        f"{len(marked)}, of which the full v1 search finds {len(f)}"
    )
    for col, label in ((0, "banded grid (now)"), (1, "single grid (before)")):
        q = np.percentile(u[:, col], [50, 90, 99, 100])
        print(
            f"{label}: unmarked median {q[0]:.1f}, p90 {q[1]:.1f}, p99 {q[2]:.1f}, max {q[3]:.1f}"
        )
        if len(f):
            q = np.percentile(f[:, col], [0, 1, 5, 50])
            print(
                f"    found marks: min {q[0]:.1f}, p1 {q[1]:.1f}, p5 {q[2]:.1f}, median {q[3]:.1f}"
            )
        for thr in (V1_PRESCREEN - 4, V1_PRESCREEN - 2, V1_PRESCREEN, V1_PRESCREEN + 2):
            lost = int((f[:, col] < thr).sum()) if len(f) else 0
            passed = float((u[:, col] >= thr).mean())
            print(
                f"    threshold {thr:g}: v1 detections lost {lost}/{len(f)}, "
                f"unmarked that pay for the full search {passed:.0%}"
            )
    lost_rows = sorted({a for b, _, d, a in marked if d and b < V1_PRESCREEN})
    if lost_rows:
        print("rows with a lost detection at the current threshold:", ", ".join(lost_rows))
    tb, ts = 1000 * np.median(t_band), 1000 * np.median(t_single)
    print(
        f"time per call (median over {len(t_band)}): banded {tb:.2f} ms, single {ts:.2f} ms, "
        f"ratio {ts / tb:.2f}×"
    )


if __name__ == "__main__":
    main()
