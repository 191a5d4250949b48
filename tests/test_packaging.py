"""What a fresh install gets: the wheel built from this tree carries the verification page's
files and the type marker (package data is easy to lose)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

STATIC = REPO / "src" / "aimark" / "server" / "static"


def test_the_wheel_carries_the_page_and_py_typed(tmp_path):
    pytest.importorskip("setuptools", reason="building the wheel offline needs setuptools")
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("aimark-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    page = {f"aimark/server/static/{p.name}" for p in STATIC.iterdir() if p.is_file()}
    assert {"aimark/server/static/index.html", "aimark/server/static/app.js"} <= page
    assert page <= names
    assert "aimark/py.typed" in names
    # the C2PA trust lists, with their source and licence
    trust = {f"aimark/trust_data/{n}" for n in (
        "C2PA-TRUST-LIST.pem", "C2PA-TSA-TRUST-LIST.pem", "conforming-products-list.json",
        "README.md")}  # fmt: skip
    assert trust <= names
