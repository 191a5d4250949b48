"""Hostile and broken inputs: a clear error or an explicit verdict, never a crash, never a change
to the input. Each case goes through the API (label and verify) and through the CLI."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aimark
from conftest import SHARED, encode, natural_image, sha256


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims a huge image (a decompression bomb in miniature)."""

    def chunk(ctype: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + ctype
            + body
            + struct.pack(">I", zlib.crc32(ctype + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _corrupt_manifest(signed: bytes) -> bytes:
    """Damage bytes inside the JUMBF manifest store (not the image data)."""
    start = signed.index(b"jumb")
    data = bytearray(signed)
    for off in range(start + 200, start + 260):
        data[off] ^= 0x5A
    return bytes(data)


def _bad_inputs(labelled_jpeg: bytes) -> dict[str, tuple[bytes, type[aimark.InputError]]]:
    jpeg = encode(natural_image(), "jpeg")
    return {
        "empty.jpg": (b"", aimark.EmptyInputError),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], aimark.CorruptInputError),
        "random.jpg": (os.urandom(4096), aimark.UnsupportedFormatError),
        "text.png": (b"hello, I am a text file\n" * 10, aimark.UnsupportedFormatError),
        "document.pdf": (b"%PDF-1.7\n" + b"0" * 100, aimark.UnsupportedFormatError),
        "bomb.png": (_png_header_only(60000, 60000), aimark.ImageTooLargeError),
        "header-only.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", aimark.CorruptInputError),
        # an existing manifest is kept as an ingredient; a broken one cannot be, so refuse
        "bad-manifest.jpg": (_corrupt_manifest(labelled_jpeg), aimark.CorruptInputError),
        "truncated-signed.jpg": (
            labelled_jpeg[: len(labelled_jpeg) - 3000],
            aimark.CorruptInputError,
        ),
    }


@pytest.fixture(scope="module")
def bad_files(labeler, tmp_path_factory) -> dict[str, tuple[Path, type]]:
    folder = tmp_path_factory.mktemp("bad")
    labelled = labeler.label_image(natural_image(), format="jpeg").data
    out = {}
    for name, (data, exc) in _bad_inputs(labelled).items():
        p = folder / name
        p.write_bytes(data)
        out[name] = (p, exc)
    return out


CASES = [
    "empty.jpg",
    "truncated.jpg",
    "random.jpg",
    "text.png",
    "document.pdf",
    "bomb.png",
    "header-only.jpg",
    "bad-manifest.jpg",
    "truncated-signed.jpg",
]


@pytest.mark.parametrize("name", CASES)
def test_verify_gives_explicit_result(name, bad_files, trusted):
    path, _ = bad_files[name]
    before = sha256(path)
    report = trusted.verify(path)
    assert sha256(path) == before
    assert report.verdict.status in (
        aimark.Status.ERROR,
        aimark.Status.INVALID,
        aimark.Status.NOT_LABELLED,
    )
    assert report.verdict.status is not aimark.Status.LABELLED_TRUSTED
    assert report.verdict.summary
    if name == "bad-manifest.jpg" or name == "truncated-signed.jpg":
        assert report.verdict.status is aimark.Status.INVALID
        assert report.c2pa.state is aimark.C2paState.INVALID
    elif report.verdict.status is aimark.Status.ERROR:
        assert report.error["code"] and report.error["message"]
    # to_json never fails on these
    assert report.to_json()


@pytest.mark.parametrize("name", CASES)
def test_label_raises_clear_error(name, bad_files, labeler, tmp_path):
    path, exc = bad_files[name]
    before = sha256(path)
    dst = tmp_path / "out"
    with pytest.raises(exc) as info:
        labeler.label_image(path, dst)
    assert str(info.value)
    assert not dst.exists()
    assert sha256(path) == before


def test_pixel_limit_is_configurable(labeler, creds):
    data = encode(natural_image(100, 100), "png")
    small = aimark.Limits(max_pixels=5_000)
    report = aimark.verify(data, limits=small)
    assert report.error["code"] == "too-large"
    with pytest.raises(aimark.ImageTooLargeError):
        aimark.Labeler(creds, generator="m", limits=small).label_image(data)
    assert aimark.verify(data).verdict.status is aimark.Status.NOT_LABELLED


def _bilevel_png(path, width: int, height: int) -> None:
    """A real PNG of width × height pixels that costs little to make and to store (1 bit)."""
    Image.new("1", (width, height), 1).save(path, "PNG")


def test_the_pixel_limit_is_aimarks_not_pillows(tmp_path):
    """Pillow warns above 89.5 M pixels and refuses above 179 M; aimark's limit (default
    100 M, configurable either way) is the one that decides, on real files, in Python and CLI."""
    between = tmp_path / "between.png"  # 90.25 M: over Pillow's warning, under aimark's limit
    _bilevel_png(between, 9500, 9500)
    report = aimark.verify(between)
    assert report.error is None and report.media.width == 9500, report.error
    over = tmp_path / "over.png"  # 100.01 M: over the default
    _bilevel_png(over, 10001, 10000)
    report = aimark.verify(over)
    assert report.error["code"] == "too-large"
    assert (
        "10001×10000 = 100,010,000 pixels is over the limit of 100,000,000"
        in (report.error["message"])
    )
    huge = tmp_path / "huge.png"  # 190 M: over twice Pillow's limit
    _bilevel_png(huge, 14000, 13600)
    assert aimark.verify(huge).error["code"] == "too-large"
    raised = aimark.verify(huge, limits=aimark.Limits(max_pixels=200_000_000))
    assert raised.error is None and raised.media.height == 13600, raised.error
    lowered = aimark.verify(between, limits=aimark.Limits(max_pixels=90_000_000))
    assert lowered.error["code"] == "too-large"
    cli = [sys.executable, "-m", "aimark", "verify", "--json"]
    out = subprocess.run([*cli, "--max-pixels", "200000000", str(huge)], capture_output=True)
    assert json.loads(out.stdout)["error"] is None, out.stderr
    out = subprocess.run([*cli, str(huge)], capture_output=True)
    assert json.loads(out.stdout)["error"]["code"] == "too-large"


_PEAK_RSS = """
import sys
from aimark.cli import main
code = main(sys.argv[1:])
status = open("/proc/self/status").read()
print(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmHWM:")))
sys.exit(code)
"""


def _label_peak_rss(src: Path, dst: Path, dev, key: Path) -> int:
    """Peak resident memory (bytes) of ``aimark label`` with a watermark key: the CLI's main in
    a fresh process that reports its own high-water mark (VmHWM, reset at exec, unlike
    ru_maxrss, which a child inherits from the pytest process)."""
    cmd = ["label", str(src), "-o", str(dst), "--model", "m", "--watermark-key", str(key)]
    cmd += ["--cert", str(dev.cert_chain), "--key", str(dev.private_key)]
    proc = subprocess.run([sys.executable, "-c", _PEAK_RSS, *cmd], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.split()[-1]) * 1024  # kB


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_labelling_memory_grows_by_a_stated_bound_per_pixel(dev, tmp_path):
    """docs/security.md states the cost of labelling with a watermark: about 11 bytes per
    pixel over a fixed base (0.2.0: about 19). Measured on real files through the CLI."""
    key = tmp_path / "wm.key"
    aimark.WatermarkKey.generate().save(key)
    rng = np.random.default_rng(0)
    small, big = tmp_path / "small.jpg", tmp_path / "big.jpg"
    natural_image(640, 480).save(small, quality=90)
    base = natural_image(400, 300)
    large = base.resize((4800, 3000))  # 14.4 MP, with grain so the encoder has work to do
    grain = rng.normal(0, 3, (3000, 4800, 3))
    Image.fromarray(np.clip(np.asarray(large) + grain, 0, 255).astype(np.uint8)).save(
        big, quality=90
    )
    del large, grain
    before = sha256(big)
    fixed = _label_peak_rss(small, tmp_path / "small-out.jpg", dev, key)
    peak = _label_peak_rss(big, tmp_path / "big-out.jpg", dev, key)
    per_pixel = (peak - fixed) / (4800 * 3000)
    assert per_pixel < 13, f"{per_pixel:.1f} bytes per pixel"
    assert sha256(big) == before
    assert aimark.verify(tmp_path / "big-out.jpg").media.width == 4800


def test_byte_limit(creds):
    data = encode(natural_image(100, 100), "png")
    report = aimark.verify(data, limits=aimark.Limits(max_bytes=100))
    assert report.error["code"] == "too-large"


def test_wrong_types_are_type_errors(labeler):
    with pytest.raises(TypeError):
        labeler.label_image(12345)
    with pytest.raises(TypeError):
        aimark.verify(12345)


def test_text_mode_file_object_is_refused(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("hello")
    with p.open("r") as f, pytest.raises(TypeError, match="binary"):
        aimark.verify(f)


def test_missing_path_raises_os_error():
    with pytest.raises(FileNotFoundError):
        aimark.verify("/definitely/not/here.jpg")


def test_special_files_are_not_read(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)  # reading it would block forever
    report = aimark.verify(fifo)
    assert report.error["code"] == "input-error" and "regular file" in report.error["message"]
    assert aimark.verify(tmp_path).error["code"] == "input-error"
    proc = run_cli("verify", str(fifo))
    assert proc.returncode == 4 and "regular file" in proc.stdout


def test_many_page_tiff_counts_all_pages(creds):
    import io

    from PIL import Image

    pages = [Image.new("L", (100, 100), i) for i in range(5)]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    limits = aimark.Limits(max_pixels=30_000)  # each page fits, all five do not
    with pytest.raises(aimark.ImageTooLargeError, match="pages"):
        aimark.Labeler(creds, generator="m", limits=limits).label_image(buf.getvalue())


# ----------------------------------------------------------------------------- CLI


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimark", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("aimark:")]
    assert len(lines) == 1, proc.stderr


@pytest.mark.parametrize("name", CASES)
def test_cli_verify_bad_input(name, bad_files):
    path, _ = bad_files[name]
    before = sha256(path)
    proc = run_cli("verify", str(path))
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.returncode in (2, 3, 4)
    assert proc.stdout.startswith(f"{path}: ")
    assert sha256(path) == before


@pytest.mark.parametrize("name", CASES)
def test_cli_label_bad_input(name, bad_files, dev, tmp_path):
    path, _ = bad_files[name]
    before = sha256(path)
    proc = run_cli(
        "label",
        str(path),
        "-o",
        str(tmp_path / "o.jpg"),
        "--cert",
        str(dev.cert_chain),
        "--key",
        str(dev.private_key),
        "--model",
        "m",
    )
    assert proc.returncode == 4, proc.stderr
    assert_clean_failure(proc)
    assert not (tmp_path / "o.jpg").exists()
    assert sha256(path) == before


def test_cli_verify_shared_fixtures_without_crash(shared_c2pa):
    proc = run_cli("verify", *sorted(str(p) for p in shared_c2pa.iterdir()))
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if not ln.startswith(" ")]
    assert len(lines) == len(list(shared_c2pa.iterdir()))
    assert proc.returncode == 3  # E-sig-CA.jpg and XCA.jpg are invalid


def test_shared_fixture_folder_present_or_skipped():
    if not (SHARED / "c2pa").is_dir():
        pytest.skip("shared fixtures absent")
    assert any((SHARED / "c2pa").iterdir())


def test_corrupt_avif_pixels_are_a_report_not_a_crash():
    """Regression: Pillow's AVIF decoder raises RuntimeError ("Decoding of color planes
    failed") on corrupt data; verify (with a watermark key, so the pixels are decoded) and the
    scan must report it like any other corrupt file. Found by benchmarks/bench_scan.py."""
    key = aimark.WatermarkKey.generate()
    data = encode(natural_image(128, 96, seed=5), "avif", quality=80)
    verifier = aimark.Verifier(watermark_keys=[key])
    undecodable = 0
    for pos in range(len(data) - 300, len(data)):  # the coded pixels are at the end
        flipped = bytearray(data)
        flipped[pos] ^= 0xFF
        report = verifier.verify_bytes(bytes(flipped))  # must not raise
        assert report.verdict.status in (aimark.Status.NOT_LABELLED, aimark.Status.ERROR)
        undecodable += report.watermark.status.startswith("undecodable")
    assert undecodable > 0  # the corrupt-pixel path was reached


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_a_cut_file_without_credentials_is_not_called_invalid(fmt, labeler, trusted):
    # regression (found by the page's browser tests): c2pa cannot parse a cut PNG and said
    # so with an error that became "C2PA invalid" — a tampering alarm for a file that never
    # had Content Credentials. Only a file that holds a manifest store can be invalid.
    data = encode(natural_image(320, 240, seed=4), fmt)
    report = trusted.verify_bytes(data[: len(data) // 2])
    assert report.verdict.status in (aimark.Status.NOT_LABELLED, aimark.Status.ERROR)
    assert report.c2pa.state is aimark.C2paState.ABSENT
    signed = labeler.label_image(natural_image(320, 240, seed=4), format=fmt).data
    part = signed[: len(signed) * 3 // 4]
    cut = trusted.verify_bytes(part)
    if b"jumb" in part:  # the manifest store is still there (JPEG, PNG: it comes first)
        assert cut.c2pa.state is aimark.C2paState.INVALID
        assert cut.verdict.status is aimark.Status.INVALID
    else:  # WebP keeps it after the pixels
        assert cut.verdict.status in (aimark.Status.NOT_LABELLED, aimark.Status.ERROR)
