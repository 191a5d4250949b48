"""Connections that never finish their request head (slowloris), over real sockets against a
real ``aimark serve``: they are bounded and timed out, the server keeps answering health
probes, and its log stays a few lines long, also under a small open-file limit."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import urllib.request

import pytest

pytest.importorskip("uvicorn", reason="uvicorn is installed by the server extra")

from aimark.server.connections import RateLimitFilter, connection_budget
from serving import serve


class Dribblers:
    """``n`` clients that each send a request line, then one header line every ``pause``
    seconds, never ending the head; each records what the server answered, if anything."""

    def __init__(self, url: str, n: int, pause: float = 0.5) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.addr = (host, int(port))
        self.pause = pause
        self.answers: list[bytes] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.socks: list[socket.socket] = []
        for _ in range(n):
            s = socket.create_connection(self.addr, timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
            self.socks.append(s)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        live = list(self.socks)
        i = 0
        while live and not self.stop.is_set():
            for s in list(live):
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    data = None
                except OSError:  # reset by the server
                    data = b""
                if data is not None:  # answered or closed: this client is done
                    with self._lock:
                        self.answers.append(data)
                    live.remove(s)
                    continue
                with contextlib.suppress(OSError):
                    s.send(b"X-Slow-%d: a\r\n" % i)
            i += 1
            self.stop.wait(self.pause)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        for s in self.socks:
            s.close()

    def statuses(self) -> list[int | None]:
        with self._lock:
            return [int(a.split()[1]) if a.startswith(b"HTTP/1.1 ") else None for a in self.answers]


def _health_latency(url: str) -> float:
    t0 = time.monotonic()
    with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
        assert r.status == 200 and json.loads(r.read()) == {"status": "ok"}
    return time.monotonic() - t0


def test_slow_headers_are_timed_out_with_408(tmp_path):
    with serve("--isolation", "thread", "--header-timeout", "1.5", tmp=tmp_path) as served:
        slow = Dribblers(served.url, 5, pause=0.3)
        try:
            time.sleep(1.0)
            assert slow.statuses() == []  # not yet: within the deadline
            deadline = time.monotonic() + 10
            while len(slow.statuses()) < 5 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert slow.statuses() == [408] * 5
            body = slow.answers[0].split(b"\r\n\r\n", 1)[1]
            assert json.loads(body)["error"]["code"] == "header-timeout"
            assert _health_latency(served.url) < 1.0  # a prompt client is served as ever
        finally:
            slow.close()


def test_a_flood_of_slow_connections_under_a_small_file_limit(tmp_path):
    """256 open files: the server holds at most 128 connections (256 - 64 - 4 x 16); 300
    dribblers get 503 (evicted for newer ones) or 408, never exhaust the descriptors, and
    a health probe is answered within a second throughout."""
    assert connection_budget(requested=None, open_files=256).max_connections == 128
    with serve("--isolation", "thread", tmp=tmp_path, open_files=256) as served:
        slow = Dribblers(served.url, 300, pause=1.0)
        try:
            latencies = []
            for _ in range(8):
                latencies.append(_health_latency(served.url))
                time.sleep(0.25)
            assert max(latencies) < 1.0, latencies
            # all but the 128 newest were evicted with 503, at once
            statuses = slow.statuses()
            assert len(statuses) >= 300 - 128 and set(statuses) <= {503, 408}, statuses
        finally:
            slow.close()
        log = served.log_text()
    assert "out of system resource" not in log and "Traceback" not in log, log[-2000:]
    assert len(log.splitlines()) < 60, log[-2000:]


def test_repeated_log_lines_are_rate_limited():
    records = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("aimark.test.ratelimit")
    logger.propagate = False
    logger.addHandler(Keep())
    limiter = RateLimitFilter(burst=3, interval=0.5)
    logger.addFilter(limiter)
    for _ in range(1000):
        logger.error("socket.accept() out of system resource")
    logger.error("a different message")
    assert records == ["socket.accept() out of system resource"] * 3 + ["a different message"]
    time.sleep(0.6)
    logger.error("socket.accept() out of system resource")
    assert records[-1] == (
        "socket.accept() out of system resource (997 more like this were not logged)"
    )
