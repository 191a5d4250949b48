"""Security benchmark of the image watermark: what an attacker without the key can do.

    python benchmarks/bench_watermark_attacks.py --out docs/watermark-image.md   # N = 5..100
    python benchmarks/bench_watermark_attacks.py --quick                         # smoke run

(a) Averaging: N marked 512² images of one key (distinct crops at random scales of the photos
    in benchmarks/_wm_corpus.py, random payloads) give an estimate of the pattern: the mean of
    their noise residuals (image minus a 3×3 median, or minus a 5×5 Wiener filter). It is
    scaled to 1×, 2×, 4× the watermark's energy and (i) subtracted from held-out marked images
    (still detected? exact payload? PSNR against the clean original) and (ii) added to clean
    held-out photos (forgeries: detected, or a valid payload decoded). At the largest N also
    adaptively: the N residuals are clustered (spherical k-means, --k) and the cluster closest
    to the target (for (ii): the largest) is averaged instead.
(b) Copy: the residual of ONE marked image added to a clean photo (1×, 2× energy); a "fold"
    variant averages the residual over the tile period if aimark.watermark.image exports
    ``period_for(height, width)`` (skipped otherwise).
(c) Removal: strong denoising and regeneration-like smoothing of marked photos, PSNR against
    the marked image.

Results are printed; with ``--out FILE`` they also replace the block between
``<!-- attacks:start -->`` and ``<!-- attacks:end -->`` of FILE. Key: the fixed, non-secret
benchmark key; randomness is seeded.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import aimark.watermark.image as wm  # noqa: E402
from _wm_corpus import (  # noqa: E402
    BENCH_KEY,
    default_scheme,
    down_up,
    jpeg,
    load_photos,
    mark,
    nlm,
    noise,
    psnr,
    spread,
    write_block,
)

cv2.setNumThreads(1)
SIZE = 512
STRENGTHS = (1, 2, 4)  # subtracted / added energy, in units of the watermark's energy
START, END = "<!-- attacks:start -->", "<!-- attacks:end -->"
Residual = Callable[[np.ndarray], np.ndarray]

# ----------------------------------------------------------------------------- images


def crops(photos: dict[str, np.ndarray], count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` distinct SIZE² crops at random scales and offsets, cycling over the photos."""
    names = list(photos)
    out = []
    for i in range(count):
        a = photos[names[i % len(names)]]
        h, w = a.shape[:2]
        lo = SIZE / min(h, w)
        s = rng.uniform(lo, max(lo, 1.0) * 1.5)
        nw, nh = max(SIZE, round(w * s)), max(SIZE, round(h * s))
        im = np.asarray(Image.fromarray(a).resize((nw, nh), Image.Resampling.LANCZOS))
        y0, x0 = int(rng.integers(0, nh - SIZE + 1)), int(rng.integers(0, nw - SIZE + 1))
        out.append(np.ascontiguousarray(im[y0 : y0 + SIZE, x0 : x0 + SIZE]))
    return out


def payload(rng: np.random.Generator) -> int:
    return int.from_bytes(rng.bytes(8), "big")


def to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- residuals


def median_residual(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) - cv2.medianBlur(a, 3).astype(np.float32)


def wiener_residual(a: np.ndarray) -> np.ndarray:
    """Image minus a local (5×5) Wiener estimate, the noise power being the mean local
    variance (as scipy.signal.wiener)."""
    x = a.astype(np.float32)
    mu = cv2.blur(x, (5, 5))
    var = np.maximum(cv2.blur(x * x, (5, 5)) - mu * mu, 0)
    nu = var.mean(axis=(0, 1))
    gain = np.maximum(var - nu, 0) / np.maximum(var, nu)
    return (x - mu) * (1 - gain)


ESTIMATORS: dict[str, Residual] = {"median 3×3": median_residual, "Wiener 5×5": wiener_residual}


def scaled(est: np.ndarray, energy: float, k: float) -> np.ndarray:
    """``est`` scaled to ``k`` times the watermark's mean squared amplitude ``energy``."""
    return est * np.float32(math.sqrt(k * energy / max(float(np.mean(est * est)), 1e-12)))


def kmeans_cos(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 30) -> np.ndarray:
    """Spherical k-means (k-means++ start) of the rows of ``x``: the label of each row."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    centres = [x[int(rng.integers(len(x)))]]
    for _ in range(1, k):
        d = np.clip(1 - np.max(x @ np.array(centres).T, axis=1), 0, None) ** 2
        centres.append(x[int(rng.choice(len(x), p=d / d.sum()))])
    c = np.array(centres)
    labels = np.full(len(x), -1)
    for _ in range(iters):
        new = np.argmax(x @ c.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            if np.any(labels == j):
                m = x[labels == j].mean(axis=0)
                c[j] = m / np.linalg.norm(m)
    return labels


# ----------------------------------------------------------------------------- detection


class Target:
    """A held-out image: its clean version, and (when marked) the marked one and its payload."""

    def __init__(self, clean: np.ndarray, scheme: str | None, value: int | None) -> None:
        self.clean = clean
        self.payload = value
        self.marked = None if value is None else mark(clean, BENCH_KEY, value, scheme)


def verdict(a: np.ndarray, expected: int | None) -> tuple[bool, bool]:
    """(detected, exact payload) -- or, with ``expected=None``, (detected, any valid payload)."""
    r = wm.detect(a, BENCH_KEY)
    return r.detected, (r.payload is not None) if expected is None else r.payload == expected


def subtract(
    est: np.ndarray, energy: float, k: float, marked: list[Target]
) -> tuple[float, float, float]:
    """Remove ``k``× energy of ``est`` from the marked targets: (PSNR against the clean
    originals, % still detected, % exact payload)."""
    e = scaled(est, energy, k)
    out = [(t, to_u8(t.marked - e)) for t in marked]
    v = [verdict(a, t.payload) for t, a in out]
    return (
        float(np.mean([psnr(a, t.clean) for t, a in out])),
        100 * sum(d for d, _ in v) / len(v),
        100 * sum(p for _, p in v) / len(v),
    )


def forge(est: np.ndarray, energy: float, k: float, clean: list[Target]) -> tuple[float, int, int]:
    """Add ``k``× energy of ``est`` to clean photos: (PSNR, detections, valid payloads)."""
    e = scaled(est, energy, k)
    out = [(t, to_u8(t.clean + e)) for t in clean]
    v = [verdict(a, None) for _, a in out]
    return (
        float(np.mean([psnr(a, t.clean) for t, a in out])),
        sum(d for d, _ in v),
        sum(p for _, p in v),
    )


# ----------------------------------------------------------------------------- (a) averaging


def wm_energy(marked: list[Target]) -> float:
    """The watermark's mean squared amplitude over ``marked`` (8-bit levels²)."""
    return float(np.mean([np.mean((t.marked - t.clean.astype(np.float32)) ** 2) for t in marked]))


def averaging(
    pool: list[Target], held: list[Target], clean: list[Target], ns: list[int], k: int
) -> tuple[list[str], int, int]:
    """The table, and the forgeries (detected or a valid payload) at the largest N, over all
    its rows: (successes, attempts)."""
    energy = wm_energy(pool)
    rows = []
    forged = tried = 0
    for ename, residual in ESTIMATORS.items():
        res = np.stack([residual(t.marked) for t in pool])
        for n in ns:
            est = res[:n].mean(axis=0)
            for s in STRENGTHS:
                f = forge(est, energy, s, clean)
                rows.append((ename, str(n), s, *subtract(est, energy, s, held), *f))
                if n == ns[-1]:
                    forged, tried = forged + max(f[1], f[2]), tried + len(clean)
            print(f"  averaging {ename} N={n} done", file=sys.stderr, flush=True)
        n = ns[-1]
        flat = res[:n].reshape(n, -1)
        labels = kmeans_cos(flat, min(k, n), np.random.default_rng(11))
        ids, sizes = np.unique(labels, return_counts=True)
        unit = flat / np.linalg.norm(flat, axis=1, keepdims=True)
        centres = np.stack([unit[labels == j].mean(axis=0) for j in ids])
        # subtract: the cluster whose centre best matches the target's own residual
        nearest = [ids[np.argmax(centres @ residual(t.marked).ravel())] for t in held]
        biggest = res[:n][labels == ids[np.argmax(sizes)]].mean(axis=0)
        for s in STRENGTHS:
            sub = [
                subtract(res[:n][labels == j].mean(axis=0), energy, s, [t])
                for t, j in zip(held, nearest, strict=True)
            ]
            f = forge(biggest, energy, s, clean)
            label = f"{n} adaptive (k={len(ids)}, largest {sizes.max()})"
            rows.append((ename, label, s, *np.mean(sub, axis=0), *f))
            forged, tried = forged + max(f[1], f[2]), tried + len(clean)
        print(f"  averaging {ename} adaptive done", file=sys.stderr, flush=True)
    lines = [
        "### (a) Averaging: estimate from N marked images, subtract / add",
        "",
        f"{SIZE}² images; the watermark's RMS amplitude is {math.sqrt(energy):.2f} levels. "
        f"Subtracted from {len(held)} held-out marked images (PSNR against their clean "
        f"originals) and added to {len(clean)} clean photos (PSNR against them).",
        "",
        "| residual | N | energy | removal PSNR | still detected | exact payload | "
        "forgery PSNR | forgeries detected | valid payload |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ename, n, s, sp, sd, se, ap, ad, ay in rows:
        lines.append(
            f"| {ename} | {n} | {s}× | {sp:.1f} dB | {sd:.0f} % | {se:.0f} % | {ap:.1f} dB | "
            f"{ad}/{len(clean)} | {ay}/{len(clean)} |"
        )
    return lines, forged, tried


# ----------------------------------------------------------------------------- (b) copy


def fold(res: np.ndarray, period: float) -> np.ndarray:
    """Average ``res`` over all tile positions of a square lattice of ``period`` px."""
    h, w = res.shape[:2]
    b = max(1, round(period))
    iy = np.floor((np.arange(h) % period) / period * b).astype(np.int64)
    ix = np.floor((np.arange(w) % period) / period * b).astype(np.int64)
    idx = (iy[:, None] * b + ix[None, :]).ravel()
    counts = np.maximum(np.bincount(idx, minlength=b * b), 1)
    out = np.empty_like(res)
    for c in range(res.shape[2]):
        mean = np.bincount(idx, res[..., c].ravel(), b * b) / counts
        out[..., c] = mean[idx].reshape(h, w)
    return out


def copy_attack(sources: list[Target], clean: list[Target], energy: float) -> list[str]:
    period_for = getattr(wm, "period_for", None)
    variants: dict[str, Residual] = dict(ESTIMATORS)
    if period_for is not None:
        for ename, residual in ESTIMATORS.items():
            variants[f"{ename}, folded"] = lambda a, r=residual: fold(
                r(a), period_for(*a.shape[:2])
            )
    lines = [
        "### (b) Copy attack: the residual of one marked image added to a clean photo",
        "",
        f"{len(clean)} clean {SIZE}² photos, each with the residual of a different marked image.",
        "",
        "| residual | energy | PSNR | detected | valid payload | the source's payload |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for vname, residual in variants.items():
        for s in (1, 2):
            ps, det, valid, same = [], 0, 0, 0
            for i, t in enumerate(clean):
                src = sources[i % len(sources)]
                forged = to_u8(t.clean + scaled(residual(src.marked), energy, s))
                r = wm.detect(forged, BENCH_KEY)
                ps.append(psnr(forged, t.clean))
                det += r.detected
                valid += r.payload is not None
                same += r.payload == src.payload
            n = len(clean)
            lines.append(
                f"| {vname} | {s}× | {np.mean(ps):.1f} dB | {det}/{n} | {valid}/{n} | {same}/{n} |"
            )
        print(f"  copy {vname} done", file=sys.stderr, flush=True)
    if period_for is not None:
        lines += [
            "",
            "The same estimates subtracted from the marked image they came from (removal by a "
            "white-box attacker who knows the tile period):",
            "",
            "| residual | energy | PSNR vs clean | PSNR vs marked | still detected |",
            "|---|---:|---:|---:|---:|",
        ]
        for vname, residual in variants.items():
            for s in (1, 2):
                pc, pm, still = [], [], 0
                for src in sources:
                    attacked = to_u8(src.marked - scaled(residual(src.marked), energy, s))
                    pc.append(psnr(attacked, src.clean))
                    pm.append(psnr(attacked, src.marked))
                    r = wm.detect(attacked, BENCH_KEY)
                    still += r.detected and r.payload == src.payload
                lines.append(
                    f"| {vname} | {s}× | {np.mean(pc):.1f} dB | {np.mean(pm):.1f} dB | "
                    f"{still}/{len(sources)} |"
                )
    if period_for is None:
        lines += ["", "Fold variant skipped: aimark.watermark.image exports no period_for."]
    return [*lines, ""]


# ----------------------------------------------------------------------------- (c) removal


REMOVALS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda a: a,
    **{
        f"Gaussian blur σ {s}": (lambda a, s=s: cv2.GaussianBlur(a, (0, 0), s))
        for s in (1, 2, 3, 4)
    },
    "median 5": lambda a: cv2.medianBlur(a, 5),
    "median 7": lambda a: cv2.medianBlur(a, 7),
    "bilateral d 9 σ 50": lambda a: cv2.bilateralFilter(a, 9, 50, 50),
    **{f"non-local means h {h}": (lambda a, h=h: nlm(a, h)) for h in (5, 10, 20)},
    "JPEG 20": lambda a: jpeg(a, 20),
    "JPEG 10": lambda a: jpeg(a, 10),
    "down-up ×0.5": lambda a: down_up(a, 0.5),
    "down-up ×0.25": lambda a: down_up(a, 0.25),
    "noise σ 15 + NLM h 15": lambda a: nlm(noise(a, 15), 15),
    "noise σ 25 + NLM h 25": lambda a: nlm(noise(a, 25), 25),
}


def removal(
    photos: dict[str, np.ndarray], scheme: str | None, rng: np.random.Generator
) -> list[str]:
    marked = {n: (v := payload(rng), mark(a, BENCH_KEY, v, scheme)) for n, a in photos.items()}
    lines = [
        "### (c) Removal by denoising and smoothing",
        "",
        f"{len(photos)} marked photos ({', '.join(photos)}); PSNR against the marked image.",
        "",
        "| attack | PSNR | detected | exact payload |",
        "|---|---:|---:|---:|",
    ]
    for name, fn in REMOVALS.items():
        ps, det, exact = [], 0, 0
        for value, m in marked.values():
            a = fn(m)
            d, e = verdict(a, value)
            ps.append(psnr(a, m))
            det += d
            exact += e
        n = len(marked)
        p = "–" if name == "none" else f"{np.mean(ps):.1f} dB"
        lines.append(f"| {name} | {p} | {100 * det / n:.0f} % | {100 * exact / n:.0f} % |")
        print(f"  removal {name} done", file=sys.stderr, flush=True)
    return [*lines, ""]


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 5,20, 4 + 4 images, 2 photos")
    ap.add_argument("--n", help="comma-separated N for averaging (default 5,10,20,50,100)")
    ap.add_argument("--held", type=int, help="held-out marked images (default 20)")
    ap.add_argument("--clean", type=int, help="clean photos to forge on (default 50)")
    ap.add_argument("--k", type=int, default=16, help="clusters of the adaptive attack")
    ap.add_argument("--removal-photos", type=int, help="photos for (c) (default 12)")
    ap.add_argument("--scheme", help="aimark scheme id to embed (default: embed's default)")
    ap.add_argument("--out", type=Path, help="write the results block into this file")
    args = ap.parse_args()
    ns = sorted(int(x) for x in (args.n or ("5,20" if args.quick else "5,10,20,50,100")).split(","))
    held_n = args.held or (4 if args.quick else 20)
    clean_n = args.clean or (4 if args.quick else 50)
    n_removal = args.removal_photos or (2 if args.quick else 12)

    t0 = time.perf_counter()
    photos = load_photos()
    rng = np.random.default_rng(2027)
    images = crops(photos, ns[-1] + held_n + clean_n, rng)
    scheme = args.scheme
    label = scheme or default_scheme(photos.get("astronaut", images[0]))
    pool = [Target(a, scheme, payload(rng)) for a in images[: ns[-1]]]
    held = [Target(a, scheme, payload(rng)) for a in images[ns[-1] : ns[-1] + held_n]]
    clean = [Target(a, scheme, None) for a in images[ns[-1] + held_n :]]
    base = [verdict(t.marked, t.payload) for t in held]
    base_clean = [verdict(t.clean, None) for t in clean]
    print(f"{len(images)} images of {SIZE}² marked / kept clean", file=sys.stderr)

    lines = [
        f"<!-- generated by: python benchmarks/bench_watermark_attacks.py "
        f"{shlex.join(sys.argv[1:])} ({time.strftime('%Y-%m-%d')}, {os.cpu_count()}-core "
        f"{platform.machine()}, Python {platform.python_version()}) -->",
        "",
        f"## Security of aimark {label} (benchmark key, seeded)",
        "",
        f"Held-out marked images before any attack: detected {sum(d for d, _ in base)}"
        f"/{held_n}, exact payload {sum(e for _, e in base)}/{held_n}, PSNR "
        f"{np.mean([psnr(t.marked, t.clean) for t in held]):.1f} dB. Clean photos before any "
        f"forgery: detected {sum(d for d, _ in base_clean)}/{clean_n}, valid payload "
        f"{sum(p for _, p in base_clean)}/{clean_n}.",
        "",
    ]
    table, forged, tried = averaging(pool, held, clean, ns, args.k)
    lines += [
        *table,
        "",
        f"Forgery success at N = {ns[-1]}, all its rows (detected or a valid payload): "
        f"{forged} of {tried} attempts ({100 * forged / tried:.1f} %; goal ≤ 1 % at N = 100).",
        "",
    ]
    lines += copy_attack(held, clean, wm_energy(pool))
    names = spread([n for n, a in photos.items() if max(a.shape[:2]) <= 1100], n_removal)
    lines += removal({n: photos[n] for n in names}, scheme, rng)
    lines.append(f"({time.perf_counter() - t0:.0f} s)")

    text = "\n".join(lines)
    print(text)
    if args.out:
        write_block(args.out, text, START, END)
        print(f"\nwritten to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
