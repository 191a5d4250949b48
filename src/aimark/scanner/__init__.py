"""Batch scanning of folders and object stores: ``aimark.scan`` and ``aimark scan``.

Modules: ``walk`` (finding files, local and fsspec), ``worker`` (one file's work), ``run``
(processes, Dask, resuming), ``writers`` / ``html`` (outputs), ``rows``, ``summary``.
"""

from aimark.scanner.run import ScanRun
from aimark.scanner.summary import ScanSummary

__all__ = ["ScanRun", "ScanSummary"]
