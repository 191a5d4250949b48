"""What one ``aimark verify`` of an unlabelled JPEG costs against a bare c2pa-python script.

    python benchmarks/bench_startup.py [--repeat 15] [--decode-repeat 15]

Three fresh processes are run alternately, ``--repeat`` times each, on the same unlabelled
photo-like JPEG (640x480, no metadata): (a) a bare c2pa-python script (``import c2pa``, read
the file, ``c2pa.Reader`` on it: "no manifest"), (b) ``python -m aimark verify FILE`` (no
keys, no trust anchors) and (c) ``python -c "import aimark"``. Each is wrapped in the same
few lines that print the process's peak resident set (``VmHWM`` from ``/proc/self/status``)
at exit; ``ru_maxrss`` of a child is not used, as on Linux a forked child starts with its
parent's. Wall time, CPU time (user + system, from ``RUSAGE_CHILDREN`` deltas) and peak RSS
are medians; the ratio is against (a), measured in the same run.

Then ``aimark.media.image_io.decode_luma`` (what a watermark detector decodes) on a 4000x3000
JPEG, in this process, median of ``--decode-repeat``.

The aimark measured is the one this interpreter imports (set ``PYTHONPATH`` to compare
checkouts); the children get this process's environment, less ``PYTHONDONTWRITEBYTECODE``:
an installed aimark runs from compiled bytecode, as c2pa-python does, so the warm-up run
writes ``__pycache__`` next to the sources measured.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_PEAK = """
import atexit, sys
def _peak():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                sys.stderr.write("\\n@@VmHWM " + line.split()[1] + "\\n")
atexit.register(_peak)
"""

_BARE_C2PA = """
import io, c2pa
path = sys.argv[1]
with open(path, "rb") as f:
    data = f.read()
try:
    with c2pa.Reader("image/jpeg", io.BytesIO(data)) as reader:
        print(reader.json())
except c2pa.C2paError as exc:
    print(f"{path}: no manifest ({type(exc).__name__})")
"""

_AIMARK_VERIFY = """
import runpy
sys.argv = ["aimark", "verify", sys.argv[1]]
runpy.run_module("aimark", run_name="__main__", alter_sys=True)
"""

_IMPORT_AIMARK = """
import aimark
"""

_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

CASES = (
    ("bare c2pa-python (import c2pa + Reader)", _BARE_C2PA),
    ("`python -m aimark verify FILE`", _AIMARK_VERIFY),
    ('`python -c "import aimark"`', _IMPORT_AIMARK),
)


def _run(code: str, path: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (kB) of one child running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _PEAK + code, str(path)],
        capture_output=True,
        text=True,
        env=_ENV,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = [ln for ln in out.stderr.splitlines() if ln.startswith("@@VmHWM ")]
    if out.returncode not in (0, 2) or not peak:  # aimark verify: 2 is "not labelled"
        raise SystemExit(f"child failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return wall, cpu, int(peak[-1].split()[1])


def _jpeg(width: int, height: int, quality: int = 90) -> bytes:
    import numpy as np
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_c2pa import photo

    if width * height > 1e6:
        return photo(width, height)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    arr = np.stack([128 + 90 * np.sin(x / 37), 128 + 90 * np.cos(y / 23), (x + y) % 256], -1)
    arr += rng.normal(0, 10, arr.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--decode-repeat", type=int, default=15)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "plain.jpg"
    path.write_bytes(_jpeg(640, 480))

    import aimark

    where = Path(aimark.__file__).resolve().parent
    print(f"# start-up of one verify (aimark from {where}), median of {args.repeat}")
    for _, code in CASES:  # warm up the page cache and the bytecode caches
        _run(code, path)
    samples: list[list[tuple[float, float, int]]] = [[] for _ in CASES]
    for _ in range(args.repeat):  # alternately, so that drift hits every case alike
        for acc, (_, code) in zip(samples, CASES, strict=True):
            acc.append(_run(code, path))
    medians = [tuple(statistics.median(s[i] for s in acc) for i in range(3)) for acc in samples]
    base_wall, base_cpu, base_rss = medians[0]
    print("| process | wall | CPU | peak RSS | wall ratio | CPU ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for (name, _), (wall, cpu, rss) in zip(CASES, medians, strict=True):
        print(
            f"| {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {rss / 1024:.0f} MB | "
            f"{wall / base_wall:.2f} | {cpu / base_cpu:.2f} |"
        )
    del base_rss

    from aimark.media import image_io

    big = _jpeg(4000, 3000)
    luma = image_io.decode_luma(big)  # warm up
    times = []
    for _ in range(args.decode_repeat):
        t0 = time.perf_counter()
        image_io.decode_luma(big)
        times.append(time.perf_counter() - t0)
    print()
    print(
        f"# decode_luma of a 4000x3000 JPEG ({len(big) / 1e6:.1f} MB), median of "
        f"{args.decode_repeat}"
    )
    print("| output | time |")
    print("| --- | ---: |")
    print(
        f"| {luma.shape[1]}x{luma.shape[0]} {luma.dtype} | "
        f"{statistics.median(times) * 1000:.1f} ms |"
    )


if __name__ == "__main__":
    main()
