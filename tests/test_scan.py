"""aimark.scan / aimark scan: a folder with known ground truth gives exactly the expected
records, in-process and on processes; resuming after a kill; outputs that agree; a worker
that dies; files never modified."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aimark
from aimark.scanner.rows import row_for
from aimark.watermark.image import embed
from conftest import REPO, encode, natural_image, sha256
from test_bad_input import _png_header_only

SAMPLES = REPO / "samples"

# relative path -> expected verdict status (with the dev root trusted and the key given)
EXPECTED = {
    "labelled.png": "labelled-trusted",
    "nested/deeper/stripped.jpg": "labelled-watermark",
    "plain.jpg": "not-labelled",
    "nested/inside-link.jpg": "not-labelled",
    "a1111.png": "labelled-unsigned",
    "tampered.jpg": "invalid",
    "truncated.jpg": "not-labelled",  # what is there is read; the report names the problem
    "cut-header.jpg": "error",
    "nested/bomb.png": "error",
    "signed-notes.txt": "labelled-trusted",
    "readme.txt": "not-labelled",
}
SKIPPED = {
    "not-media": 1,  # data.bin
    "empty": 1,  # empty.jpg
    "hidden": 1,  # .hidden.png
    "symlink-loop": 1,  # nested/loop -> ..
    "symlink-outside": 1,  # outside.png -> a file outside the tree
}


@pytest.fixture(scope="module")
def key() -> aimark.WatermarkKey:
    return aimark.WatermarkKey.generate()


@pytest.fixture(scope="module")
def tree(tmp_path_factory, creds, key) -> Path:
    root = tmp_path_factory.mktemp("scan") / "tree"
    (root / "nested" / "deeper").mkdir(parents=True)
    labelled = aimark.label_image(
        natural_image(320, 240, seed=1),
        credentials=creds,
        generator=("scan-test-model", "2.0"),
        format="png",
        watermark_key=key,
    )
    (root / "labelled.png").write_bytes(labelled.data)
    # what a platform does to an upload: re-encode (metadata and manifest gone)
    stripped = encode(aimark_image(labelled.data), "jpeg", quality=90)
    (root / "nested" / "deeper" / "stripped.jpg").write_bytes(stripped)
    plain = encode(natural_image(320, 240, seed=2), "jpeg", quality=90)
    (root / "plain.jpg").write_bytes(plain)
    os.symlink("../plain.jpg", root / "nested" / "inside-link.jpg")
    shutil.copy(SAMPLES / "a1111-parameters.png", root / "a1111.png")
    shutil.copy(SAMPLES / "c2pa-adobe-test-tampered-XCA.jpg", root / "tampered.jpg")
    (root / "truncated.jpg").write_bytes(plain[: len(plain) // 2])
    (root / "cut-header.jpg").write_bytes(plain[:120])
    (root / "nested" / "bomb.png").write_bytes(_png_header_only(60000, 60000))
    notes = aimark.label_text(
        "Notes written by a model.\nSecond line.", credentials=creds, generator=("scan-llm", "1")
    )
    (root / "signed-notes.txt").write_text(notes, encoding="utf-8")
    (root / "readme.txt").write_text("written by a person\n", encoding="utf-8")
    (root / "data.bin").write_bytes(os.urandom(5000))
    (root / "empty.jpg").write_bytes(b"")
    (root / ".hidden.png").write_bytes(labelled.data)
    os.symlink("..", root / "nested" / "loop")
    outside = root.parent / "outside.png"
    outside.write_bytes(labelled.data)
    os.symlink(outside, root / "outside.png")
    return root


def aimark_image(data: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")


def _rel(root: Path, source: str) -> str:
    return Path(source).relative_to(root).as_posix()


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_file() and not p.is_symlink():
                out[str(p)] = (sha256(p), p.stat().st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def trust(dev) -> bytes:
    return dev.root_cert


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "2-processes"])
def test_ground_truth_records(tree, trust, key, workers):
    before = _snapshot(tree)
    run = aimark.scan(tree, trust=trust, watermark_keys=[key], workers=workers)
    reports = list(run)
    got = {_rel(tree, r.source): r.verdict.status.value for r in reports}
    assert got == EXPECTED
    assert len(reports) == len(EXPECTED)  # no duplicates
    assert dict(run.summary.skipped) == SKIPPED
    s = run.summary
    assert (s.files, s.scanned, s.errors, s.resumed) == (len(EXPECTED), len(EXPECTED), 2, 0)
    assert s.by_generator["scan-test-model 2.0"] == 1  # the C2PA softwareAgent
    assert s.by_generator["scan-llm 1"] == 1
    assert s.by_generator["(not named)"] == 1  # the watermark says AI, not which model
    by_name = {_rel(tree, r.source): r for r in reports}
    assert by_name["cut-header.jpg"].error["code"] == "corrupt-input"
    assert "truncated" in by_name["truncated.jpg"].media.problems[0]
    assert by_name["nested/bomb.png"].error["code"] == "too-large"
    assert by_name["nested/deeper/stripped.jpg"].watermark.key_id == key.key_id
    info = by_name["plain.jpg"].file
    st = (tree / "plain.jpg").stat()
    assert (info.size, info.mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert _snapshot(tree) == before  # nothing was modified


def test_same_reports_as_verify(tree, trust, key):
    verifier = aimark.Verifier(trust=trust, watermark_keys=[key])
    for report in aimark.scan(tree, trust=trust, watermark_keys=[key], workers=0):
        alone = verifier.verify(report.source).to_dict()
        scanned = report.to_dict()
        assert scanned.pop("file") is not None
        alone.pop("file")
        assert scanned == alone, report.source


def test_watermark_schemes_reach_the_workers(tree, trust, key):
    """The stripped file carries an io.aimark.image.3 mark: found by default, and not when the
    scan looks for aimark 0.1's scheme alone (on worker processes too)."""
    stripped = tree / "nested" / "deeper" / "stripped.jpg"
    for workers in (0, 1):
        found = next(iter(aimark.scan(stripped, watermark_keys=[key], workers=workers)))
        assert found.watermark.detected and found.watermark.scheme == "io.aimark.image.3"
        old = aimark.scan(
            stripped, watermark_keys=[key], workers=workers, watermark_schemes=["io.aimark.image.1"]
        )
        assert not next(iter(old)).watermark.detected


def test_walk_options(tree):
    def names(**kw):
        return {_rel(tree, r.source) for r in aimark.scan(tree, workers=0, **kw)}

    assert ".hidden.png" in names(hidden=True)
    assert names(include=["*.jpg"]) == {
        "nested/deeper/stripped.jpg",
        "plain.jpg",
        "nested/inside-link.jpg",
        "tampered.jpg",
        "truncated.jpg",
        "cut-header.jpg",
    }
    assert not any(n.startswith("nested/") for n in names(exclude=["nested"]))
    assert names(exclude=["nested/deeper/*"]) == set(EXPECTED) - {"nested/deeper/stripped.jpg"}
    assert "outside.png" in names(follow_symlinks=True)
    assert names(kinds=["text"]) == {"signed-notes.txt", "readme.txt"}
    single = list(aimark.scan(tree / "plain.jpg", workers=0))
    assert [r.source for r in single] == [str(tree / "plain.jpg")]


def test_missing_root_and_bad_arguments(tmp_path):
    with pytest.raises(aimark.InputError, match="no such file"):
        aimark.scan(tmp_path / "nope")
    with pytest.raises(ValueError, match="kinds"):
        aimark.scan(tmp_path, kinds=["holograms"])
    with pytest.raises(ValueError, match="workers"):
        aimark.scan(tmp_path, workers=-1)


def test_outputs_parse_and_agree(tree, trust, key, tmp_path):
    out, csv_path, html_path = tmp_path / "s.jsonl", tmp_path / "s.csv", tmp_path / "s.html"
    run = aimark.scan(
        tree,
        trust=trust,
        watermark_keys=[key],
        workers=0,
        output=out,
        csv=csv_path,
        html=html_path,
    )
    summary = run.run()
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert {d["schema"] for d in lines} == {"aimark.report"}
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(), newline="")))
    assert [row_for(d) for d in lines] == rows
    assert {_rel(tree, r["path"]): r["verdict"] for r in rows} == EXPECTED
    labelled = next(r for r in rows if r["path"].endswith("labelled.png"))
    assert labelled["layers"] == "c2pa;xmp-dst;xmp-ai-system;watermark"
    assert labelled["signer"] and labelled["trust"] == "trusted"
    assert labelled["watermark_payload"] and labelled["generator"] == "scan-test-model 2.0"
    page = html_path.read_text()
    HTMLParser().feed(page)
    for d in lines:  # each file has its row (folder and name are shown apart)
        assert f'<span class="file">{Path(d["source"]).name}</span>' in page
    assert page.count("<tr data-verdict=") == len(lines)
    assert summary.to_dict()["by_status"]["labelled-trusted"] == 2
    assert "data:image/jpeg;base64," in page  # thumbnails of labelled images
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no temporary files left


def test_resume_skips_reported_and_rescans_changed(tree, tmp_path):
    work = tmp_path / "copy"
    shutil.copytree(tree, work, symlinks=True)
    out = tmp_path / "s.jsonl"
    first = aimark.scan(work, workers=0, output=out).run()
    assert first.scanned == len(EXPECTED)
    again = aimark.scan(work, workers=0, output=out)
    assert list(again) == []
    assert (again.summary.scanned, again.summary.resumed) == (0, len(EXPECTED))
    # a file changes: it is scanned again and its old record is replaced, not duplicated
    (work / "plain.jpg").write_bytes(encode(natural_image(100, 80, seed=9), "png"))
    third = aimark.scan(work, workers=0, output=out)
    changed = {"plain.jpg", "nested/inside-link.jpg"}  # the link's target changed too
    assert {_rel(work, r.source) for r in third} == changed
    assert (third.summary.superseded, third.summary.files) == (2, len(EXPECTED))
    sources = [json.loads(x)["source"] for x in out.read_text().splitlines()]
    assert sorted(sources) == sorted(str(work / p) for p in EXPECTED)
    # resume=False starts over
    fresh = aimark.scan(work, workers=0, output=out, resume=False).run()
    assert fresh.scanned == len(EXPECTED) and len(out.read_text().splitlines()) == len(EXPECTED)


def test_torn_last_line_is_cut(tree, tmp_path):
    out = tmp_path / "s.jsonl"
    aimark.scan(tree, workers=0, output=out).run()
    text = out.read_text()
    lines = text.splitlines(keepends=True)
    out.write_text("".join(lines[:-1]) + lines[-1][:40])  # killed while writing the last line
    run = aimark.scan(tree, workers=0, output=out)
    assert len(list(run)) == 1
    assert sorted(out.read_text().splitlines()) == sorted(text.splitlines())


def test_output_that_is_not_a_scan_is_refused(tree, tmp_path):
    out = tmp_path / "precious.jsonl"
    out.write_text('{"my": "data"}\n')
    with pytest.raises(aimark.OutputError, match="not the JSON Lines output"):
        aimark.scan(tree, workers=0, output=out).run()
    assert out.read_text() == '{"my": "data"}\n'


def _many(tmp_path: Path, n: int) -> Path:
    folder = tmp_path / "many"
    for i in range(n):
        sub = folder / f"d{i % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"img{i:04d}.png").write_bytes(encode(natural_image(160, 120, seed=i), "png"))
    return folder


def _cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "aimark", "scan", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )


def _wait_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"the scan ended early: {proc.communicate()}")
        time.sleep(0.02)
    pytest.fail("the scan wrote nothing")


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_resume_after_interrupted_cli_scan(tmp_path, how):
    folder = _many(tmp_path, 150)
    key_file = tmp_path / "k.key"
    aimark.WatermarkKey.generate().save(key_file)
    out = tmp_path / "scan.jsonl"
    args = (str(folder), "-o", str(out), "--workers", "1", "--watermark-key", str(key_file))
    proc = _cli(*args, "--csv", str(tmp_path / "scan.csv"))
    _wait_lines(out, 10, proc)
    os.killpg(proc.pid, getattr(signal, how))
    _, err = proc.communicate(timeout=60)
    if how == "SIGINT":
        assert proc.returncode == 130, err
        assert "scan interrupted" in err
        assert "Traceback" not in err
        rows = list(csv.DictReader(io.StringIO((tmp_path / "scan.csv").read_text())))
        assert len(rows) == len(out.read_text().splitlines())  # outputs written, and agree
    done_before = out.read_bytes().count(b"\n")
    assert 10 <= done_before < 150
    proc = _cli(*args)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    sources = [json.loads(x)["source"] for x in out.read_text().splitlines()]
    assert len(sources) == len(set(sources)) == 150  # no duplicates, none missing
    assert f"{done_before:,} from the earlier run" in err or how == "SIGKILL"


def test_ctrl_c_between_two_outputs_waits_for_the_report(tmp_path, monkeypatch):
    """Regression (CI): a Ctrl-C that lands after a report reached the JSON Lines file but
    before the CSV left the CSV one row short. It now waits until every output has it."""
    from aimark.scanner import writers

    folder = _many(tmp_path, 12)
    original = writers.JsonlWriter.add

    def add_then_interrupt(self, report, thumbnail=None):
        original(self, report, thumbnail)
        if self.lines == 5:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C, delivered before the CSV row

    monkeypatch.setattr(writers.JsonlWriter, "add", add_then_interrupt)
    out, table = tmp_path / "scan.jsonl", tmp_path / "scan.csv"
    with pytest.raises(KeyboardInterrupt):
        aimark.scan([folder], output=out, csv=table, workers=0).run()
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert len(out.read_text().splitlines()) == len(rows) == 5
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def _worker_pids() -> list[int]:
    """Pool workers: our grandchildren (children of the forkserver)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
    me = os.getpid()
    children = {p for p, pp in parents.items() if pp == me}
    return [p for p, pp in parents.items() if pp in children]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the workers")
@pytest.mark.parametrize("pause", [0, 1.5])
def test_worker_that_dies_does_not_lose_files(tmp_path, pause):
    # pause: the pool learns of the death before the scan sends more work (regression: the
    # scan's next submit then raised BrokenProcessPool instead of rebuilding the pool)
    folder = _many(tmp_path, 80)
    run = aimark.scan(folder, workers=2, chunk_size=4)
    seen = []
    for report in run:
        seen.append(report.source)
        if len(seen) == 5:
            pids = _worker_pids()
            assert pids
            os.kill(pids[0], signal.SIGKILL)
            time.sleep(pause)
    assert len(seen) == len(set(seen)) == 80
    assert run.summary.errors == 0  # every file was scanned again, alone, and got its report


def test_progress_line(tree):
    stream = io.StringIO()
    aimark.scan(tree, workers=0, progress=stream).run()
    text = stream.getvalue()
    assert "files/s" in text and "\r" in text


def test_cli_quiet_when_not_a_terminal(tree, tmp_path):
    proc = _cli(str(tree), "-o", str(tmp_path / "o.jsonl"), "--workers", "0")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "\r" not in err and out == ""
    assert f"{len(EXPECTED)} file(s) reported" in err
    proc = _cli(str(tree), "-o", "-", "--workers", "0", "-q")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and err == ""
    assert len([json.loads(x) for x in out.splitlines()]) == len(EXPECTED)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["/does/not/exist"], 4, "no such file or folder"),
        (["--workers", "-2", "."], 64, "--workers"),
        (["--storage-option", "novalue", "."], 64, "KEY=VALUE"),
    ],
)
def test_cli_errors_are_one_line(args, code, message, tmp_path):
    proc = _cli(*args, cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert message in err and "Traceback" not in err


def test_vanished_file_is_an_error_record(tmp_path):
    from aimark.scanner.walk import FileRef
    from aimark.scanner.worker import ScanConfig, scan_files

    gone = tmp_path / "gone.png"
    [outcome] = scan_files([FileRef(str(gone), 100, 1)], ScanConfig())
    assert outcome.report.error["code"] == "vanished"


def _others_can_run_aimark() -> bool:
    """Whether an unprivileged user can reach this checkout's source and interpreter (a
    checkout inside a 0700 folder, e.g. ``mktemp -d``, cannot be)."""
    import aimark

    for path in (Path(aimark.__file__).parent, Path(sys.executable).parent):
        for folder in (path, *path.parents):
            if not folder.stat().st_mode & 0o001:
                return False
    return True


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to drop root")
@pytest.mark.skipif(
    os.geteuid() == 0 and not _others_can_run_aimark(),
    reason="the checkout is inside a folder other users cannot enter",
)
def test_unreadable_file_and_folder(tmp_path):
    """Permission denied becomes an error record (run as an unprivileged user: root reads
    everything)."""
    base = Path(tempfile.mkdtemp(prefix="aimark-perm-"))
    try:
        base.chmod(0o777)
        tree = base / "tree"
        (tree / "locked-dir").mkdir(parents=True)
        (tree / "ok.png").write_bytes(encode(natural_image(64, 48), "png"))
        (tree / "locked.png").write_bytes(encode(natural_image(64, 48), "png"))
        (tree / "locked-dir" / "inner.png").write_bytes(encode(natural_image(64, 48), "png"))
        for p in (tree, tree / "ok.png"):
            p.chmod(0o755)
        (tree / "locked.png").chmod(0)
        (tree / "locked-dir").chmod(0)
        out = base / "out.jsonl"
        cmd = [sys.executable, "-m", "aimark", "scan", str(tree), "-o", str(out), "--workers", "0"]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", *cmd]
        env = {**os.environ, "HOME": str(base)}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
        if proc.returncode != 0 and "Permission denied" in proc.stderr and "python" in proc.stderr:
            pytest.skip("the unprivileged user cannot run this Python")
        assert proc.returncode == 0, proc.stderr
        records = {Path(d["source"]).name: d for d in map(json.loads, out.read_text().splitlines())}
        assert records["ok.png"]["verdict"]["status"] == "not-labelled"
        assert records["locked.png"]["error"]["code"] == "unreadable"
        assert records["locked-dir"]["error"]["code"] == "unreadable"
        assert stat.S_IMODE((tree / "locked.png").stat().st_mode) == 0  # untouched
    finally:
        for dirpath, dirs, _files in os.walk(base):
            for d in dirs:
                os.chmod(os.path.join(dirpath, d), 0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_a_bug_on_one_file_is_that_files_error_record(tree, monkeypatch):
    """Fault injection: whatever verify raises for one file, the scan goes on."""
    real = aimark.Verifier.verify_bytes

    def flaky(self, data, *, name="<bytes>", **kwargs):
        if name.endswith("plain.jpg"):
            raise RuntimeError("injected")
        return real(self, data, name=name, **kwargs)

    monkeypatch.setattr(aimark.Verifier, "verify_bytes", flaky)
    reports = {_rel(tree, r.source): r for r in aimark.scan(tree, workers=0)}
    assert set(reports) == set(EXPECTED)
    assert reports["plain.jpg"].error["code"] == "internal-error"
    assert "injected" in reports["plain.jpg"].error["message"]


def test_files_over_the_byte_limit_are_error_records(tree):
    run = aimark.scan(tree, workers=0, limits=aimark.Limits(max_bytes=2000))
    reports = {_rel(tree, r.source): r for r in run}
    assert set(reports) == set(EXPECTED)  # media by their heads, refused by their size
    big = reports["plain.jpg"]
    assert big.error["code"] == "too-large" and big.file.size > 2000
    assert reports["readme.txt"].verdict.status.value == "not-labelled"  # small: verified


def test_a_file_name_that_is_not_utf8_in_every_output(tmp_path):
    """100 PNGs and one named f\\xff.png: the JSON Lines keep the exact name, the CSV and the
    HTML report show it as f\\xff (as ``ls -b`` does), the CLI prints it under a strict UTF-8
    stdout, and resuming from the complete JSON Lines writes the same reports again."""
    folder = tmp_path / "d"
    folder.mkdir()
    for i in range(100):
        (folder / f"{i}.png").write_bytes(encode(natural_image(48, 32, seed=i), "png"))
    odd = os.fsdecode(os.fsencode(folder) + b"/f\xff.png")
    Path(odd).write_bytes(encode(natural_image(48, 32, seed=7), "png"))
    out = {k: tmp_path / f"s.{k}" for k in ("jsonl", "csv", "html")}
    cmd = [sys.executable, "-m", "aimark", "scan", str(folder), "-o", str(out["jsonl"])]
    cmd += ["--csv", str(out["csv"]), "--html", str(out["html"])]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}  # strict: no surrogateescape of its own
    for run in ("first", "resumed"):
        done = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
        assert done.returncode == 0, (run, done.stderr)
        sources = [json.loads(line)["source"] for line in out["jsonl"].read_text().splitlines()]
        assert len(sources) == 101 and odd in sources  # exact, through JSON's \udcff escape
        with open(out["csv"], newline="", encoding="utf-8") as f:
            paths = [r["path"] for r in csv.DictReader(f)]
        assert len(paths) == 101 and f"{folder}/f\\xff.png" in paths
        page = out["html"].read_text(encoding="utf-8")
        assert "f\\xff.png" in page and page.count("<tr data-verdict") == 101
    verify = subprocess.run(
        [sys.executable, "-m", "aimark", "verify", odd], capture_output=True, env=env
    )
    assert verify.returncode == 2 and verify.stdout.startswith(os.fsencode(odd) + b": not-labelled")


def test_cells_anyone_can_set_are_not_formulas_in_a_spreadsheet(tmp_path, monkeypatch):
    """A self-signed signer names its model =HYPERLINK(...), and files are named like formulas:
    read the CSV as a spreadsheet does (a cell starting with = + - @ tab or CR is a formula),
    and no cell is one; the apostrophe that neutralises it is the only change (the JSONL keeps
    the exact values)."""
    stranger = aimark.create_dev_credentials(tmp_path / "stranger")  # a root nobody trusts
    formula = '=HYPERLINK("http://attacker.example/","open me")'
    labeler = aimark.Labeler(stranger.credentials(), generator=(formula, "+1"))
    folder = tmp_path / "d"
    folder.mkdir()
    names = ["=cmd|' -C calc'!A0.png", "+SUM(1,2).png", "-2+3.png", "@SUM(1).png", "plain.png"]
    for i, name in enumerate(names):
        labeler.label_image(natural_image(160, 120, seed=i), folder / name, format="png")
    out = tmp_path / "s.csv"
    jsonl = tmp_path / "s.jsonl"
    monkeypatch.chdir(folder)  # files named on the command line: the path is the name
    aimark.scan(names, output=jsonl, csv=out, workers=0).run()
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(names)
    cells = [cell for row in rows for cell in row.values()]
    formulas = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert formulas == []
    generators = {row["generator"] for row in rows}
    assert generators == {"'" + formula + " +1"} or generators == {"'" + formula}, generators
    shown = {row["path"] for row in rows}
    assert shown == {"'" + n if n[0] in "=+-@" else n for n in names}
    exact = {json.loads(line)["source"] for line in jsonl.read_text().splitlines()}
    assert exact == set(names)


def test_scan_takes_the_verifier_it_verifies_with(tmp_path, dev):
    """``aimark.scan(paths, verifier=...)``: every Verifier option (here a repository-free
    one with a key and trust anchors) reaches the workers without scan() naming it; its
    options as keywords build the same Verifier; both at once is an error."""
    key = aimark.WatermarkKey(b"aimark scan verifier test key 32")
    tree = tmp_path / "tree"
    tree.mkdir()
    marked = embed(np.asarray(natural_image(512, 384)), key, 0x5CA1AB1E)
    Image.fromarray(marked).save(tree / "marked.png")
    natural_image(512, 384, seed=2).save(tree / "plain.png")
    verifier = aimark.Verifier(trust=dev.root_cert, watermark_keys=[key])
    for workers in (0, 1):
        found = {
            Path(r.source).name: r for r in aimark.scan(tree, verifier=verifier, workers=workers)
        }
        assert found["marked.png"].watermark.detected
        assert not found["plain.png"].watermark.detected
        assert found["plain.png"].trust_anchors == len(verifier.trust.subjects) > 0
    with pytest.raises(TypeError, match="not both"):
        aimark.scan(tree, verifier=verifier, watermark_keys=[key])


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]


def test_scan_workers_use_one_blas_thread_each():
    """The worker processes are the parallelism: numpy's BLAS threads in each would only
    contend for the same cores (aimark._threads)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import numpy  # noqa: F401  (loads BLAS here, so that the comparison means something)

    from aimark.scanner.run import _init_worker

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker) as pool:
        inside = pool.submit(_blas_threads).result(timeout=120)
    assert inside and all(n == 1 for n in inside)
