"""Batch scan (aimark.scan) throughput, scaling and memory against a plain verify loop, in the
same run, on a folder of >= 2,000 mixed real files.

    python benchmarks/bench_scan.py [--files 2000] [--rounds 5] [--wm-rounds 1]
    python benchmarks/bench_scan.py --quick            # 400 files, one round: a smoke run
    python benchmarks/bench_scan.py --parts scan,rss   # leave out the per-layer split

Corpus: ``benchmarks/_scan_corpus.py`` (built once into ``build/scan-bench/corpus-<N>/``): the
fixtures and samples re-encoded at 256-2048 px as JPEG/PNG/WebP/TIFF/AVIF/HEIC/GIF, labelled
(C2PA + XMP + EXIF, some with the invisible watermark), watermarked only, tampered, corrupt,
the original C2PA fixtures, texts and JSON. Trust: the corpus' development root; key: its own.

Before each part: the load average and the cores other processes keep busy in a 2 s idle
sample (warning above 0.5: the 2-process figure only means something on an otherwise idle
machine; the load average itself still counts this benchmark's previous part for a minute).
First a pre-check: files on which aimark raises instead of reporting are named as bugs and
left out of the parts with a key (the scan would stop on them).

  layers  per file, in one process: decode, C2PA, metadata (probe + containers + XMP/EXIF),
          watermark detection (1 key, on decoded pixels) and the full ``verify_bytes``, timed
          alternately file by file; each layer's share of the full verify.
  scan    baseline: ``Verifier(...).verify(path)`` in a loop over the same files, one process.
          ``aimark.scan`` with workers=0 (in this process), 1 and 2 processes, and 2 with the
          JSON Lines output; rounds alternate the order. Printed: seconds, files/s, ratio to
          the loop (target <= 1.10 for workers 0 and 1), the time to the first report (worker
          start-up; the forkserver that imports aimark is started by the first scan with
          processes and shared by the later ones in this process, as in any long-lived caller;
          a one-shot ``aimark scan`` pays it once) and the 1 -> 2 process speed-up (>= 1.8).
          Two configurations: without watermark keys (C2PA + metadata: a few ms per file, so
          the scan machinery's own cost shows) and with one key (pixels decoded and searched:
          ~100-200 ms a file).
  rss     peak RSS of a whole 2-process scan with JSON Lines output of 1k, 10k and 30k files
          (hard links: copies of the corpus' first 1,000 files, so the mix is the same), each
          in a fresh process: the main process and the largest worker (VmHWM, their exact
          peaks) and the sum over all processes (sampled every 20 ms). Target: flat (~1.0).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import _scan_corpus as corpus_mod  # benchmarks/ is on sys.path when run as a script
import aimark
from aimark.errors import InputError, MissingExtraError
from aimark.media import containers, image_io
from aimark.media.sniff import sniff
from aimark.verification.metadata import image_metadata
from aimark.watermark.image import SCHEME_ID as V2
from aimark.watermark.image import SCHEMES, detect_batch

V1 = SCHEMES[1]

SCRATCH = corpus_mod.DEFAULT_ROOT
LOAD_WARN = 0.5


# ---------------------------------------------------------------- helpers


def busy_cores(seconds: float = 2.0) -> float | None:
    """Cores busy over ``seconds`` while this benchmark waits (Linux /proc/stat): other work."""

    def sample() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    a = sample()
    time.sleep(seconds)
    b = sample()
    if a is None or b is None or b[0] == a[0]:
        return None
    total, idle = b[0] - a[0], b[1] - a[1]
    return (total - idle) / total * (os.cpu_count() or 1)


def load_line(what: str) -> float | None:
    """Print the load average and the cores other processes keep busy right now (the load
    average still counts this benchmark's previous part for a minute or two)."""
    one, five, fifteen = os.getloadavg()
    busy = busy_cores()
    now = f", {busy:.2f} cores busy in a 2 s idle sample" if busy is not None else ""
    warn = ""
    if busy is not None and busy > LOAD_WARN:
        warn = "  WARNING: other work is running: parallel figures are not meaningful"
    elif busy is None and one > LOAD_WARN:
        warn = f"  WARNING: load > {LOAD_WARN}"
    print(
        f"[before {what}: load average {one:.2f} {five:.2f} {fifteen:.2f}{now}]{warn}", flush=True
    )
    return busy


def warm_cache(files: Iterable[Path]) -> None:
    """Read every file once so that no timed pass pays for the disk."""
    for p in files:
        p.read_bytes()


def norm(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.fspath(path))


# ---------------------------------------------------------------- pre-check


def precheck(corpus: corpus_mod.Corpus) -> tuple[str, ...]:
    """Files on which aimark *raises* instead of reporting (a bug: verify reports bad content).

    Cheap: verify without keys, plus the pixel decode a watermark key triggers. The timed
    parts with a key leave these files out (the loop skips them, the scans exclude them),
    loudly, so that the figures can still be taken until the bug is fixed."""
    verifier = aimark.Verifier(trust=corpus.trust)
    raising = []
    for e in corpus.entries:
        data = (corpus.files_dir / e["path"]).read_bytes()
        try:
            verifier.verify_bytes(data)
            if data and sniff(data) is not None:
                image_io.decode(data, verifier.limits)
        except (InputError, MissingExtraError):
            pass
        except Exception as exc:
            raising.append(e["path"])
            print(
                f"  aimark BUG: {e['path']} ({e['kind']}, {e.get('damage', '')}) raises "
                f"{type(exc).__name__}: {exc}"
            )
    if raising:
        print(
            f"  -> {len(raising)} file(s) left out of every part with a watermark key "
            "(verify(..., watermark_keys=...) and aimark.scan raise on them)"
        )
    return tuple(raising)


# ---------------------------------------------------------------- layers


LAYERS = ("read file", "metadata", "C2PA", "decode", "watermark (1 key)", "full verify_bytes")
# full verify_bytes: with the corpus' key and trust anchors, as a scan with one key does


def part_layers(corpus: corpus_mod.Corpus, raising: tuple[str, ...]) -> None:
    """Time each layer the way ``Verifier.verify_bytes`` calls it, file by file."""
    key = corpus.key
    verifier = aimark.Verifier(trust=corpus.trust, watermark_keys=[key])
    no_keys = aimark.Verifier(trust=corpus.trust)
    limits = verifier.limits
    totals: dict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    perf = time.perf_counter

    def one(path: Path, full_first: bool) -> None:
        t0 = perf()
        data = path.read_bytes()
        totals["read file"] += perf() - t0
        counts["read file"] += 1
        if full_first:
            full_verify(data, path)
        if data and sniff(data) is not None:  # empty, text, unknown: no image layers
            layers(data)
        if not full_first:
            full_verify(data, path)

    def full_verify(data: bytes, path: Path) -> None:
        t0 = perf()
        verifier.verify_bytes(data, name=str(path))
        t1 = perf()
        no_keys.verify_bytes(data, name=str(path))
        totals["full verify_bytes"] += t1 - t0
        totals["verify, no keys"] += perf() - t1
        counts["full verify_bytes"] += 1
        counts["verify, no keys"] += 1

    def layers(data: bytes) -> None:
        t0 = perf()
        try:
            info = image_io.probe(data, limits)
        except (InputError, MissingExtraError):
            totals["metadata"] += perf() - t0
            counts["metadata"] += 1
            return
        try:
            embedded = containers.read_metadata(data, info.format)
        except InputError:
            embedded = containers.Embedded()
        image_metadata(info, embedded)
        t1 = perf()
        verifier._reader.read(data, info.format.mime)
        t2 = perf()
        totals["metadata"] += t1 - t0
        totals["C2PA"] += t2 - t1
        counts["metadata"] += 1
        counts["C2PA"] += 1
        try:
            luma = image_io.decode_luma(data, limits)
        except (InputError, MissingExtraError):
            totals["decode"] += perf() - t2
            counts["decode"] += 1
            return
        t3 = perf()
        detect_batch([luma], [key], threshold=verifier.watermark_threshold)
        t4 = perf()
        totals["decode"] += t3 - t2
        totals["watermark (1 key)"] += t4 - t3
        counts["decode"] += 1
        counts["watermark (1 key)"] += 1
        # the same file the way aimark 0.1 did it: every pixel decoded, the .1 search
        t5 = perf()
        pixels = image_io.decode(data, limits).pixels
        t6 = perf()
        detect_batch([pixels], [key], threshold=verifier.watermark_threshold, schemes=[V1])
        t7 = perf()
        detect_batch([luma], [key], threshold=verifier.watermark_threshold, schemes=[V2])
        t8 = perf()
        totals["0.1: full decode"] += t6 - t5
        totals["0.1: .1 search"] += t7 - t6
        totals["(.2 alone)"] += t8 - t7

    files = tuple(p for p in corpus.files if p not in {corpus.files_dir / r for r in raising})
    for p in files[:: max(1, len(files) // 20)]:  # warm up every code path once
        one(p, True)
    totals.clear()
    counts.clear()
    load_line("the layer split")
    c0, t0 = time.process_time(), perf()
    for i, p in enumerate(files):  # the layers before or after the full verify, in turn
        one(p, i % 2 == 0)
    wall, cpu = perf() - t0, time.process_time() - c0
    n, full = len(files), totals["full verify_bytes"]
    print(
        f"\nPer-layer cost, one process, {n} files ({wall:.0f} s wall, "
        f"{cpu / wall:.2f} CPU cores busy on average)"
    )
    print(f"{'layer':<20} {'files':>6} {'total s':>8} {'ms/file':>8} {'share':>6}")
    for layer in LAYERS:
        share = totals[layer] / full if full else 0.0
        print(
            f"{layer:<20} {counts[layer]:>6} {totals[layer]:>8.1f} "
            f"{totals[layer] / n * 1000:>8.2f} {share:>6.1%}"
        )
    rest = full - sum(totals[k] for k in LAYERS[1:-1])
    print(
        f"{'(rest: sniff, report)':<20} {'':>6} {rest:>8.1f} {rest / n * 1000:>8.2f} "
        f"{rest / full:>6.1%}"
    )
    nk = totals["verify, no keys"]
    print(
        f"{'verify, no keys':<20} {n:>6} {nk:>8.1f} {nk / n * 1000:>8.2f} {nk / full:>6.1%}"
        "  (the same without the watermark key: no decode, no detection)"
    )
    print("(ms/file: over all files of the corpus; share: of the full verify_bytes total)")
    old = totals["0.1: full decode"] + totals["0.1: .1 search"]
    now = totals["decode"] + totals["watermark (1 key)"]
    print(
        f"\nWatermark layer, same files, same run: decode + detect now {now / n * 1000:.1f} "
        f"ms/file (luma decode {totals['decode'] / n * 1000:.1f}, .2 then .1 "
        f"{totals['watermark (1 key)'] / n * 1000:.1f}; .2 alone "
        f"{totals['(.2 alone)'] / n * 1000:.1f}) vs the 0.1 way (every pixel decoded "
        f"{totals['0.1: full decode'] / n * 1000:.1f}, the .1 search "
        f"{totals['0.1: .1 search'] / n * 1000:.1f}, today's .1 code): "
        f"{old / now:.2f}x faster"
    )


# ---------------------------------------------------------------- scan


def run_loop(files: tuple[Path, ...], keys: tuple[Any, ...], trust: Path) -> dict[str, str]:
    verifier = aimark.Verifier(trust=trust, watermark_keys=keys)
    return {norm(p): verifier.verify(p).verdict.status.value for p in files}


def run_scan(
    folder: Path,
    keys: tuple[Any, ...],
    trust: Path,
    workers: int,
    output: Path | None,
    exclude: tuple[str, ...] = (),
) -> tuple[dict[str, str], dict[str, Any]]:
    if output is not None:
        output.unlink(missing_ok=True)
    run = aimark.scan(
        [str(folder)],
        watermark_keys=keys,
        trust=trust,
        workers=workers,
        output=str(output) if output else None,
        resume=False,
        progress=False,
        exclude=exclude,
    )
    t0, first = time.perf_counter(), None
    statuses = {}
    for r in run:
        if first is None:
            first = time.perf_counter() - t0
        statuses[norm(r.source)] = r.verdict.status.value
    return statuses, {**run.summary.to_dict(), "first_report_s": first}


def part_scan(
    corpus: corpus_mod.Corpus, config: str, rounds: int, tmp: Path, raising: tuple[str, ...]
) -> tuple[dict[str, float], dict[str, str]]:
    """Time the loop and the scan variants; return the ratios and the loop's verdicts."""
    keys = (corpus.key,) if config == "1 key" else ()
    skip = raising if keys else ()
    left_out = {corpus.files_dir / r for r in skip}
    files = tuple(p for p in corpus.files if p not in left_out)
    folder, n, trust = corpus.files_dir, len(files), corpus.trust
    jsonl = tmp / "scan.jsonl"
    variants: list[tuple[str, Callable[[], tuple[dict[str, str], dict[str, Any] | None]]]] = [
        ("verify loop (baseline)", lambda: (run_loop(files, keys, trust), None)),
        ("scan workers=0", lambda: run_scan(folder, keys, trust, 0, None, skip)),
        ("scan workers=1", lambda: run_scan(folder, keys, trust, 1, None, skip)),
        ("scan workers=2", lambda: run_scan(folder, keys, trust, 2, None, skip)),
        ("scan workers=2 + JSONL", lambda: run_scan(folder, keys, trust, 2, jsonl, skip)),
    ]
    times: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[str, str]] = {}
    summaries: dict[str, dict[str, Any]] = {}
    firsts: dict[str, list[float]] = defaultdict(list)
    note = f" ({len(skip)} left out: aimark raises on them)" if skip else ""
    print(f"\n== scan, {config}: {n} files{note}, {rounds} round(s) ==")
    load_line(f"the scan ({config})")
    busy: list[float] = []
    for r in range(rounds):
        if r:
            b = busy_cores(1.0)
            busy.append(b if b is not None else 0.0)
        order = variants if r % 2 == 0 else variants[::-1]
        for name, fn in order:
            t0 = time.perf_counter()
            result, summary = fn()
            times[name].append(time.perf_counter() - t0)
            statuses.setdefault(name, result)
            if summary is not None:
                summaries.setdefault(name, summary)
                firsts[name].append(summary["first_report_s"] or 0.0)
    base = times[variants[0][0]]
    print(f"{'':<24} {'s':>7} {'files/s':>8} {'vs loop':>8} {'target':>7} {'1st report':>10}")
    out: dict[str, float] = {}
    for name, _ in variants:
        t = statistics.median(times[name])
        ratio = statistics.median(a / b for a, b in zip(times[name], base, strict=True))
        target = "<= 1.10" if name in ("scan workers=0", "scan workers=1") else ""
        first_s = f"{statistics.median(firsts[name]):.2f} s" if firsts[name] else ""
        print(f"{name:<24} {t:>7.2f} {n / t:>8.1f} {ratio:>8.3f} {target:>7} {first_s:>10}")
        out[name] = ratio
    w1, w2 = times["scan workers=1"], times["scan workers=2"]
    speedup = statistics.median(a / b for a, b in zip(w1, w2, strict=True))
    print(f"{'speed-up 1 -> 2 workers':<24} {speedup:>7.2f}x   (target >= 1.8)")
    out["speed-up"] = speedup
    if rounds > 1:
        spread = {k: f"{min(v):.2f}-{max(v):.2f}" for k, v in times.items()}
        print("range over rounds (s): " + ", ".join(f"{k}: {v}" for k, v in spread.items()))
        print("cores busy with other work between rounds: " + ", ".join(f"{b:.2f}" for b in busy))
    # the same verdicts, whichever way the files were verified
    loop = statuses[variants[0][0]]
    for name, got in statuses.items():
        if name == variants[0][0]:
            continue
        same = sum(loop.get(p) == s for p, s in got.items())
        skipped = sorted(set(loop) - set(got))
        why = Counter(loop[p] for p in skipped)
        print(
            f"  {name}: {len(got)} reports, {same} with the loop's verdict; "
            f"{len(skipped)} files not reported (loop said: {dict(why)})"
        )
    s = summaries.get("scan workers=2")
    if s:
        print(f"  summary (workers=2): by_status {s.get('by_status')}, skipped {s.get('skipped')}")
    return out, loop


def expectations(corpus: corpus_mod.Corpus, statuses: dict[str, str], config: str) -> None:
    """Per kind of file: the verdicts, and how many match the one its recipe implies."""
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    pinned: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for e in corpus.entries:
        got = statuses.get(norm(corpus.files_dir / e["path"])) or "-"
        by_kind[e["kind"]][got] += 1
        expect = e.get("expect")
        if expect == "labelled-watermark" and config == "no keys":
            expect = "not-labelled"  # only the pixels carry it, and no key was given
        if expect:
            pinned[e["kind"]] += 1
            matched[e["kind"]] += got == expect
    print(f"\nVerdicts by kind of file (verify loop, {config}):")
    for kind, c in sorted(by_kind.items(), key=lambda kv: -sum(kv[1].values())):
        match = f"{matched[kind]}/{pinned[kind]} as expected" if pinned[kind] else "no expectation"
        print(f"  {kind:<15} {match:<22} {dict(c.most_common())}")


# ---------------------------------------------------------------- rss


class _PeakSampler(threading.Thread):
    """Samples the RSS of this process and its descendants (Linux /proc) every 20 ms; keeps
    each process' VmHWM (its own peak, exact) and the peak of the sum of current RSS (shared
    pages counted in every process)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.hwm: dict[int, int] = {}
        self.total_peak = 0

    @staticmethod
    def _status(pid: int) -> dict[str, str]:
        out = {}
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    out[k] = v.strip()
        except OSError:
            pass
        return out

    def _descendants(self) -> list[int]:
        me = os.getpid()
        parent: dict[int, int] = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                st = self._status(int(d))
                if "PPid" in st:
                    parent[int(d)] = int(st["PPid"])
        out = []
        for pid in parent:
            p, seen = pid, 0
            while p in parent and seen < 64:
                p, seen = parent[p], seen + 1
                if p == me:
                    out.append(pid)
                    break
        return out

    def run(self) -> None:
        pids, listed = [os.getpid()], 0.0
        while not self.stop.is_set():
            if time.monotonic() - listed > 0.5:  # walking /proc is slow: twice a second
                pids, listed = [os.getpid(), *self._descendants()], time.monotonic()
            total = 0
            for pid in pids:
                st = self._status(pid)
                if "VmHWM" in st:
                    self.hwm[pid] = max(self.hwm.get(pid, 0), int(st["VmHWM"].split()[0]))
                    total += int(st["VmRSS"].split()[0])
            self.total_peak = max(self.total_peak, total)
            self.stop.wait(0.02)


def rss_child(
    folder: Path,
    corpus_root: Path,
    workers: int,
    with_key: bool,
    out: Path,
    exclude: tuple[str, ...],
) -> None:
    """One scan in this fresh process; print its memory figures as JSON."""
    manifest = json.loads((corpus_root / "manifest.json").read_text())
    keys = (aimark.WatermarkKey.load(corpus_root / manifest["key"]),) if with_key else ()
    sampler = _PeakSampler()
    sampler.start()
    t0 = time.perf_counter()
    run = aimark.scan(
        [str(folder)],
        watermark_keys=keys,
        trust=corpus_root / manifest["trust"],
        workers=workers,
        output=str(out),
        resume=False,
        exclude=exclude,
    )
    reports = sum(1 for _ in run)
    elapsed = time.perf_counter() - t0
    time.sleep(0.3)  # let the last samples in
    sampler.stop.set()
    sampler.join()
    me = os.getpid()
    workers_hwm = [v for pid, v in sampler.hwm.items() if pid != me]
    own = _PeakSampler._status(me)  # VmHWM, not ru_maxrss: that one survives fork + exec
    main_hwm = int(own["VmHWM"].split()[0])
    print(
        json.dumps(
            {
                "reports": reports,
                "elapsed_s": elapsed,
                "main_hwm_kb": main_hwm,
                "children_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                "largest_worker_hwm_kb": max(workers_hwm, default=0),
                "processes": len(sampler.hwm),
                "sum_rss_peak_kb": sampler.total_peak,
            }
        )
    )


def part_rss(
    corpus: corpus_mod.Corpus,
    sizes: tuple[int, ...],
    with_key: bool,
    tmp: Path,
    raising: tuple[str, ...],
) -> None:
    label = "1 key" if with_key else "no keys"
    print(f"\n== peak memory, 2-process scan with JSON Lines output, {label} ==")
    load_line("the memory runs")
    rows = []
    for total in sizes:
        per_copy = sizes[0]  # every tree: copies of the same first files, the same mix
        folder = SCRATCH / f"tree-{corpus.root.name}-{per_copy}x{total // per_copy}"
        corpus_mod.linked_tree(corpus, total, folder, per_copy)
        out = tmp / f"rss-{total}.jsonl"
        out.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            __file__,
            "--rss-child",
            str(folder),
            "--corpus-root",
            str(corpus.root),
            "--out",
            str(out),
        ]
        if with_key:
            cmd.append("--rss-key")
            for rel in raising:
                cmd += ["--exclude", f"copy-*/{rel}"]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            print(res.stderr[-2000:])
            raise SystemExit(f"memory run for {total} files failed")
        fig = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append((total, fig))
    print(
        f"{'files':>7} {'reports':>8} {'s':>6} {'main MB':>8} {'worker MB':>10} "
        f"{'all procs MB':>13} {'procs':>6}"
    )
    for total, f in rows:
        print(
            f"{total:>7} {f['reports']:>8} {f['elapsed_s']:>6.1f} "
            f"{f['main_hwm_kb'] / 1024:>8.1f} {f['largest_worker_hwm_kb'] / 1024:>10.1f} "
            f"{f['sum_rss_peak_kb'] / 1024:>13.1f} {f['processes']:>6}"
        )
    small, a = rows[0]
    for big, b in rows[1:]:
        print(
            f"ratio {big} / {small} files: main {b['main_hwm_kb'] / a['main_hwm_kb']:.3f}, "
            f"largest worker {b['largest_worker_hwm_kb'] / max(a['largest_worker_hwm_kb'], 1):.3f}"
            f", all processes {b['sum_rss_peak_kb'] / max(a['sum_rss_peak_kb'], 1):.3f} "
            "(target: flat, ~1.0)"
        )


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000, help="corpus size (default 2000)")
    ap.add_argument("--quick", action="store_true", help="400 files, 1 round, rss 200 vs 2000")
    ap.add_argument("--parts", default="layers,scan,rss", help="layers,scan,rss")
    ap.add_argument("--configs", default="no keys,1 key", help="scan configurations to time")
    ap.add_argument("--rounds", type=int, default=5, help="rounds without keys (default 5)")
    ap.add_argument("--wm-rounds", type=int, default=1, help="rounds with 1 key (default 1)")
    ap.add_argument(
        "--rss-files",
        default="1000,10000,30000",
        help="tree sizes for the memory part (copies of the first N files; default 1k,10k,30k)",
    )
    ap.add_argument("--rss-key", action="store_true", help="memory runs with the watermark key")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rss-child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--corpus-root", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--exclude", action="append", default=[], help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.rss_child:
        rss_child(args.rss_child, args.corpus_root, 2, args.rss_key, args.out, tuple(args.exclude))
        return
    # Pillow's "Corrupt EXIF data" warnings on the corrupt files, here and in the workers
    os.environ["PYTHONWARNINGS"] = "ignore::UserWarning"
    warnings.simplefilter("ignore", UserWarning)
    if args.quick:
        args.files, args.rounds, args.wm_rounds, args.rss_files = 400, 1, 1, "200,2000"
    parts = set(args.parts.split(","))
    configs = [c.strip() for c in args.configs.split(",")]

    import c2pa
    import PIL

    print(
        f"aimark {aimark.__version__}, c2pa-python {c2pa.sdk_version()}, Pillow {PIL.__version__}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    t0 = time.perf_counter()
    corpus = corpus_mod.build_corpus(args.files, seed=args.seed)
    print(
        f"corpus {corpus.files_dir}: {len(corpus.files)} files, "
        f"{corpus.total_bytes / 1e6:.0f} MB ({time.perf_counter() - t0:.0f} s to build or load)"
    )
    print(corpus_mod.summary(corpus))
    warm_cache(corpus.files)
    tmp = SCRATCH / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)

    raising = precheck(corpus)
    if "layers" in parts:
        part_layers(corpus, raising)
    if "scan" in parts:
        loops = {}
        for config in configs:
            rounds = args.wm_rounds if config == "1 key" else args.rounds
            loops[config] = part_scan(corpus, config, rounds, tmp, raising)[1]
        config = "1 key" if "1 key" in loops else configs[-1]
        expectations(corpus, loops[config], config)
    if "rss" in parts:
        sizes = tuple(int(s) for s in args.rss_files.split(","))
        part_rss(corpus, sizes, args.rss_key, tmp, raising)
    load_line("the end (after all timed parts)")


if __name__ == "__main__":
    main()
