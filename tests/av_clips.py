"""Clips for the audio and video watermark tests, made here: deterministic "music" (harmonic
chords with envelopes), a WAV writer, a real ffmpeg process to encode and attack, and an H.264
clip panning over a natural picture.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from aimark.media import ffmpeg
from conftest import natural_image

__all__ = ["ff", "music", "render_clip", "write_wav"]


def music(seconds: float, rate: int = 44100, seed: int = 0) -> np.ndarray:
    """Stereo float32 'music': a chord progression of harmonic notes with attack/decay
    envelopes, a bass line and a little noise, deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros(n)
    beat = 0.5
    for i in range(int(seconds / beat)):
        start = int(i * beat * rate)
        seg = t[: n - start][: int(beat * rate * 1.5)]
        env = np.exp(-seg * 3.0) * (1 - np.exp(-seg * 80))
        root = 110 * 2 ** (rng.integers(0, 12) / 12)
        for f, a in ((root, 0.5), (root * 1.26, 0.3), (root * 1.5, 0.3), (root * 2, 0.2)):
            for h in range(1, 6):
                out[start : start + len(seg)] += a / h**1.3 * env * np.sin(2 * np.pi * f * h * seg)
    out += 0.01 * rng.standard_normal(n)
    out /= np.abs(out).max() / 0.6
    right = np.roll(out, 37) * 0.9
    return np.stack([out, right], axis=1).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1] if pcm.ndim == 2 else 1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def ff(*args: str | Path) -> None:
    cmd = [ffmpeg.exe(), "-v", "error", "-nostdin", "-y", *map(str, args)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)


def render_clip(path: Path, seconds: float = 6.0, fps: int = 30, seed: int = 3) -> Path:
    """An H.264 MP4 with AAC audio: a slow pan and zoom over a natural picture."""
    w, h = 640, 360
    big = np.asarray(natural_image(960, 600, seed=seed))
    wav = write_wav(path.with_suffix(".wav"), music(seconds, 48000, seed), 48000)
    frames = int(seconds * fps)
    cmd = [ffmpeg.exe(), "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    cmd += ["-s", f"{w}x{h}", "-r", str(fps), "-i", "-", "-i", str(wav), "-shortest"]
    cmd += ["-c:v", "libx264", "-crf", "18", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    cmd += ["-c:a", "aac", "-b:a", "128k", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(frames):
        z = 1.0 + 0.15 * i / frames  # zoom in while panning right
        cw, ch = int(w * 1.3 / z), int(h * 1.3 / z)
        x0 = int((big.shape[1] - cw) * i / frames)
        y0 = (big.shape[0] - ch) // 2
        crop = big[y0 : y0 + ch, x0 : x0 + cw]
        yi = (np.arange(h) * ch / h).astype(int)
        xi = (np.arange(w) * cw / w).astype(int)
        proc.stdin.write(np.ascontiguousarray(crop[yi][:, xi]).tobytes())
    proc.stdin.close()
    assert proc.wait(timeout=300) == 0
    return path
