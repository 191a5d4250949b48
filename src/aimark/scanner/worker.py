"""The work done for one file of a scan, in whichever process or Dask worker runs it.

:class:`ScanConfig` is everything a worker needs (the Verifier, what to look at) in a
picklable form; :func:`scan_files` turns a chunk of :class:`FileRef` into :class:`Outcome`
values. A file is read once, read-only; its first bytes decide whether it is media at all, so
a large video or archive in the tree costs one small read.

Example:
    >>> import pathlib, tempfile
    >>> from aimark.scanner.walk import FileRef
    >>> from aimark.scanner.worker import ScanConfig, scan_files
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clip.bin"
    >>> path.write_bytes(b"\\x00\\x01\\x02 not media")
    13
    >>> scan_files([FileRef(str(path), 14)], ScanConfig())[0].skipped
    'not-media'
"""

from __future__ import annotations

import errno
import os
import stat
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aimark._verifier import Verifier
from aimark.errors import AimarkError, ImageTooLargeError, InputError
from aimark.manifest.sidecar import find_sidecar, is_manifest_store
from aimark.media.formats import media_kind
from aimark.media.limits import Limits
from aimark.media.sniff import sniff
from aimark.report import FileInfo, Report
from aimark.scanner.walk import FileRef, filesystem_for, is_url

__all__ = ["KINDS", "Outcome", "ScanConfig", "scan_files"]

#: What a scan can look at: images, video, audio and documents (by magic bytes) and UTF-8 text
#: (not keys, certificates or configuration files).
KINDS = ("image", "video", "audio", "document", "text")

_HEAD = 4096


@dataclass(frozen=True)
class ScanConfig:
    """What a scan sends to its workers (picklable): the :class:`~aimark.Verifier` whose
    options every file is verified with, what to look at, and where URLs live. ``token``
    names this configuration, so that a worker process builds its verifier once for all the
    chunks of a scan."""

    verifier: Verifier = field(default_factory=Verifier)
    kinds: tuple[str, ...] = KINDS
    thumbnails: bool = False
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"kinds must be a non-empty subset of {KINDS}, not {self.kinds}")

    @property
    def limits(self) -> Limits:
        return self.verifier.limits


@dataclass(frozen=True)
class Outcome:
    """What became of one file: a ``report``, or the reason it was ``skipped`` (not media)."""

    ref: FileRef
    report: Report | None = None
    skipped: str | None = None
    thumbnail: bytes | None = None


class _ReadError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _ScanInputError(InputError):
    """An input error with a code of the scan's own (vanished, unreadable, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# one Verifier per process and scan (a chunk's config arrives as a new copy of the same one)
_verifiers: list[tuple[str, Verifier]] = []


def _verifier_for(config: ScanConfig) -> Verifier:
    for token, verifier in _verifiers:
        if token == config.token:
            return verifier
    _verifiers[:] = [*_verifiers[-3:], (config.token, config.verifier)]
    return config.verifier


#: files this process has scanned (for tests and monitoring: shows how work was spread)
files_scanned = 0


def scan_files(refs: Sequence[FileRef], config: ScanConfig) -> list[Outcome]:
    """Scan a chunk of files; never raises for a file's content or for I/O errors."""
    global files_scanned
    verifier = _verifier_for(config)
    files_scanned += len(refs)
    return [_scan_one(ref, config, verifier) for ref in refs]


def _scan_one(ref: FileRef, config: ScanConfig, verifier: Verifier) -> Outcome:
    try:
        data, info = _read(ref, config)
    except _ReadError as exc:
        if exc.code == "not-media":
            return Outcome(ref, skipped=str(exc))
        error = _ScanInputError(exc.code, str(exc))
        report = verifier.error_report(ref.path, error, size=ref.size)
        return Outcome(ref, report=replace(report, file=FileInfo(ref.size, ref.mtime_ns, ref.etag)))
    is_image = sniff(data) is not None
    if media_kind(data[:_HEAD], ref.path) not in config.kinds and not _paired(ref.path):
        return Outcome(ref, skipped="not-media")  # (the head decides, or a sidecar beside it)
    try:
        report = verifier.verify_bytes(data, name=ref.path, path=None if ref.is_url else ref.path)
    except AimarkError as exc:  # defensive: verify_bytes reports content problems itself
        report = verifier.error_report(ref.path, exc, size=len(data))
    except Exception as exc:  # a bug (ours or a library's) costs one file's record, not the scan
        error = _ScanInputError(
            "internal-error",
            f"verification failed ({type(exc).__name__}: {exc}); please report this file",
        )
        report = verifier.error_report(ref.path, error, size=len(data))
    report = replace(report, file=info)
    thumbnail = None
    if config.thumbnails and is_image and report.verdict.ai_generated:
        from aimark.scanner.thumbnail import make_thumbnail

        thumbnail = make_thumbnail(data, limits=config.limits)
    return Outcome(ref, report=report, thumbnail=thumbnail)


def _media_head(head: bytes, kinds: tuple[str, ...], name: str) -> bool:
    return media_kind(head, name) in kinds


def _paired(path: str) -> bool:
    """A local file with a sidecar manifest (``NAME.c2pa``) beside it: verified whatever it
    is (looked for only when its head is not media, as the Verifier looks for media itself)."""
    return not is_url(path) and find_sidecar(path) is not None


def _read_media(f: Any, size: int, config: ScanConfig, name: str) -> bytes:
    """Read an open file of ``size`` bytes: its head first, the rest only if it is media (or
    has a sidecar) and within the byte limit. A sidecar manifest store is skipped as
    ``sidecar``: its asset's row reports it."""
    limit = config.limits.max_bytes
    if size == 0:
        raise _ReadError("not-media", "empty")
    head = f.read(_HEAD)
    if is_manifest_store(head):
        raise _ReadError("not-media", "sidecar")
    if not _media_head(head, config.kinds, name) and not _paired(name):
        raise _ReadError("not-media", "not-media")
    if size > limit:
        raise _ReadError(
            ImageTooLargeError.code, f"{size:,} bytes is over the limit of {limit:,} bytes"
        )
    data = head + f.read(limit + 1 - len(head))
    if len(data) > limit:
        raise _ReadError(ImageTooLargeError.code, f"it grew over the limit of {limit:,} bytes")
    return data


def _read(ref: FileRef, config: ScanConfig) -> tuple[bytes, FileInfo]:
    if ref.is_url:
        return _read_url(ref, config)
    try:
        fd = os.open(ref.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise _ReadError("vanished", "the file was removed before it could be read") from None
    except PermissionError as exc:
        raise _ReadError("unreadable", f"permission denied ({exc.strerror})") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _ReadError("unreadable", "a symlink loop") from None
        raise _ReadError("unreadable", exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise _ReadError("not-media", "special-file")
            data = _read_media(f, st.st_size, config, ref.path)
            return data, FileInfo(st.st_size, st.st_mtime_ns)
    except OSError as exc:
        raise _ReadError("unreadable", exc.strerror or str(exc)) from None


# one fsspec filesystem per process, protocol and storage options
_filesystems: dict[tuple[str, str], Any] = {}


def _read_url(ref: FileRef, config: ScanConfig) -> tuple[bytes, FileInfo]:
    protocol = ref.path.split("://", 1)[0]
    key = (protocol, repr(sorted(config.storage_options.items())))
    fs = _filesystems.get(key)
    if fs is None:
        fs, _ = filesystem_for(ref.path, config.storage_options)
        _filesystems[key] = fs
    try:
        with fs.open(fs._strip_protocol(ref.path), "rb") as f:
            data = _read_media(f, ref.size, config, ref.path)
    except FileNotFoundError:
        raise _ReadError("vanished", "the object was removed before it could be read") from None
    except PermissionError as exc:
        raise _ReadError("unreadable", f"permission denied ({exc})") from None
    except OSError as exc:
        raise _ReadError("unreadable", str(exc)) from None
    return data, FileInfo(ref.size, ref.mtime_ns, ref.etag)
