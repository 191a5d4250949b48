"""The output files of a scan: JSON Lines (the resumable record) and CSV.

The JSON Lines file is written as the scan goes, one complete report per line, flushed
regularly, so that an interrupted scan can resume from it. The CSV (like the HTML report) is
written to a temporary file beside its destination and moved into place when the scan ends,
so a reader never sees half of one.

Example:
    >>> import os, pathlib, tempfile, aimark
    >>> from aimark.scanner.writers import CsvWriter
    >>> out = os.path.join(tempfile.mkdtemp(), "scan.csv")
    >>> with CsvWriter(out) as csv_out:
    ...     csv_out.add(aimark.verify(b"GIF89a").to_dict())
    >>> pathlib.Path(out).read_text().splitlines()[0].split(",")[:3]
    ['path', 'type', 'verdict']
"""

from __future__ import annotations

import contextlib
import csv
import os
import time
from pathlib import Path
from typing import Any

from aimark._display import json_text
from aimark.errors import OutputError
from aimark.media.output import AtomicFile
from aimark.scanner.rows import COLUMNS, row_for

__all__ = ["CsvWriter", "JsonlWriter", "spreadsheet_safe"]


# what a spreadsheet takes as the start of a formula (OWASP's list for CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet will show it and never run it: a cell that starts like a
    formula (``= + - @``, tab or carriage return) gets a leading apostrophe, as OWASP
    advises for CSV injection. Anyone (even a self-signed signer naming its model
    ``=HYPERLINK(...)``) can put text in a report, so every CSV cell passes through here.

    >>> print(spreadsheet_safe('=HYPERLINK("http://x")'), spreadsheet_safe("my-model"))
    '=HYPERLINK("http://x") my-model
    """
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


class CsvWriter:
    """One row per report (columns :data:`aimark.scanner.rows.COLUMNS`), written atomically.

    Cells are :func:`~aimark.scanner.rows.readable` and :func:`spreadsheet_safe`: a file name
    that is not UTF-8 shows its bytes as ``\\xNN``, and a value that starts like a formula
    gets a leading apostrophe (the JSON Lines output keeps every value exact)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._out = AtomicFile(path, newline="")
        self._csv = csv.DictWriter(self._out.file, fieldnames=COLUMNS)
        self._csv.writeheader()

    def add(self, report: dict[str, Any], thumbnail: bytes | None = None) -> None:
        row = row_for(report)
        self._csv.writerow({name: spreadsheet_safe(cell) for name, cell in row.items()})

    def close(self, summary: dict[str, Any] | None = None) -> None:
        self._out.commit()

    def abort(self) -> None:
        self._out.abort()

    def __enter__(self) -> CsvWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class JsonlWriter:
    """Appends one report per line; flushes to disk at least every ``flush_every`` seconds.

    ``start`` is the byte offset to append at (the end of the complete lines of an earlier
    run; 0 starts a new file, replacing any old one)."""

    def __init__(
        self, path: str | os.PathLike[str], *, start: int = 0, flush_every: float = 1.0
    ) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise OutputError(f"{self.path} is a directory")
        try:
            self._f = open(self.path, "r+b" if start else "wb")  # noqa: SIM115
            self._f.seek(start)
            self._f.truncate()
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._flush_every = flush_every
        self._last_flush = time.monotonic()
        self.lines = 0

    def add(self, report: dict[str, Any], thumbnail: bytes | None = None) -> None:
        # a file name that is not UTF-8 is kept exact, escaped
        raw = (json_text(report, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            self._f.write(raw)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.lines += 1
        now = time.monotonic()
        if now - self._last_flush >= self._flush_every:
            self.flush()
            self._last_flush = now

    def flush(self) -> None:
        try:
            self._f.flush()
            os.fsync(self._f.fileno())
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def close(self, summary: dict[str, Any] | None = None) -> None:
        if not self._f.closed:
            self.flush()
            self._f.close()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.close()
