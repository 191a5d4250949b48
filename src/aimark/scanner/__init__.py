"""Batch scanning of folders and object stores: ``aimark.scan`` and ``aimark scan``.

Modules: ``walk`` (finding files, local and fsspec), ``worker`` (one file's work), ``run``
(processes, Dask, resuming), ``writers`` / ``html`` (outputs), ``rows``, ``summary``.
"""

import typing as _typing

from aimark import _lazy_names

if _typing.TYPE_CHECKING:
    from aimark.scanner.run import ScanRun
    from aimark.scanner.summary import ScanSummary

__all__ = ["ScanRun", "ScanSummary"]

# loaded on first use (PEP 562): the CLI's parser and ``aimark verify``'s folder walk import
# submodules of this package without paying for the run's processes and numpy
_LAZY = {"ScanRun": "aimark.scanner.run", "ScanSummary": "aimark.scanner.summary"}


__getattr__, __dir__ = _lazy_names(__name__, globals(), _LAZY, __all__)
