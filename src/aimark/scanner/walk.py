"""Find the files of a scan: a streaming walk of local folders and fsspec URLs.

The walk yields one :class:`FileRef` per regular file (media or not: the bytes decide later) and
one :class:`WalkIssue` per thing it skipped or could not read, without ever building a list of
the whole tree. Nothing is opened for writing.

Symlinks: by default a link is followed only when its target lies inside one of the roots
given (so a tree cannot lead the scan out of itself); ``follow_symlinks=True`` follows every
link. Either way each folder is entered once, so a symlink loop ends the descent.

Example:
    >>> import os, pathlib, tempfile
    >>> from aimark.scanner.walk import FileRef, WalkOptions, walk
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("a.png", ".hidden.png", "notes.txt"):
    ...     (root / name).touch()
    >>> sorted(os.path.basename(f.path) for f in walk([root], WalkOptions(exclude=("*.txt",)))
    ...        if isinstance(f, FileRef))
    ['a.png']
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from aimark.errors import InputError, MissingExtraError

__all__ = ["FileRef", "WalkIssue", "WalkOptions", "is_url", "walk"]


@dataclass(frozen=True)
class FileRef:
    """One file to scan: a local ``path`` or an fsspec URL, with what its listing said."""

    path: str
    size: int
    mtime_ns: int | None = None
    etag: str | None = None

    @property
    def is_url(self) -> bool:
        return is_url(self.path)


@dataclass(frozen=True)
class WalkIssue:
    """Something the walk skipped (``error=False``) or could not read (``error=True``).

    ``reason`` is a short stable word (``hidden``, ``excluded``, ``symlink-outside``,
    ``symlink-loop``, ``broken-symlink``, ``special-file``, ``unreadable``)."""

    path: str
    reason: str
    error: bool = False
    message: str = ""


@dataclass(frozen=True)
class WalkOptions:
    """What the walk takes: ``hidden`` files and folders (names starting with a dot),
    ``include`` / ``exclude`` glob patterns, and whether to follow every symlink.

    A pattern without ``/`` matches a file or folder name (``*.jpg``); a pattern with ``/``
    matches the path relative to the root (``raw/*``, ``*/thumbs/*``). With ``include``
    given, only files matching one of them are scanned; ``exclude`` wins over ``include``
    and prunes whole folders.
    """

    hidden: bool = False
    follow_symlinks: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    storage_options: Mapping[str, Any] = field(default_factory=dict)

    def _matches(self, patterns: tuple[str, ...], rel: str) -> bool:
        name = rel.rsplit("/", 1)[-1]
        for p in patterns:
            target = rel if "/" in p else name
            if fnmatch.fnmatchcase(target, p):
                return True
        return False

    def excluded(self, rel: str) -> bool:
        return bool(self.exclude) and self._matches(self.exclude, rel)

    def included(self, rel: str) -> bool:
        return not self.include or self._matches(self.include, rel)


def is_url(path: str) -> bool:
    """True for ``proto://...`` paths (handled by fsspec); ``file://`` counts as a URL."""
    head, sep, _ = path.partition("://")
    return bool(sep) and head.isascii() and head.replace("+", "").replace("-", "").isalnum()


def walk(
    roots: Iterable[str | os.PathLike[str]], options: WalkOptions
) -> Iterator[FileRef | WalkIssue]:
    """Yield the files under ``roots`` (files, folders or fsspec URLs), streaming.

    Raises:
        InputError: a root does not exist (checked when the walk reaches it).
        MissingExtraError: a URL needs fsspec (or its protocol's package) and it is missing.
    """
    for root in roots:
        text = os.fspath(root)
        if text.startswith("file://"):
            text = text[len("file://") :]
        if is_url(text):
            yield from _walk_fsspec(text, options)
        else:
            yield from _walk_local(text, options)


# --- local folders ------------------------------------------------------------------------


def _walk_local(root: str, options: WalkOptions) -> Iterator[FileRef | WalkIssue]:
    try:
        st = os.stat(root)
    except FileNotFoundError:
        raise InputError(f"no such file or folder: {root}") from None
    except OSError as exc:
        yield WalkIssue(root, "unreadable", True, exc.strerror or str(exc))
        return
    if not stat.S_ISDIR(st.st_mode):
        if stat.S_ISREG(st.st_mode):
            yield FileRef(root, st.st_size, st.st_mtime_ns)
        else:
            yield WalkIssue(root, "special-file")
        return
    real_root = os.path.realpath(root)
    seen_dirs = {(st.st_dev, st.st_ino)}
    stack = [(root, "")]
    while stack:
        folder, rel_folder = stack.pop()
        try:
            it = os.scandir(folder)
        except OSError as exc:
            yield WalkIssue(folder, "unreadable", True, exc.strerror or str(exc))
            continue
        subdirs = []
        with it:
            while True:
                try:
                    entry = next(it)
                except StopIteration:
                    break
                except OSError as exc:  # a folder that vanished or failed while listed
                    yield WalkIssue(folder, "unreadable", True, exc.strerror or str(exc))
                    break
                found = _local_entry(entry, rel_folder, real_root, seen_dirs, options)
                if isinstance(found, tuple):
                    subdirs.append(found)
                elif found is not None:
                    yield found
        stack.extend(reversed(sorted(subdirs)))


def _local_entry(
    entry: os.DirEntry[str],
    rel_folder: str,
    real_root: str,
    seen_dirs: set[tuple[int, int]],
    options: WalkOptions,
) -> FileRef | WalkIssue | tuple[str, str] | None:
    """Classify one folder entry: a file, an issue, a folder to enter (tuple), or nothing."""
    rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
    path = entry.path
    if entry.name.startswith(".") and not options.hidden:
        return WalkIssue(path, "hidden")
    if options.excluded(rel):
        return WalkIssue(path, "excluded")
    is_link = False
    try:
        is_link = entry.is_symlink()
        st = entry.stat(follow_symlinks=True)
    except OSError as exc:
        if is_link:
            if exc.errno == 40:  # ELOOP
                return WalkIssue(path, "symlink-loop")
            return WalkIssue(path, "broken-symlink")
        return WalkIssue(path, "unreadable", True, exc.strerror or str(exc))
    if is_link and not options.follow_symlinks:
        target = os.path.realpath(path)
        if os.path.commonpath([target, real_root]) != real_root:
            return WalkIssue(path, "symlink-outside")
    if stat.S_ISDIR(st.st_mode):
        ident = (st.st_dev, st.st_ino)
        if ident in seen_dirs:
            return WalkIssue(path, "symlink-loop") if is_link else None
        seen_dirs.add(ident)
        return (path, rel)
    if not stat.S_ISREG(st.st_mode):
        return WalkIssue(path, "special-file")
    if not options.included(rel):
        return WalkIssue(path, "excluded")
    return FileRef(path, st.st_size, st.st_mtime_ns)


# --- fsspec URLs --------------------------------------------------------------------------


def filesystem_for(url: str, storage_options: Mapping[str, Any]) -> tuple[Any, str]:
    """The fsspec filesystem and in-filesystem path of ``url``.

    Raises:
        MissingExtraError: fsspec, or the package of the URL's protocol, is not installed.
    """
    try:
        import fsspec
    except ImportError:
        raise MissingExtraError(
            f"scanning {url.split('://')[0]}:// URLs needs fsspec: pip install 'aimark[s3]'"
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options))
    except ImportError as exc:
        raise MissingExtraError(f"cannot open {url}: {exc}") from None
    except ValueError as exc:
        raise InputError(f"cannot open {url}: {exc}") from None
    return fs, path


def _url(fs: Any, path: str) -> str:
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    return f"{protocol}://{path}"


def _mtime_ns(info: Mapping[str, Any]) -> int | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return int(value.timestamp() * 1_000_000_000)
        if isinstance(value, (int, float)):
            return int(value * 1_000_000_000)
        if isinstance(value, str):
            try:
                return int(datetime.fromisoformat(value).timestamp() * 1_000_000_000)
            except ValueError:
                continue
    return None


def _etag(info: Mapping[str, Any]) -> str | None:
    for key in ("ETag", "etag", "md5Hash", "md5"):
        value = info.get(key)
        if value:
            return str(value).strip('"')
    return None


def _walk_fsspec(url: str, options: WalkOptions) -> Iterator[FileRef | WalkIssue]:
    fs, root = filesystem_for(url, options.storage_options)
    try:
        info = fs.info(root)
    except FileNotFoundError:
        raise InputError(f"no such file or folder: {url}") from None
    except OSError as exc:
        yield WalkIssue(url, "unreadable", True, str(exc))
        return
    if info.get("type") != "directory":
        yield FileRef(_url(fs, root), int(info.get("size") or 0), _mtime_ns(info), _etag(info))
        return
    root_posix = PurePosixPath(root.rstrip("/"))
    try:
        for folder, dirs, files in fs.walk(root, detail=True):
            rel_folder = str(PurePosixPath(folder).relative_to(root_posix))
            rel_folder = "" if rel_folder == "." else rel_folder
            for name in sorted(dirs):
                rel = f"{rel_folder}/{name}" if rel_folder else name
                if (name.startswith(".") and not options.hidden) or options.excluded(rel):
                    reason = "excluded" if not name.startswith(".") or options.hidden else "hidden"
                    yield WalkIssue(_url(fs, f"{folder}/{name}"), reason)
                    del dirs[name]  # prune: fsspec walks what is left in dirs
            for name in sorted(files):
                rel = f"{rel_folder}/{name}" if rel_folder else name
                finfo = files[name]
                where = _url(fs, finfo.get("name") or f"{folder}/{name}")
                if name.startswith(".") and not options.hidden:
                    yield WalkIssue(where, "hidden")
                elif options.excluded(rel) or not options.included(rel):
                    yield WalkIssue(where, "excluded")
                else:
                    size = int(finfo.get("size") or 0)
                    yield FileRef(where, size, _mtime_ns(finfo), _etag(finfo))
    except OSError as exc:
        yield WalkIssue(url, "unreadable", True, str(exc))
