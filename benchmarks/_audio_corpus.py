"""The audio benchmark's corpus and attacks, built offline from programs on this machine:
speech from ``espeak-ng`` (varied voices, variants, speeds, pitches and random texts) and
music from MIDI files written here (random melodies, chords and drums in several General MIDI
programs) rendered by ``fluidsynth`` with ``FluidR3_GM.sf2``. Every clip is 48 kHz float32,
cached under ``~/.cache/aimark-bench/audio``. Attacks run real ``ffmpeg`` processes.
"""

from __future__ import annotations

import os
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

RATE = 48_000
CACHE = Path(os.environ.get("AIMARK_BENCH_CACHE", Path.home() / ".cache/aimark-bench")) / "audio"
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
FFMPEG = "ffmpeg"

_WORDS = [
    "the",
    "a",
    "one",
    "every",
    "small",
    "large",
    "quiet",
    "bright",
    "river",
    "stone",
    "model",
    "image",
    "signal",
    "network",
    "voice",
    "morning",
    "evening",
    "market",
    "city",
    "machine",
    "garden",
    "window",
    "paper",
    "music",
    "light",
    "shadow",
    "number",
    "question",
    "answer",
    "system",
    "people",
    "story",
    "water",
    "mountain",
    "yellow",
    "green",
    "careful",
    "quickly",
    "slowly",
    "under",
    "over",
    "across",
    "between",
    "during",
    "after",
    "before",
    "because",
    "although",
    "while",
    "when",
    "where",
    "which",
    "makes",
    "takes",
    "gives",
    "shows",
    "finds",
    "keeps",
    "writes",
    "reads",
    "hears",
    "builds",
    "turns",
    "moves",
    "changes",
    "holds",
    "seven",
    "twelve",
    "hundred",
    "thousand",
    "first",
    "second",
    "last",
    "new",
    "old",
    "true",
    "simple",
    "strange",
    "common",
]
_VOICES = ("en", "en-us", "en-gb-scotland", "en-029", "en-gb-x-rp", "de", "fr", "es", "it")
_VARIANTS = ("", "+m1", "+m3", "+f1", "+f2", "+f4", "+croak", "+whisper")
_PROGRAMS = (0, 4, 19, 24, 25, 33, 40, 48, 56, 65, 73, 80, 88, 11, 46, 52)


def _decode(path: Path, extra: list[str] | None = None, rate: int = RATE) -> np.ndarray:
    cmd = [FFMPEG, "-v", "error", "-i", str(path), *(extra or []), "-f", "f32le", "-ac", "1"]
    cmd += ["-ar", str(rate), "pipe:1"]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(out, np.float32).copy()


def speech_clip(i: int, seconds: float = 15.0) -> np.ndarray:
    rng = np.random.default_rng(1000 + i)
    voice = _VOICES[i % len(_VOICES)] + _VARIANTS[(i // len(_VOICES)) % len(_VARIANTS)]
    parts, total = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        j = 0
        while total < seconds:
            text = " ".join(rng.choice(_WORDS, int(rng.integers(6, 16))))
            wav = Path(tmp) / f"{j}.wav"
            speed, pitch = int(rng.integers(120, 220)), int(rng.integers(20, 80))
            cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav)]
            subprocess.run([*cmd, text], capture_output=True, check=True)
            x = _decode(wav)
            pause = np.zeros(int(RATE * rng.uniform(0.1, 0.6)), np.float32)
            parts += [x, pause]
            total += (x.size + pause.size) / RATE
            j += 1
    y = np.concatenate(parts)[: int(seconds * RATE)]
    return (y / (np.abs(y).max() + 1e-9) * 0.7).astype(np.float32)


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _track(events: list[tuple[int, bytes]]) -> bytes:
    events.sort(key=lambda e: e[0])
    data, now = b"", 0
    for t, msg in events:
        data += _vlq(t - now) + msg
        now = t
    data += b"\x00\xff\x2f\x00"
    return b"MTrk" + struct.pack(">I", len(data)) + data


def midi_song(i: int, seconds: float) -> bytes:
    """A random song: melody, chords, bass and (mostly) drums, in GM programs chosen by ``i``."""
    rng = np.random.default_rng(5000 + i)
    tpq, bpm = 480, int(rng.integers(70, 150))
    beats = int(seconds * bpm / 60) + 2
    root = int(rng.integers(48, 60))
    scale = np.array([0, 2, 4, 5, 7, 9, 11] if rng.random() < 0.6 else [0, 2, 3, 5, 7, 8, 10])
    progs = rng.choice(_PROGRAMS, 3, replace=False)
    ev: list[tuple[int, bytes]] = [(0, b"\xff\x51\x03" + int(60e6 / bpm).to_bytes(3, "big"))]
    for ch, prog in enumerate(progs):
        ev.append((0, bytes([0xC0 | ch, int(prog)])))

    def note(t: int, dur: int, ch: int, key: int, vel: int) -> None:
        ev.append((t, bytes([0x90 | ch, key, vel])))
        ev.append((t + dur, bytes([0x80 | ch, key, 0])))

    t, degree = 0, 0
    while t < beats * tpq:  # melody
        dur = int(rng.choice([tpq // 2, tpq, tpq, tpq * 2]))
        degree = int(np.clip(degree + rng.integers(-2, 3), -3, 10))
        key = root + 12 + 12 * (degree // 7) + int(scale[degree % 7])
        if rng.random() > 0.1:
            note(t, dur, 0, key, int(rng.integers(70, 110)))
        t += dur
    for bar in range(beats // 4 + 1):  # chords and bass
        deg = int(rng.choice([0, 3, 4, 5]))
        chord = [root + int(scale[(deg + k) % 7]) + 12 * ((deg + k) // 7) for k in (0, 2, 4)]
        for key in chord:
            note(bar * 4 * tpq, 4 * tpq, 1, key, int(rng.integers(50, 80)))
        note(bar * 4 * tpq, 2 * tpq, 2, chord[0] - 12, 90)
        note(bar * 4 * tpq + 2 * tpq, 2 * tpq, 2, chord[0] - 12, 80)
    if rng.random() < 0.8:  # drums on channel 10
        for b in range(beats):
            note(b * tpq, tpq // 4, 9, 36 if b % 2 == 0 else 38, 100)
            note(b * tpq, tpq // 4, 9, 42, 70)
            note(b * tpq + tpq // 2, tpq // 4, 9, 42, 60)
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq) + _track(ev)


def music_clip(i: int, seconds: float = 15.0, channels: int = 2) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "s.mid", Path(tmp) / "s.wav"
        mid.write_bytes(midi_song(i, seconds))
        cmd = ["fluidsynth", "-ni", "-q", "-g", "0.8", "-r", str(RATE), "-F", str(wav)]
        subprocess.run([*cmd, SOUNDFONT, str(mid)], capture_output=True, check=True)
        cmd = [FFMPEG, "-v", "error", "-i", str(wav), "-f", "f32le", "-ac", str(channels)]
        out = subprocess.run([*cmd, "-ar", str(RATE), "pipe:1"], capture_output=True, check=True)
    y = np.frombuffer(out.stdout, np.float32).reshape(-1, channels)
    start = int(0.5 * RATE)
    y = y[start : start + int(seconds * RATE)]
    return (y / (np.abs(y).max() + 1e-9) * 0.7).astype(np.float32)


def clip(kind: str, i: int, seconds: float = 15.0) -> np.ndarray:
    """Clip ``i`` of ``kind`` ("speech": mono, "music": stereo), 48 kHz float32, cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{kind}-{i:04d}-{seconds:g}s.npy"
    if path.exists():
        return np.load(path)
    y = speech_clip(i, seconds) if kind == "speech" else music_clip(i, seconds)
    np.save(path, y)
    return y


def _ffmpeg_pipe(
    x: np.ndarray,
    rate: int,
    args_out: list[str],
    suffix: str,
    out_rate: int | None = None,
    filters: str | None = None,
) -> tuple[np.ndarray, int]:
    """Encode ``x`` with real ffmpeg (``args_out`` into a ``suffix`` file), decode it back."""
    ch = 1 if x.ndim == 1 else x.shape[1]
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / f"a{suffix}"
        cmd = [
            FFMPEG,
            "-v",
            "error",
            "-f",
            "f32le",
            "-ar",
            str(rate),
            "-ac",
            str(ch),
            "-i",
            "pipe:0",
        ]
        if filters:
            cmd += ["-af", filters]
        subprocess.run(
            [*cmd, *args_out, str(dst)],
            input=np.ascontiguousarray(x, np.float32).tobytes(),
            capture_output=True,
            check=True,
        )
        probe = (
            subprocess.run(
                [
                    "ffprobe",
                    "-v",
                    "error",
                    "-select_streams",
                    "a:0",
                    "-show_entries",
                    "stream=sample_rate,channels",
                    "-of",
                    "csv=p=0",
                    str(dst),
                ],
                capture_output=True,
                check=True,
                text=True,
            )
            .stdout.strip()
            .split(",")
        )
        r, c = int(probe[0]), int(probe[1])
        r = out_rate or r
        out = subprocess.run(
            [FFMPEG, "-v", "error", "-i", str(dst), "-f", "f32le", "-ar", str(r), "pipe:1"],
            capture_output=True,
            check=True,
        ).stdout
    y = np.frombuffer(out, np.float32).reshape(-1, c).copy()
    return (y[:, 0] if c == 1 else y), r


def attack(
    name: str,
    x: np.ndarray,
    rate: int,
    rng: np.random.Generator,
    background: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Apply the attack ``name`` (see :data:`ATTACKS`) to ``x``; returns (samples, rate)."""
    if name == "none":
        return x, rate
    if name == "mp3-128":
        return _ffmpeg_pipe(x, rate, ["-c:a", "libmp3lame", "-b:a", "128k"], ".mp3")
    if name == "mp3-64":
        return _ffmpeg_pipe(x, rate, ["-c:a", "libmp3lame", "-b:a", "64k"], ".mp3")
    if name == "aac-96":
        return _ffmpeg_pipe(x, rate, ["-c:a", "aac", "-b:a", "96k"], ".m4a")
    if name == "opus-32":
        return _ffmpeg_pipe(x, rate, ["-c:a", "libopus", "-b:a", "32k"], ".opus")
    if name == "resample-16k":
        return _ffmpeg_pipe(x, rate, ["-ar", "16000", "-c:a", "pcm_f32le"], ".wav")
    if name == "mono":
        return _ffmpeg_pipe(x, rate, ["-ac", "1", "-c:a", "pcm_f32le"], ".wav")
    if name == "trim-10s":
        n = int(10 * rate)
        start = int(rng.integers(0, max(1, x.shape[0] - n)))
        return x[start : start + n], rate
    if name in ("volume+6dB", "volume-6dB"):
        return _ffmpeg_pipe(x, rate, ["-c:a", "pcm_f32le"], ".wav", filters=f"volume={name[6:]}")
    if name == "noise-20dB":
        p = float(np.mean(np.square(x, dtype=np.float64)))
        return (x + rng.standard_normal(x.shape) * np.sqrt(p / 100)).astype(np.float32), rate
    if name == "lowpass-4k":
        return _ffmpeg_pipe(x, rate, ["-c:a", "pcm_f32le"], ".wav", filters="lowpass=f=4000")
    if name in ("speed+2%", "speed-2%"):
        s = 1.02 if name[5] == "+" else 0.98
        f = f"asetrate={rate * s:.0f},aresample={rate}"
        return _ffmpeg_pipe(x, rate, ["-c:a", "pcm_f32le"], ".wav", filters=f)
    if name in ("tempo+2%", "tempo-2%"):
        s = 1.02 if name[5] == "+" else 0.98
        return _ffmpeg_pipe(x, rate, ["-c:a", "pcm_f32le"], ".wav", filters=f"atempo={s}")
    if name == "music-mix-10dB":
        assert background is not None
        bg = (
            background
            if background.ndim == x.ndim
            else (background.mean(1) if background.ndim == 2 else background)
        )
        if x.ndim == 2 and bg.ndim == 1:
            bg = np.repeat(bg[:, None], x.shape[1], 1)
        n = min(x.shape[0], bg.shape[0])
        px = float(np.mean(np.square(x[:n], dtype=np.float64)))
        pb = float(np.mean(np.square(bg[:n], dtype=np.float64))) + 1e-12
        return (x[:n] + bg[:n] * np.sqrt(px / pb / 10)).astype(np.float32), rate
    raise ValueError(name)


ATTACKS = (
    "none",
    "mp3-128",
    "mp3-64",
    "aac-96",
    "opus-32",
    "resample-16k",
    "mono",
    "trim-10s",
    "volume+6dB",
    "volume-6dB",
    "noise-20dB",
    "lowpass-4k",
    "speed+2%",
    "speed-2%",
    "tempo+2%",
    "tempo-2%",
    "music-mix-10dB",
)
