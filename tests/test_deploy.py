"""The deployment recipes in deploy/: the container's invariants (non-root, a health check,
no secrets copied, a valid ``aimark serve`` command line) and the systemd unit, checked by
``systemd-analyze verify`` where it exists; the image is built where a Docker daemon runs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aimark.cli import _build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
UNIT = ROOT / "deploy" / "aimark.service"
SECRET = re.compile(r"key|secret|token|passw|credential|\.pem|\.env|api", re.I)


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments out."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "a continuation line runs off the end"
    return out


def serve_args(argv: list[str]):
    assert argv[:2] == ["aimark", "serve"], argv
    args = _build_parser().parse_args(argv[1:])
    assert args.command == "serve"
    return args


def test_dockerfile_invariants():
    steps = instructions(DOCKERFILE)
    kinds = [k for k, _ in steps]
    assert kinds[0] == "FROM" and steps[0][1] == "python:3.11-slim"
    assert kinds.count("FROM") == 1
    # ffmpeg from Debian, aimark[server] from the checkout
    runs = " ".join(a for k, a in steps if k == "RUN")
    assert "apt-get install" in runs and "ffmpeg" in runs
    assert re.search(r"pip install [^&]*\"\.\[server[,\]]", runs), runs
    # only the package's own sources are copied: no key, anchor, .env or credential
    copied = [a for k, a in steps if k in ("COPY", "ADD")]
    assert copied and all(not a.startswith("--from") for a in copied)
    for args in copied:
        sources = shlex.split(args)[:-1]
        assert set(sources) <= {"pyproject.toml", "README.md", "src"}, args
    assert "ADD" not in kinds
    for k, a in steps:
        if k in ("ENV", "ARG"):
            assert not SECRET.search(a), f"{k} {a}"
    ignore = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [x.strip() for x in ignore if x.strip() and not x.startswith("#")]
    assert patterns[0] == "*"  # the build context is nothing but what is let back in
    # a non-root user before the command, a health check on /healthz, the port
    users = [a for k, a in steps if k == "USER"]
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    assert kinds.index("USER") < kinds.index("CMD")
    (health,) = [a for k, a in steps if k == "HEALTHCHECK"]
    assert "/healthz" in health and "CMD" in health
    assert ("EXPOSE", "8000") in steps
    # the command: an exec-form aimark serve line that aimark's own parser accepts
    (cmd,) = [a for k, a in steps if k == "CMD"]
    args = serve_args(json.loads(cmd))
    assert args.host == "0.0.0.0" and args.port == 8000


def _unit() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            k, _, v = line.partition("=")
            values.setdefault(k.strip(), []).append(v.strip())
    return values


def test_systemd_unit_options():
    unit = _unit()
    for option, value in {
        "DynamicUser": "yes",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "Restart": "on-failure",
        "EnvironmentFile": "/etc/aimark/serve.env",
    }.items():
        assert unit.get(option) == [value], option
    (start,) = unit["ExecStart"]
    argv = shlex.split(start)
    assert argv[0].endswith("/aimark")
    serve_args(["aimark", *argv[1:]])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify(tmp_path):
    # verify checks that ExecStart's program exists: point it at this environment's aimark
    here = Path(sys.executable).parent / "aimark"
    if not here.exists():
        pytest.skip("no aimark script beside this Python to stand in for /usr/local/bin/aimark")
    text = UNIT.read_text().replace("/usr/local/bin/aimark", str(here))
    (tmp_path / "aimark.service").write_text(text)
    r = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "aimark.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def _docker_daemon() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.slow
def test_docker_build():
    if not _docker_daemon():
        pytest.skip("no Docker daemon reachable here (docker info fails): the image is not built")
    r = subprocess.run(
        ["docker", "build", "-f", str(DOCKERFILE), "-t", "aimark-test", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert r.returncode == 0, r.stderr[-3000:]
