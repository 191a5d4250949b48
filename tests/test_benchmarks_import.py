"""Every benchmark still imports against the library it measures (a refactor that moves a
name a benchmark uses fails here, not months later). Benchmarks whose optional peers are not
installed (benchmarks/requirements-*.txt) are skipped, naming the missing module."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

BENCHMARKS = sorted(p.stem for p in (REPO / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_imports(name):
    code = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(REPO / 'benchmarks')!r}); sys.argv = ['x']\n"
        "try:\n"
        f"    importlib.import_module({name!r})\n"
        "except ModuleNotFoundError as exc:\n"
        "    if (exc.name or '').startswith('aimark'):\n"
        "        raise\n"
        "    print('MISSING', exc.name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    if done.stdout.startswith("MISSING"):
        pytest.skip(f"{name} needs {done.stdout.split()[1]} (an optional benchmark peer)")
