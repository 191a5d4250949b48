"""``aimark serve``: a real uvicorn process on loopback, driven over HTTP and raw sockets;
configuration from options and the environment; clean shutdown; bad configuration."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("uvicorn", reason="uvicorn is installed by the server extra")

import aimark
from conftest import encode, natural_image
from serving import free_port, serve

API_KEY = "an-api-key-for-tests-only"


@pytest.fixture(scope="module")
def setup(tmp_path_factory, dev, creds):
    tmp = tmp_path_factory.mktemp("serve")
    key = aimark.WatermarkKey.generate()
    key.save(tmp / "wm.key")
    plain = encode(natural_image(480, 320, seed=11), "jpeg", quality=90)
    labeler = aimark.Labeler(creds, generator=("test-model", "1.0"), watermark_key=key)
    (tmp / "keys.txt").write_text(f"# API keys, one per line\n{API_KEY}\n")
    return {
        "tmp": tmp,
        "key": tmp / "wm.key",
        "plain": plain,
        "labelled": bytes(labeler.label_image(plain)),
        "root": dev.root_cert,
    }


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("POST", "/v1/verify", body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), json.loads(r.read())
    finally:
        conn.close()


def _children(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.add(int(entry))
    return out


def test_serve_over_http(setup):
    tmp = setup["tmp"]
    args = (
        "--trust",
        str(setup["root"]),
        "--watermark-key",
        str(setup["key"]),
        "--concurrency",
        "2",
    )
    with serve(*args, tmp=tmp) as s:
        status, headers, report = post(s.url, setup["labelled"])
        assert status == 200 and report["verdict"]["status"] == "labelled-trusted"
        assert report["watermark"]["detected"] and "score" not in report["watermark"]
        assert "server" not in {k.lower() for k in headers}  # no software banner
        status, _, report = post(s.url, setup["plain"])
        assert status == 200 and report["verdict"]["status"] == "not-labelled"
        # multipart, as a browser form sends it
        boundary = "aimarktest"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + setup["labelled"]
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, _, report = post(
            s.url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        assert status == 200 and report["source"] == "x.jpg"
        assert report["verdict"]["status"] == "labelled-trusted"
        # the page and the API document are there
        conn = http.client.HTTPConnection(
            s.url.removeprefix("http://").split(":")[0], int(s.url.rsplit(":", 1)[1]), timeout=10
        )
        conn.request("GET", "/openapi.json")
        assert json.loads(conn.getresponse().read())["openapi"] == "3.1.0"
        conn.close()
        workers = _children(s.proc.pid)
        assert workers  # verifications run in worker processes
    assert s.proc.returncode == 0, s.log_text()
    log = s.log_text()
    assert "Traceback" not in log
    for _ in range(50):  # the workers went with the server
        if not any(os.path.exists(f"/proc/{p}") for p in workers):
            break
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{p}") for p in workers)


def test_413_over_a_real_socket_without_sending_the_body(setup):
    with serve("--max-body-bytes", "100000", "--isolation", "thread", tmp=setup["tmp"]) as s:
        port = int(s.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                b"Content-Length: 5000000000\r\n\r\n"
            )  # 5 GB declared; not one byte of it sent
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), answer
        assert json.loads(body)["error"]["code"] == "body-too-large"
        # the server is fine afterwards
        assert post(s.url, setup["plain"])[0] == 200


def test_api_key_and_environment_configuration(setup):
    env = {
        "AIMARK_API_KEYS_FILE": str(setup["tmp"] / "keys.txt"),
        "AIMARK_TRUST": str(setup["root"]),
        "AIMARK_ISOLATION": "thread",
        "AIMARK_INCLUDE_SCORES": "1",
        "AIMARK_WATERMARK_KEYS": str(setup["key"]),
    }
    with serve(tmp=setup["tmp"], env=env) as s:
        status, _, body = post(s.url, setup["labelled"])
        assert status == 401 and body["error"]["code"] == "unauthorized"
        status, _, report = post(s.url, setup["labelled"], {"Authorization": f"Bearer {API_KEY}"})
        assert status == 200 and report["verdict"]["status"] == "labelled-trusted"
        assert report["watermark"]["p_value"] is not None  # AIMARK_INCLUDE_SCORES


def _run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimark", "serve", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trust", "/nonexistent/anchors.pem"], "cannot read trust anchors"),
        (["--watermark-key", "/nonexistent/k.key"], "k.key"),
        (["--api-keys-file", "/nonexistent/keys"], "API key file"),
        (["--max-body-bytes", "0"], "positive"),
        (["--port", "70000"], "--port"),
    ],
)
def test_bad_configuration_is_one_line_before_binding(args, message):
    r = _run_cli(*args)
    assert r.returncode in (4, 64), r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2Vw\n-----END PRIVATE KEY-----\n", "PEM"),
        ("-----BEGIN CERTIFICATE-----\n", "PEM armour"),
        ("aimark-watermark-key-v1:" + "A" * 43 + "=\n", "watermark key"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0 someone@host\n", "SSH key"),
        ("# ops\npassword-password-password\n", "line 2"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "too guessable"),
        ("two words-9f2c7e41b8d05a63c1\n", "spaces"),
    ],
)
def test_an_api_key_file_that_is_not_one_is_refused(tmp_path, content, message):
    """Pointing --api-keys-file at a PEM, a watermark key or an SSH key, or writing a
    guessable key, stops the service before it binds, with one line saying why."""
    path = tmp_path / "keys.txt"
    path.write_text(content)
    r = _run_cli("--api-keys-file", str(path), "--isolation", "thread")
    assert r.returncode == 4, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.startswith("aimark:")]) == 1
    if "line 2" in message:
        assert "secrets.token_urlsafe" in r.stderr  # says how to make a good one


def test_port_in_use_is_reported_without_traceback(setup):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = _run_cli("--port", str(port), "--isolation", "thread")
    assert r.returncode == 4
    assert "Traceback" not in r.stderr and "could not start" in r.stderr


def test_sigterm_stops_cleanly(setup):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aimark", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        status, _, _ = post(f"http://127.0.0.1:{port}", setup["plain"])
        assert status == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out  # a graceful stop is a normal end
    assert "Traceback" not in out and "Application shutdown complete" in out
