"""Write outputs atomically: a temporary file in the destination folder, then a rename. The
one writer of every output aimark makes (labelled files, scan reports, trust lists): the
bytes form :func:`write_atomic` / :class:`PendingWrite`, the stream form :class:`AtomicFile`,
one permission policy (:func:`file_mode_for`).

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
from typing import Any

from aimark.errors import OutputError

__all__ = [
    "STALE_AFTER",
    "AtomicFile",
    "PendingWrite",
    "file_mode_for",
    "same_file",
    "temp_sibling",
    "write_atomic",
]

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


def file_mode_for(dst: Path) -> int:
    """The permission bits an output gets: an existing destination keeps its own; a new one
    gets what ``open()`` would give it (0666 less the umask: 0644 under the usual 022).

    Raises:
        OutputError: the destination exists but cannot be inspected.
    """
    try:
        return dst.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()
    except OSError as exc:
        raise OutputError(f"cannot write {dst}: {exc.strerror or exc}") from None


def _umask() -> int:
    try:  # Linux says it without changing it (os.umask can only set, racing other threads)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class AtomicFile:
    """An output written as a stream: ``file`` is a temporary sibling of ``path`` (text, or
    binary with ``binary=True``); :meth:`commit` makes it durable (flush, fsync), gives it
    :func:`file_mode_for` bits and renames it over ``path``; :meth:`abort` removes it. As a
    context manager it commits on success and aborts on an exception. Until the commit,
    ``path`` is untouched.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> p = Path(tempfile.mkdtemp()) / "out.txt"
        >>> with AtomicFile(p) as out:
        ...     _ = out.file.write("hello")
        >>> p.read_text()
        'hello'

    Raises:
        OutputError: the destination is a folder, or its folder cannot be written.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, binary: bool = False, newline: str | None = None
    ) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise OutputError(f"{self.path} is a directory")
        self._mode = file_mode_for(self.path)
        self._finished = False
        self._tmp: str | None = None
        try:
            fd, self._tmp = temp_sibling(self.path)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.file: Any = (
            open(fd, "wb")  # noqa: SIM115
            if binary
            else open(fd, "w", encoding="utf-8", newline=newline)  # noqa: SIM115
        )

    def finish(self) -> None:
        """Make the temporary complete and durable, not yet in place (see :class:`PendingWrite`)."""
        if self._finished:
            return
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            assert self._tmp is not None
            os.chmod(self._tmp, self._mode)
        except (OSError, AssertionError) as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {_reason(exc)}") from None
        self._finished = True

    def commit(self) -> None:
        """Put the file in place (atomically)."""
        if self._tmp is None:
            raise OutputError(f"{self.path}: nothing to commit")
        self.finish()
        try:
            os.replace(self._tmp, self.path)
            self._tmp = None
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def abort(self) -> None:
        """Remove the temporary file; the destination is untouched."""
        with contextlib.suppress(OSError):
            self.file.close()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            self._tmp = None

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__


class PendingWrite(AtomicFile):
    """The bytes form: a complete temporary file beside its destination, not yet in place:
    :meth:`commit` renames it over the destination, :meth:`abort` removes it (so another step,
    e.g. a database transaction, can decide whether the output appears at all).

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
        super().__init__(path, binary=True)
        try:
            self.file.write(data)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.finish()


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary sibling file and ``os.replace``.

    Permissions follow :func:`file_mode_for` (an existing file keeps its bits). On any failure
    the temporary file is removed and ``path`` is untouched.

    Raises:
        OutputError: the folder does not exist or cannot be written.
    """
    PendingWrite(path, data).commit()
