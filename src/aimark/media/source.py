"""Read what a caller hands us (path, bytes, binary file object) into bytes, within limits.

Example:
    >>> from aimark.media.source import read_source
    >>> read_source(b"abc").data
    b'abc'
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

from aimark.errors import EmptyInputError, ImageTooLargeError, InputError
from aimark.media.limits import Limits

__all__ = ["CONFIG_MAX_BYTES", "Source", "SourceLike", "read_config_file", "read_source"]

#: the largest configuration file read (keys, certificates, trust lists, API keys)
CONFIG_MAX_BYTES = 16 * 1024 * 1024

SourceLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]


@dataclass(frozen=True)
class Source:
    """Input bytes and where they came from (``path`` is None for in-memory input)."""

    data: bytes
    name: str
    path: Path | None = None


def read_source(src: SourceLike, limits: Limits | None = None) -> Source:
    """Read ``src`` fully into memory without modifying it.

    Raises:
        FileNotFoundError, PermissionError, IsADirectoryError: the path cannot be read.
        EmptyInputError: the input has no bytes.
        ImageTooLargeError: the input is larger than ``limits.max_bytes``.
        TypeError: ``src`` is not a path, bytes or a binary file object.
    """
    limits = limits or Limits()
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        name, path = "<bytes>", None
    elif isinstance(src, (str, os.PathLike)):
        path = Path(src)
        name = str(path)
        st = path.stat()
        data = _read_regular(path, st, limits.max_bytes)
    elif hasattr(src, "read"):
        name = str(getattr(src, "name", "<stream>"))
        path = None
        data = src.read(limits.max_bytes + 1)
        if isinstance(data, str) or isinstance(src, io.TextIOBase):
            raise TypeError("file objects must be opened in binary mode ('rb')")
        data = bytes(data)
    else:
        raise TypeError(f"expected a path, bytes or a binary file object, not {type(src).__name__}")
    if not data:
        raise EmptyInputError("the input is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(f"input is over the limit of {limits.max_bytes:,} bytes")
    return Source(data=data, name=name, path=path)


def _read_regular(path: Path, st: os.stat_result, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of a regular file (a FIFO, device or socket is refused: reading
    one could block or never end)."""
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path} is not a regular file")
    if st.st_size > max_bytes:
        raise ImageTooLargeError(f"{st.st_size:,} bytes is over the limit of {max_bytes:,} bytes")
    with path.open("rb") as f:
        return f.read(max_bytes + 1)


def read_config_file(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of a configuration file (``what`` names it in errors: "watermark key",
    "trust anchors", ...): a regular file of at most :data:`CONFIG_MAX_BYTES`.

    Raises:
        OSError: it cannot be read (the caller words that).
        InputError: it is not a regular file, or is far too large to be what it should be.
    """
    p = Path(path)
    try:
        data = _read_regular(p, p.stat(), CONFIG_MAX_BYTES)
    except ImageTooLargeError:
        raise InputError(
            f"{p} is over {CONFIG_MAX_BYTES // 2**20} MiB: too large to be a {what} file"
        ) from None
    if len(data) > CONFIG_MAX_BYTES:  # it grew while being read
        raise InputError(f"{p} is too large to be a {what} file")
    return data
