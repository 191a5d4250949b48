"""Write outputs atomically: a temporary file in the destination folder, then a rename.

The destination is either replaced whole or left as it was; the source is never opened for
writing. A temporary is named ``.NAME.PID.XXXXXXXX.tmp``: a process killed before its rename
(``kill -9``, power loss) leaves it behind, and the next write to the same destination removes
it once its process is gone and it is over :data:`STALE_AFTER` seconds old (any such file
over a day old is removed regardless: its writer, on another machine sharing the folder, would
have renamed it long since).

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
import re
import tempfile
import time
from pathlib import Path

from aimark.errors import OutputError

__all__ = ["STALE_AFTER", "PendingWrite", "same_file", "temp_sibling", "write_atomic"]

STALE_AFTER = 60.0  # seconds: a temporary of a dead process older than this is removed
_ABANDONED_AFTER = 86400.0  # seconds: any temporary this old is removed


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True if both paths name the same file (following links), or the same path."""
    pa, pb = Path(a), Path(b)
    try:
        return pa.samefile(pb)
    except OSError:
        return pa.resolve() == pb.resolve()


def temp_sibling(dst: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """Create the temporary file for ``dst`` in its folder (``mkstemp``: mode 0600, opened
    exclusively) after removing stale temporaries of earlier writes to ``dst``; returns
    ``(fd, path)``. Raises OSError.

    Example:
        >>> import os, tempfile
        >>> from pathlib import Path
        >>> dst = Path(tempfile.mkdtemp()) / "out.jpg"
        >>> fd, tmp = temp_sibling(dst); os.close(fd)
        >>> Path(tmp).name.startswith(f".out.jpg.{os.getpid()}.")
        True
    """
    folder = dst.parent if str(dst.parent) else Path(".")
    _remove_stale(folder, dst.name, suffix)
    return tempfile.mkstemp(prefix=f".{dst.name}.{os.getpid()}.", suffix=suffix, dir=folder)


def _remove_stale(folder: Path, name: str, suffix: str) -> None:
    pattern = re.compile(re.escape(f".{name}.") + r"(\d+)\.[A-Za-z0-9_]{8}" + re.escape(suffix))
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if not m:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            age = now - st.st_mtime
            dead = not _process_alive(int(m.group(1)))
            if entry.is_file(follow_symlinks=False) and (
                age > _ABANDONED_AFTER or (dead and age > STALE_AFTER)
            ):
                os.unlink(entry.path)
        except OSError:
            continue  # gone already, or not ours to remove


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or unknowable): keep its file
    return True


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
            fd, self._tmp = temp_sibling(dst)
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
