"""The one atomic writer (``aimark.media.output``): bytes and stream forms, one permission
policy, nothing half-written, nothing left behind."""

from __future__ import annotations

import os
import stat

import pytest

from aimark.errors import OutputError
from aimark.media.output import AtomicFile, PendingWrite, file_mode_for, write_atomic
from aimark.scanner.html import HtmlReport
from aimark.scanner.writers import CsvWriter


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_output_gets_what_open_would_give_it(tmp_path, umask_027):
    write_atomic(tmp_path / "a.bin", b"x")
    with AtomicFile(tmp_path / "b.txt") as out:
        out.file.write("y")
    with open(tmp_path / "c.txt", "w") as plain:  # what open() gives, for comparison
        plain.write("z")
    assert _mode(tmp_path / "a.bin") == _mode(tmp_path / "b.txt") == _mode(tmp_path / "c.txt")
    assert _mode(tmp_path / "a.bin") == 0o640
    assert file_mode_for(tmp_path / "missing") == 0o640


def test_every_writer_keeps_an_existing_files_permissions(tmp_path):
    """The labeller's bytes, the CSV and the HTML report: one policy."""
    paths = [tmp_path / n for n in ("label.jpg", "scan.csv", "scan.html")]
    for p in paths:
        p.write_text("old")
        os.chmod(p, 0o600)
    write_atomic(paths[0], b"new")
    with CsvWriter(paths[1]) as csv:
        csv.add({"source": "a.png", "verdict": {"status": "unlabelled"}})
    report = HtmlReport(paths[2])
    report.close({})
    for p in paths:
        assert _mode(p) == 0o600, p.name
        assert p.read_text() != "old"
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in paths)  # no temporaries


def test_a_failed_or_aborted_write_leaves_the_destination_and_no_temporary(tmp_path):
    dst = tmp_path / "out.txt"
    dst.write_text("kept")
    with pytest.raises(RuntimeError), AtomicFile(dst) as out:
        out.file.write("half")
        raise RuntimeError("the writer failed")
    pending = PendingWrite(dst, b"never")
    pending.abort()
    assert dst.read_text() == "kept" and os.listdir(tmp_path) == ["out.txt"]
    with pytest.raises(OutputError, match="is a directory"):
        write_atomic(tmp_path, b"x")
    with pytest.raises(OutputError, match="cannot write"):
        write_atomic(tmp_path / "no" / "such" / "folder.txt", b"x")
