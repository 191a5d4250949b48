"""Batch scanning of folders and object stores: ``aimark.scan`` and ``aimark scan``.

Modules: ``walk`` (finding files, local and fsspec), ``worker`` (one file's work), ``run``
(processes, Dask, resuming), ``writers`` / ``html`` (outputs), ``rows``, ``summary``.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from aimark.scanner.run import ScanRun
    from aimark.scanner.summary import ScanSummary

__all__ = ["ScanRun", "ScanSummary"]

# loaded on first use (PEP 562): the CLI's parser and ``aimark verify``'s folder walk import
# submodules of this package without paying for the run's processes and numpy
_LAZY = {"ScanRun": "aimark.scanner.run", "ScanSummary": "aimark.scanner.summary"}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(_importlib.import_module(module), name)
        globals()[name] = value
        return value
    if not name.startswith("__"):  # a submodule not imported yet, as when all were
        try:
            return _importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
