"""The test command as a user meets it: it says how long it takes and how to run the fast
subset, and a test that runs long says so instead of looking like a hang."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import REPO


def _pytest(folder, *, heartbeat: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AIMARK_TEST_HEARTBEAT": heartbeat},
        cwd=folder,
    )


def test_a_long_test_says_it_is_still_running(tmp_path):
    shutil.copy(REPO / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_long.py").write_text(
        "import time\n\ndef test_takes_a_while():\n    time.sleep(1.5)\n"
    )
    done = _pytest(tmp_path, heartbeat="0.4")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if "still running" in ln]
    assert len(lines) >= 2 and "test_long.py::test_takes_a_while" in lines[0]
    quiet = _pytest(tmp_path, heartbeat="0")  # and it can be turned off
    assert quiet.returncode == 0 and "still running" not in quiet.stdout + quiet.stderr


def test_dev_py_says_how_long_and_how_to_run_the_fast_subset():
    text = (REPO / "dev.py").read_text()
    readme = (REPO / "README.md").read_text()
    for where in (text, readme):
        assert "-m 'not slow'" in where
        assert "minutes" in where
