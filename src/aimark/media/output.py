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

__all__ = ["PendingWrite", "same_file", "write_atomic"]


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True if both paths name the same file (following links), or the same path."""
    pa, pb = Path(a), Path(b)
    try:
        return pa.samefile(pb)
    except OSError:
        return pa.resolve() == pb.resolve()


class PendingWrite:
    """A complete temporary file beside its destination, not yet in place: :meth:`commit`
    renames it over the destination, :meth:`abort` removes it (so another step, e.g. a database
    transaction, can decide whether the output appears at all).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> p = Path(tempfile.mkdtemp()) / "out.bin"
        >>> pending = PendingWrite(p, b"data")
        >>> p.exists()
        False
        >>> pending.commit(); p.read_bytes()
        b'data'
    """

    def __init__(self, path: str | os.PathLike[str], data: bytes) -> None:
        dst = Path(path)
        self.path = dst
        folder = dst.parent if str(dst.parent) else Path(".")
        if dst.is_dir():
            raise OutputError(f"{dst} is a directory")
        try:
            mode = dst.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
        except OSError as exc:
            raise OutputError(f"cannot write {dst}: {exc.strerror or exc}") from None
        self._tmp: str | None = None
        try:
            fd, self._tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(self._tmp, mode)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {dst}: {exc.strerror or exc}") from None

    def commit(self) -> None:
        """Put the file in place (atomically)."""
        if self._tmp is None:
            raise OutputError(f"{self.path}: nothing to commit")
        try:
            os.replace(self._tmp, self.path)
            self._tmp = None
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def abort(self) -> None:
        """Remove the temporary file; the destination is untouched."""
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            self._tmp = None


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary sibling file and ``os.replace``.

    An existing file keeps its permission bits. On any failure the temporary file is removed
    and ``path`` is untouched.

    Raises:
        OutputError: the folder does not exist or cannot be written.
    """
    PendingWrite(path, data).commit()
