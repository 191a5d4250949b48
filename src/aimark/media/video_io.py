"""Video frames in and out through ffmpeg: :func:`open_video` checks a file (a video stream,
frames within the pixel limit, its frame rate), :func:`read_frames` streams its frames as raw
planes (all of them, or a few per second), and :class:`VideoWriter` pipes frames into an
encoder with the source's codec settings, audio copied, written atomically.

One frame is in memory at a time, however long the clip. Encoder choice
(:func:`encoder_args`): the source's codec family (H.264 → libx264 with its profile, HEVC →
libx265, VP8/VP9/AV1 → libvpx-vp9, anything else → libx264), at a constant quality that keeps
the re-encode's own loss well under the source's (CRF 18 for x264, 20 for x265, 24 for VP9),
capped at twice the source's bit rate when it is known so the file does not balloon.
Frames are 8-bit 4:2:0 (``yuv420p``); 10-bit or 4:4:4 sources come out 8-bit 4:2:0.

Example:
    >>> from aimark.media.ffmpeg import VideoStream
    >>> args = encoder_args(VideoStream("h264", 640, 360, 30.0, "yuv420p", 1_000_000, 60, "High"))
    >>> " ".join(args)
    '-c:v libx264 -preset medium -crf 18 -profile:v high -maxrate 2000000 -bufsize 4000000'
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np

from aimark.errors import (
    CorruptInputError,
    EmptyInputError,
    ImageTooLargeError,
    UnsupportedFormatError,
)
from aimark.media import ffmpeg
from aimark.media.ffmpeg import VideoStream
from aimark.media.limits import Limits

__all__ = [
    "Frame",
    "VideoInfo",
    "VideoWriter",
    "encoder_args",
    "frame_bytes",
    "keyframe_times",
    "open_video",
    "read_frames",
    "read_keyframes",
]

_PROFILES = {
    "high": "high",
    "main": "main",
    "baseline": "baseline",
    "constrained baseline": "baseline",
}


@dataclass(frozen=True)
class VideoInfo:
    """A checked video file: its first video stream and what encoding it back needs."""

    path: Path
    video: VideoStream
    container: str
    duration: float | None
    has_audio: bool
    rate: Fraction  # the constant frame rate frames are read at
    variable_rate: bool  # the source's frame rate varies (frames are re-timed to ``rate``)

    @property
    def width(self) -> int:
        return self.video.width

    @property
    def height(self) -> int:
        return self.video.height


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its time in seconds and its planes (``y`` (h, w); ``u``, ``v``
    (h/2, w/2) rounded up, or None when only luma was read), views into ``data``."""

    t: float
    data: np.ndarray
    y: np.ndarray
    u: np.ndarray | None = None
    v: np.ndarray | None = None


def _rates(path: Path) -> tuple[Fraction, Fraction]:
    """(r_frame_rate, avg_frame_rate) of the first video stream (0 when unknown)."""
    cmd = [ffmpeg.exe("ffprobe"), "-v", "error", "-select_streams", "v:0", "-show_entries"]
    cmd += ["stream=r_frame_rate,avg_frame_rate", "-of", "csv=p=0", "--", os.fspath(path)]
    out = ffmpeg.run(cmd, timeout=30, what=f"ffprobe cannot read {path}").stdout.decode()

    def frac(s: str) -> Fraction:
        try:
            f = Fraction(s.strip())
        except (ValueError, ZeroDivisionError):
            return Fraction(0)
        return f if f > 0 else Fraction(0)

    parts = (out.strip().splitlines() or [""])[0].split(",")
    r = frac(parts[0]) if parts and parts[0] else Fraction(0)
    avg = frac(parts[1]) if len(parts) > 1 else Fraction(0)
    return r, avg


def open_video(path: str | os.PathLike[str], *, limits: Limits | None = None) -> VideoInfo:
    """Check that ``path`` holds a decodable video stream within ``limits.max_pixels`` per
    frame: :class:`~aimark.errors.EmptyInputError` (0 bytes),
    :class:`~aimark.errors.CorruptInputError` (ffprobe cannot read it),
    :class:`~aimark.errors.UnsupportedFormatError` (no video stream),
    :class:`~aimark.errors.ImageTooLargeError` (frames over the pixel limit)."""
    p = Path(path)
    limits = limits or Limits()
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise CorruptInputError(f"cannot read {p}: {exc.strerror or exc}") from exc
    if size == 0:
        raise EmptyInputError("the input is empty (0 bytes)")
    info = ffmpeg.probe(p)
    v = info.video
    if v is None:
        raise UnsupportedFormatError(f"{p.name} has no video stream")
    if v.width <= 0 or v.height <= 0:
        raise CorruptInputError(f"{p.name}: the video stream has no frame size")
    if v.width * v.height > limits.max_pixels:
        raise ImageTooLargeError(
            f"{p.name}: {v.width}×{v.height} frames exceed the limit of "
            f"{limits.max_pixels:,} pixels"
        )
    r, avg = _rates(p)
    rate = avg or r or Fraction(v.fps).limit_denominator(1001) or Fraction(25)
    variable = bool(r and avg and abs(float(r - avg)) > 0.01 * float(avg))
    return VideoInfo(
        p, v, info.container, info.duration, info.audio is not None,
        rate.limit_denominator(1001), variable,
    )  # fmt: skip


def _planes(buf: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cw, ch = (w + 1) // 2, (h + 1) // 2
    y = buf[: w * h].reshape(h, w)
    u = buf[w * h : w * h + cw * ch].reshape(ch, cw)
    v = buf[w * h + cw * ch :].reshape(ch, cw)
    return y, u, v


def frame_bytes(w: int, h: int, *, luma_only: bool = False) -> int:
    """Bytes of one raw ``gray`` (``luma_only``) or ``yuv420p`` frame.

    Example:
        >>> frame_bytes(640, 360), frame_bytes(641, 361, luma_only=True)
        (345600, 231401)
    """
    return w * h if luma_only else w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)


def read_frames(
    info: VideoInfo,
    *,
    sample_fps: float | None = None,
    luma_only: bool = False,
    max_seconds: float | None = None,
    threads: int | None = None,
) -> Iterator[Frame]:
    """The frames of ``info``'s video, in order: every frame at the stream's constant rate
    (a variable-rate source is re-timed to it), or ``sample_fps`` frames per second; only
    the luma plane with ``luma_only``; the first ``max_seconds`` only. Frames are fresh
    arrays (writable). A decoding failure is a :class:`~aimark.errors.CorruptInputError`."""
    w, h = info.width, info.height
    cmd = [ffmpeg.exe("ffmpeg"), "-v", "error", "-nostdin"]
    if threads:
        cmd += ["-threads", str(threads)]
    if max_seconds is not None:
        cmd += ["-t", f"{max_seconds:.3f}"]
    cmd += ["-i", ffmpeg.path_arg(info.path), "-map", "0:v:0", "-an", "-sn", "-dn"]
    if sample_fps:
        rate = Fraction(sample_fps).limit_denominator(1001)
        cmd += ["-vf", f"fps={rate.numerator}/{rate.denominator}:round=down"]
    else:
        rate = info.rate
        if info.variable_rate:
            cmd += ["-fps_mode", "cfr", "-r", f"{rate.numerator}/{rate.denominator}"]
        else:
            cmd += ["-fps_mode", "passthrough"]
    if threads:
        cmd += ["-filter_threads", str(threads)]
    cmd += ["-f", "rawvideo", "-pix_fmt", "gray" if luma_only else "yuv420p", "pipe:1"]
    step = 1.0 / float(rate)
    for i, buf in enumerate(_raw(cmd, info, luma_only)):
        if luma_only:
            yield Frame(i * step, buf, buf.reshape(h, w))
        else:
            y, u, v = _planes(buf, w, h)
            yield Frame(i * step, buf, y, u, v)


def _raw(cmd: list[str], info: VideoInfo, luma_only: bool) -> Iterator[np.ndarray]:
    """The raw frames ``cmd`` writes to stdout, each a fresh uint8 array."""
    size = frame_bytes(info.width, info.height, luma_only=luma_only)
    what = f"ffmpeg cannot decode {info.path.name}"
    for block in ffmpeg.stream(cmd, size, what=what):
        if len(block) < size:
            raise CorruptInputError(f"{what}: a truncated frame")
        yield np.frombuffer(bytearray(block), np.uint8)


def keyframe_times(info: VideoInfo, max_seconds: float | None = None) -> list[float]:
    """The times (seconds from the first) of the video's key frames, from its packets
    (demuxed, not decoded)."""
    cmd = [ffmpeg.exe("ffprobe"), "-v", "error", "-select_streams", "v:0"]
    cmd += ["-show_entries", "packet=pts_time,dts_time,flags", "-of", "csv=p=0"]
    if max_seconds is not None:
        cmd += ["-read_intervals", f"%+{max_seconds:.3f}"]
    cmd += ["--", os.fspath(info.path)]
    out = ffmpeg.run(cmd, timeout=120, what=f"ffprobe cannot read {info.path.name}").stdout
    times: list[float] = []
    first: float | None = None
    for line in out.decode("ascii", "replace").splitlines():
        parts = line.split(",")
        if len(parts) < 3:
            continue
        try:
            t = float(parts[0] if parts[0] not in ("", "N/A") else parts[1])
        except ValueError:
            continue
        first = t if first is None else min(first, t)
        if "K" in parts[2]:
            times.append(t)
    base = first or 0.0
    rel = sorted(t - base for t in times)
    return [t for t in rel if max_seconds is None or t < max_seconds]


def read_keyframes(
    info: VideoInfo,
    *,
    max_seconds: float | None = None,
    threads: int | None = None,
) -> Iterator[Frame]:
    """The luma of the video's key frames only (``-skip_frame nokey``: the other frames are
    not decoded), with their times. Intra-coded frames carry what the encoder saw without
    motion-compensated prediction from earlier frames."""
    times = keyframe_times(info, max_seconds)
    if not times:
        return
    w, h = info.width, info.height
    cmd = [ffmpeg.exe("ffmpeg"), "-v", "error", "-nostdin", "-skip_frame", "nokey"]
    if threads:
        cmd += ["-threads", str(threads)]
    cmd += ["-i", ffmpeg.path_arg(info.path), "-map", "0:v:0", "-an", "-sn", "-dn"]
    cmd += ["-fps_mode", "passthrough", "-frames:v", str(len(times))]
    cmd += ["-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]
    for t, buf in zip(times, _raw(cmd, info, True), strict=False):
        yield Frame(t, buf, buf.reshape(h, w))


def encoder_args(video: VideoStream) -> list[str]:
    """The ffmpeg video encoder options that re-encode a stream like ``video``: the same
    codec family and profile where there is an encoder for it, at a quality close to the
    source's (see the module's docstring)."""
    codec = video.codec.lower()
    if codec in ("hevc", "h265"):
        args = ["-c:v", "libx265", "-preset", "medium", "-crf", "20", "-tag:v", "hvc1"]
        args += ["-x265-params", "log-level=error"]
    elif codec in ("vp8", "vp9", "av1"):
        args = ["-c:v", "libvpx-vp9", "-crf", "24", "-b:v", "0", "-row-mt", "1"]
    else:
        args = ["-c:v", "libx264", "-preset", "medium", "-crf", "18"]
        profile = _PROFILES.get((video.profile or "").lower()) if codec == "h264" else None
        if profile:
            args += ["-profile:v", profile]
    if video.bit_rate and codec not in ("vp8", "vp9", "av1"):
        args += ["-maxrate", str(2 * video.bit_rate), "-bufsize", str(4 * video.bit_rate)]
    return args


class VideoWriter:
    """Pipes ``yuv420p`` frames into an ffmpeg encoder writing ``dst`` (the container from its
    extension), with ``info``'s audio stream copied unchanged and its metadata kept. The
    output goes to a temporary file next to ``dst``, moved over it by :meth:`close`
    (``os.replace``: atomic); on an error it is removed and ``dst`` is untouched.

    Use as a context manager: ``with VideoWriter(info, dst) as out: out.write(frame.data)``.
    """

    def __init__(
        self,
        info: VideoInfo,
        dst: str | os.PathLike[str],
        *,
        video_args: list[str] | None = None,
    ) -> None:
        self.info = info
        self.dst = Path(dst)
        self.frames = 0
        self._size = frame_bytes(info.width, info.height)
        r = info.rate
        args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{info.width}x{info.height}"]
        args += ["-r", f"{r.numerator}/{r.denominator}", "-i", "pipe:0"]
        args += ["-i", ffmpeg.path_arg(info.path), "-map", "0:v:0"]
        if info.has_audio:
            args += ["-map", "1:a:0", "-c:a", "copy"]
        args += ["-map_metadata", "1", *(video_args or encoder_args(info.video))]
        args += ["-pix_fmt", "yuv420p"]
        self._encoder = ffmpeg.Encoder(args, self.dst, suffix=self.dst.suffix or ".mp4")

    def write(self, frame: np.ndarray | bytes) -> None:
        """Append one ``yuv420p`` frame (its bytes, or a uint8 array of them)."""
        data = np.ascontiguousarray(frame, np.uint8).reshape(-1).data
        if data.nbytes != self._size:
            raise ValueError(f"a frame is {self._size} bytes, not {data.nbytes}")
        self._encoder.write(data)
        self.frames += 1

    def close(self) -> None:
        """Finish the encode and move the output over ``dst``."""
        if self.frames == 0:
            self._encoder.abort()
            raise EmptyInputError(f"{self.info.path.name} has no video frames")
        self._encoder.commit()

    def abort(self) -> None:
        """Stop the encoder and remove the temporary output; ``dst`` is untouched."""
        self._encoder.abort()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
