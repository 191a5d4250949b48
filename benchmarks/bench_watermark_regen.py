"""WAVES-style regeneration benchmark of the image watermark: true-positive rate at a false-positive
rate of 1e-3 against the attacked picture's PSNR, for an autoencoder round trip, compression and
denoising families of increasing strength.

    python benchmarks/bench_watermark_regen.py                         # 24 pictures
    python benchmarks/bench_watermark_regen.py --pictures 16 --out docs/benchmarks.md
    python benchmarks/bench_watermark_regen.py --scheme io.aimark.image.1   # another scheme
    python benchmarks/bench_watermark_regen.py --quick                 # smoke run

Families (each a list of strengths, mildest first):

- ``autoencoder``: a small convolutional autoencoder trained here on CPU (torch), the stand-in
  for a VAE round trip. Encoder: two stride-2 convolutions down to 1/4 resolution and 16
  latent channels; decoder: two transposed convolutions back; a residual block at each
  resolution (256k parameters). It is trained with nested channel dropout
  (each patch keeps only its first k ∈ {1, 2, 4, 8, 16} latent channels), so one model decodes
  any prefix of its latent: the strength is the number of channels kept, from a latent of 1/3
  of the picture's values (16 channels) down to 1/48 (one channel: the rate of Stable
  Diffusion's VAE, 8× down with 4 channels). Training set, disjoint from the test pictures: the
  class pictures of ``_wm_classes.py`` at indices 1000 and up, and the photos of
  ``_wm_corpus.load_photos()`` whose source is not a test photo's. The weights are cached
  outside the repository (``~/.cache/aimark-bench/regen-ae-<hash of the config>.pt``, or
  ``--cache DIR``) with the training time and the reconstruction PSNR on the held-out photos.
- ``JPEG``: quality 30, 25, 20, 15, 10 (Pillow, 4:2:0).
- ``down-up``: area downscale by 0.5, 0.35, 0.25, 0.18, bicubic back to the original size.
- ``NLM``: OpenCV's colour non-local means, h 3, 5, 8, 10, 15.
- ``wavelet``: BayesShrink soft thresholding (``_wm_corpus.wavelet_denoise``), σ 4 to 32.

Pictures: ``--pictures N`` spread over the classes of ``_wm_classes.py`` (indices 0 and up) and
about a quarter real photos of ``load_photos()`` (see ``TEST_PHOTOS``). Each is marked with
``--scheme`` (the fixed benchmark key, one payload); every attack is applied to the marked and to
the unmarked picture. TPR: share of the marked pictures detected at threshold 1e-3 with the exact
payload; FPR: share of the unmarked pictures detected at 1e-3; PSNR: the attacked marked picture
against the marked one, mean over the pictures. Crossing PSNR of a family at a level (50 %,
90 %): its points sorted by PSNR, highest first, the TPR curve linearly interpolated in PSNR, the
first PSNR at which it falls below the level.

With ``--out FILE`` the tables replace the block between ``<!-- regen:start -->`` and
``<!-- regen:end -->`` of FILE (markers and a heading appended at its end if absent); for a
scheme other than the default, ``<!-- regen ID:start -->`` … ``<!-- regen ID:end -->``. Threads are
pinned to one per worker process; no GPU is used and nothing is downloaded.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import functools  # noqa: E402
import hashlib  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from _wm_classes import CLASSES, picture  # noqa: E402
from _wm_corpus import (  # noqa: E402
    _CROPS,
    BENCH_KEY,
    down_up,
    jpeg,
    load_photos,
    nlm,
    psnr,
    wavelet_denoise,
    write_block,
)
from aimark.watermark.image import SCHEME_ID, detect, embed  # noqa: E402

PAYLOAD = 0x5EED_0000_5E6E_0001
THRESHOLD = 1e-3
LEVELS = (0.5, 0.9)  # TPR levels of the crossing PSNRs
START, END = "<!-- regen:start -->", "<!-- regen:end -->"
HEADING = "## Image watermark: regeneration — `benchmarks/bench_watermark_regen.py`"
TRAIN_INDEX0 = 1000  # class pictures from this index on train the autoencoder; tests use 0, 1, ...

# test photos in the order they are taken (their sources never train the autoencoder)
TEST_PHOTOS = [
    "astronaut",
    "sklearn-china",
    "coffee",
    "P1000827-down-512x512",
    "motorcycle-left",
    "grace-hopper",
    "chelsea-cat",
    "rocket",
    "TUSCANY-doc-0.45x-crop-1024x1024",
    "hubble-crop-768x768",
    "retina-crop-768x768",
    "aero-gray",
]

Attack = Callable[[np.ndarray], np.ndarray]
FAMILIES: dict[str, list[tuple[str, Attack]]] = {
    "JPEG": [(f"quality {q}", lambda a, q=q: jpeg(a, q)) for q in (30, 25, 20, 15, 10)],
    "down-up": [(f"×{f:g}", lambda a, f=f: down_up(a, f)) for f in (0.5, 0.35, 0.25, 0.18)],
    "NLM": [(f"h {h}", lambda a, h=h: nlm(a, h)) for h in (3, 5, 8, 10, 15)],
    "wavelet": [
        (f"σ {s}", lambda a, s=s: wavelet_denoise(a, float(s))) for s in (4, 8, 12, 16, 24, 32)
    ],
}
AE_FAMILY = "autoencoder"
ORDER = [AE_FAMILY, *FAMILIES]


def _pin() -> None:
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


# ----------------------------------------------------------------------------- the autoencoder


@dataclasses.dataclass(frozen=True)
class AEConfig:
    """What the trained weights depend on (hashed into the cache file's name)."""

    latent: int = 16  # channels at 1/4 resolution
    keep: tuple[int, ...] = (16, 8, 4, 2, 1)  # nested-dropout prefixes, the strengths
    widths: tuple[int, int, int] = (16, 32, 64)  # channels at 1, 1/2, 1/4 resolution
    patch: int = 64
    batch: int = 16
    steps: int = 1500
    lr: float = 1.5e-3
    seed: int = 0
    per_class: int = 6  # class pictures per class in the training set
    version: int = 1  # bump when the architecture or the training loop changes


QUICK_AE = AEConfig(steps=60, per_class=1)


class _Res(nn.Module):
    """x + conv(act(conv(x))), 3×3."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(width, width, 3, padding=1),
        )
        nn.init.zeros_(self.body[2].weight)  # starts as the identity: stable at a high rate
        nn.init.zeros_(self.body[2].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class AutoEncoder(nn.Module):
    """Two stride-2 convolutions to 1/4 resolution and ``latent`` channels, two transposed ones
    back, a residual block at each resolution (the linear path through them learns fast)."""

    def __init__(self, cfg: AEConfig) -> None:
        super().__init__()
        _, w2, w3 = cfg.widths
        self.encoder = nn.Sequential(
            nn.Conv2d(3, w2, 4, 2, 1),
            _Res(w2),
            nn.Conv2d(w2, w3, 4, 2, 1),
            _Res(w3),
            nn.Conv2d(w3, cfg.latent, 1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(cfg.latent, w3, 1),
            _Res(w3),
            nn.ConvTranspose2d(w3, w2, 4, 2, 1),
            _Res(w2),
            nn.ConvTranspose2d(w2, 3, 4, 2, 1),
        )

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x`` (N, 3, H, W in [0, 1]) from the first ``keep[n]`` latent channels."""
        z = self.encoder(x)
        mask = torch.arange(z.shape[1])[None, :] < keep[:, None]
        return self.decoder(z * mask[:, :, None, None])


_photos = functools.cache(load_photos)


def _source(name: str) -> str:
    return next((src for crop, src, *_ in _CROPS if crop == name), name)


def training_set(cfg: AEConfig, photos: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Class pictures at indices TRAIN_INDEX0 and up, and the photos not of a test source."""
    held_out = {_source(n) for n in TEST_PHOTOS}
    out = {n: a for n, a in photos.items() if _source(n) not in held_out}
    for cls in CLASSES:
        for i in range(TRAIN_INDEX0, TRAIN_INDEX0 + cfg.per_class):
            name, a = picture(cls, i)
            out[name] = a
    return out


def _to_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).float()[None] / 255


def _to_u8(x: torch.Tensor) -> np.ndarray:
    a = (x[0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return np.ascontiguousarray(a.transpose(1, 2, 0))


def round_trips(model: AutoEncoder, a: np.ndarray, keep: Sequence[int]) -> list[np.ndarray]:
    """``a`` encoded once, decoded from its first k latent channels for each k of ``keep``."""
    h, w = a.shape[:2]
    x = _to_tensor(a)
    x = nn.functional.pad(x, (0, -w % 4, 0, -h % 4), mode="reflect")
    with torch.no_grad():
        z = model.encoder(x)
        outs = []
        for k in keep:
            mask = (torch.arange(z.shape[1]) < k).float()[None, :, None, None]
            outs.append(_to_u8(model.decoder(z * mask)[..., :h, :w]))
    return outs


def train(cfg: AEConfig, images: dict[str, np.ndarray]) -> tuple[AutoEncoder, float]:
    """Train on random patches (flipped at random) of ``images``; (model, seconds)."""
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    arrays = [a for a in images.values() if min(a.shape[:2]) >= cfg.patch]
    model = AutoEncoder(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps)
    keep = torch.tensor(cfg.keep)
    p = cfg.patch
    for step in range(cfg.steps):
        batch = np.empty((cfg.batch, p, p, 3), np.uint8)
        for b in range(cfg.batch):
            a = arrays[int(rng.integers(len(arrays)))]
            y0, x0 = (int(rng.integers(s - p + 1)) for s in a.shape[:2])
            patch = a[y0 : y0 + p, x0 : x0 + p]
            if rng.random() < 0.5:
                patch = patch[:, ::-1]
            batch[b] = patch
        x = torch.from_numpy(batch.transpose(0, 3, 1, 2).copy()).float() / 255
        k = keep[torch.randint(len(keep), (cfg.batch,))]
        loss = nn.functional.mse_loss(model(x, k), x)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 200 == 0 or step == cfg.steps - 1:
            print(f"  step {step:5d}  mse {loss.item():.5f}", file=sys.stderr)
    model.eval()
    return model, time.perf_counter() - t0


def cache_path(cfg: AEConfig, train_names: Sequence[str], cache: Path) -> Path:
    spec = json.dumps([dataclasses.asdict(cfg), sorted(train_names)], sort_keys=True)
    return cache / f"regen-ae-{hashlib.sha256(spec.encode()).hexdigest()[:16]}.pt"


def load_or_train(cfg: AEConfig, cache: Path) -> tuple[Path, dict, bool]:
    """The cached weights for ``cfg`` (trained now if absent), their record (parameters,
    training set, training seconds, reconstruction PSNR per prefix on the held-out photos) and
    whether they were trained now."""
    photos = _photos()
    images = training_set(cfg, photos)
    path = cache_path(cfg, list(images), cache)
    if path.exists():
        return path, torch.load(path, weights_only=False)["meta"], False
    print(f"training the autoencoder ({cfg.steps} steps) into {path}", file=sys.stderr)
    model, seconds = train(cfg, images)
    held = {n: photos[n] for n in TEST_PHOTOS if n in photos}
    recon = {k: [] for k in cfg.keep}
    for a in held.values():
        for k, b in zip(cfg.keep, round_trips(model, a, cfg.keep), strict=True):
            recon[k].append(psnr(a, b))
    train_photos = sorted(n for n in images if n in photos)
    meta = {
        "config": dataclasses.asdict(cfg),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_photos": train_photos,
        "train_class_pictures": len(images) - len(train_photos),
        "train_seconds": seconds,
        "held_out": sorted(held),
        "recon_psnr": {str(k): statistics.fmean(v) for k, v in recon.items() if v},
        "torch": torch.__version__,
    }
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"state": model.state_dict(), "meta": meta}, tmp)
    tmp.replace(path)
    return path, meta, True


_MODELS: dict[Path, AutoEncoder] = {}


def _model(path: Path, cfg: AEConfig) -> AutoEncoder:
    if path not in _MODELS:
        model = AutoEncoder(cfg)
        model.load_state_dict(torch.load(path, weights_only=False)["state"])
        _MODELS[path] = model.eval()
    return _MODELS[path]


# ----------------------------------------------------------------------------- the pictures


def pick_pictures(n: int, photos: Sequence[str]) -> list[tuple[str, str | int]]:
    """(group, class index or photo name) of ``n`` pictures: about a quarter photos (as many as
    are available), the rest the classes in turn."""
    k = min(len(photos), round(n / 4)) if n > 1 else 0
    jobs: list[tuple[str, str | int]] = [("photo", name) for name in photos[:k]]
    classes = list(CLASSES)
    jobs += [(classes[i % len(classes)], i // len(classes)) for i in range(n - k)]
    return jobs


def _load(group: str, which: str | int) -> tuple[str, np.ndarray]:
    if group == "photo":
        return str(which), _photos()[str(which)]
    return picture(group, int(which))


# ----------------------------------------------------------------------------- one picture

# per family and strength: (PSNR vs marked, detected, exact payload, unmarked detected)
Row = tuple[float, bool, bool, bool]


@dataclasses.dataclass
class Result:
    group: str
    name: str
    found_unattacked: bool  # exact payload with no attack
    false_unattacked: bool  # the unmarked picture detected with no attack
    rows: dict[str, list[Row]]
    seconds: float


Job = tuple[str, str | int, str, Path, AEConfig, dict[str, list[int]]]


def run_picture(job: Job) -> Result:
    """Mark one picture, attack it (and its unmarked original) with every strength."""
    _pin()
    group, which, scheme, ae_path, cfg, chosen = job
    t0 = time.perf_counter()
    name, image = _load(group, which)
    marked = embed(image, BENCH_KEY, PAYLOAD, scheme=scheme)

    def probe(a: np.ndarray) -> tuple[bool, bool]:
        r = detect(a, BENCH_KEY, threshold=THRESHOLD, schemes=(scheme,))
        return bool(r.detected), bool(r.detected and r.payload == PAYLOAD)

    rows: dict[str, list[Row]] = {}
    keep = [cfg.keep[i] for i in chosen[AE_FAMILY]]
    model = _model(ae_path, cfg)
    pairs = zip(round_trips(model, marked, keep), round_trips(model, image, keep), strict=True)
    rows[AE_FAMILY] = [(psnr(b, marked), *probe(b), probe(c)[0]) for b, c in pairs]
    for family, strengths in FAMILIES.items():
        rows[family] = []
        for i in chosen[family]:
            attack = strengths[i][1]
            b = attack(marked)
            rows[family].append((psnr(b, marked), *probe(b), probe(attack(image))[0]))
    return Result(
        group,
        name,
        probe(marked)[1],
        probe(image)[0],
        rows,
        time.perf_counter() - t0,
    )


# ----------------------------------------------------------------------------- the summary


def crossing(points: Sequence[tuple[float, float]], level: float) -> str:
    """Where the (PSNR, TPR) curve, read from the highest PSNR down and linearly interpolated,
    first falls below ``level``."""
    pts = sorted(points, reverse=True)
    if pts[0][1] < level:
        return f"≥ {pts[0][0]:.1f} dB (below at the mildest)"
    for (p0, t0), (p1, t1) in itertools.pairwise(pts):
        if t1 < level:
            return f"{p0 + (t0 - level) * (p1 - p0) / (t0 - t1):.1f} dB"
    return f"< {pts[-1][0]:.1f} dB (never below)"


def _frac(k: int, n: int) -> str:
    return f"{100 * k / n:.0f} % ({k}/{n})" if n else "–"


def tables(
    results: list[Result], labels: dict[str, list[str]]
) -> tuple[list[str], dict[str, dict[float, str]]]:
    """Markdown lines (a table per family, then the crossings) and the crossings themselves."""
    n = len(results)
    base = [r for r in results if r.found_unattacked]
    lines = [
        f"Unattacked: TPR {_frac(len(base), n)}, FPR "
        f"{_frac(sum(r.false_unattacked for r in results), n)}.",
        "",
    ]
    summary: dict[str, dict[float, str]] = {}
    for family in labels:
        lines += [
            f"**{family}**",
            "",
            "| strength | PSNR vs marked (dB) | TPR | FPR | TPR, of those found unattacked "
            "| wrong payload |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        points = []
        for j, label in enumerate(labels[family]):
            rows = [r.rows[family][j] for r in results]
            mean_psnr = statistics.fmean(row[0] for row in rows)
            tp = sum(row[2] for row in rows)
            points.append((mean_psnr, tp / n))
            lines.append(
                f"| {label} | {mean_psnr:.1f} | {_frac(tp, n)} "
                f"| {_frac(sum(row[3] for row in rows), n)} "
                f"| {_frac(sum(r.rows[family][j][2] for r in base), len(base))} "
                f"| {sum(row[1] and not row[2] for row in rows)} |"
            )
        summary[family] = {level: crossing(points, level) for level in LEVELS}
        lines.append("")
    lines += [
        "Crossing PSNR: the family's (mean PSNR, TPR) points sorted by PSNR, highest first, TPR "
        "linearly interpolated in PSNR; the first PSNR at which TPR falls below 50 % (90 %). "
        "Higher is worse for the watermark: it is lost after milder attacks.",
        "",
        "| family | TPR < 50 % at | TPR < 90 % at |",
        "|---|---:|---:|",
    ]
    lines += [f"| {f} | {c[0.5]} | {c[0.9]} |" for f, c in summary.items()]
    return lines, summary


def _ae_lines(meta: dict, cfg: AEConfig) -> list[str]:
    recon = ", ".join(f"{k} ch {v:.1f} dB" for k, v in meta["recon_psnr"].items())
    return [
        f"Autoencoder: {meta['parameters']:,} parameters, stride-2 convolutions to 1/4 "
        f"resolution × {cfg.latent} latent channels, transposed ones back, a residual block per "
        f"resolution; nested dropout over the first k ∈ {list(cfg.keep)} channels; trained "
        f"{cfg.steps} steps of "
        f"{cfg.batch} {cfg.patch}² patches (Adam, one-cycle lr {cfg.lr:g}, MSE) in "
        f"{meta['train_seconds']:.0f} s on one CPU thread (torch {meta['torch']}), on "
        f"{meta['train_class_pictures']} class pictures (indices ≥ {TRAIN_INDEX0}) and "
        f"{len(meta['train_photos'])} photos ({', '.join(meta['train_photos'])}). "
        f"Reconstruction PSNR on the {len(meta['held_out'])} held-out unmarked photos: {recon}.",
        "",
    ]


def _ensure_block(path: Path, start: str = START, end: str = END) -> None:
    """Append the heading and the block's markers to ``path`` if it lacks them (the heading
    only for the default block)."""
    old = path.read_text() if path.exists() else ""
    if start not in old or end not in old:
        sep = "" if not old or old.endswith("\n\n") else ("\n" if old.endswith("\n") else "\n\n")
        head = f"{HEADING}\n\n" if start == START else ""
        path.write_text(f"{old}{sep}{head}{start}\n{end}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pictures", type=int, default=24, help="test pictures (about 1/4 photos)")
    ap.add_argument(
        "--scheme", default=SCHEME_ID, help=f"embedded and detected (default {SCHEME_ID})"
    )
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "aimark-bench")
    ap.add_argument("--quick", action="store_true", help="3 pictures, 2 strengths per family")
    ap.add_argument("--out", type=Path, help="replace the regen block of this markdown file")
    args = ap.parse_args()
    _pin()
    cfg = QUICK_AE if args.quick else AEConfig()
    t0 = time.perf_counter()
    ae_path, meta, trained = load_or_train(cfg, args.cache)
    all_labels = {AE_FAMILY: [f"{k} of {cfg.latent} latent ch" for k in cfg.keep]}
    all_labels |= {f: [label for label, _ in s] for f, s in FAMILIES.items()}
    chosen = {f: list(range(len(v))) for f, v in all_labels.items()}
    if args.quick:
        chosen = {f: [0, len(v) - 1] for f, v in all_labels.items()}
    labels = {f: [all_labels[f][i] for i in chosen[f]] for f in ORDER}
    photos = [n for n in TEST_PHOTOS if n in _photos()]
    pictures = pick_pictures(3 if args.quick else args.pictures, photos)
    jobs: list[Job] = [(g, w, args.scheme, ae_path, cfg, chosen) for g, w in pictures]
    results: list[Result] = []
    if args.workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            results = list(pool.imap(run_picture, jobs))
    else:
        results = [run_picture(job) for job in jobs]
    for r in results:
        print(f"{r.name:44s} {r.seconds:6.1f} s", file=sys.stderr)
    wall = time.perf_counter() - t0
    groups = {g: sum(r.group == g for r in results) for g in [*CLASSES, "photo"]}
    cmd = "python " + shlex.join(["benchmarks/bench_watermark_regen.py", *sys.argv[1:]])
    body, _ = tables(results, labels)
    lines = [
        f"`{cmd}` — scheme {args.scheme}, {len(results)} pictures ("
        + ", ".join(f"{g} {k}" for g, k in groups.items() if k)
        + f"), threshold {THRESHOLD:g}; {wall:.0f} s wall ("
        + ("including the autoencoder's training" if trained else "autoencoder from the cache")
        + f") on {args.workers} worker(s), Python {platform.python_version()}.",
        "",
        *_ae_lines(meta, cfg),
        *body,
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        start, end = START, END
        if args.scheme != SCHEME_ID:  # another scheme: its own block, beside the default's
            start, end = f"<!-- regen {args.scheme}:start -->", f"<!-- regen {args.scheme}:end -->"
        _ensure_block(args.out, start, end)
        write_block(args.out, text, start, end)


if __name__ == "__main__":
    main()
