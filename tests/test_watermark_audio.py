"""The keyed audio watermark io.aimark.audio.1: golden vectors, found and not found, a fast
subset of the attacks through real ffmpeg processes, file round trips (WAV, MP3, M4A, FLAC),
streaming equal to one-shot, odd rates and channel layouts, bad input, input never modified."""

from __future__ import annotations

import hashlib
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

import aimark
from aimark.errors import CorruptInputError, EmptyInputError, InputError, UnsupportedFormatError
from aimark.marking.audio import find_audio_mark, mark_audio_file
from aimark.media import ffmpeg
from aimark.watermark.audio import (
    DEFAULT_THRESHOLD,
    MIN_SECONDS,
    SCHEME_ID,
    SCHEMES,
    AudioDetector,
    AudioEmbedder,
    detect,
    embed,
    registry,
)
from aimark.watermark.audio.code import CODED_BITS, decode_payload, encode_payload
from aimark.watermark.audio.layout import Layout
from aimark.watermark.audio.resample import Resampler

KEY = aimark.WatermarkKey(bytes(range(32)))
OTHER = aimark.WatermarkKey(b"aimark audio test: another key!!")
PAYLOAD = 0x0123456789ABCDEF
needs_ffmpeg = pytest.mark.skipif(not ffmpeg.available(), reason="ffmpeg/ffprobe not installed")

# golden digests: any change to the layout, the code or the embedding changes them
GOLDEN_LAYOUT = "8516bd8dbc611db6"
GOLDEN_MARK = "dd61458b0154bd45"


def music(seconds: float = 12.0, rate: int = 48_000, channels: int = 2, seed: int = 0):
    """A deterministic music-like signal: harmonic chords changing every 0.4 s, plucked
    envelopes, a little noise; float32 (n, channels) in [-1, 1]."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros(n)
    step = int(0.4 * rate)
    for start in range(0, n, step):
        seg = slice(start, min(n, start + 2 * step))
        tt = t[seg] - t[start]
        env = np.exp(-tt * rng.uniform(2, 6))
        for f0 in 110 * 2 ** (rng.integers(0, 24, 3) / 12):
            for h in range(1, 8):
                if f0 * h < rate / 2:
                    out[seg] += env * np.sin(2 * np.pi * f0 * h * tt + rng.uniform(0, 6)) / h
    out += rng.standard_normal(n) * 0.02
    out = out / np.abs(out).max() * 0.6
    pan = np.linspace(0.7, 1.0, channels)
    return (out[:, None] * pan[None, :]).astype(np.float32)


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return music()


@pytest.fixture(scope="module")
def marked(clip: np.ndarray) -> np.ndarray:
    return embed(clip, 48_000, KEY, PAYLOAD)


# -- names, code, golden vectors ---------------------------------------------------------


def test_names_and_registry() -> None:
    assert SCHEME_ID == "io.aimark.audio.1" and SCHEMES == (SCHEME_ID,)
    assert DEFAULT_THRESHOLD == 1e-6 and 4.6 < MIN_SECONDS <= 5.0
    assert registry.ids() == SCHEMES and registry.get(SCHEME_ID).min_seconds == MIN_SECONDS
    with pytest.raises(ValueError, match="unknown"):
        registry.get("io.aimark.audio.9")


def test_code_round_trip_and_crc() -> None:
    soft = 1.0 - 2.0 * encode_payload(PAYLOAD).astype(float)
    assert CODED_BITS == 264 and decode_payload(soft).payload == PAYLOAD
    soft[:40] = -soft[:40]  # burst of errors the CRC must catch or the code correct
    assert decode_payload(soft).payload in (PAYLOAD, None)
    with pytest.raises(ValueError):
        encode_payload(1 << 64)


def test_golden_layout_and_mark() -> None:
    lay = Layout.from_key(KEY)
    dither = np.round(lay.dither * 1e6).astype(np.int64)
    got = _digest(lay.bit.astype(np.int16), dither, lay.turn.astype(np.int8))
    assert got == GOLDEN_LAYOUT
    x = music(6.0, 16_000, 1, seed=3)[:, 0]
    w = embed(x, 16_000, KEY, PAYLOAD) - x
    assert _digest(np.round(w * 1e4).astype(np.int32)) == GOLDEN_MARK


# -- found and not found -------------------------------------------------------------------


def test_marked_detects_exact_payload(clip: np.ndarray, marked: np.ndarray) -> None:
    r = detect(marked, 48_000, KEY)
    assert r.detected and r.payload == PAYLOAD and r.status == "detected"
    assert r.p_value < 1e-12 and r.scheme == SCHEME_ID and r.analysed_s == pytest.approx(12.0)
    assert r.start_s is not None and r.end_s is not None and 0 <= r.start_s < r.end_s <= 12.0
    snr = 10 * math.log10(np.square(clip).sum() / np.square(marked - clip).sum())
    assert snr > 25


def test_unmarked_and_wrong_key_not_detected(clip: np.ndarray, marked: np.ndarray) -> None:
    for r in (detect(clip, 48_000, KEY), detect(marked, 48_000, OTHER)):
        assert not r.detected and r.payload is None and r.status == "not-detected"
        assert r.p_value > 1e-3


def test_p_values_of_noise_are_not_small() -> None:
    rng = np.random.default_rng(5)
    keys = [aimark.WatermarkKey(rng.bytes(32)) for _ in range(8)]
    x = (rng.standard_normal(16_000 * 10) * 0.1).astype(np.float32)
    det = AudioDetector(keys, 16_000)
    det.feed(x)
    results = det.result()
    assert isinstance(results, list) and len(results) == 8
    assert all(not r.detected and r.p_value > 1e-4 for r in results)


def test_multi_key_detector(marked: np.ndarray) -> None:
    det = AudioDetector([OTHER, KEY], 48_000, 2)
    det.feed(marked)
    a, b = det.result()  # type: ignore[misc]
    assert not a.detected and b.detected and b.payload == PAYLOAD


# -- shapes, dtypes, streaming ------------------------------------------------------------


def test_shapes_dtypes_and_input_untouched() -> None:
    x = music(6.0, 22_050, 1)[:, 0].astype(np.float64)
    before = x.copy()
    y = embed(x, 22_050, KEY, 7)
    assert y.shape == x.shape and y.dtype == np.float64 and np.array_equal(x, before)
    x2 = music(6.0, 22_050, 2)
    y2 = embed(x2, 22_050, KEY, 7, strength=0.5)
    assert y2.shape == x2.shape and y2.dtype == np.float32 and np.abs(y2).max() <= 1.0


def test_streaming_embed_equals_one_shot(clip: np.ndarray, marked: np.ndarray) -> None:
    emb = AudioEmbedder(KEY, PAYLOAD, 48_000, 2)
    rng = np.random.default_rng(1)
    parts, i = [], 0
    while i < clip.shape[0]:
        n = int(rng.integers(1, 40_000))
        parts.append(emb.process(clip[i : i + n]))
        i += n
    parts.append(emb.flush())
    assert np.array_equal(np.concatenate(parts), marked)


def test_streaming_detect_equals_one_shot(marked: np.ndarray) -> None:
    det = AudioDetector(KEY, 48_000)
    for i in range(0, marked.shape[0], 12_345):
        det.feed(marked[i : i + 12_345])
    r = det.result()
    assert r == detect(marked, 48_000, KEY)


def test_resampler_matches_scipy() -> None:
    from scipy.signal import resample_poly

    x = np.random.default_rng(0).standard_normal(44_100 * 2 + 17)
    r = Resampler(44_100, 16_000)
    y = np.concatenate([r.process(x[:1000]), r.process(x[1000:]), r.flush()])
    assert np.allclose(y, resample_poly(x, 160, 441), atol=1e-9)


@pytest.mark.parametrize(
    ("rate", "channels"),
    [(8_000, 1), (11_025, 2), (22_050, 1), (44_100, 2), (96_000, 6)],
)
def test_odd_rates_and_layouts(rate: int, channels: int) -> None:
    x = music(7.0, rate, channels, seed=rate)
    r = detect(embed(x, rate, KEY, PAYLOAD), rate, KEY)
    assert r.detected and r.payload == PAYLOAD


def test_short_and_silent_are_inconclusive() -> None:
    short = music(3.0, 16_000, 1)
    r = detect(embed(short, 16_000, KEY, 1), 16_000, KEY)
    assert r.status == "inconclusive" and r.reason == "too-short" and not r.detected
    r = detect(np.zeros((16_000 * 6, 2), np.float32), 16_000, KEY)
    assert r.status == "inconclusive" and r.reason == "silent"
    silent = np.zeros(16_000 * 6, np.float32)
    assert np.array_equal(embed(silent, 16_000, KEY, 1), silent)  # nothing added to silence


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(100, np.int16),
        np.full(100, np.nan, np.float32),
        np.zeros((2, 2, 2), np.float32),
        np.zeros((0,), np.float32),
    ],
)
def test_bad_samples(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        embed(bad, 16_000, KEY, 1)


def test_bad_arguments() -> None:
    x = np.zeros(100, np.float32)
    with pytest.raises(ValueError, match="sample rate"):
        embed(x, 0, KEY, 1)
    with pytest.raises(ValueError, match="payload"):
        embed(x, 16_000, KEY, -1)
    with pytest.raises(TypeError):
        detect(x, 16_000, b"not a key")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="channels"):
        AudioEmbedder(KEY, 1, 16_000, 2).process(np.zeros((10, 3), np.float32))


# -- attacks through real ffmpeg -------------------------------------------------------------


def _ffmpeg(x: np.ndarray, rate: int, out_args: list[str], ext: str, tmp: Path) -> np.ndarray:
    dst = tmp / f"attacked{ext}"
    cmd = [ffmpeg.exe(), "-v", "error", "-y", "-f", "f32le", "-ar", str(rate)]
    cmd += ["-ac", str(x.shape[1]), "-i", "pipe:0", *out_args, str(dst)]
    subprocess.run(cmd, input=np.ascontiguousarray(x).tobytes(), check=True)
    dec = [ffmpeg.exe(), "-v", "error", "-i", str(dst), "-f", "f32le", "-ac", "1"]
    raw = subprocess.run([*dec, "-ar", "16000", "pipe:1"], capture_output=True, check=True)
    return np.frombuffer(raw.stdout, np.float32)


@needs_ffmpeg
@pytest.mark.parametrize(
    ("name", "args", "ext"),
    [
        ("mp3-64k", ["-c:a", "libmp3lame", "-b:a", "64k"], ".mp3"),
        ("mp3-128k+trim", ["-c:a", "libmp3lame", "-b:a", "128k"], ".mp3"),
        ("aac-96k", ["-c:a", "aac", "-b:a", "96k"], ".m4a"),
        ("resample-16k", ["-ar", "16000", "-c:a", "pcm_s16le"], ".wav"),
        ("mono", ["-ac", "1", "-c:a", "pcm_s16le"], ".wav"),
        ("volume-6dB", ["-af", "volume=-6dB", "-c:a", "pcm_s16le"], ".wav"),
    ],
)
def test_survives_fast_attacks(marked: np.ndarray, name: str, args, ext, tmp_path) -> None:
    y = _ffmpeg(marked, 48_000, args, ext, tmp_path)
    if name.endswith("+trim"):  # and a random trim to 10 s
        start = int(np.random.default_rng(7).integers(0, 16_000 * 2))
        y = y[start : start + 16_000 * 10]
    r = detect(y, 16_000, KEY)
    assert r.detected and r.payload == PAYLOAD, (name, r)


# -- files ------------------------------------------------------------------------------------


def _write(path: Path, x: np.ndarray, rate: int, args: list[str]) -> None:
    cmd = [ffmpeg.exe(), "-v", "error", "-y", "-f", "f32le", "-ar", str(rate)]
    cmd += ["-ac", str(x.shape[1]), "-i", "pipe:0", "-metadata", "title=aimark test"]
    subprocess.run([*cmd, *args, str(path)], input=np.ascontiguousarray(x).tobytes(), check=True)


def _probe_title(path: Path) -> str:
    cmd = [ffmpeg.exe("ffprobe"), "-v", "error", "-show_entries", "format_tags=title"]
    return subprocess.run(
        [*cmd, "-of", "csv=p=0", str(path)], capture_output=True, text=True
    ).stdout


@needs_ffmpeg
@pytest.mark.parametrize(
    ("ext", "args", "codec"),
    [
        (".wav", ["-c:a", "pcm_s24le"], "pcm_s24le"),
        (".mp3", ["-c:a", "libmp3lame", "-b:a", "128k"], "mp3"),
        (".m4a", ["-c:a", "aac", "-b:a", "128k"], "aac"),
        (".flac", ["-c:a", "flac"], "flac"),
    ],
)
def test_file_round_trip(clip: np.ndarray, tmp_path: Path, ext: str, args, codec: str) -> None:
    src, dst = tmp_path / f"src{ext}", tmp_path / f"dst{ext}"
    _write(src, clip, 44_100 if ext == ".mp3" else 48_000, args)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    mark = mark_audio_file(src, dst, KEY, PAYLOAD)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # source untouched
    assert mark.scheme == SCHEME_ID and mark.payload == PAYLOAD and mark.end_s > 11
    assert set(mark.quality) == {"snr_db", "segsnr_db", "lsd_db"} and mark.quality["snr_db"] > 20
    probe = ffmpeg.probe(dst)
    assert probe.audio is not None and probe.audio.codec == codec
    src_audio = ffmpeg.probe(src).audio
    assert src_audio is not None and probe.audio.sample_rate == src_audio.sample_rate
    assert probe.audio.channels == 2 and "aimark test" in _probe_title(dst)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries
    (r,) = find_audio_mark(dst, [KEY])
    assert r.detected and r.payload == PAYLOAD
    (r,) = find_audio_mark(dst, [KEY], max_seconds=6)
    assert r.analysed_s <= 6.05


@needs_ffmpeg
def test_file_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(EmptyInputError):
        find_audio_mark(empty, [KEY])
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises((CorruptInputError, UnsupportedFormatError)):
        find_audio_mark(junk, [KEY])
    good = tmp_path / "good.wav"
    _write(good, music(6.0, 16_000, 1), 16_000, ["-c:a", "pcm_s16le"])
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:30])
    with pytest.raises((CorruptInputError, EmptyInputError)):
        find_audio_mark(truncated, [KEY])
    header_only = tmp_path / "zero.wav"
    header_only.write_bytes(good.read_bytes()[:44])
    with pytest.raises((EmptyInputError, CorruptInputError)):
        mark_audio_file(header_only, tmp_path / "out.wav", KEY, 1)
    assert not (tmp_path / "out.wav").exists()
    text = tmp_path / "notes.txt"
    text.write_text("not audio at all\n" * 20)
    with pytest.raises((CorruptInputError, UnsupportedFormatError)):
        mark_audio_file(text, tmp_path / "o.wav", KEY, 1)
    with pytest.raises(InputError):
        mark_audio_file(good, good, KEY, 1)
    with pytest.raises(CorruptInputError):
        find_audio_mark(tmp_path / "missing.wav", [KEY])
