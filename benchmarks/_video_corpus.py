"""The video benchmark's corpus and attacks: clips rendered from the picture corpus of
``_wm_corpus.py`` (pans and zooms over real photographs, with numpy/Pillow, encoded with
libx264 CRF 16), the fixture clips, and every attack as a real ffmpeg command.

Clips are cached under ``~/.cache/aimark-bench/video`` (keyed by name, size and length).
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from aimark.media import ffmpeg

CACHE = Path(os.environ.get("AIMARK_BENCH_CACHE", "~/.cache/aimark-bench")).expanduser() / "video"
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "media"
REAL_CLIPS = ("video1.mp4", "video1_no_manifest.mp4")
MOTIONS = ("pan-right", "zoom-in", "pan-diagonal", "zoom-out", "handheld", "pan-left")


def _window(t: float, motion: str, rng: random.Random) -> tuple[float, float, float]:
    """(scale of the view, x, y in [0, 1]) of the moving camera at t in [0, 1]."""
    if motion == "pan-right":
        return 0.75, t, 0.5
    if motion == "pan-left":
        return 0.8, 1 - t, 0.3
    if motion == "pan-diagonal":
        return 0.7, t, 1 - t
    if motion == "zoom-in":
        return 1.0 - 0.4 * t, 0.5, 0.5
    if motion == "zoom-out":
        return 0.6 + 0.4 * t, 0.4, 0.6
    return 0.85, 0.5 + 0.02 * rng.uniform(-1, 1), 0.5 + 0.02 * rng.uniform(-1, 1)


def render(
    photo: np.ndarray, dst: Path, motion: str, *, width: int, height: int, seconds: float,
    fps: int = 30,
) -> Path:  # fmt: skip
    """Render a camera ``motion`` over ``photo`` (RGB uint8) to an H.264 clip (CRF 16)."""
    if dst.exists():
        return dst
    rng = random.Random(f"{dst.name}")
    ph, pw = photo.shape[:2]
    # the photo scaled so the widest view covers the frame's aspect
    aspect = width / height
    base_w = min(pw, ph * aspect)
    img = Image.fromarray(photo)
    tmp = dst.with_suffix(".part.mp4")
    cmd = [ffmpeg.exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    cmd += ["-s", f"{width}x{height}", "-r", str(fps), "-i", "pipe:0", "-c:v", "libx264"]
    cmd += ["-preset", "fast", "-crf", "16", "-pix_fmt", "yuv420p", tmp.as_posix()]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    n = round(seconds * fps)
    for i in range(n):
        s, cx, cy = _window(i / max(1, n - 1), motion, rng)
        vw, vh = base_w * s, base_w * s / aspect
        x0 = cx * (pw - vw)
        y0 = cy * (ph - vh)
        frame = img.resize(
            (width, height), Image.Resampling.BILINEAR, box=(x0, y0, x0 + vw, y0 + vh)
        )
        proc.stdin.write(np.asarray(frame.convert("RGB")).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"rendering {dst.name} failed")
    tmp.rename(dst)
    return dst


def corpus(n: int, *, width: int = 1280, height: int = 720, seconds: float = 5.0) -> list[Path]:
    """``n`` clips: the fixture clips first (when present), then renders of the photos, one
    motion each, cycling through :data:`MOTIONS`."""
    from _wm_corpus import load_photos, spread

    CACHE.mkdir(parents=True, exist_ok=True)
    out = [FIXTURES / c for c in REAL_CLIPS if (FIXTURES / c).exists()][:n]
    photos = load_photos()
    names = spread(sorted(photos), n - len(out))
    for i, name in enumerate(names):
        motion = MOTIONS[i % len(MOTIONS)]
        dst = CACHE / f"{name}-{motion}-{width}x{height}-{seconds:g}s.mp4"
        out.append(render(photos[name], dst, motion, width=width, height=height, seconds=seconds))
    return out


def _x264(crf: int) -> list[str]:
    return ["-c:v", "libx264", "-preset", "medium", "-crf", str(crf)]


def attacks(duration: float, salt: str) -> dict[str, list[str]]:
    """Attack name -> the ffmpeg output options that apply it (audio dropped)."""
    rng = random.Random(salt)
    start = rng.uniform(0, max(0.0, duration - 3.0))
    cx, cy = rng.uniform(0, 1), rng.uniform(0, 1)
    a = 0.894  # 0.894² = 80 % of the area
    return {
        "none": [],
        "H.264 CRF 23": _x264(23),
        "H.264 CRF 28": _x264(28),
        "H.264 CRF 35": _x264(35),
        "scale 720p→480p (CRF 23)": ["-vf", "scale=-2:480", *_x264(23)],
        "H.265 CRF 28": ["-c:v", "libx265", "-preset", "fast", "-crf", "28",
                         "-x265-params", "log-level=error"],
        "VP9 CRF 40": ["-c:v", "libvpx-vp9", "-crf", "40", "-b:v", "0", "-deadline", "good",
                       "-cpu-used", "5", "-row-mt", "1"],
        "crop 80% (random)": ["-vf", f"crop=trunc(iw*{a}/2)*2:trunc(ih*{a}/2)*2:"
                              f"(iw-ow)*{cx:.3f}:(ih-oh)*{cy:.3f}", *_x264(23)],
        "trim 3 s (random start)": ["-ss", f"{start:.3f}", "-t", "3", *_x264(23)],
        "30→24 fps": ["-vf", "fps=24", *_x264(23)],
        "letterbox to 4:3 (+ scale to 720 lines)": [
            "-vf",
            "pad=w='trunc(max(iw,ih*4/3)/2)*2':h='trunc(max(ih,iw*3/4)/2)*2'"
            ":x='(ow-iw)/2':y='(oh-ih)/2',scale=-2:720",
            *_x264(23),
        ],
        "screen recording": ["-vf", "scale=trunc(iw*0.8/2)*2:-2,eq=gamma=1.1,"
                             "scale=trunc(iw*1.25/2)*2:-2:flags=bicubic", *_x264(30)],
    }  # fmt: skip


def attack(src: Path, dst: Path, options: list[str]) -> Path:
    """``src`` re-encoded with ``options`` (``none``: ``src`` itself)."""
    if not options:
        return src
    cmd = [ffmpeg.exe(), "-v", "error", "-y", "-i", src.as_posix(), "-an", *options]
    subprocess.run([*cmd, dst.as_posix()], check=True)
    return dst
