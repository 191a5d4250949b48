"""libFuzzer-driven fuzzing of ``Verifier.verify_bytes`` with atheris, for long runs by hand.

The test suite fuzzes the same path with hypothesis (``tests/test_fuzz_verify.py``: structure-
aware mutation plans, bounded time); this harness is for hours-long coverage-guided runs. It
is not used by the tests, and atheris is not a dependency: install it apart, e.g.

    pip install --target /tmp/atheris atheris          # a wheel exists for CPython 3.11
    PYTHONPATH=/tmp/atheris python benchmarks/fuzz_verify_atheris.py build/fuzz/corpus \\
        -max_total_time=3600 -dict=build/fuzz/verify.dict

On the first run the corpus folder (default ``build/fuzz/corpus``) is seeded with small files
of every format, files labelled by aimark (C2PA, XMP, EXIF, watermark), C2PA-signed texts and,
when present, the shared fixtures; a libFuzzer dictionary of the formats' tokens is written
next to it. Every input goes through a verifier with the defaults and one with trust anchors,
a watermark key and the public detectors (pixel limit 4 MP); a crash is any exception, any
warning (they are errors here), a report that is not strict JSON, or an error without a code.
libFuzzer's ``-rss_limit_mb`` (default here 3072) and ``-timeout`` (default here 30 s) catch
memory blow-ups and hangs; crashing inputs are written as ``crash-*`` / ``oom-*`` /
``timeout-*`` files in the current folder.

Options are libFuzzer's (``-help=1``), plus ``--no-instrument`` to skip the Python coverage
instrumentation of aimark, Pillow and piexif (faster, but blind: plain random mutation).
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
DEFAULT_CORPUS = REPO / "build" / "fuzz" / "corpus"

_INSTRUMENT = "--no-instrument" not in sys.argv
if not _INSTRUMENT:
    sys.argv.remove("--no-instrument")

if _INSTRUMENT:
    with atheris.instrument_imports(include=["aimark", "PIL", "piexif"]):
        import aimark
        from aimark.media.image_io import heif_available
else:
    import aimark
    from aimark.media.image_io import heif_available

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

_TOKENS = [
    b"\x89PNG\r\n\x1a\n",
    b"IHDR",
    b"IDAT",
    b"IEND",
    b"iTXt",
    b"tEXt",
    b"zTXt",
    b"eXIf",
    b"caBX",
    b"acTL",
    b"fcTL",
    b"\xff\xd8\xff",
    b"\xff\xe1",
    b"\xff\xeb",
    b"\xff\xda",
    b"\xff\xd9",
    b"\xff\xc0",
    b"\xff\xc4",
    b"\xff\xdb",
    b"Exif\x00\x00",
    b"http://ns.adobe.com/xap/1.0/\x00",
    b"JP",
    b"RIFF",
    b"WEBP",
    b"VP8 ",
    b"VP8L",
    b"VP8X",
    b"ANMF",
    b"XMP ",
    b"EXIF",
    b"C2PA",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"GIF89a",
    b"\x21\xff\x0bXMP DataXMP",
    b"\x21\xff\x0bC2PA_GIF",
    b"ftyp",
    b"avif",
    b"heic",
    b"mif1",
    b"meta",
    b"iloc",
    b"iinf",
    b"ipco",
    b"ispe",
    b"mdat",
    b"uuid",
    b"jumb",
    b"jumd",
    b"c2pa",
    b"c2ma",
    b"c2as",
    b"c2cl",
    b"c2cs",
    b"cbor",
    b"json",
    b"C2PATXT\x00",
    "\ufeff".encode(),
    "\ufe00".encode(),
    "\U000e0100".encode(),
    b"<x:xmpmeta",
    b"<rdf:RDF",
    b"Iptc4xmpExt:DigitalSourceType",
    b"trainedAlgorithmicMedia",
    b"TC260:AIGC",
    b"<!DOCTYPE",
    b"Steps: 20, Sampler:",
    b"parameters",
    b"prompt",
]


def _natural(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [128 + 100 * np.sin(x / 37 + seed), 128 + 100 * np.cos(y / 23), (x + y) % 256], axis=-1
    )
    base += rng.normal(0, 8, base.shape)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")


def _encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    if fmt == "gif":
        im = im.convert("P", palette=Image.Palette.ADAPTIVE)
    im.save(buf, aimark.ImageFormat.parse(fmt).pillow_name, **params)
    return buf.getvalue()


def _seed_corpus(folder: Path, dev: aimark.DevCredentials, key: aimark.WatermarkKey) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    formats = ["png", "jpeg", "webp", "tiff", "gif", "avif"] + (
        ["heic"] if heif_available() else []
    )
    small, big = _natural(24, 16, 1), _natural(192, 160, 2)
    files: dict[str, bytes] = {}
    for fmt in formats:
        files[f"plain.{fmt}"] = _encode(small, fmt)
    files["rgba.png"] = _encode(small.convert("RGBA"), "png")
    files["i16.png"] = _encode(
        Image.fromarray(np.arange(384, dtype=np.uint16).reshape(16, 24)), "png"
    )
    files["progressive.jpeg"] = _encode(small, "jpeg", progressive=True)
    files["lzw.tiff"] = _encode(small, "tiff", compression="tiff_lzw")
    marked = aimark.Labeler(dev.credentials(), generator=("fuzz", "1"), watermark_key=key)
    plain = aimark.Labeler(dev.credentials(), generator=("fuzz", "1"))
    for fmt in formats:
        labeler = plain if fmt == "gif" else marked
        files[f"labelled.{fmt}"] = labeler.label_image(big, format=fmt).data
    texts = ["Hello.", "Café ❤️ 東京\r\n", "\ufeffa text with a BOM\n"]
    for i, text in enumerate(texts):
        files[f"signed-{i}.txt"] = plain.label_text(text).encode()
        files[f"plain-{i}.txt"] = text.encode()
    for sub in ("c2pa", "photos"):
        for p in sorted((SHARED / sub).glob("*")) if (SHARED / sub).is_dir() else []:
            if p.is_file() and p.stat().st_size <= 1_000_000:  # libFuzzer's -max_len default
                files[f"shared-{p.name}"] = p.read_bytes()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def _write_dict(path: Path) -> None:
    def quoted(token: bytes) -> str:
        return '"' + "".join(f"\\x{b:02x}" for b in token) + '"'

    path.write_text("".join(f"{quoted(t)}\n" for t in _TOKENS))


def _check(verifier: aimark.Verifier, data: bytes) -> None:
    before = bytes(data)
    report = verifier.verify_bytes(data, name="<fuzz>")
    if not isinstance(report, aimark.Report):
        raise AssertionError(f"not a Report: {report!r}")
    if data != before:
        raise AssertionError("the input bytes were changed")
    json.dumps(report.to_dict(), allow_nan=False)
    if report.verdict.status is aimark.Status.ERROR:
        error = report.error or {}
        if not (isinstance(error.get("code"), str) and error["code"]):
            raise AssertionError(f"error without a code: {error!r}")


def main() -> None:
    args = sys.argv[1:]
    corpus = next((Path(a) for a in args if not a.startswith("-")), None)
    if corpus is None:
        corpus = DEFAULT_CORPUS
        args.append(str(corpus))
    with tempfile.TemporaryDirectory() as tmp:
        dev = aimark.create_dev_credentials(tmp)
        key = aimark.WatermarkKey.generate()
        if not corpus.exists() or not any(corpus.iterdir()):
            _seed_corpus(corpus, dev, key)
            _write_dict(corpus.parent / "verify.dict")
        plain = aimark.Verifier()
        keyed = aimark.Verifier(
            trust=dev.root_cert,
            watermark_keys=[key],
            public_watermarks=True,
            limits=aimark.Limits(max_pixels=4_000_000),
        )

    def test_one_input(data: bytes) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _check(plain, data)
            _check(keyed, data)

    defaults = {"-rss_limit_mb": "3072", "-timeout": "30"}
    for flag, value in defaults.items():
        if not any(a.startswith(flag + "=") for a in args):
            args.insert(0, f"{flag}={value}")
    atheris.Setup([sys.argv[0], *args], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
