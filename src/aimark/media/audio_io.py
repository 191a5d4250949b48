"""Audio in and out through real ``ffmpeg`` processes, in blocks: decode any audio file (or
the first audio stream of a video) to float32 samples at the source's own rate and channels,
and encode marked samples back with the source's codec settings into a temporary file next
to the destination, renamed over it at the end (atomic). The source is only ever read.

Encoding keeps the codec: WAV/PCM → the same PCM sample format; MP3 → libmp3lame and AAC →
aac at the source's bit rate (192k/128k when unknown); FLAC → flac at 16 or 24 bits as the
source; Opus → libopus and Vorbis → libvorbis at the source's bit rate; any other codec →
ffmpeg's default encoder for the destination's extension, at the source's bit rate when
known. Metadata are copied (``-map_metadata``), and so are video streams and cover art
(``-c:v copy``).

Example:
    >>> from aimark.media.audio_io import encoder_args
    >>> encoder_args("mp3", 128_000, None)
    ['-c:a', 'libmp3lame', '-b:a', '128k']
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

from aimark.errors import CorruptInputError, EmptyInputError, UnsupportedFormatError
from aimark.media import ffmpeg

__all__ = ["AudioInfo", "AudioWriter", "encoder_args", "open_audio", "read_blocks"]


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`open_audio` found: the first audio stream and its container."""

    path: Path
    sample_rate: int
    channels: int
    codec: str
    bit_rate: int | None
    sample_fmt: str | None
    bits: int | None  # bits per raw sample, when the codec says (FLAC, PCM)
    duration: float | None
    container: str
    has_video: bool


def _stream_details(path: Path) -> tuple[str | None, int | None]:
    cmd = [ffmpeg.exe("ffprobe"), "-v", "error", "-select_streams", "a:0", "-show_entries"]
    cmd += ["stream=sample_fmt,bits_per_raw_sample", "-of", "csv=p=0", "--", str(path)]
    out = ffmpeg.run(cmd, timeout=30, what=f"ffprobe cannot read {path}").stdout.decode()
    parts = (out.strip().splitlines() or [""])[0].split(",")
    fmt = parts[0] or None
    try:
        bits = int(parts[1]) if len(parts) > 1 and parts[1] else None
    except ValueError:
        bits = None
    return fmt, bits


def open_audio(src: str | os.PathLike[str]) -> AudioInfo:
    """Probe ``src``: :class:`EmptyInputError` for an empty file,
    :class:`UnsupportedFormatError` when it has no audio stream, :class:`CorruptInputError`
    when ffprobe cannot read it, :class:`~aimark.media.ffmpeg.MissingToolError` without
    ffmpeg."""
    path = Path(src)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CorruptInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise EmptyInputError(f"{path} is empty")
    info = ffmpeg.probe(path)
    a = info.audio
    if a is None:
        raise UnsupportedFormatError(f"{path} has no audio stream")
    if a.sample_rate <= 0 or a.channels <= 0:
        raise CorruptInputError(f"{path}: the audio stream has no sample rate or channel count")
    fmt, bits = _stream_details(path)
    return AudioInfo(
        path,
        a.sample_rate,
        a.channels,
        a.codec,
        a.bit_rate,
        fmt,
        bits,
        info.duration,
        info.container,
        info.video is not None,
    )


def read_blocks(
    info: AudioInfo, *, block_seconds: float = 2.0, max_seconds: float | None = None
) -> Iterator[np.ndarray]:
    """Decode ``info.path`` to float32 blocks of shape (n, channels) at the source's rate
    (the last block may be shorter), at most ``max_seconds`` of it. Nothing decoded at all
    is an :class:`EmptyInputError`; a decoding failure a :class:`CorruptInputError`."""
    cmd = [ffmpeg.exe(), "-v", "error", "-nostdin"]
    if max_seconds is not None:
        cmd += ["-t", f"{max_seconds:.3f}"]
    cmd += ["-i", ffmpeg.path_arg(info.path), "-map", "0:a:0", "-vn", "-f", "f32le"]
    cmd += ["-ac", str(info.channels), "-ar", str(info.sample_rate), "pipe:1"]
    frame = 4 * info.channels
    block = max(1, int(block_seconds * info.sample_rate)) * frame
    carry, total = b"", 0
    what = f"ffmpeg cannot decode the audio of {info.path}"
    for raw in ffmpeg.stream(cmd, block, what=what):
        raw = carry + raw
        n = len(raw) // frame * frame
        carry = raw[n:]
        if n:
            total += n
            yield np.frombuffer(raw[:n], "<f4").reshape(-1, info.channels)
    if total == 0:
        raise EmptyInputError(f"{info.path} has no audio samples")


def encoder_args(codec: str, bit_rate: int | None, bits: int | None) -> list[str]:
    """The ffmpeg output options that re-encode a stream of ``codec`` like its source."""
    rate = f"{max(8, round(bit_rate / 1000))}k" if bit_rate else None
    if codec.startswith("pcm_"):
        return ["-c:a", codec]
    if codec == "mp3":
        return ["-c:a", "libmp3lame", "-b:a", rate or "192k"]
    if codec == "aac":
        return ["-c:a", "aac", "-b:a", rate or "128k"]
    if codec == "flac":
        return ["-c:a", "flac", "-sample_fmt", "s32" if (bits or 16) > 16 else "s16"]
    if codec == "opus":
        return ["-c:a", "libopus", "-b:a", rate or "96k"]
    if codec == "vorbis":
        return ["-c:a", "libvorbis", "-b:a", rate or "128k"]
    return ["-b:a", rate] if rate else []


class AudioWriter:
    """Encode float blocks into ``dst`` like ``info``'s source (codec, rate, channels,
    metadata, video and cover art copied from it); use as a context manager: the temporary
    file is renamed to ``dst`` when the block ends without an exception, removed otherwise.
    """

    def __init__(self, info: AudioInfo, dst: str | os.PathLike[str]) -> None:
        self.info, self.dst = info, Path(dst)
        args = ["-f", "f32le", "-ar", str(info.sample_rate), "-ac", str(info.channels)]
        args += ["-i", "pipe:0", "-i", ffmpeg.path_arg(info.path), "-map", "0:a", "-map", "1:v?"]
        args += ["-map_metadata", "1", "-c:v", "copy"]
        args += [*encoder_args(info.codec, info.bit_rate, info.bits), "-ar", str(info.sample_rate)]
        self._encoder = ffmpeg.Encoder(args, self.dst)
        self.samples = 0

    def write(self, block: np.ndarray) -> None:
        """Append a (n, channels) block of float samples in [-1, 1]."""
        a = np.ascontiguousarray(block, "<f4")
        self._encoder.write(a.data)
        self.samples += a.shape[0]

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._encoder.__exit__(exc_type, exc, tb)
