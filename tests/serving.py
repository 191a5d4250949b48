"""Run ``aimark serve`` as a real uvicorn process on loopback, for the HTTP and browser tests."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    url: str
    proc: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def serve(
    *args: str,
    tmp: Path,
    env: dict[str, str] | None = None,
    ready: float = 60,
    open_files: int | None = None,
) -> Iterator[Served]:
    """``python -m aimark serve --port N *args``; yields once /healthz answers, then stops
    the server with SIGINT (as Ctrl-C would) and checks it exits cleanly. ``open_files``
    sets the server's open-file limit, soft and hard (as ``ulimit -n`` does)."""

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    port = free_port()
    log = tmp / f"serve-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aimark",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=limit_files if open_files else None,
        )
    served = Served(f"http://127.0.0.1:{port}", proc, log)
    try:
        t0 = time.monotonic()
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"aimark serve exited {proc.returncode}:\n{served.log_text()}")
            try:
                with urllib.request.urlopen(served.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > ready:
                raise AssertionError(f"aimark serve did not start:\n{served.log_text()}")
            time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
