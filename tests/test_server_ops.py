"""``aimark serve`` for operators, over real HTTP on loopback: a burst held by the default
queue, the start-up line, the JSON access log, ``/metrics`` and ``/healthz`` with the queue
full."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("uvicorn", reason="uvicorn is installed by the server extra")

import aimark
from aimark.server.limits import ServiceLimits, default_queue
from conftest import encode, natural_image
from serving import serve

API_KEY = "an-api-key-for-ops-tests-only"


@pytest.fixture(scope="module")
def setup(tmp_path_factory, dev):
    tmp = tmp_path_factory.mktemp("ops")
    key = aimark.WatermarkKey.generate()
    key.save(tmp / "wm.key")
    (tmp / "keys.txt").write_text(f"{API_KEY}\n")
    return {
        "tmp": tmp,
        "key": key,
        "key_file": tmp / "wm.key",
        "root": dev.root_cert,
        "jpeg": encode(natural_image(320, 240, seed=5), "jpeg", quality=88),
    }


def request(
    url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? '
    r"(-?[0-9.e+]+|\+Inf|NaN)$"
)


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format → {'name{labels}': value}; fails on any malformed line, on a
    sample without its # TYPE, or a # TYPE after its samples."""
    samples: dict[str, float] = {}
    typed: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            assert len(line.split(" ", 3)) == 4, line
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in typed, f"{name} typed twice"
            typed[name] = kind
        else:
            m = _SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            name = m.group(1)
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in typed or base in typed, f"{name} has no # TYPE"
            samples[name + (m.group(2) or "")] = float(m.group(3))
    return samples


def access_lines(log: str) -> list[dict]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def test_default_queue_holds_a_burst_of_16_parallel_uploads(setup):
    """Default settings (a worker per core, the default queue): 16 uploads at once are all
    answered 200, none 503 (the old default queue, = cores, refused most of a burst of 10)."""
    assert ServiceLimits(concurrency=2).queue >= 32
    with serve(tmp=setup["tmp"]) as s:

        def upload(_: int) -> int:
            return request(s.url, "POST", "/v1/verify", setup["jpeg"])[0]

        t0 = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(upload, range(16)))
        took = time.monotonic() - t0
    assert statuses == [200] * 16, statuses
    assert took < 20, took


def test_default_queue_bounds_the_memory_of_waiting_bodies():
    assert default_queue(2, 32 * 2**20) == 64
    assert default_queue(2, 8 * 2**20) == 64  # never more than 64
    assert default_queue(2, 256 * 2**20) == 8  # 8 × 256 MiB = 2 GiB
    assert default_queue(16, 2**30) == 16  # never fewer than the workers
    assert ServiceLimits(concurrency=3, queue=5).queue == 5  # an explicit queue stands


def test_start_up_line_access_log_and_metrics(setup):
    args = ("--trust", str(setup["root"]), "--watermark-key", str(setup["key_file"]))
    args += ("--api-keys-file", str(setup["tmp"] / "keys.txt"), "--isolation", "thread")
    with serve(*args, "--queue", "5", "--max-body-bytes", "5000000", tmp=setup["tmp"]) as s:
        headers = {"X-API-Key": API_KEY, "X-Request-Id": "req-42"}
        status, answer, body = request(
            s.url, "POST", "/v1/verify?name=secret-holiday.jpg", setup["jpeg"], headers
        )
        assert status == 200 and answer["x-request-id"] == "req-42"
        wrong = {"Authorization": "Bearer nope"}
        assert request(s.url, "POST", "/v1/verify", b"x", wrong)[0] == 401
        status, answer, text = request(s.url, "GET", "/metrics")  # no API key needed
        assert status == 200 and answer["content-type"].startswith("text/plain; version=0.0.4")
        before = parse_metrics(text.decode())
        request(s.url, "POST", "/v1/verify", setup["jpeg"], headers)
        request(s.url, "GET", "/healthz")
        after = parse_metrics(request(s.url, "GET", "/metrics")[2].decode())
        time.sleep(0.3)  # the last access lines are flushed
        log = s.log_text()

    # the start-up line: address, counts, key ids, what is on, the limits; no secrets
    starts = [line for line in log.splitlines() if "aimark serve on " in line]
    assert len(starts) == 1, log
    line = starts[0]
    assert f"aimark serve on {s.url}:" in line
    assert "1 trust anchors" in line and "1 watermark keys" in line
    assert setup["key"].key_id in line and "api_keys" in line
    for limit in ("max body 5000000 bytes", "max pixels 100000000", "queue 5", "time limit 30s"):
        assert limit in line, line
    assert setup["key"].to_text() not in log and API_KEY not in log

    # one JSON line per request, with its fields, never the key, the file's name or a header
    lines = access_lines(log)
    verify = next(x for x in lines if x["path"] == "/v1/verify" and x["status"] == 200)
    assert verify["request_id"] == "req-42" and verify["method"] == "POST"
    assert verify["query"] == ["name"] and verify["client"] == "127.0.0.1"
    assert verify["bytes_in"] == len(setup["jpeg"]) and verify["bytes_out"] == len(body)
    assert verify["verdict"] == "not-labelled" and verify["format"] == "jpeg"
    assert verify["duration_ms"] > 0
    refused = next(x for x in lines if x["status"] == 401)
    assert refused["error"] == "unauthorized" and len(refused["request_id"]) == 32
    assert "secret-holiday" not in log and "Bearer" not in log
    assert "uvicorn.access" not in log and '"POST /v1/verify HTTP/1.1"' not in log  # no double

    # the counters moved by what was asked between the two scrapes
    ok = 'aimark_requests_total{route="/v1/verify",status="200"}'
    assert after[ok] == before[ok] + 1
    verdicts = 'aimark_verdicts_total{status="not-labelled"}'
    assert after[verdicts] == before[verdicts] + 1
    assert after['aimark_requests_total{route="/healthz",status="200"}'] >= 1
    assert before['aimark_requests_total{route="/v1/verify",status="401"}'] == 1
    count = 'aimark_request_duration_seconds_count{route="/v1/verify"}'
    inf = 'aimark_request_duration_seconds_bucket{route="/v1/verify",le="+Inf"}'
    assert after[count] == after[inf] == before[count] + 1
    assert after["aimark_queue_capacity"] == 5 and after["aimark_uploads_in_progress"] == 0
    assert after["aimark_worker_restarts_total"] == 0


def _hold_a_place(url: str) -> socket.socket:
    """An upload that declares 1,000 bytes and sends 10: it holds an admission place."""
    port = int(url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"0123456789"
    )
    return sock


def test_healthz_and_metrics_answer_when_the_queue_is_full(setup):
    args = ("--concurrency", "1", "--queue", "1", "--isolation", "thread", "--no-access-log")
    with serve(*args, tmp=setup["tmp"]) as s:
        held = [_hold_a_place(s.url), _hold_a_place(s.url)]
        try:
            for _ in range(100):
                gauges = parse_metrics(request(s.url, "GET", "/metrics")[2].decode())
                if gauges["aimark_uploads_in_progress"] == 2:
                    break
                time.sleep(0.05)
            assert gauges["aimark_uploads_in_progress"] == 2
            status, headers, _ = request(s.url, "POST", "/v1/verify", setup["jpeg"])
            assert status == 503 and headers["retry-after"] == "1"
            t0 = time.monotonic()
            assert request(s.url, "GET", "/healthz")[0] == 200
            assert time.monotonic() - t0 < 1
            busy = parse_metrics(request(s.url, "GET", "/metrics")[2].decode())
            assert busy['aimark_requests_total{route="/v1/verify",status="503"}'] == 1
        finally:
            for sock in held:
                sock.close()
        log = s.log_text()
    assert not access_lines(log)  # --no-access-log


def test_metrics_can_be_turned_off(setup):
    env = {"AIMARK_ACCESS_LOG": "0"}
    with serve("--no-metrics", "--isolation", "thread", tmp=setup["tmp"], env=env) as s:
        status, _, body = request(s.url, "GET", "/metrics")
        assert status == 404 and json.loads(body)["error"]["code"] == "not-found"
        time.sleep(0.2)
        assert not access_lines(s.log_text())  # AIMARK_ACCESS_LOG=0
