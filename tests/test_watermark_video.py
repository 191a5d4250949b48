"""The video watermark ``io.aimark.video.1``: golden vectors, the frame-level embedder and
detector, the file-level round trip through real ffmpeg (libx264), the fast attack subset, and
bad input. Clips are small (640 × 360, 4 s) so the file runs in well under a minute."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from aimark import errors
from aimark.keys import WatermarkKey
from aimark.media import ffmpeg
from aimark.media.limits import Limits
from aimark.watermark.video import (
    DEFAULT_THRESHOLD,
    MIN_SIZE,
    SCHEME_ID,
    SCHEMES,
    VideoDetector,
    VideoEmbedder,
    registry,
)
from aimark.watermark.video.embed import frame_pattern

KEY = WatermarkKey(b"video test key, not secret ....!")
OTHER = WatermarkKey(b"another video key, not secret ..")
PAYLOAD = 0x0123_4567_89AB_CDEF

needs_ffmpeg = pytest.mark.skipif(not ffmpeg.available(), reason="ffmpeg/ffprobe not installed")


def _scene(w: int = 1100, h: int = 700, seed: int = 3) -> Image.Image:
    """A picture with detail at several scales (smooth noise, shapes, edges)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
    img = Image.fromarray(base).resize((w, h), Image.Resampling.BICUBIC)
    fine = rng.normal(0, 18, (h, w, 1))
    arr = np.clip(np.asarray(img, np.float32) + fine, 0, 255).astype(np.uint8)
    img = Image.fromarray(arr)
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(10, 90))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return img.filter(ImageFilter.SMOOTH)


def _luma(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"))


# ----------------------------------------------------------------------------- golden vectors


def test_names_and_registry():
    assert SCHEME_ID == "io.aimark.video.1" and SCHEMES == (SCHEME_ID,)
    assert DEFAULT_THRESHOLD == 1e-6 and MIN_SIZE == 128
    assert registry.ids() == SCHEMES and registry.get(SCHEME_ID).embedder is VideoEmbedder
    with pytest.raises(ValueError, match="unknown video watermark scheme"):
        registry.get("io.aimark.video.0")


def test_golden_pattern_digest():
    """Fixed key, payload and frame size: a fixed pattern (changing it breaks old marks)."""
    p = frame_pattern(KEY, PAYLOAD, 320, 180)
    digest = hashlib.sha256(
        np.rint(p.astype(np.float64) * 1000).astype("<i2").tobytes()
    ).hexdigest()
    assert digest[:16] == GOLDEN


GOLDEN = "ad288679812ce690"


def test_the_video_pattern_is_not_the_image_pattern():
    from aimark.watermark.image._schemes.v2.embed import Pattern

    video = frame_pattern(KEY, PAYLOAD, 320, 180)
    image = Pattern(KEY, PAYLOAD, 180, 320, "io.aimark.image.3").strip(0, 180)
    assert abs(float(np.corrcoef(video.ravel(), image.ravel())[0, 1])) < 0.1


# ----------------------------------------------------------------------------- frame level


def _pan(emb: VideoEmbedder | None, n: int = 16, w: int = 480, h: int = 270):
    scene = _luma(_scene())
    for i in range(n):
        y = np.ascontiguousarray(scene[20 + i : 20 + i + h, 30 + 3 * i : 30 + 3 * i + w])
        yield (y if emb is None else emb.mark(y)), i / 8


def test_frames_found_and_not_found():
    emb = VideoEmbedder(KEY, PAYLOAD, 480, 270)
    marked = VideoDetector([KEY, OTHER], 480, 270)
    clean = VideoDetector([KEY], 480, 270)
    for (y, t), (y0, _) in zip(_pan(emb), _pan(None), strict=True):
        psnr = 10 * np.log10(255**2 / np.mean((y.astype(float) - y0) ** 2))
        assert psnr >= 40.0
        marked.add(y, t)
        clean.add(y0, t)
    right, wrong = marked.results()
    assert right.detected and right.payload == PAYLOAD and right.p_value <= 1e-6
    assert right.time_range == (0.0, 2.0) and right.scheme == SCHEME_ID
    assert not wrong.detected and wrong.payload is None
    (unmarked,) = clean.results()
    assert not unmarked.detected and unmarked.status == "not-detected"


def test_an_image_mark_is_not_a_video_mark_and_back():
    from aimark.watermark.image import detect, embed

    scene = _luma(_scene())[:360, :640]
    image_marked = embed(np.repeat(scene[..., None], 3, axis=2), KEY, PAYLOAD)
    det = VideoDetector([KEY], 640, 360)
    det.add(np.asarray(Image.fromarray(image_marked).convert("L")), 0.0)
    assert not det.results()[0].detected
    video_marked = VideoEmbedder(KEY, PAYLOAD, 640, 360).mark(scene)
    assert not detect(video_marked, KEY).detected


def test_frame_api_checks():
    with pytest.raises(ValueError, match="too small"):
        VideoEmbedder(KEY, 1, 200, 100)
    emb = VideoEmbedder(KEY, 1, 256, 144)
    with pytest.raises(ValueError, match="uint8 luma plane"):
        emb.mark(np.zeros((144, 255), np.uint8))
    with pytest.raises(TypeError):
        VideoEmbedder(b"not a key", 1, 256, 144)  # type: ignore[arg-type]
    det = VideoDetector([KEY], 256, 144)
    assert det.results()[0].reason == "no-frames"
    small = VideoDetector([KEY], 160, 90)
    small.add(np.zeros((90, 160), np.uint8), 0.0)
    assert small.results()[0].reason == "too-small"


def test_detector_state_is_bounded():
    det = VideoDetector([KEY], 256, 144, segment_s=1.0)
    y = _luma(_scene())[:144, :256]
    for i in range(120):
        det.add(y, i * 0.25)
    # two small results per closed segment (luma and residual means), no frames kept
    assert len(det._segments) == 2 * 29
    assert det.results()[0].analysed_s == pytest.approx(30.0)


# ----------------------------------------------------------------------------- files


def _render(dst: Path, *, seconds: float = 4.0, audio: bool = True) -> Path:
    """A 640 × 360, 30 fps H.264 clip panning slowly over a picture (AAC tone when
    ``audio``)."""
    src = dst.with_suffix(".png")
    _scene().save(src)
    vf = "crop=640:360:x='40+t*18':y='60+t*10',format=yuv420p"
    cmd = [ffmpeg.exe(), "-v", "error", "-y", "-loop", "1", "-framerate", "30", "-i", str(src)]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    cmd += ["-t", str(seconds), "-vf", vf, "-c:v", "libx264", "-preset", "veryfast"]
    cmd += ["-crf", "18", *(["-c:a", "aac", "-shortest"] if audio else []), str(dst)]
    subprocess.run(cmd, check=True)
    return dst


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    if not ffmpeg.available():
        pytest.skip("ffmpeg/ffprobe not installed")
    from aimark.marking.video import mark_video_file

    d = tmp_path_factory.mktemp("video")
    src = _render(d / "src.mp4")
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    mark = mark_video_file(src, d / "marked.mp4", KEY, PAYLOAD)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # source never modified
    return {"src": src, "marked": d / "marked.mp4", "dir": d, "mark": mark}  # type: ignore[dict-item]


def _attack(src: Path, dst: Path, *options: str) -> Path:
    cmd = [ffmpeg.exe(), "-v", "error", "-y", "-i", str(src), "-an", *options, str(dst)]
    subprocess.run(cmd, check=True)
    return dst


@needs_ffmpeg
def test_file_round_trip_mp4(clips):
    from aimark.marking.video import find_video_mark

    mark = clips["mark"]
    assert mark.scheme == SCHEME_ID and mark.payload == PAYLOAD
    assert (mark.start_s, mark.end_s) == (0.0, 4.0)
    assert mark.quality["psnr_db"] >= 40.0 and mark.quality["flicker"] < 0.5
    info = ffmpeg.probe(clips["marked"])
    assert info.video is not None and info.video.codec == "h264"
    assert (info.video.width, info.video.height) == (640, 360)
    assert info.audio is not None and info.audio.codec == "aac"  # audio copied
    right, wrong = find_video_mark(clips["marked"], [KEY, OTHER])
    assert right.detected and right.payload == PAYLOAD and right.time_range == (0.0, 4.0)
    assert right.analysed_s == pytest.approx(4.0, abs=0.2)
    assert not wrong.detected
    (clean,) = find_video_mark(clips["src"], [KEY])
    assert not clean.detected and clean.payload is None
    assert not list(clips["dir"].glob(".*.tmp*"))  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert clips["marked"].stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it


@needs_ffmpeg
def test_file_round_trip_mov(clips):
    from aimark.marking.video import find_video_mark, mark_video_file

    dst = clips["dir"] / "marked.mov"
    src = clips["dir"] / "short.mp4"
    _attack(clips["src"], src, "-t", "2", "-c:v", "libx264", "-crf", "18")
    mark_video_file(src, dst, KEY, 42)
    assert "mov" in ffmpeg.probe(dst).container
    (r,) = find_video_mark(dst, [KEY])
    assert r.detected and r.payload == 42


@needs_ffmpeg
def test_max_seconds_bounds_the_work(clips):
    from aimark.marking.video import find_video_mark

    (r,) = find_video_mark(clips["marked"], [KEY], max_seconds=1.5)
    assert r.detected and r.payload == PAYLOAD
    assert r.analysed_s <= 1.5 and r.end_s is not None and r.end_s <= 1.5


FAST_ATTACKS = {
    "H.264 CRF 28": ("-c:v", "libx264", "-crf", "28"),
    "downscale to 480p": ("-vf", "scale=-2:480", "-c:v", "libx264", "-crf", "23"),
    "crop 80 %": ("-vf", "crop=572:322:30:20", "-c:v", "libx264", "-crf", "23"),
    "3 s trim": ("-ss", "0.6", "-t", "3", "-c:v", "libx264", "-crf", "23"),
}


@needs_ffmpeg
@pytest.mark.parametrize("name", list(FAST_ATTACKS))
def test_found_after_the_fast_attacks(clips, name):
    from aimark.marking.video import find_video_mark

    a = _attack(clips["marked"], clips["dir"] / f"attack-{len(name)}.mp4", *FAST_ATTACKS[name])
    (r,) = find_video_mark(a, [KEY])
    assert r.detected and r.payload == PAYLOAD, (name, r)


# ----------------------------------------------------------------------------- bad input


@needs_ffmpeg
def test_bad_input(clips, tmp_path):
    from aimark.marking.video import find_video_mark, mark_video_file

    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clips["marked"].read_bytes()[:3000])
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 20)
    audio = tmp_path / "tone.m4a"
    subprocess.run(
        [ffmpeg.exe(), "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", str(audio)],
        check=True,
    )
    no_frames = tmp_path / "noframes.mp4"
    _attack(clips["src"], no_frames, "-frames:v", "0", "-c:v", "libx264")
    dst = tmp_path / "out.mp4"
    for bad, error in [
        (empty, errors.EmptyInputError),
        (truncated, errors.CorruptInputError),
        (text, errors.CorruptInputError),
        (audio, errors.UnsupportedFormatError),
        (tmp_path / "missing.mp4", errors.CorruptInputError),
    ]:
        with pytest.raises(error):
            mark_video_file(bad, dst, KEY, 1)
        with pytest.raises(error):
            find_video_mark(bad, [KEY])
    for call in (lambda: mark_video_file(no_frames, dst, KEY, 1),
                 lambda: find_video_mark(no_frames, [KEY])):  # fmt: skip
        with pytest.raises((errors.EmptyInputError, errors.UnsupportedFormatError)):
            call()
    with pytest.raises(errors.ImageTooLargeError):
        find_video_mark(clips["src"], [KEY], limits=Limits(max_pixels=100_000))
    assert not dst.exists() and not list(tmp_path.glob(".*.tmp*"))


@needs_ffmpeg
def test_a_failed_encode_leaves_the_destination_untouched(clips, tmp_path, monkeypatch):
    from aimark.marking import video

    dst = tmp_path / "out.mp4"
    dst.write_bytes(b"previous content")

    def broken(*args, **kwargs):
        return ["-c:v", "no-such-encoder"]

    monkeypatch.setattr("aimark.media.video_io.encoder_args", broken)
    with pytest.raises(errors.CorruptInputError, match="encoder"):
        video.mark_video_file(clips["src"], dst, KEY, 1)
    assert dst.read_bytes() == b"previous content"
    assert not list(tmp_path.glob(".*.tmp*"))


def test_without_ffmpeg_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    from aimark.marking.video import find_video_mark

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("AIMARK_FFMPEG", raising=False)
    monkeypatch.delenv("AIMARK_FFPROBE", raising=False)
    clip = tmp_path / "x.mp4"
    clip.write_bytes(b"\x00" * 100)
    with pytest.raises(ffmpeg.MissingToolError, match="install ffmpeg"):
        find_video_mark(clip, [KEY])


@needs_ffmpeg
def test_variable_frame_rate_is_retimed_with_a_note(tmp_path):
    from aimark.marking.video import find_video_mark, mark_video_file

    vfr = tmp_path / "vfr.mp4"
    pts = "setpts='if(lt(N\\,30)\\,N/30\\,1+(N-30)/15)/TB'"  # 30 fps for 1 s, then 15 fps
    cmd = [ffmpeg.exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30"]
    cmd += ["-t", "2", "-vf", pts, "-fps_mode", "vfr", "-c:v", "libx264", str(vfr)]
    subprocess.run(cmd, check=True)
    mark = mark_video_file(vfr, tmp_path / "out.mp4", KEY, 9)
    assert any("variable frame rate" in n for n in mark.notes)
    (r,) = find_video_mark(tmp_path / "out.mp4", [KEY])
    assert r.detected and r.payload == 9
