"""Load test of ``aimark serve`` on loopback: concurrent clients uploading a mix of valid,
labelled, corrupt and oversized files for a fixed time, against a plain verify loop measured
in the same run.

    python benchmarks/bench_server.py [--clients 32] [--seconds 60] [--concurrency N]
    python benchmarks/bench_server.py --quick        # 8 clients, 10 s: a smoke run
    python benchmarks/bench_server.py --attack [--slow-headers 1100] [--open-files 1024]
                                      [--seconds 40] [--src OTHER_CHECKOUT/src]
    python benchmarks/bench_server.py --burst 10,32,64,100 [--queue N]

The server: ``aimark serve`` in its own process (uvicorn, worker processes for verification,
default limits except ``--max-body-bytes 8 MiB``), trusting a development root made for the
run, with one watermark key (so every image's pixels are decoded and searched, the expensive
path). The clients: ``--clients`` asyncio tasks on httpx connections (keep-alive), each
sending one upload after another, drawn at random (seeded) from the mix below. Clients and
server share this machine's cores; the client side costs CPU too, and is included.

Mix (weights): plain JPEG 640x480 (30), plain PNG 1024x768 (10), labelled JPEG (C2PA + XMP +
watermark, 25), labelled PNG (5), signed text (5), plain text (5), corrupt JPEG (cut after 600
bytes, 10), oversized (a 9 MiB body; 413 before it is read, 10). Expected answers: 200 for the
valid ones, 422 for the corrupt one, 413 for the oversized one, and 503 (busy) when every
place is taken (the client then waits as Retry-After says, with jitter, and sends its next
upload); anything else counts as an error.

Printed: requests/s (all, and verifications that completed), p50/p90/p99 latency per kind,
status counts, error rate, RSS of the server and its workers (sum of VmRSS) after warm-up, at
each third of the run and at the end; and the baseline: the same mix's verifiable files
through ``Verifier.verify_bytes`` in ``concurrency`` processes with no HTTP, as files/s; the
ratio says what HTTP, isolation and the load generator cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

import aimark

EXPECTED = {
    "plain-jpeg": {200},
    "plain-png": {200},
    "labelled-jpeg": {200},
    "labelled-png": {200},
    "signed-text": {200},
    "plain-text": {200},
    "corrupt": {422},
    "oversized": {413},
}
WEIGHTS = {
    "plain-jpeg": 30,
    "plain-png": 10,
    "labelled-jpeg": 25,
    "labelled-png": 5,
    "signed-text": 5,
    "plain-text": 5,
    "corrupt": 10,
    "oversized": 10,
}
MAX_BODY = 8 * 1024 * 1024


def _photo(w: int, h: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack(
        [128 + 90 * np.sin(x / 41 + seed), 128 + 90 * np.cos(y / 29), (x + y) % 256], -1
    )
    base += rng.normal(0, 9, base.shape)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    import io

    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def build_inputs(tmp: Path) -> tuple[dict[str, list[bytes]], Path, Path]:
    dev = aimark.create_dev_credentials(tmp / "creds")
    key = aimark.WatermarkKey.generate()
    key.save(tmp / "wm.key")
    labeler = aimark.Labeler(dev.credentials(), generator=("bench-model", "1.0"), watermark_key=key)
    files: dict[str, list[bytes]] = defaultdict(list)
    for i in range(4):
        jpeg = _encode(_photo(640, 480, i), "JPEG", quality=88)
        png = _encode(_photo(1024, 768, 10 + i), "PNG")
        files["plain-jpeg"].append(jpeg)
        files["plain-png"].append(png)
        files["labelled-jpeg"].append(bytes(labeler.label_image(jpeg)))
        files["labelled-png"].append(bytes(labeler.label_image(png)))
        files["corrupt"].append(jpeg[:600])  # cut inside the headers: cannot be read
        text = f"Paragraph {i}: a short note written for the benchmark.\n" * 8
        files["plain-text"].append(text.encode())
        files["signed-text"].append(labeler.label_text(text).encode("utf-8"))
    files["oversized"].append(os.urandom(MAX_BODY + 1024 * 1024))
    return files, dev.root_cert, tmp / "wm.key"


def _tree_rss(pid: int) -> int:
    """VmRSS (bytes) of ``pid`` and all its descendants."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    tree, frontier = {pid}, [pid]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for p in tree:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _client(
    c: httpx.AsyncClient, rng: random.Random, files, deadline: float, out: list
) -> None:
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        body = rng.choice(files[kind])
        t0 = time.perf_counter()
        retry_after = 0.0
        try:
            r = await c.post("/v1/verify", content=body)
            status: int | str = r.status_code
            if status == 503:  # a well-behaved client waits as told
                retry_after = float(r.headers.get("retry-after", "1"))
        except httpx.HTTPError as exc:
            status = f"client-error:{type(exc).__name__}"
        out.append((kind, status, time.perf_counter() - t0, time.monotonic()))
        if retry_after:
            await asyncio.sleep(retry_after * rng.uniform(0.5, 1.5))


async def load(url: str, files, clients: int, seconds: float, pid: int) -> tuple[list, list]:
    rss: list[tuple[str, int]] = [("after warm-up", _tree_rss(pid))]
    results: list = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as c:
        tasks = [
            asyncio.create_task(_client(c, random.Random(i), files, deadline, results))
            for i in range(clients)
        ]
        for k in (1, 2):
            await asyncio.sleep(seconds / 3)
            rss.append((f"{k}/3 of the run", _tree_rss(pid)))
        await asyncio.gather(*tasks)
    rss.append(("end", _tree_rss(pid)))
    return results, rss


def _verify_all(args: tuple[bytes, ...]) -> int:
    trust, key_path, blobs = args
    v = aimark.Verifier(trust=trust, watermark_keys=[aimark.WatermarkKey.load(key_path)])
    for b in blobs:
        v.verify_bytes(b)
    return len(blobs)


def baseline(files, root: Path, key: Path, workers: int, seconds: float) -> float:
    """Files/s of verify_bytes on the verifiable part of the mix, in ``workers`` processes."""
    rng = random.Random(99)
    kinds = [k for k in WEIGHTS if k != "oversized"]
    weights = [WEIGHTS[k] for k in kinds]
    sample = [rng.choice(files[rng.choices(kinds, weights)[0]]) for _ in range(400)]
    chunks = [tuple(sample[i::workers]) for i in range(workers)]
    trust = root.read_bytes()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_verify_all, [(trust, str(key), c[:4]) for c in chunks]))  # warm
        done, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            done += sum(pool.map(_verify_all, [(trust, str(key), c) for c in chunks]))
        return done / (time.perf_counter() - t0)


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q)) * 1000 if xs else float("nan")


ATTACK_DOC = """
Attack mode (``--attack``): the server runs under ``ulimit -n --open-files`` (soft and hard)
while ``--slow-headers`` clients each open a connection and send one header line every 2 s,
never ending the head, and reconnect at once when dropped; ``--deep-json`` clients post a JSON
body nested 100,000 deep to the resolution API again and again. A probe asks ``/healthz``
every 0.25 s (5 s timeout). Printed: the probe's answered share and latency, the most socket
descriptors the server held, what the slow clients were answered, the deep-JSON answers, and
the size of the server's log. ``--src`` runs the server from another checkout's ``src`` (to
measure an older version in the same run).
"""


def _sockets(pid: int) -> int:
    try:
        return sum(
            1
            for fd in os.listdir(f"/proc/{pid}/fd")
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        )
    except OSError:
        return 0


async def _dribbler(port: int, deadline: float, outcomes: Counter) -> None:
    while time.monotonic() < deadline:
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            outcomes["connect-failed"] += 1
            await asyncio.sleep(0.5)
            continue
        outcomes["connections"] += 1
        try:
            w.write(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n")
            i = 0
            while time.monotonic() < deadline:
                try:
                    data = await asyncio.wait_for(r.read(64), 2)
                except asyncio.TimeoutError:
                    w.write(b"X-Slow-%d: a\r\n" % i)
                    await w.drain()
                    i += 1
                    continue
                head = data.split(b"\r\n", 1)[0]
                outcomes[
                    head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "closed"
                ] += 1
                break
            else:
                outcomes["still-held-at-end"] += 1
        except (ConnectionError, OSError):
            outcomes["reset"] += 1
        finally:
            w.close()


async def _deep_json(url: str, deadline: float, outcomes: Counter) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        while time.monotonic() < deadline:
            try:
                r = await c.post("/v1/matches/byBinding", content=body)
                outcomes[str(r.status_code)] += 1
            except httpx.HTTPError as exc:
                outcomes[type(exc).__name__] += 1
                await asyncio.sleep(0.2)


async def _probe(
    url: str, deadline: float, pid: int, sockets: list, failures: Counter
) -> list[float | None]:
    out: list[float | None] = []
    await asyncio.sleep(3)  # let the slow clients take their places first
    async with httpx.AsyncClient(
        base_url=url, timeout=5, limits=httpx.Limits(max_keepalive_connections=0)
    ) as c:
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                r = await c.get("/healthz")
                out.append(time.perf_counter() - t0 if r.status_code == 200 else None)
                if r.status_code != 200:
                    failures[str(r.status_code)] += 1
            except httpx.HTTPError as exc:
                out.append(None)
                failures[type(exc).__name__] += 1
            sockets.append(_sockets(pid))
            await asyncio.sleep(0.25)
    return out


def attack(args: argparse.Namespace) -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # for the clients' side
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        if args.src:
            env["PYTHONPATH"] = os.path.abspath(args.src)
        log_path = tmp / "server.log"
        server_cmd = (
            f"ulimit -n {args.open_files} && exec {sys.executable} -m aimark serve "
            f"--port {port} --isolation thread --repository {tmp / 'm.db'}"
        )
        with open(log_path, "wb") as log:
            server = subprocess.Popen(["bash", "-c", server_cmd], stdout=log, stderr=log, env=env)
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)

            async def run() -> tuple[list, Counter, Counter, list]:
                deadline = time.monotonic() + args.seconds
                slow, deep, sockets = Counter(), Counter(), []
                failures.clear()
                tasks = [
                    asyncio.create_task(_dribbler(port, deadline, slow))
                    for _ in range(args.slow_headers)
                ]
                tasks += [
                    asyncio.create_task(_deep_json(url, deadline, deep))
                    for _ in range(args.deep_json)
                ]
                probes = await _probe(url, deadline, server.pid, sockets, failures)
                await asyncio.gather(*tasks)
                return probes, slow, deep, sockets

            failures: Counter = Counter()
            probes, slow, deep, sockets = asyncio.run(run())
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log = log_path.read_bytes()
        if args.keep_log:
            Path(args.keep_log).write_bytes(log)
    answered = [p for p in probes if p is not None]
    version = args.src or "this checkout"
    print(
        f"# slow-header and deep-JSON attack on aimark serve ({version}): ulimit -n "
        f"{args.open_files}, {args.slow_headers} slow-header clients (a header line every 2 s, "
        f"reconnecting), {args.deep_json} deep-JSON clients, {args.seconds:g} s"
    )
    print(
        f"/healthz: {len(answered)} of {len(probes)} probes answered; p50 "
        f"{_pct(answered, 50):.0f} ms, p99 {_pct(answered, 99):.0f} ms, max "
        f"{max(answered, default=float('nan')) * 1000:.0f} ms"
        + (
            "; not answered: " + ", ".join(f"{k} {v}" for k, v in failures.items())
            if failures
            else ""
        )
    )
    print(
        f"server sockets held: max {max(sockets, default=0)}, last {sockets[-1] if sockets else 0}"
    )
    print("slow-header clients: " + ", ".join(f"{k} {v:,}" for k, v in sorted(slow.items())))
    print("deep-JSON answers: " + ", ".join(f"{k} {v:,}" for k, v in sorted(deep.items())))
    print(
        f"server log: {len(log.splitlines()):,} lines, {len(log) / 1e6:.1f} MB, "
        f"{log.count(b'Traceback'):,} tracebacks"
    )


BURST_DOC = """
Burst mode (``--burst 10,32,64``): ``aimark serve`` with its default limits (only ``--trust``
and ``--watermark-key`` given, and ``--queue`` if asked) receives, for each size N, N uploads
of a plain 640x480 JPEG sent at the same instant on N connections; printed per burst: how many
were answered 200 and 503, and the p50/p99/max latency of the 200s. One burst after another,
a second apart.
"""


async def _burst(url: str, body: bytes, n: int) -> list[tuple[int | str, float]]:
    go = asyncio.Event()
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as c:

        async def one() -> tuple[int | str, float]:
            await go.wait()
            t0 = time.perf_counter()
            try:
                r = await c.post("/v1/verify", content=body)
                return r.status_code, time.perf_counter() - t0
            except httpx.HTTPError as exc:
                return f"client-error:{type(exc).__name__}", time.perf_counter() - t0

        tasks = [asyncio.create_task(one()) for _ in range(n)]
        await asyncio.sleep(0.05)
        go.set()
        return await asyncio.gather(*tasks)


def burst(args: argparse.Namespace) -> None:
    sizes = [int(x) for x in args.burst.split(",")]
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        files, root, key = build_inputs(tmp)
        body = files["plain-jpeg"][0]
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        cmd = [
            sys.executable, "-m", "aimark", "serve", "--port", str(port), "--trust", str(root),
            "--watermark-key", str(key), "--no-access-log",
        ] + (["--queue", str(args.queue)] if args.queue is not None else [])  # fmt: skip
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            asyncio.run(_burst(url, body, 2))  # warm-up: the workers have verified once
            results = []
            for n in sizes:
                results.append((n, asyncio.run(_burst(url, body, n))))
                time.sleep(1)
        finally:
            server.send_signal(signal.SIGINT)
            _, err = server.communicate(timeout=60)
    start = next((x for x in err.decode().splitlines() if "aimark serve on" in x), "")
    queue = "default" if args.queue is None else str(args.queue)
    print(f"# burst of parallel uploads, {cores} cores, queue {queue}, {len(body):,}-byte JPEG")
    print("# " + start[start.find("aimark serve on") :])
    print("| burst | 200 | 503 | other | p50 ms (200s) | p99 ms | max ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, res in results:
        counts = Counter(s for s, _ in res)
        ok = [t for s, t in res if s == 200]
        other = n - counts[200] - counts[503]
        top = max(ok, default=float("nan")) * 1000
        print(
            f"| {n} | {counts[200]} | {counts[503]} | {other} | {_pct(ok, 50):.0f} | "
            f"{_pct(ok, 99):.0f} | {top:.0f} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=ATTACK_DOC + BURST_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    ap.add_argument("--attack", action="store_true", help="slow-header and deep-JSON clients")
    ap.add_argument("--slow-headers", type=int, default=1100)
    ap.add_argument("--deep-json", type=int, default=4)
    ap.add_argument("--open-files", type=int, default=1024)
    ap.add_argument("--src", help="run the server from this src folder (attack mode)")
    ap.add_argument("--keep-log", metavar="FILE", help="copy the server's log here (attack mode)")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--concurrency", type=int, default=0, help="server workers (0: cores)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--burst", metavar="N,N,...", help="bursts of N parallel uploads")
    ap.add_argument("--queue", type=int, help="the server's --queue (burst mode; default: its own)")
    args = ap.parse_args()
    if args.burst:
        burst(args)
        return
    if args.attack:
        attack(args)
        return
    if args.quick:
        args.clients, args.seconds = 8, 10
    cores = len(os.sched_getaffinity(0))
    workers = args.concurrency or cores
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        files, root, key = build_inputs(tmp)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        cmd = [
            sys.executable, "-m", "aimark", "serve", "--port", str(port), "--trust", str(root),
            "--watermark-key", str(key), "--max-body-bytes", str(MAX_BODY),
            "--concurrency", str(workers), "--log-level", "warning",
        ]  # fmt: skip
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            # warm-up: every worker has verified something
            asyncio.run(load(url, files, min(args.clients, 4), 3, server.pid))
            results, rss = asyncio.run(load(url, files, args.clients, args.seconds, server.pid))
        finally:
            server.send_signal(signal.SIGINT)
            _, err = server.communicate(timeout=60)
        base = baseline(files, root, key, workers, min(args.seconds, 20))

    statuses = Counter(str(s) for _, s, _, _ in results)
    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    for kind, status, latency, _ in results:
        by_kind[kind].append(latency)
        if status not in EXPECTED[kind] and status != 503:
            errors[f"{kind} -> {status}"] += 1
    verified = sum(
        1 for kind, status, _, _ in results if status in (200, 422) and kind != "oversized"
    )
    total_s = args.seconds
    print(
        f"# aimark serve load test: {args.clients} clients, {args.seconds:g} s, "
        f"{workers} verification workers, {cores} cores, Python {sys.version.split()[0]}"
    )
    print(
        f"requests {len(results):,}: {len(results) / total_s:.1f} req/s; verifications "
        f"completed {verified:,}: {verified / total_s:.1f}/s"
    )
    print(
        f"baseline verify_bytes in {workers} processes, same mix, no HTTP: {base:.1f} files/s; "
        f"service / baseline = {verified / total_s / base:.2f}"
    )
    lat = [x for _, _, x, _ in results]
    print(
        f"latency all: p50 {_pct(lat, 50):.0f} ms, p90 {_pct(lat, 90):.0f} ms, "
        f"p99 {_pct(lat, 99):.0f} ms"
    )
    print("| kind | requests | p50 ms | p90 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for kind in WEIGHTS:
        xs = by_kind.get(kind, [])
        cells = " | ".join(f"{_pct(xs, q):.0f}" for q in (50, 90, 99))
        print(f"| {kind} | {len(xs):,} | {cells} |")
    print("status counts: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items())))
    n_err = sum(errors.values())
    print(f"unexpected answers: {n_err} ({n_err / max(1, len(results)):.2%}) {dict(errors)}")
    print(
        "RSS of the server and its workers: "
        + ", ".join(f"{label} {b / 2**20:.0f} MiB" for label, b in rss)
    )
    growth = rss[-1][1] / rss[0][1]
    print(f"RSS end / after warm-up: {growth:.2f}")
    if "Traceback" in err.decode(errors="replace"):
        print("the server's log has a traceback:\n" + err.decode(errors="replace")[-3000:])


if __name__ == "__main__":
    main()
