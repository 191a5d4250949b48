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

__all__ = ["Source", "SourceLike", "read_source"]

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
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{name} is not a regular file")
        size = st.st_size
        if size > limits.max_bytes:
            raise ImageTooLargeError(
                f"{size:,} bytes is over the limit of {limits.max_bytes:,} bytes"
            )
        with path.open("rb") as f:
            data = f.read(limits.max_bytes + 1)
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
