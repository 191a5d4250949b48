"""The scan benchmark's corpus: a folder of real, mixed media files with a ground-truth manifest.

    python benchmarks/_scan_corpus.py [--files 2000] [--seed 0] [--root build/scan-bench]

Built once into ``<root>/corpus-<N>/`` and reused while its recipe (this file's version, the
seed, N and the source files) is unchanged. Layout::

    corpus-<N>/files/album-07/raw/00123-labelled-wm.webp   the folder to scan (only media here)
    corpus-<N>/manifest.json                                 ground truth, one entry per file
    corpus-<N>/creds/dev-root-ca.pem                         trust anchor of the labelled files
    corpus-<N>/bench.key                                     the watermark key

Sources: the repository's ``samples/*.{jpg,png}`` and the shared fixtures
(``/work/shared/fixtures/photos`` -- real photos, ``/work/shared/fixtures/c2pa`` -- Adobe's
C2PA test files); a missing folder is skipped. Each file is a random crop of one source,
resized to a long side of 256/512/1024/2048 px and re-encoded as JPEG, PNG, WebP, TIFF, AVIF,
HEIC or GIF, then made into one of these kinds:

    plain            re-encoded, no labels                       expect not-labelled
    metadata         + third-party AI metadata (IPTC XMP from a   expect labelled-unsigned
                     sample, A1111 / ComfyUI PNG text chunks)
    labelled         aimark C2PA + XMP + EXIF                     expect labelled-trusted
    labelled-wm      the same + invisible watermark               expect labelled-trusted (+ mark)
    watermark-only   labelled-wm at >= 512 px, then re-saved      expect labelled-watermark
                     (PNG, WebP / JPEG q95; labels gone)          (with the key)
    tampered         labelled JPEG with one scan byte changed     expect invalid
    fixture          a source file copied byte for byte           (whatever c2pa-python says)
    corrupt          truncated, header only, 0 bytes, random      (error, or decoded with
                     bytes, or bytes flipped mid-stream            problems)
    text / json      notes, sidecar JSON, aimark-signed texts     expect not-labelled / trusted

Randomness is seeded per file (``random.Random(f"{seed}:{index}")``); signatures, content ids
and the development credentials are fresh on each build, the choices and pixels are not.

:func:`linked_tree` makes a larger folder (e.g. 10,000 files for the memory test) from hard
links to a corpus' files, in ``copy-<k>/`` subfolders: real files to a directory walk (the scan
does not merge hard links), no extra disk space.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, PngImagePlugin

import aimark
from aimark.media import containers, image_io
from aimark.media.sniff import ImageFormat

RECIPE_VERSION = 1
REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO / "build" / "scan-bench"
SAMPLES = REPO / "samples"
FIXTURES = REPO.parent / "shared" / "fixtures"
SOURCE_DIRS = (
    (SAMPLES, ("*.jpg", "*.png")),
    (FIXTURES / "photos", ("*",)),
    (FIXTURES / "c2pa", ("*",)),
)

#: Share of each kind in a corpus (rounded; "plain" takes the remainder).
MIX = {
    "plain": 0.50,
    "metadata": 0.05,
    "labelled": 0.12,
    "labelled-wm": 0.09,
    "watermark-only": 0.07,
    "tampered": 0.02,
    "fixture": 0.04,
    "corrupt": 0.07,
    "text": 0.025,
    "json": 0.015,
}
SIZES = ((256, 0.30), (512, 0.30), (1024, 0.25), (2048, 0.15))  # long side, weight
FORMATS = (  # image format, weight, largest long side (AVIF/HEIC encoders are slow)
    (ImageFormat.JPEG, 0.40, 4096),
    (ImageFormat.PNG, 0.18, 4096),
    (ImageFormat.WEBP, 0.15, 4096),
    (ImageFormat.TIFF, 0.08, 4096),
    (ImageFormat.AVIF, 0.08, 1024),
    (ImageFormat.HEIC, 0.06, 1024),
    (ImageFormat.GIF, 0.05, 1024),
)
EXPECT = {
    "plain": "not-labelled",
    "metadata": "labelled-unsigned",
    "labelled": "labelled-trusted",
    "labelled-wm": "labelled-trusted",
    "watermark-only": "labelled-watermark",
    "tampered": "invalid",
    "json": "not-labelled",
}
_VOCABULARY = (
    "photo shoot notes client review colour grade export batch final draft crop sky beach "
    "city night portrait studio lens raw archive backup edit print web social model prompt "
    "seed render upscale version approved rejected todo caption licence credit"
)
_WORDS = _VOCABULARY.split()


@dataclass(frozen=True)
class Corpus:
    """A built corpus: the folder to scan, its files (sorted), ground truth, key and trust."""

    root: Path
    files_dir: Path
    files: tuple[Path, ...]
    entries: tuple[dict[str, Any], ...]
    key: aimark.WatermarkKey
    trust: Path

    @property
    def total_bytes(self) -> int:
        return sum(e["bytes"] for e in self.entries)

    def expected(self) -> dict[Path, str | None]:
        """Absolute path -> expected verdict status (None where it is not pinned down)."""
        return {self.files_dir / e["path"]: e.get("expect") for e in self.entries}


# ---------------------------------------------------------------- sources


@dataclass(frozen=True)
class _Source:
    name: str
    path: Path
    image: Image.Image | None  # RGB or L, long side <= 2560; None if too small / undecodable


def _source_paths() -> list[Path]:
    out, seen = [], set()
    for folder, patterns in SOURCE_DIRS:
        if not folder.is_dir():
            continue
        for pattern in patterns:
            for p in sorted(folder.glob(pattern)):
                if p.is_file() and p.suffix.lower() not in (".md", ".txt", ".json"):
                    digest = hashlib.sha256(p.read_bytes()).hexdigest()
                    out.append((p, digest))
    unique = []
    for p, digest in out:
        if digest not in seen:
            seen.add(digest)
            unique.append(p)
    return unique


def _load_sources(paths: list[Path]) -> list[_Source]:
    image_io.heif_available()  # registers the HEIC opener when pillow-heif is installed
    sources = []
    for p in paths:
        image = None
        try:
            with warnings.catch_warnings(), Image.open(p) as im:
                warnings.simplefilter("ignore")
                im.seek(0)
                im.draft("RGB", (2560, 2560))  # JPEG: decode at a reduced scale when huge
                work = ImageOps.exif_transpose(im)
                mode = "L" if work.mode in ("1", "L", "I;16", "I") else "RGB"
                work = work.convert(mode)
                if max(work.size) > 2560:
                    work.thumbnail((2560, 2560), Image.Resampling.LANCZOS)
                if min(work.size) >= 128:
                    image = work.copy()
                    image.info.clear()  # no source metadata (e.g. a TIFF's group4 compression)
        except Exception:  # an undecodable source is still copied as a fixture
            image = None
        sources.append(_Source(p.name, p, image))
    return sources


def recipe(n: int, seed: int) -> str:
    """A digest of what determines a corpus: recipe version, seed, N and the source files."""
    h = hashlib.sha256(f"{RECIPE_VERSION}:{seed}:{n}".encode())
    for p in _source_paths():
        h.update(f"{p.name}:{p.stat().st_size}".encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- one file


def _weighted(rng: random.Random, items: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    return rng.choices(items, weights=[it[1] for it in items])[0]


def _variant(rng: random.Random, src: _Source, long_side: int) -> Image.Image:
    """A random crop (60-100 % of each side) of ``src``, resized to ``long_side`` (more if
    the short side would be under 160 px, so a watermark fits), maybe flipped, a tenth grey."""
    assert src.image is not None
    im = src.image
    w, h = im.size
    cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    crop = im.crop((x, y, x + cw, y + ch))
    scale = max(long_side / max(cw, ch), 160 / min(cw, ch))
    size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
    out = crop.resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
    if rng.random() < 0.5:
        out = ImageOps.mirror(out)
    if out.mode == "RGB" and rng.random() < 0.1:
        out = out.convert("L")
    return out


def _long_side(rng: random.Random, src: _Source, fmt_cap: int, smallest: int = 256) -> int:
    assert src.image is not None
    cap = min(fmt_cap, max(smallest, 2 * max(src.image.size)))  # upscale at most 2x
    side = _weighted(rng, tuple(s for s in SIZES if s[0] >= smallest))[0]
    while side > cap and side > smallest:
        side //= 2
    return side


def _encode(rng: random.Random, im: Image.Image, fmt: ImageFormat) -> bytes:
    """Encode with varied, realistic settings and no metadata."""
    buf = io.BytesIO()
    if fmt is ImageFormat.JPEG:
        im.save(
            buf,
            "JPEG",
            quality=rng.choice((70, 80, 85, 90, 95)),
            progressive=rng.random() < 0.3,
            subsampling=rng.choice((0, 2, 2)),
        )
    elif fmt is ImageFormat.PNG:
        if im.mode == "RGB" and rng.random() < 0.2:
            im = im.copy()
            im.putalpha(Image.linear_gradient("L").resize(im.size).point(lambda v: 128 + v // 2))
        im.save(buf, "PNG", compress_level=rng.choice((1, 6, 9)))
    elif fmt is ImageFormat.WEBP:
        lossless = rng.random() < 0.2
        im.save(buf, "WEBP", lossless=lossless, quality=rng.choice((75, 85, 95)), method=4)
    elif fmt is ImageFormat.TIFF:
        im.save(buf, "TIFF", compression=rng.choice(("raw", "tiff_lzw", "tiff_adobe_deflate")))
    elif fmt is ImageFormat.AVIF:
        im.convert("RGB").save(buf, "AVIF", quality=rng.choice((50, 70, 85)), speed=8)
    elif fmt is ImageFormat.HEIC:
        im.convert("RGB").save(buf, "HEIF", quality=rng.choice((50, 70, 85)))
    elif fmt is ImageFormat.GIF:
        im.convert("RGB").quantize(256).save(buf, "GIF")
    else:  # pragma: no cover
        raise ValueError(fmt)
    return buf.getvalue()


def _ext(rng: random.Random, fmt: ImageFormat) -> str:
    if fmt is ImageFormat.JPEG:
        return rng.choices((".jpg", ".jpeg", ".JPG"), weights=(0.8, 0.1, 0.1))[0]
    if fmt is ImageFormat.TIFF:
        return rng.choice((".tif", ".tiff"))
    return fmt.extension


def _flip_scan_byte(rng: random.Random, data: bytes) -> bytes:
    """Change one byte of a JPEG's entropy-coded data (keeps the container parseable)."""
    sos = data.rfind(b"\xff\xda")
    start, end = sos + 64, len(data) - 4
    buf = bytearray(data)
    for _ in range(1000):
        i = rng.randint(start, end)
        if buf[i] < 0xFE and buf[i - 1] != 0xFF and (buf[i] ^ 0x01) != 0xFF:
            buf[i] ^= 0x01
            return bytes(buf)
    raise RuntimeError("no byte to flip")


class _Builder:
    def __init__(self, sources: list[_Source], creds: aimark.Credentials, key: Any) -> None:
        self.images = [s for s in sources if s.image is not None]
        self.sources = sources
        gen = ("bench-model", "1.0")
        self.labeler = aimark.Labeler(creds, generator=gen)
        self.wm_labeler = aimark.Labeler(creds, generator=gen, watermark_key=key)
        self.text_labeler = aimark.Labeler(creds, generator=("bench-llm", "2"))
        self._third_party = self._third_party_metadata()

    def _third_party_metadata(self) -> dict[str, Any]:
        """Real third-party AI metadata from the samples (IPTC XMP; A1111 / ComfyUI chunks)."""
        out: dict[str, Any] = {"xmp": None, "png_text": []}
        iptc = SAMPLES / "iptc-xmp-only.jpg"
        if iptc.exists():
            out["xmp"] = containers.read_metadata(iptc.read_bytes(), ImageFormat.JPEG).xmp
        for name in ("a1111-parameters.png", "comfyui-workflow.png"):
            p = SAMPLES / name
            if p.exists():
                with Image.open(p) as im:
                    chunks = {k: v for k, v in im.info.items() if isinstance(v, str)}
                if chunks:
                    out["png_text"].append(chunks)
        if not out["png_text"]:  # samples absent: an A1111-style chunk of our own
            out["png_text"].append({"parameters": "a cat\nSteps: 20, Sampler: Euler a, Seed: 1"})
        return out

    def image(
        self,
        rng: random.Random,
        *,
        formats: tuple[ImageFormat, ...] | None = None,
        smallest: int = 256,
    ) -> tuple[Image.Image, ImageFormat, _Source]:
        choices = tuple(f for f in FORMATS if formats is None or f[0] in formats)
        fmt, _, cap = _weighted(rng, choices)
        src = rng.choice(self.images)
        return _variant(rng, src, _long_side(rng, src, cap, smallest)), fmt, src

    def make(self, kind: str, rng: random.Random) -> tuple[bytes, str, dict[str, Any]]:
        """Bytes, file extension and ground-truth fields for one file of ``kind``."""
        meta: dict[str, Any] = {}
        if kind == "plain":
            im, fmt, src = self.image(rng)
            data, ext = _encode(rng, im, fmt), _ext(rng, fmt)
            if rng.random() < 0.02:  # a misnamed file: judged by its bytes, not its name
                ext = rng.choice((".jpg", ".png", ".webp"))
                meta["misnamed"] = True
            return data, ext, {**meta, "format": fmt.value, "size": im.size, "source": src.name}
        if kind == "metadata":
            fmts = (ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP)
            if self._third_party["xmp"] is None:
                fmts = (ImageFormat.PNG,)
            im, fmt, src = self.image(rng, formats=fmts)
            if fmt is ImageFormat.PNG and rng.random() < 0.6:
                info = PngImagePlugin.PngInfo()
                chunks = rng.choice(self._third_party["png_text"])
                for k, v in chunks.items():
                    info.add_text(k, v)
                buf = io.BytesIO()
                im.save(buf, "PNG", pnginfo=info)
                data, meta["label"] = buf.getvalue(), "png text: " + ",".join(sorted(chunks))
            else:
                data = _encode(rng, im, fmt)
                xmp = self._third_party["xmp"]
                alpha = "A" in im.getbands()
                data = containers.write_metadata(
                    data, fmt, xmp=xmp, exif=None, size=im.size, alpha=alpha
                )
                meta["label"] = "iptc xmp"
            fields = {"format": fmt.value, "size": im.size, "source": src.name}
            return data, _ext(rng, fmt), {**meta, **fields}
        if kind in ("labelled", "labelled-wm"):
            wm = kind == "labelled-wm"
            fmts = tuple(f[0] for f in FORMATS if not (wm and f[0] is ImageFormat.GIF))
            im, fmt, src = self.image(rng, formats=fmts)
            labeler = self.wm_labeler if wm else self.labeler
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", aimark.LabelWarning)
                res = labeler.label_image(im, format=fmt, quality=rng.choice((85, 90, 95)))
            meta["watermark"] = "watermark" in res.layers
            fields = {"format": fmt.value, "size": im.size, "source": src.name}
            return res.data, _ext(rng, fmt), {**meta, **fields, "content_id": res.content_id}
        if kind == "watermark-only":
            # re-saved at high quality, as a "save as" or an upload pipeline would
            fmts = (ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP)
            im, fmt, src = self.image(rng, formats=fmts, smallest=512)
            res = self.wm_labeler.label_image(im, format="png")
            pixels = image_io.decode(res.data).pixels
            stripped = Image.fromarray(pixels)
            buf = io.BytesIO()
            if fmt is ImageFormat.JPEG:
                stripped.convert("RGB" if stripped.mode == "RGBA" else stripped.mode).save(
                    buf, "JPEG", quality=95
                )
            elif fmt is ImageFormat.WEBP:
                stripped.save(buf, "WEBP", quality=95)
            else:
                stripped.save(buf, "PNG")
            fields = {"format": fmt.value, "size": im.size, "source": src.name}
            return buf.getvalue(), _ext(rng, fmt), {**fields, "content_id": res.content_id}
        if kind == "tampered":
            im, fmt, src = self.image(rng, formats=(ImageFormat.JPEG,))
            res = self.labeler.label_image(im, format="jpeg", quality=90)
            data = _flip_scan_byte(rng, res.data)
            return data, ".jpg", {"format": "jpeg", "size": im.size, "source": src.name}
        if kind == "fixture":
            src = rng.choice(self.sources)
            return src.path.read_bytes(), src.path.suffix, {"source": src.name}
        if kind == "corrupt":
            return self._corrupt(rng)
        if kind == "text":
            words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 400)))
            text = f"Notes {rng.randint(1, 999)}\n\n{words}\n"
            if rng.random() < 0.3:
                signed = self.text_labeler.label_text(text)
                return (
                    signed.encode(),
                    ".txt",
                    {"label": "aimark text", "expect": "labelled-trusted"},
                )
            return text.encode(), rng.choice((".txt", ".md")), {"expect": "not-labelled"}
        if kind == "json":
            doc = {
                "album": rng.randint(1, 40),
                "tags": rng.sample(_WORDS, 5),
                "rating": rng.randint(0, 5),
                "exported": "2024-05-01T12:00:00Z",
            }
            return json.dumps(doc, indent=2).encode(), ".json", {}
        raise ValueError(kind)

    def _corrupt(self, rng: random.Random) -> tuple[bytes, str, dict[str, Any]]:
        how = rng.choices(
            ("truncated", "header-only", "empty", "random", "flipped"),
            weights=(0.45, 0.1, 0.1, 0.15, 0.2),
        )[0]
        if how == "empty":
            return b"", rng.choice((".jpg", ".png")), {"damage": how, "expect": "error"}
        if how == "random":
            data = rng.randbytes(rng.randint(512, 200_000))
            ext = rng.choice((".jpg", ".png", ".heic"))
            return data, ext, {"damage": how, "expect": "error"}
        im, fmt, src = self.image(rng)
        data = _encode(rng, im, fmt)
        fields = {"damage": how, "format": fmt.value, "size": im.size, "source": src.name}
        if how == "truncated":
            data = data[: max(64, int(len(data) * rng.uniform(0.05, 0.95)))]
        elif how == "header-only":
            data = data[: rng.randint(16, 200)]
        else:  # a burst of changed bytes somewhere after the first tenth
            buf = bytearray(data)
            at = rng.randint(len(buf) // 10, len(buf) - 1)
            for i in range(at, min(len(buf), at + rng.randint(1, 64))):
                buf[i] = rng.randrange(256)
            data = bytes(buf)
        return data, _ext(rng, fmt), fields


# ---------------------------------------------------------------- corpus


def _kinds(n: int, seed: int) -> list[str]:
    counts = {k: round(n * share) for k, share in MIX.items() if k != "plain"}
    counts["plain"] = n - sum(counts.values())
    kinds = [k for k, c in counts.items() for _ in range(c)]
    random.Random(f"{seed}:kinds").shuffle(kinds)
    return kinds


def _folder(rng: random.Random) -> str:
    album = f"album-{rng.randrange(20):02d}"
    sub = rng.choices(("", "raw", "exports/web", "2024/05"), weights=(0.55, 0.2, 0.15, 0.1))[0]
    return f"{album}/{sub}" if sub else album


def _build(dest: Path, n: int, seed: int, log: Callable[[str], None]) -> None:
    sources = _load_sources(_source_paths())
    if not any(s.image is not None for s in sources):
        raise SystemExit("no source images found (samples/ and /work/shared/fixtures)")
    dev = aimark.create_dev_credentials(dest / "creds")
    key = aimark.WatermarkKey(random.Random(f"{seed}:key").randbytes(32))
    key.save(dest / "bench.key")
    builder = _Builder(sources, dev.credentials(), key)
    files_dir = dest / "files"
    entries = []
    t0 = time.perf_counter()
    for i, kind in enumerate(_kinds(n, seed)):
        rng = random.Random(f"{seed}:{i}")
        data, ext, fields = builder.make(kind, rng)
        rel = f"{_folder(rng)}/{i:05d}-{kind}{ext}"
        path = files_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entry = {"path": rel, "kind": kind, "bytes": len(data), "expect": EXPECT.get(kind)}
        entry.update({k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()})
        entries.append(entry)
        if (i + 1) % 250 == 0:
            log(f"  corpus: {i + 1}/{n} files, {time.perf_counter() - t0:.0f} s")
    manifest = {
        "recipe": recipe(n, seed),
        "seed": seed,
        "files": n,
        "built_s": round(time.perf_counter() - t0, 1),
        "sources": [str(s.path) for s in sources],
        "trust": "creds/dev-root-ca.pem",
        "key": "bench.key",
        "entries": entries,
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1))


def build_corpus(
    n: int = 2000,
    *,
    root: Path = DEFAULT_ROOT,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> Corpus:
    """Build ``<root>/corpus-<n>`` (or reuse it when its recipe matches) and return it."""
    dest = root / f"corpus-{n}"
    want = recipe(n, seed)
    manifest_path = dest / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("recipe") == want:
            return _load(dest, manifest)
        log(f"  corpus {dest} is from another recipe: rebuilding")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log(f"  building {n} files into {dest} (seed {seed}) ...")
    _build(tmp, n, seed, log)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return _load(dest, json.loads(manifest_path.read_text()))


def _load(dest: Path, manifest: dict[str, Any]) -> Corpus:
    files_dir = dest / "files"
    entries = tuple(manifest["entries"])
    files = tuple(sorted(files_dir / e["path"] for e in entries))
    missing = [p for p in files if not p.is_file()]
    if missing:
        raise SystemExit(f"corpus {dest} is incomplete ({missing[0]} missing): delete it")
    key = aimark.WatermarkKey.load(dest / manifest["key"])
    return Corpus(dest, files_dir, files, entries, key, dest / manifest["trust"])


def linked_tree(corpus: Corpus, total: int, dest: Path, per_copy: int | None = None) -> list[Path]:
    """``total`` files under ``dest``: hard links to the first ``per_copy`` files of the
    corpus (default: all; in manifest order, so a prefix has the corpus' mix), repeated in
    ``copy-<k>/`` subfolders. Trees with the same ``per_copy`` hold the same mix of files
    whatever their size. Reused if complete."""
    per_copy = min(per_copy or len(corpus.entries), len(corpus.entries))
    out = []
    for i in range(total):
        k, entry = divmod(i, per_copy)
        src = corpus.files_dir / corpus.entries[entry]["path"]
        out.append((src, dest / f"copy-{k}" / corpus.entries[entry]["path"]))
    marker = dest.with_name(dest.name + ".complete")  # beside the tree: not scanned
    stamp = f"{corpus.root}:{total}:{per_copy}"
    if not (marker.exists() and marker.read_text() == stamp):
        shutil.rmtree(dest, ignore_errors=True)
        marker.unlink(missing_ok=True)
        for src, path in out:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, path)
            except OSError:
                shutil.copyfile(src, path)
        marker.write_text(stamp)
    return sorted(path for _, path in out)


def summary(corpus: Corpus) -> str:
    """One line per kind and per format: counts."""
    kinds: dict[str, int] = {}
    fmts: dict[str, int] = {}
    for e in corpus.entries:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        f = e.get("format") or "-"
        fmts[f] = fmts.get(f, 0) + 1
    k = ", ".join(f"{name} {c}" for name, c in sorted(kinds.items(), key=lambda kv: -kv[1]))
    f = ", ".join(f"{name} {c}" for name, c in sorted(fmts.items(), key=lambda kv: -kv[1]))
    return f"kinds: {k}\nformats: {f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    args = ap.parse_args()
    t0 = time.perf_counter()
    corpus = build_corpus(args.files, root=args.root, seed=args.seed)
    print(
        f"{corpus.files_dir}: {len(corpus.files)} files, {corpus.total_bytes / 1e6:.0f} MB "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    print(summary(corpus))


if __name__ == "__main__":
    main()
