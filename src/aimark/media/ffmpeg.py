"""The one place aimark runs Debian's (or any) ``ffmpeg`` and ``ffprobe``: find them, probe a
file's streams, run a bounded command, and stream raw samples or frames from a process.

Audio and video are decoded and encoded by these real processes, never in Python: aimark
reads raw PCM or raw frames from a pipe, in blocks, so memory stays bounded however long the
file is. A missing ``ffmpeg`` is a :class:`MissingToolError` that says how to install it.

Example:
    >>> from aimark.media import ffmpeg
    >>> isinstance(ffmpeg.available(), bool)
    True
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from aimark.errors import CorruptInputError, MissingExtraError, OutputError
from aimark.media.output import file_mode_for, temp_sibling

__all__ = [
    "AudioStream",
    "Encoder",
    "MediaProbe",
    "MissingToolError",
    "VideoStream",
    "available",
    "exe",
    "probe",
    "run",
    "stream",
]

INSTALL_HINT = "install ffmpeg (Debian/Ubuntu: apt install ffmpeg; macOS: brew install ffmpeg)"


class MissingToolError(MissingExtraError):
    """A program aimark runs (``ffmpeg``, ``ffprobe``) is not installed."""

    code = "missing-tool"


def exe(name: str = "ffmpeg") -> str:
    """The path of ``ffmpeg`` or ``ffprobe`` (``AIMARK_FFMPEG`` / ``AIMARK_FFPROBE`` override
    the search of ``PATH``), or :class:`MissingToolError`."""
    override = os.environ.get(f"AIMARK_{name.upper()}")
    found = override if override and os.path.isfile(override) else shutil.which(name)
    if not found:
        raise MissingToolError(f"{name} is needed for audio and video watermarks: {INSTALL_HINT}")
    return found


def available() -> bool:
    """Whether both ``ffmpeg`` and ``ffprobe`` can be run."""
    try:
        exe("ffmpeg"), exe("ffprobe")
    except MissingToolError:
        return False
    return True


@dataclass(frozen=True)
class AudioStream:
    """The first audio stream of a file, as ffprobe reports it."""

    codec: str
    sample_rate: int
    channels: int
    bit_rate: int | None = None  # bits per second, when known
    layout: str | None = None


@dataclass(frozen=True)
class VideoStream:
    """The first video stream of a file, as ffprobe reports it."""

    codec: str
    width: int
    height: int
    fps: float  # average frame rate (0.0 when unknown)
    pix_fmt: str | None = None
    bit_rate: int | None = None
    frames: int | None = None  # when the container says
    profile: str | None = None


@dataclass(frozen=True)
class MediaProbe:
    """What ffprobe says about a file: its container, duration and first streams."""

    container: str
    duration: float | None  # seconds
    audio: AudioStream | None = None
    video: VideoStream | None = None
    streams: tuple[str, ...] = field(default=())  # codec_type of every stream, in order


def _int(v: object) -> int | None:
    try:
        return int(str(v))
    except (TypeError, ValueError):
        return None


def _rate(v: object) -> float:
    try:
        num, _, den = str(v).partition("/")
        return float(num) / float(den or 1) if float(den or 1) else 0.0
    except (TypeError, ValueError):
        return 0.0


def probe(path: str | os.PathLike[str], *, timeout: float = 30.0) -> MediaProbe:
    """Probe ``path`` with ffprobe. Unreadable or non-media input is a
    :class:`~aimark.errors.CorruptInputError` naming what ffprobe said.

    Example:
        >>> probe("/nonexistent.wav")  # doctest: +SKIP
        Traceback (most recent call last):
        aimark.errors.CorruptInputError: ffprobe cannot read /nonexistent.wav: ...
    """
    cmd = [exe("ffprobe"), "-v", "error", "-print_format", "json", "-show_format"]
    cmd += ["-show_streams", "--", os.fspath(path)]
    proc = run(cmd, timeout=timeout, what=f"ffprobe cannot read {os.fspath(path)}")
    try:
        info = json.loads(proc.stdout or b"{}")
    except ValueError as exc:
        raise CorruptInputError(f"ffprobe gave unreadable output for {path}") from exc
    streams = info.get("streams") or []
    fmt = info.get("format") or {}
    audio = video = None
    for s in streams:
        kind = s.get("codec_type")
        if kind == "audio" and audio is None:
            audio = AudioStream(
                codec=str(s.get("codec_name", "?")),
                sample_rate=_int(s.get("sample_rate")) or 0,
                channels=_int(s.get("channels")) or 0,
                bit_rate=_int(s.get("bit_rate")),
                layout=s.get("channel_layout"),
            )
        elif kind == "video" and video is None and not s.get("disposition", {}).get("attached_pic"):
            video = VideoStream(
                codec=str(s.get("codec_name", "?")),
                width=_int(s.get("width")) or 0,
                height=_int(s.get("height")) or 0,
                fps=_rate(s.get("avg_frame_rate")) or _rate(s.get("r_frame_rate")),
                pix_fmt=s.get("pix_fmt"),
                bit_rate=_int(s.get("bit_rate")),
                frames=_int(s.get("nb_frames")),
                profile=s.get("profile"),
            )
    try:
        duration: float | None = float(str(fmt.get("duration")))
    except (TypeError, ValueError):
        duration = None
    return MediaProbe(
        container=str(fmt.get("format_name", "?")),
        duration=duration,
        audio=audio,
        video=video,
        streams=tuple(str(s.get("codec_type")) for s in streams),
    )


def _tail(err: bytes, n: int = 300) -> str:
    text = err.decode("utf-8", "replace").strip().splitlines()
    return (text[-1] if text else "no message")[-n:]


def run(
    cmd: Sequence[str],
    *,
    timeout: float,
    what: str = "ffmpeg failed",
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd`` (its first item from :func:`exe`) with a time limit; a failure or a
    timeout is a :class:`~aimark.errors.CorruptInputError` ``"{what}: <ffmpeg's last line>"``.
    """
    try:
        proc = subprocess.run(
            list(cmd), input=input, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise CorruptInputError(f"{what}: no answer within {timeout:.0f} s") from exc
    except OSError as exc:
        raise MissingToolError(f"cannot run {cmd[0]}: {exc}; {INSTALL_HINT}") from exc
    if proc.returncode != 0:
        raise CorruptInputError(f"{what}: {_tail(proc.stderr)}")
    return proc


def stream(cmd: Sequence[str], block_bytes: int, *, what: str = "ffmpeg failed") -> Iterator[bytes]:
    """Run ``cmd`` writing raw data to stdout and yield it in blocks of ``block_bytes``
    (the last may be shorter). The process is killed if the consumer stops early; a
    non-zero exit is a :class:`~aimark.errors.CorruptInputError` raised after the last block.
    stderr goes to a temporary file (bounded by ffmpeg's ``-v error``), never a full pipe.
    """
    import tempfile

    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                list(cmd), stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            raise MissingToolError(f"cannot run {cmd[0]}: {exc}; {INSTALL_HINT}") from exc
        assert proc.stdout is not None
        finished = False
        try:
            while True:
                block = proc.stdout.read(block_bytes)
                if not block:
                    break
                yield block
            finished = True
        finally:
            if not finished:
                proc.kill()
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            err.seek(0)
            raise CorruptInputError(f"{what}: {_tail(err.read())}")


def path_arg(path: str | os.PathLike[str]) -> str:
    """``path`` as an ffmpeg input argument that cannot be read as an option or a protocol
    (``file:`` prefix)."""
    return "file:" + str(Path(path).resolve())


class Encoder:
    """An ffmpeg process that reads raw data on stdin (``args``: everything up to the output
    file) and writes ``dst`` through a temporary file beside it, renamed over ``dst`` only by
    :meth:`commit` (atomic, with aimark's output permissions); :meth:`abort`, or leaving a
    ``with`` block by an exception, kills the process and removes the temporary: ``dst`` is
    then untouched. The one ffmpeg writer of the audio and video outputs.
    """

    def __init__(
        self, args: Sequence[str], dst: str | os.PathLike[str], *, suffix: str | None = None
    ) -> None:
        self.dst = Path(dst)
        # ffmpeg picks the container by the temporary's extension: dst's, or ``suffix``
        try:
            fd, tmp = temp_sibling(self.dst, suffix=f".tmp{suffix or self.dst.suffix}")
        except OSError as exc:
            raise OutputError(f"cannot write next to {self.dst}: {exc.strerror or exc}") from exc
        os.close(fd)
        self._tmp = Path(tmp)
        cmd = [exe(), "-v", "error", "-nostdin", "-y", *args, str(self._tmp)]
        self._err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _cleanup)
        try:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._err
            )
        except OSError as exc:
            self._cleanup()
            raise MissingToolError(f"cannot run ffmpeg: {exc}; {INSTALL_HINT}") from exc

    def write(self, data: bytes | memoryview) -> None:
        """Hand ``data`` to the encoder; an encoder that stopped is a CorruptInputError."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(data)
        except OSError as exc:  # BrokenPipeError: ffmpeg gave up
            self._proc.wait()
            raise CorruptInputError(f"ffmpeg cannot encode {self.dst}: {self._tail()}") from exc

    def commit(self) -> None:
        """Finish the encode and move the output over ``dst`` (the temporary is removed
        whatever happens)."""
        assert self._proc.stdin is not None
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        try:
            if self._proc.wait() != 0:
                raise CorruptInputError(f"ffmpeg cannot encode {self.dst}: {self._tail()}")
            try:
                os.chmod(self._tmp, file_mode_for(self.dst))
                os.replace(self._tmp, self.dst)
            except OSError as exc:
                raise OutputError(f"cannot write {self.dst}: {exc.strerror or exc}") from exc
        finally:
            self._cleanup()

    def abort(self) -> None:
        """Stop the encoder and remove the temporary output; ``dst`` is untouched."""
        if self._proc.poll() is None:
            self._proc.kill()
        with contextlib.suppress(OSError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        self._proc.wait()
        self._cleanup()

    def _tail(self) -> str:
        self._err.seek(0)
        return _tail(self._err.read())

    def _cleanup(self) -> None:
        self._tmp.unlink(missing_ok=True)
        self._err.close()

    def __enter__(self) -> Encoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
