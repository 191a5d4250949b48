"""Image watermark benchmark: invisibility, robustness to the attack suite, false positives and
calibration, and speed -- aimark's schemes against their peers, measured in the same run.

    pip install -r benchmarks/requirements-watermark.txt     # peers, scikit-learn's photos
    pip install --no-deps invisible-watermark blind-watermark
    python benchmarks/bench_watermark_image.py --workers 2 --out docs/watermark-image.md
    python benchmarks/bench_watermark_image.py --quick --images 2 --fp 20 --no-peers  # smoke

Results are printed; with ``--out FILE`` they also replace the block between
``<!-- results:start -->`` and ``<!-- results:end -->`` of FILE. Photos and attacks:
benchmarks/_wm_corpus.py. aimark runs its default scheme and, where ``embed`` takes
``scheme=``, also ``io.aimark.image.1``.

Peers (each skipped with a note if it cannot be imported): invisible-watermark dwtDct and
dwtDctSvd (the Stable Diffusion watermark), its RivaGAN (32 bits, ONNX) and blind-watermark;
RivaGAN and blind-watermark are the slow ones (left out by --quick). Peers carry the same
64-bit payload (RivaGAN: 32 bits); for them "detected" means the exact payload came back, as
they have no detection statistic. Speed is single-threaded (thread pools pinned to 1 before
numpy loads) and always in this process, whatever --workers says.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402
from scipy.stats import beta  # noqa: E402

from _wm_corpus import (  # noqa: E402
    ATTACKS,
    BENCH_KEY,
    FAST_ATTACKS,
    SCHEME_V1,
    SCHEME_V2,
    Method,
    default_scheme,
    jpeg,
    load_photos,
    mark,
    psnr,
    resize,
    scheme_kw_supported,
    spread,
    ssim,
    webp,
    write_block,
)
from aimark import WatermarkKey  # noqa: E402
from aimark.watermark.image import detect, detect_batch  # noqa: E402

PAYLOAD = 0x5EED_CAFE_0123_4567
START, END = "<!-- results:start -->", "<!-- results:end -->"
Spec = tuple[str, str]  # (family, argument): how a worker process rebuilds a method

# ----------------------------------------------------------------------------- methods


class Aimark:
    """aimark with the benchmark key; embeds ``scheme`` ("" = the default), detects with the
    default call (every scheme), as a user would."""

    def __init__(self, scheme: str, label: str) -> None:
        self.scheme = scheme or None
        self.name = f"aimark {label}"

    def embed(self, a: np.ndarray) -> np.ndarray:
        return mark(a, BENCH_KEY, PAYLOAD, self.scheme)

    def detect(self, a: np.ndarray) -> tuple[bool, bool]:
        r = detect(a, BENCH_KEY)
        return r.detected, r.payload == PAYLOAD


class InvisibleWatermark:
    def __init__(self, method: str) -> None:
        from imwatermark import WatermarkDecoder, WatermarkEncoder

        self.method = method
        self.name = f"invisible-watermark {method}"
        bits = 32 if method == "rivaGan" else 64
        self.payload = PAYLOAD.to_bytes(8, "big")[: bits // 8]
        self.enc = WatermarkEncoder()
        self.enc.set_watermark("bytes", self.payload)
        self.dec = WatermarkDecoder("bytes", bits)
        if method == "rivaGan":
            WatermarkEncoder.loadModel()

    def embed(self, a: np.ndarray) -> np.ndarray:
        bgr = np.ascontiguousarray(a[..., ::-1])
        return np.ascontiguousarray(self.enc.encode(bgr, self.method)[..., ::-1])

    def detect(self, a: np.ndarray) -> tuple[bool, bool]:
        if min(a.shape[:2]) < 64:
            return False, False
        try:
            got = self.dec.decode(np.ascontiguousarray(a[..., ::-1]), self.method)
        except Exception:
            return False, False
        ok = bytes(got) == self.payload
        return ok, ok


class BlindWatermark:
    name = "blind-watermark"

    def __init__(self) -> None:
        from blind_watermark import WaterMark, bw_notes

        bw_notes.close()
        self.cls = WaterMark
        self.wm = [int(b) for b in f"{PAYLOAD:064b}"]

    def embed(self, a: np.ndarray) -> np.ndarray:
        import tempfile

        import cv2

        bwm = self.cls(password_img=1, password_wm=1)
        with tempfile.TemporaryDirectory() as d:
            src, dst = f"{d}/in.png", f"{d}/out.png"
            cv2.imwrite(src, a[..., ::-1])
            bwm.read_img(src)
            bwm.read_wm(self.wm, mode="bit")
            bwm.embed(dst)
            return cv2.imread(dst)[..., ::-1].copy()

    def detect(self, a: np.ndarray) -> tuple[bool, bool]:
        bwm = self.cls(password_img=1, password_wm=1)
        try:
            got = bwm.extract(embed_img=np.ascontiguousarray(a[..., ::-1]), wm_shape=64, mode="bit")
        except Exception:
            return False, False
        ok = [round(float(b)) for b in got] == self.wm
        return ok, ok


PEERS: list[Spec] = [
    ("invisible-watermark", "dwtDct"),
    ("invisible-watermark", "dwtDctSvd"),
    ("invisible-watermark", "rivaGan"),
    ("blind-watermark", ""),
]
SLOW_PEERS = {("invisible-watermark", "rivaGan"), ("blind-watermark", "")}
# peers are slow on large images: they run on the photos up to this long side (aimark on all)
PEER_MAX_SIDE = {"dwtDct": 2000, "dwtDctSvd": 2000, "rivaGan": 1100, "": 1100}

_METHODS: dict[Spec, Method] = {}


def get_method(spec: Spec) -> Method:
    """The method of ``spec``, built once per process."""
    if spec not in _METHODS:
        family, arg = spec
        if family.startswith("aimark"):
            _METHODS[spec] = Aimark(arg, family.removeprefix("aimark "))
        elif family == "invisible-watermark":
            _METHODS[spec] = InvisibleWatermark(arg)
        else:
            _METHODS[spec] = BlindWatermark()
    return _METHODS[spec]


def aimark_specs(photo: np.ndarray) -> list[Spec]:
    """The default scheme, and the earlier ones (v2, v1) too where ``embed`` takes
    ``scheme=``."""
    default = default_scheme(photo)
    specs = [(f"aimark {default}", "")]
    if scheme_kw_supported():
        for old in (SCHEME_V2, SCHEME_V1):
            if old != default:
                specs.append((f"aimark {old}", old))
    return specs


# ----------------------------------------------------------------------------- robustness


def run_image(spec: Spec, name: str, image: np.ndarray, attacks: list[str]) -> tuple | None:
    """Embed in one image and detect after each attack: (name, PSNR, SSIM, [(det, exact)],
    seconds), or None if the method cannot embed in it."""
    t0 = time.perf_counter()
    m = get_method(spec)
    try:
        marked = m.embed(image)
    except Exception as exc:
        print(f"note: {m.name} cannot embed in {name}: {exc}", file=sys.stderr)
        return None
    rows = [m.detect(ATTACKS[a](marked)) for a in attacks]
    return name, psnr(image, marked), ssim(image, marked), rows, time.perf_counter() - t0


def _cache_file(cache: Path, spec: Spec, name: str) -> Path:
    return cache / f"{spec[0]}-{spec[1] or 'default'}-{name}.json".replace(" ", "_")


def _cached(cache: Path, spec: Spec, name: str, attacks: list[str]) -> tuple | None:
    """A peer's earlier result for this image, if it covers every attack asked for."""
    path = _cache_file(cache, spec, name)
    if not path.exists():
        return None
    rec = json.loads(path.read_text())
    rows = rec["rows"]
    if not all(a in rows for a in attacks):
        return None
    return name, rec["psnr"], rec["ssim"], [tuple(rows[a]) for a in attacks], 0.0


def _store(cache: Path, spec: Spec, res: tuple, attacks: list[str]) -> None:
    name, p, s, rows, _ = res
    path = _cache_file(cache, spec, name)
    old = json.loads(path.read_text())["rows"] if path.exists() else {}
    old.update({a: [bool(d), bool(e)] for a, (d, e) in zip(attacks, rows, strict=True)})
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"psnr": p, "ssim": s, "rows": old}))


def robustness(
    specs: list[Spec],
    photos: dict[str, np.ndarray],
    attacks: list[str],
    workers: int,
    cache: Path | None = None,
    slow_images: int | None = None,
    slow_cached_only: bool = False,
) -> dict[str, dict]:
    """Per method: "quality" [(image, PSNR, SSIM)] and "rows" {attack: [(image, det, exact)]}.
    Peers' results are kept in ``cache`` (they do not change with aimark's code); the slow
    peers (RivaGAN, blind-watermark: about a minute and more per image) run on a spread of
    ``slow_images`` of the photos."""
    jobs = []
    done: list[tuple[Spec, tuple | None]] = []
    fitting = [n for n, im in photos.items() if max(im.shape[:2]) <= min(PEER_MAX_SIDE.values())]
    slow_subset = set(spread(fitting, slow_images)) if slow_images else set(fitting)
    for spec in specs:
        peer = not spec[0].startswith("aimark")
        cap = PEER_MAX_SIDE.get(spec[1]) if peer else None
        for n, im in photos.items():
            if cap and max(im.shape[:2]) > cap:
                continue
            if spec in SLOW_PEERS and n not in slow_subset:
                continue
            if (
                spec in SLOW_PEERS
                and slow_cached_only
                and not (cache and _cached(cache, spec, n, attacks) is not None)
            ):
                continue
            hit = _cached(cache, spec, n, attacks) if peer and cache else None
            if hit is not None:
                done.append((spec, hit))
            else:
                jobs.append((spec, n, im))
    out: dict[str, dict] = {
        get_method(s).name: {"quality": [], "rows": {a: [] for a in attacks}} for s in specs
    }

    def collect(spec: Spec, res: tuple | None) -> None:
        if cache and res is not None and not spec[0].startswith("aimark"):
            _store(cache, spec, res, attacks)
        done.append((spec, res))
        if res is not None:
            print(
                f"  [{len(done)}/{len(jobs)}] {get_method(spec).name}: {res[0]} ({res[4]:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    if workers > 1:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = {pool.submit(run_image, s, n, im, attacks): s for s, n, im in jobs}
            for f in as_completed(futures):
                collect(futures[f], f.result())
    else:
        for s, n, im in jobs:
            collect(s, run_image(s, n, im, attacks))
    order = {n: i for i, n in enumerate(photos)}
    for spec, res in sorted(done, key=lambda d: order[d[1][0]] if d[1] else -1):
        if res is None:
            continue
        name, p, s, rows, _ = res
        r = out[get_method(spec).name]
        r["quality"].append((name, p, s))
        for a, (det, exact) in zip(attacks, rows, strict=True):
            r["rows"][a].append((name, det, exact))
    return out


def _exact(rows: list[tuple[str, bool, bool]]) -> float:
    """Fraction detected with the exact payload."""
    return sum(det and exact for _, det, exact in rows) / len(rows)


def robustness_report(
    results: dict[str, dict], photos: dict[str, np.ndarray], attacks: list[str]
) -> list[str]:
    lines = [
        "## Invisibility",
        "",
        "| method | PSNR mean | PSNR worst | SSIM mean | SSIM worst | images |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, res in results.items():
        q = res["quality"]
        if q:
            ps, ss = [x[1] for x in q], [x[2] for x in q]
            worst = min(q, key=lambda x: x[1])[0]
            lines.append(
                f"| {name} | {np.mean(ps):.1f} dB | {min(ps):.1f} dB ({worst}) | "
                f"{np.mean(ss):.3f} | {min(ss):.3f} | {len(q)} |"
            )
    names = list(results)
    lines += [
        "",
        "## Robustness: detected / exact payload, % of images",
        "",
        "| attack | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for attack in attacks:
        cells = []
        for n in names:
            rows = results[n]["rows"][attack]
            if not rows:
                cells.append("–")
                continue
            det = 100 * sum(r[1] for r in rows) / len(rows)
            exact = 100 * sum(r[2] for r in rows) / len(rows)
            cells.append(f"{det:.0f} / {exact:.0f}" if n.startswith("aimark") else f"{exact:.0f}")
        lines.append(f"| {attack} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "aimark cells: detected at p ≤ 1e-6 / exact 64-bit payload. Peer cells: exact payload "
        "(they have no detection statistic; RivaGAN carries 32 bits).",
        "",
    ]
    for n in (n for n in names if n.startswith("aimark")):
        rows = results[n]["rows"]
        weak = [a for a in attacks if rows[a] and _exact(rows[a]) < 0.95]
        lines += [
            f"### {n}: misses per image",
            "",
            f"Attacks under 95 % detected with the exact payload: {', '.join(weak) or 'none'}.",
            "",
        ]
        for img, _, _ in results[n]["quality"]:
            misses = []
            for a in attacks:
                det, exact = next((d, e) for i, d, e in rows[a] if i == img)
                if not (det and exact):
                    why = "no exact payload" if det else "payload only" if exact else "missed"
                    misses.append(f"{a} ({why})")
            if misses:
                h, w = photos[img].shape[:2]
                lines.append(f"- {img} {w}×{h}: " + ", ".join(misses))
        lines.append("")
    return lines


# ----------------------------------------------------------------------------- false positives

_TEXT = (
    "the a of to and in image model photo generated label provenance watermark share upload "
    "screen report invoice total page menu settings account profile 12:45 OK Cancel"
)


def text_screenshot(rng: np.random.Generator) -> np.ndarray:
    """Black text on white, then scaled and saved as JPEG like a shared screenshot."""
    w, h = int(rng.integers(300, 1200)), int(rng.integers(200, 900))
    im = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(im)
    size = int(rng.integers(11, 28))
    font = ImageFont.load_default(size=size)
    for y in range(size, h - size, round(size * 1.5)):
        line = " ".join(rng.choice(_TEXT.split(), int(rng.integers(3, 14))))
        draw.text((size, y), line, fill=(0, 0, 0), font=font)
    return jpeg(resize(np.asarray(im), rng.uniform(0.5, 1.5)), int(rng.integers(60, 95)))


def _payload(rng: np.random.Generator) -> int:
    return int.from_bytes(rng.bytes(8), "big")


def fp_input(
    kind: str, photo: np.ndarray, rng: np.random.Generator, key: WatermarkKey
) -> np.ndarray:
    """One unwatermarked (for ``key``) input of ``kind``."""
    if kind == "photo":
        return photo
    if kind == "crop":
        h, w = photo.shape[:2]
        ch, cw = int(h * rng.uniform(0.4, 1)), int(w * rng.uniform(0.4, 1))
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        return photo[y0 : y0 + ch, x0 : x0 + cw]
    if kind == "re-encode":
        im = resize(photo, rng.uniform(0.5, 1.2))
        codec = jpeg if rng.random() < 0.5 else webp
        return codec(im, int(rng.integers(30, 96)))
    if kind == "flat":
        shape = (int(rng.integers(128, 1000)), int(rng.integers(128, 1000)), 3)
        return np.broadcast_to(rng.integers(0, 256, 3).astype(np.uint8), shape).copy()
    if kind == "noise":
        shape = (int(rng.integers(128, 1000)), int(rng.integers(128, 1000)), 3)
        a = np.clip(rng.normal(rng.uniform(40, 215), rng.uniform(1, 60), shape), 0, 255)
        blur = ImageFilter.GaussianBlur(int(rng.integers(0, 3)))
        return np.asarray(Image.fromarray(a.astype(np.uint8)).filter(blur))
    if kind == "text screenshot":
        return text_screenshot(rng)
    if kind == "class picture":
        from _wm_classes import CLASSES, picture

        cls = list(CLASSES)[int(rng.integers(0, len(CLASSES)))]
        return picture(cls, int(rng.integers(0, 1000)))[1]
    if kind == "other key":
        return mark(photo, WatermarkKey.generate(), _payload(rng))
    if kind == "v1, same key":
        return mark(photo, key, _payload(rng), SCHEME_V1)
    if kind == "v1, other key":
        return mark(photo, WatermarkKey.generate(), _payload(rng), SCHEME_V1)
    if kind == "v2, same key":
        return mark(photo, key, _payload(rng), SCHEME_V2)
    if kind == "v2, other key":
        return mark(photo, WatermarkKey.generate(), _payload(rng), SCHEME_V2)
    raise ValueError(kind)


THRESHOLDS = (1e-1, 1e-2, 1e-3, 1e-6)


def false_positives(trials: int, photos: dict[str, np.ndarray], default: str) -> dict:
    """``trials`` unwatermarked inputs, each tested with a fresh random key."""
    kinds = ["photo", "crop", "re-encode", "flat", "noise", "text screenshot", "other key"]
    kinds += ["class picture"]  # the content classes of _wm_classes.py (periodic, dense, ...)
    if scheme_kw_supported() and default != SCHEME_V1:
        kinds += ["v1, same key", "v1, other key"]
    if scheme_kw_supported() and default not in (SCHEME_V1, SCHEME_V2):
        kinds += ["v2, same key", "v2, other key"]
    rng = np.random.default_rng(2026)
    pool = [im for im in photos.values() if max(im.shape[:2]) <= 1600]
    per: dict[str, dict] = {k: {"p": [], "detections": 0} for k in kinds}
    t0 = time.perf_counter()
    for i in range(trials):
        kind = kinds[i % len(kinds)]
        photo = pool[(i // len(kinds)) % len(pool)]
        key = WatermarkKey.generate()
        im = fp_input(kind, photo, rng, key)
        if min(im.shape[:2]) < 128:
            im = resize(im, 128 / min(im.shape[:2]) + 0.01)
        # an earlier scheme marked with this very key: only the default scheme is asked for
        same = kind in ("v1, same key", "v2, same key")
        r = detect(im, key, schemes=[default]) if same else detect(im, key)
        per[kind]["p"].append(r.p_value)
        per[kind]["detections"] += r.detected or r.payload is not None
        if (i + 1) % 500 == 0:
            rate = (i + 1) / (time.perf_counter() - t0)
            print(f"  false positives: {i + 1}/{trials} ({rate:.1f}/s)", file=sys.stderr)
    return {"per": per, "seconds": time.perf_counter() - t0}


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    """Exact 95 % binomial interval."""
    lo = 0.0 if k == 0 else float(beta.ppf(0.025, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(0.975, k + 1, n - k))
    return lo, hi


def fp_report(fp: dict) -> list[str]:
    per = fp["per"]
    allp = np.concatenate([np.asarray(v["p"]) for v in per.values()])
    n = len(allp)
    dets = sum(v["detections"] for v in per.values())
    lines = [
        "## False positives and calibration",
        "",
        f"{n:,} unwatermarked inputs, each tested with a fresh random key "
        f"({fp['seconds']:.0f} s). Rate of p ≤ threshold, with the exact (Clopper–Pearson) "
        "95 % interval; *calibrated* when the threshold lies inside it.",
        "",
        "| threshold | observed rate | 95 % interval | verdict |",
        "|---:|---:|---:|---|",
    ]
    for t in THRESHOLDS:
        k = int(np.sum(allp <= t))
        lo, hi = clopper_pearson(k, n)
        verdict = "calibrated" if lo <= t <= hi else "conservative" if hi < t else "TOO MANY"
        lines.append(f"| {t:g} | {k / n:.4f} ({k}) | {lo:.4f} – {hi:.4f} | {verdict} |")
    textured = [np.asarray(v["p"]) for k, v in per.items() if k != "flat"]
    if textured and len(textured) < len(per):
        tp = np.concatenate(textured)
        lines += [
            "",
            f"Without the flat images (a plain colour has no noise to test: its p-value is near "
            f"1 by construction), {len(tp):,} inputs:",
            "",
            "| threshold | observed rate | 95 % interval | verdict |",
            "|---:|---:|---:|---|",
        ]
        for t in THRESHOLDS:
            k = int(np.sum(tp <= t))
            lo, hi = clopper_pearson(k, len(tp))
            verdict = "calibrated" if lo <= t <= hi else "conservative" if hi < t else "TOO MANY"
            lines.append(f"| {t:g} | {k / len(tp):.4f} ({k}) | {lo:.4f} – {hi:.4f} | {verdict} |")
    lines += [
        "",
        "Per kind (count of p ≤ threshold, and detections: detected or a payload decoded):",
        "",
        "| kind | inputs | " + " | ".join(f"≤ {t:g}" for t in THRESHOLDS) + " | detections |",
        "|---|---:|" + "---:|" * (len(THRESHOLDS) + 1),
    ]
    for kind, v in per.items():
        p = np.asarray(v["p"])
        counts = " | ".join(str(int(np.sum(p <= t))) for t in THRESHOLDS)
        lines.append(f"| {kind} | {len(p)} | {counts} | {v['detections']} |")
    lines += [
        "",
        f"Detections at the default threshold (p ≤ 1e-6) or with a decoded payload: "
        f"**{dets}** of {n:,}.",
        "",
    ]
    return lines


# ----------------------------------------------------------------------------- speed


def median_ms(fn: Callable[[], object], repeat: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _fmt(x: float, fmt: str) -> str:
    return "–" if np.isnan(x) else fmt.format(x)


def speed(photos: dict[str, np.ndarray], ours: list[Aimark], dwt: Method | None) -> list[str]:
    """Embed and detect at 1080p and 4K (P1000827 resized), against dwtDct and a Pillow
    decode of the same picture; detect_batch against a loop on 8 photos."""
    src = photos.get("P1000827")
    if src is None:
        src = max(photos.values(), key=lambda a: a.size)
    sizes = {"1920×1080": (1920, 1080), "3840×2160": (3840, 2160)}
    nan = float("nan")
    rows = []
    only: list[tuple[str, float, float]] = []
    for label, size in sizes.items():
        clean = np.asarray(Image.fromarray(src).resize(size, Image.Resampling.LANCZOS))
        buf = io.BytesIO()
        Image.fromarray(clean).save(buf, "JPEG", quality=90)
        data = buf.getvalue()
        decode = median_ms(lambda d=data: np.asarray(Image.open(io.BytesIO(d)).convert("RGB")))
        pe = pd = nan
        if dwt is not None:
            pm = dwt.embed(clean)
            pe = median_ms(lambda c=clean: dwt.embed(c))
            pd = median_ms(lambda m=pm: dwt.detect(m))
        for m in ours:
            marked = m.embed(clean)
            e = median_ms(lambda c=clean, m=m: m.embed(c))
            dc = median_ms(lambda c=clean, m=m: m.detect(c))
            dm = median_ms(lambda k=marked, m=m: m.detect(k))
            rows.append((label, m.name, e, dc, dm, pe, pd, decode))
        alone = default_scheme(clean)
        marked = ours[0].embed(clean)
        only.append(
            (
                label,
                median_ms(lambda c=clean, s=alone: detect(c, BENCH_KEY, schemes=[s])),
                median_ms(lambda k=marked, s=alone: detect(k, BENCH_KEY, schemes=[s])),
            )
        )
        print(f"  speed {label} done", file=sys.stderr)
    lines = [
        "## Speed (single thread, RGB uint8 in memory, medians of 5)",
        "",
        "| size | method | embed | detect clean | detect marked | dwtDct encode | dwtDct decode "
        "| Pillow JPEG q90 decode |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, name, *ms in rows:
        lines.append(f"| {label} | {name} | " + " | ".join(_fmt(x, "{:.0f} ms") for x in ms) + " |")
    lines += [
        "",
        "Ratios (ours ÷ theirs; below 1 is faster):",
        "",
        "| size | method | embed ÷ dwtDct encode | detect clean ÷ dwtDct decode | detect marked "
        "÷ dwtDct decode | embed ÷ decode | detect clean ÷ decode | detect marked ÷ decode |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, name, e, dc, dm, pe, pd, dec in rows:
        ratios = (e / pe, dc / pd, dm / pd, e / dec, dc / dec, dm / dec)
        lines.append(
            f"| {label} | {name} | " + " | ".join(_fmt(r, "{:.2f}") for r in ratios) + " |"
        )
    lines.append("")
    for m in ours:
        hd, uhd = (r for r in rows if r[1] == m.name)
        lines.append(
            f"{m.name}, 4K ÷ 1080p: embed {uhd[2] / hd[2]:.2f}×, detect clean "
            f"{uhd[3] / hd[3]:.2f}×, detect marked {uhd[4] / hd[4]:.2f}×."
        )
    lines += [
        "",
        "The newest scheme alone (`detect(..., schemes=[newest])`; the rows above are the default "
        "`detect`, which also looks for the earlier schemes where the newest finds nothing):",
        "",
        "| size | detect clean | detect marked |",
        "|---|---:|---:|",
        *(f"| {label} | {c:.0f} ms | {k:.0f} ms |" for label, c, k in only),
    ]
    names = spread(list(photos), 8)
    batch = [
        ours[0].embed(np.asarray(Image.fromarray(photos[n]).resize((1920, 1080)))) for n in names
    ]
    loop_ms = median_ms(lambda: [detect(b, BENCH_KEY) for b in batch], 3) / len(batch)
    batch_ms = median_ms(lambda: detect_batch(batch, BENCH_KEY), 3) / len(batch)
    lines += [
        "",
        f"detect_batch on 8 marked 1080p photos ({ours[0].name}): {batch_ms:.0f} ms per image, "
        f"a loop of detect {loop_ms:.0f} ms per image ({batch_ms / loop_ms:.2f}×).",
        "",
    ]
    return lines


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="6 images, the fast attacks, --fp 300")
    ap.add_argument("--no-peers", action="store_true", help="aimark only")
    ap.add_argument("--fp", type=int, help="false-positive trials (default 10000, quick 300)")
    ap.add_argument("--images", type=int, help="use N photos spread over the corpus")
    ap.add_argument("--attacks", help="comma-separated attack names (default: all)")
    ap.add_argument(
        "--sections",
        default="robustness,fp,speed",
        help="comma-separated subset of robustness,fp,speed (default: all)",
    )
    ap.add_argument("--workers", type=int, default=1, help="processes for the robustness part")
    ap.add_argument("--out", type=Path, help="write the results block into this file")
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path("build/bench-watermark-peers"),
        help="folder keeping the peers' robustness results between runs "
        "(default build/bench-watermark-peers; --cache '' to recompute)",
    )
    ap.add_argument(
        "--slow-peer-images",
        type=int,
        default=10,
        help="photos the slow peers (RivaGAN, blind-watermark) run on (default 10; 0: all)",
    )
    ap.add_argument(
        "--peers-only", action="store_true", help="run the peers only (to fill the cache)"
    )
    ap.add_argument(
        "--slow-peers-cached",
        action="store_true",
        help="the slow peers only on the photos their cache already holds",
    )
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    if args.attacks:
        attacks = [a.strip() for a in args.attacks.split(",")]
        unknown = [a for a in attacks if a not in ATTACKS]
        if unknown:
            ap.error(f"unknown attacks {unknown}; known: {', '.join(ATTACKS)}")
    else:
        attacks = list(FAST_ATTACKS if args.quick else ATTACKS)
    n_images = args.images or (6 if args.quick else None)
    trials = args.fp if args.fp is not None else 300 if args.quick else 10_000

    corpus = load_photos()
    photos = {n: corpus[n] for n in spread(list(corpus), n_images or len(corpus))}
    probe = photos.get("astronaut", next(iter(photos.values())))
    specs = aimark_specs(probe)
    default = specs[0][0].removeprefix("aimark ")
    if args.peers_only:
        specs = []
    if not args.no_peers:
        for spec in PEERS:
            if args.quick and spec in SLOW_PEERS:
                continue
            try:
                get_method(spec)
                specs.append(spec)
            except Exception as exc:
                print(f"note: {spec[0]} {spec[1]} unavailable: {exc}", file=sys.stderr)

    py = platform.python_version()
    lines = [
        f"<!-- generated by: python benchmarks/bench_watermark_image.py {shlex.join(sys.argv[1:])} "
        f"({time.strftime('%Y-%m-%d')}, {os.cpu_count()}-core {platform.machine()}, "
        f"Python {py}) -->",
        "",
        f"Images ({len(photos)}): "
        + ", ".join(f"{n} {im.shape[1]}×{im.shape[0]}" for n, im in photos.items()),
        "",
    ]
    if "robustness" in sections:
        t0 = time.perf_counter()
        cache = args.cache if str(args.cache) not in ("", ".") else None
        results = robustness(
            specs,
            photos,
            attacks,
            args.workers,
            cache,
            args.slow_peer_images,
            args.slow_peers_cached,
        )
        print(f"robustness done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        lines += robustness_report(results, photos, attacks)
    if "fp" in sections and trials:
        lines += fp_report(false_positives(trials, photos, default))
    if "speed" in sections:
        ours = [m for s in specs if isinstance(m := get_method(s), Aimark)]
        dwt = None
        if ("invisible-watermark", "dwtDct") in specs:
            dwt = get_method(("invisible-watermark", "dwtDct"))
        lines += speed(corpus, ours, dwt)

    text = "\n".join(lines)
    print(text)
    if args.out:
        write_block(args.out, text, START, END)
        print(f"\nwritten to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
