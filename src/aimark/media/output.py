"""Write outputs atomically: a temporary file in the destination folder, then a rename.

The destination is either replaced whole or left as it was; the source is never opened for
writing.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from aimark.media.output import write_atomic
    >>> p = Path(tempfile.mkdtemp()) / "out.bin"
    >>> write_atomic(p, b"data")
    >>> p.read_bytes()
    b'data'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from aimark.errors import OutputError

__all__ = ["same_file", "write_atomic"]


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True if both paths name the same file (following links), or the same path."""
    pa, pb = Path(a), Path(b)
    try:
        return pa.samefile(pb)
    except OSError:
        return pa.resolve() == pb.resolve()


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary sibling file and ``os.replace``.

    An existing file keeps its permission bits. On any failure the temporary file is removed
    and ``path`` is untouched.

    Raises:
        OutputError: the folder does not exist or cannot be written.
    """
    dst = Path(path)
    folder = dst.parent if str(dst.parent) else Path(".")
    if dst.is_dir():
        raise OutputError(f"{dst} is a directory")
    try:
        mode = dst.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    except OSError as exc:
        raise OutputError(f"cannot write {dst}: {exc.strerror or exc}") from None
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, dst)
        tmp_name = None
    except OSError as exc:
        raise OutputError(f"cannot write {dst}: {exc.strerror or exc}") from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
