"""Resuming a scan from its JSON Lines output.

Each report line names its file (``source``) and what the file was when read (``file``: size,
mtime, etag). :class:`ResumeIndex` keeps a 64-bit hash of that identity per line, sorted in a
numpy array (8 bytes a file), so that a re-run skips what is already reported and rescans what
changed. A line cut short by a kill is removed before the file is appended to again.

Example:
    >>> import json, pathlib, tempfile
    >>> from aimark.scanner.resume import ResumeIndex, identity
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> line = {"schema": "aimark.report", "source": "a.png",
    ...         "file": {"size": 3, "mtime_ns": 7, "etag": None}}
    >>> _ = path.write_text(json.dumps(line) + "\\n" + '{"source": "b.p')
    >>> index = ResumeIndex.load(path)
    >>> identity("a.png", 3, 7, None) in index, index.lines, path.read_text().count("{")
    (True, 1, 2)
"""

from __future__ import annotations

import hashlib
import json
import os
from array import array
from collections.abc import Iterator
from typing import Any

import numpy as np

from aimark.errors import OutputError

__all__ = ["RETRIED_ERRORS", "ResumeIndex", "identity", "path_hash", "read_reports"]

#: Error records whose files are tried again on resume (the cause may have gone away).
RETRIED_ERRORS = frozenset({"vanished", "unreadable", "worker-crash"})


def _h64(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def identity(path: str, size: int | None, mtime_ns: int | None, etag: str | None) -> int:
    """The 64-bit identity of one version of one file."""
    return _h64(f"{path}\0{size}\0{mtime_ns}\0{etag}")


def path_hash(path: str) -> int:
    """The 64-bit hash of a path alone (to find reports that a rescan supersedes)."""
    return _h64(path)


def _sorted(values: array) -> np.ndarray:
    return np.unique(np.frombuffer(values, dtype=np.uint64)) if values else np.empty(0, np.uint64)


def _member(sorted_values: np.ndarray, value: int) -> bool:
    if not sorted_values.size:
        return False
    v = np.uint64(value)
    i = int(np.searchsorted(sorted_values, v))
    return i < sorted_values.size and sorted_values[i] == v


def read_reports(path: str | os.PathLike[str], end: int | None = None) -> Iterator[dict[str, Any]]:
    """Yield the reports of a JSON Lines file (up to byte offset ``end``), skipping lines that
    are not reports."""
    with open(path, "rb") as f:
        pos = 0
        for raw in f:
            pos += len(raw)
            if end is not None and pos > end:
                return
            try:
                d = json.loads(raw)
            except ValueError:
                continue
            if isinstance(d, dict) and d.get("schema") == "aimark.report":
                yield d


class ResumeIndex:
    """The files an earlier run of a scan already reported."""

    def __init__(self, done: np.ndarray, paths: np.ndarray, lines: int, end: int) -> None:
        self._done = done
        self._paths = paths
        self.lines = lines  #: reports in the file
        self.end = end  #: byte length of the complete lines (where this run appends)

    @classmethod
    def empty(cls) -> ResumeIndex:
        nothing = np.empty(0, np.uint64)
        return cls(nothing, nothing, 0, 0)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ResumeIndex:
        """Index an earlier run's JSON Lines output, cutting off a torn last line.

        Raises:
            OutputError: the file cannot be read, or is not a scan's JSON Lines output.
        """
        done, paths = array("Q"), array("Q")
        lines = end = 0
        try:
            with open(path, "rb") as f:
                for raw in f:
                    if not raw.endswith(b"\n"):
                        break  # a line torn by a kill: cut below
                    end += len(raw)
                    try:
                        d = json.loads(raw)
                    except ValueError:
                        d = None
                    if not isinstance(d, dict) or d.get("schema") != "aimark.report":
                        if lines == 0 and raw.strip():
                            raise OutputError(
                                f"{os.fspath(path)} is not the JSON Lines output of a scan; "
                                "choose another output file"
                            )
                        continue
                    lines += 1
                    source = str(d.get("source", ""))
                    paths.append(path_hash(source))
                    code = (d.get("error") or {}).get("code")
                    info = d.get("file")
                    if isinstance(info, dict) and code not in RETRIED_ERRORS:
                        done.append(
                            identity(
                                source, info.get("size"), info.get("mtime_ns"), info.get("etag")
                            )
                        )
            if os.path.getsize(path) != end:
                with open(path, "r+b") as f:
                    f.truncate(end)
        except OSError as exc:
            raise OutputError(
                f"cannot resume from {os.fspath(path)}: {exc.strerror or exc}"
            ) from None
        return cls(_sorted(done), _sorted(paths), lines, end)

    def __contains__(self, ident: int) -> bool:
        return _member(self._done, ident)

    def has_path(self, path: str) -> bool:
        """True if some report in the file is about ``path`` (any version of it)."""
        return _member(self._paths, path_hash(path))
