"""A throwaway PostgreSQL server for tests and benchmarks: Debian's ``postgresql`` package,
``initdb`` on a temporary folder, ``pg_ctl start`` on a free loopback port, trust auth. As root
(CI) the server runs as the ``postgres`` user (PostgreSQL refuses root)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator


def binaries() -> str | None:
    """The folder of initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def why_not() -> str | None:
    """Why no server can be started here (None: it can)."""
    if binaries() is None:
        return "PostgreSQL is not installed (apt-get install postgresql; .ci/run does)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'aimark[postgres]')"
    return None


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Start a server; yield its ``postgresql://`` URL; stop it and remove its files."""
    bin_dir = binaries()
    assert bin_dir is not None
    tmp = tempfile.mkdtemp(prefix="aimark-pg-")
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
    data = os.path.join(tmp, "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
    subprocess.run(
        _as_postgres([f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--no-sync"]),
        **quiet,
    )  # fmt: skip
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {tmp} -c fsync=off"
    log = os.path.join(tmp, "log")
    subprocess.run(
        _as_postgres([f"{bin_dir}/pg_ctl", "-D", data, "-l", log, "-w", "-t", "30", "-o",
                      options, "start"]),
        **quiet,
    )  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(tmp, ignore_errors=True)
