"""Run a scan: walk → chunks → workers (in-process, processes or Dask) → reports → outputs.

Memory stays bounded whatever the tree's size: the walk streams into a bounded queue, at most a
few chunks per worker are in flight, and reports go straight to the output files. The files
already reported by an earlier run with the same JSON Lines output are skipped.

Example:
    >>> import pathlib, tempfile
    >>> from aimark.scanner.run import ScanRun
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "broken.jpg").write_bytes(b"\\xff\\xd8\\xff\\xe0 cut")
    8
    >>> run = ScanRun([folder], workers=0)
    >>> [r.verdict.status.value for r in run], run.summary.errors
    (['error'], 1)
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TextIO

import numpy as np

from aimark._verifier import Verifier
from aimark.errors import InputError, MissingExtraError, OutputError
from aimark.report import FileInfo, Report
from aimark.scanner.resume import ResumeIndex, identity, path_hash, read_reports
from aimark.scanner.summary import ScanSummary
from aimark.scanner.walk import FileRef, WalkIssue, WalkOptions, is_url, walk
from aimark.scanner.worker import KINDS, Outcome, ScanConfig, scan_files
from aimark.scanner.writers import CsvWriter, JsonlWriter

__all__ = ["PROGRESS_STYLES", "ScanRun", "progress_text"]

_END = object()


def _error_report(path: str, code: str, message: str, info: FileInfo | None = None) -> Report:
    return Report.from_error(path, code, message, file=info)


class _Walker(threading.Thread):
    """Runs the walk in a thread, ahead of the workers, into a bounded queue, leaving out the
    files ``index`` says an earlier run reported. :attr:`found` counts what is left to report
    (the progress's total: final once :attr:`finished`)."""

    def __init__(
        self,
        roots: list[str],
        options: WalkOptions,
        index: ResumeIndex | None = None,
        maxsize: int = 10_000,
    ) -> None:
        super().__init__(name="aimark-scan-walk", daemon=True)
        self.roots, self.options = roots, options
        self.index = index or ResumeIndex.empty()
        self.queue: queue.Queue[Any] = queue.Queue(maxsize)
        self.found = 0
        self.finished = False
        self.error: BaseException | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            for item in walk(self.roots, self.options):
                if isinstance(item, FileRef):
                    if identity(item.path, item.size, item.mtime_ns, item.etag) in self.index:
                        continue  # reported by the earlier run
                    self.found += 1
                elif item.error:  # reported too, as an error
                    self.found += 1
                while not self._stop_event.is_set():
                    try:
                        self.queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop_event.is_set():
                    return
        except BaseException as exc:  # handed to the main thread
            self.error = exc
        finally:
            self.finished = True
            with contextlib.suppress(queue.Full):
                self.queue.put(_END, timeout=1)

    def stop(self) -> None:
        self._stop_event.set()


def _duration(seconds: float) -> str:
    """``95`` → ``1m35s``; ``3725`` → ``1h02m05s``."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def progress_text(done: int, total: int, elapsed: float, listing: bool) -> str:
    """One progress report: files done of the total, the rate and, once the listing has
    ended (the total is known), the time left. While the listing runs the total still grows,
    so no ETA is given: ``listing… N found``.

    Example:
        >>> progress_text(1200, 5000, 30.0, listing=False)
        '1,200/5,000 files (24 %), 40.0 files/s, ETA 1m35s'
        >>> progress_text(1200, 1300, 30.0, listing=True)
        '1,200 files done, 40.0 files/s, listing… 1,300 found'
    """
    rate = done / elapsed if elapsed > 0 else 0.0
    if listing:
        return f"{done:,} files done, {rate:,.1f} files/s, listing… {total:,} found"
    pct = f" ({100 * done // total} %)" if total else ""
    text = f"{done:,}/{total:,} files{pct}, {rate:,.1f} files/s"
    if rate > 0 and total > done:
        text += f", ETA {_duration((total - done) / rate)}"
    return text


#: ``progress_style``: a self-rewriting line (a terminal), a log line at an interval (a file,
#: a pipe, CI), or ``auto``: the bar on a terminal, lines otherwise
PROGRESS_STYLES = ("auto", "bar", "lines")


class _Progress:
    """The scan's progress on ``stream``: a self-rewriting bar, or a log line every
    ``interval`` seconds (``style``, see :data:`PROGRESS_STYLES`); silent without a stream."""

    def __init__(self, stream: TextIO | None, style: str = "auto", interval: float = 10.0) -> None:
        self.stream = stream
        if style == "auto":
            isatty = getattr(stream, "isatty", None)
            style = "bar" if stream is not None and isatty is not None and isatty() else "lines"
        self.bar = style == "bar"
        self.interval = 0.25 if self.bar else interval
        self._t0 = time.monotonic()
        self._last = 0.0 if self.bar else self._t0  # the bar at once, the first line later
        self._width = 0

    def update(self, done: int, queued: int, listing: bool, force: bool = False) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        text = progress_text(done, queued, now - self._t0, listing)
        if self.bar:
            line = f"scanning: {text}"
            pad = max(self._width - len(line), 0)
            self._width = len(line)
            self.stream.write("\r" + line + " " * pad)
        else:
            self.stream.write(f"scan: {text}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.bar and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


class _Chunks:
    """Cuts the walk (the files not already reported) into chunks of files to scan."""

    def __init__(self, walker: _Walker, size: int, summary: ScanSummary):
        self.walker, self.size, self.summary = walker, size, summary
        self.issues: deque[Outcome] = deque()  # walk errors, reported without a worker
        self.queued = 0
        self.exhausted = False
        self._chunk: list[FileRef] = []

    def next(self, *, block: bool) -> list[FileRef] | None:
        """A chunk; ``None`` if none is ready now (or ever: see :attr:`exhausted`)."""
        while not self.exhausted:
            try:
                item = self.walker.queue.get(timeout=0.05 if block else 0.0005)
            except queue.Empty:
                if self._chunk and (block or self.walker.finished):
                    return self._take()
                if not block:
                    return None
                continue
            if item is _END:
                self.exhausted = True
                if self.walker.error is not None:
                    raise self.walker.error
                break
            if isinstance(item, WalkIssue):
                if item.error:
                    report = _error_report(item.path, item.reason, item.message or item.reason)
                    self.issues.append(Outcome(FileRef(item.path, 0), report=report))
                else:
                    self.summary.skipped[item.reason] += 1
                continue
            self._chunk.append(item)
            self.queued += 1
            if len(self._chunk) >= self.size:
                return self._take()
        return self._take() if self._chunk else None

    def _take(self) -> list[FileRef]:
        chunk, self._chunk = self._chunk, []
        return chunk


class _HeldInterrupt:
    """Hold Ctrl-C while one report is being written, so that an interrupted scan's JSON Lines,
    CSV and HTML hold the same reports; outside :meth:`holding` Ctrl-C acts at once.

    Only the main thread can take SIGINT, and only a default handler is replaced (a caller's
    own handler is left alone)."""

    def __init__(self) -> None:
        self._active = False
        self._pending = False
        self._previous: Any = None

    def install(self) -> None:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handler)

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self._active:
            self._pending = True
        else:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        self._active = True
        try:
            yield
        finally:
            self._active = False
            if self._pending:
                self._pending = False
                raise KeyboardInterrupt


def _init_worker() -> None:
    """A pool worker: Ctrl-C is the main process's to handle, and the processes are the
    parallelism (one BLAS thread each, :mod:`aimark._threads`)."""
    from aimark._threads import single_threaded_math

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    single_threaded_math()


def _crash_outcomes(chunk: list[FileRef], message: str) -> list[Outcome]:
    return [
        Outcome(
            ref,
            report=_error_report(
                ref.path, "worker-crash", message, FileInfo(ref.size, ref.mtime_ns, ref.etag)
            ),
        )
        for ref in chunk
    ]


def _run_in_process(chunks: _Chunks, config: ScanConfig) -> Iterator[Outcome]:
    while True:
        chunk = chunks.next(block=True)
        while chunks.issues:
            yield chunks.issues.popleft()
        if chunk is None:
            if chunks.exhausted:
                return
            continue
        yield from scan_files(chunk, config)


def _run_processes(chunks: _Chunks, config: ScanConfig, workers: int) -> Iterator[Outcome]:
    """Scan on a pool of processes. A worker that dies (a crash in a native library, the OOM
    killer) breaks the pool: the pool is rebuilt and the files that were in flight are scanned
    again one at a time, alone, so that the file that kills a worker is found and reported as
    an error while every other file gets its report."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":  # workers fork from a server that has imported aimark once
        ctx.set_forkserver_preload(["aimark.scanner.worker"])

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker)

    pool = new_pool()
    pending: dict[Future[list[Outcome]], list[FileRef]] = {}
    suspects: deque[FileRef] = deque()
    alone: Future[list[Outcome]] | None = None  # a suspect running by itself
    unsent: set[Future[list[Outcome]]] = set()  # refused: the pool broke before they went
    window = 2 * workers

    def submit(files: list[FileRef]) -> Future[list[Outcome]]:
        try:
            return pool.submit(scan_files, files, config)
        except BrokenProcessPool as exc:  # a worker died since the last wait: handled below
            refused: Future[list[Outcome]] = Future()
            refused.set_exception(exc)
            unsent.add(refused)
            return refused

    try:
        while True:
            while chunks.issues:
                yield chunks.issues.popleft()
            if suspects:
                if not pending:
                    ref = suspects.popleft()
                    alone = submit([ref])
                    pending[alone] = [ref]
            else:
                while len(pending) < window and not chunks.exhausted:
                    chunk = chunks.next(block=not pending)
                    if chunk is None:
                        break
                    pending[submit(chunk)] = chunk
            if not pending:
                if chunks.exhausted and not chunks.issues:
                    return
                continue
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            broken: list[list[FileRef]] = []
            rebuild = False
            for fut in done:
                chunk = pending.pop(fut)
                try:
                    outcomes = fut.result()
                except BrokenProcessPool:
                    rebuild = True
                    if fut is alone and fut not in unsent:
                        yield from _crash_outcomes(
                            chunk,
                            "the file crashed the verifier's process (a fault in a "
                            "native library, or out of memory)",
                        )
                    else:
                        broken.append(chunk)
                    continue
                yield from outcomes
            if rebuild:
                for fut, chunk in list(pending.items()):  # the pool is gone: all of them
                    broken.append(chunk)
                    pending.pop(fut)
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                unsent.clear()
                for chunk in broken:
                    suspects.extend(chunk)
            if alone is not None and alone in done:
                alone = None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _run_dask(chunks: _Chunks, config: ScanConfig, client: Any) -> Iterator[Outcome]:
    try:
        from distributed import as_completed
    except ImportError:
        raise MissingExtraError(
            "scanning on Dask needs distributed: pip install 'aimark[dask]'"
        ) from None
    threads = sum(client.nthreads().values()) or 1
    window = 2 * threads
    remote_config = client.scatter(config, broadcast=True, hash=False)
    pending: dict[Any, list[FileRef]] = {}
    completed = as_completed()
    try:
        while True:
            while chunks.issues:
                yield chunks.issues.popleft()
            while len(pending) < window and not chunks.exhausted:
                chunk = chunks.next(block=not pending)
                if chunk is None:
                    break
                fut = client.submit(scan_files, chunk, remote_config, pure=False)
                pending[fut] = chunk
                completed.add(fut)
            if not pending:
                if chunks.exhausted and not chunks.issues:
                    return
                continue
            fut = next(completed)
            chunk = pending.pop(fut)
            try:
                outcomes = fut.result()
            except Exception as exc:  # a worker died more often than Dask allows, etc.
                outcomes = _crash_outcomes(chunk, f"the Dask task failed: {exc}")
            fut.release()
            yield from outcomes
    finally:
        for fut in pending:
            fut.cancel()


class ScanRun:
    """One scan: iterate over it for the reports of this run; :attr:`summary` has the
    totals (complete once iteration ends). See :func:`aimark.scan` for the arguments: every
    file is verified by ``verifier`` (or by a :class:`~aimark.Verifier` made of
    ``verify_options``). Progress goes to the ``progress`` stream in ``progress_style`` (one of
    :data:`PROGRESS_STYLES`; ``lines`` writes one line every ``progress_interval`` seconds)."""

    def __init__(
        self,
        paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
        *,
        verifier: Verifier | None = None,
        kinds: Iterable[str] = KINDS,
        workers: int | None = None,
        client: Any = None,
        output: str | os.PathLike[str] | None = None,
        csv: str | os.PathLike[str] | None = None,
        html: str | os.PathLike[str] | None = None,
        resume: bool = True,
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        hidden: bool = False,
        follow_symlinks: bool = False,
        storage_options: Mapping[str, Any] | None = None,
        chunk_size: int = 8,
        progress: bool | TextIO | None = False,
        progress_style: str = "bar",
        progress_interval: float = 10.0,
        **verify_options: Any,
    ) -> None:
        if verifier is not None and verify_options:
            raise TypeError(
                "give a verifier or its options (trust=, watermark_keys=, ...), not both"
            )
        verifier = verifier or Verifier(**verify_options)
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        self.roots = [os.fspath(p) for p in paths]
        if not self.roots:
            raise ValueError("give at least one file, folder or URL to scan")
        for root in self.roots:
            local = root[len("file://") :] if root.startswith("file://") else root
            if not is_url(local) and not os.path.lexists(local):
                raise InputError(f"no such file or folder: {root}")
        storage = dict(storage_options or {})
        self.config = ScanConfig(
            verifier=verifier,
            kinds=tuple(kinds),
            thumbnails=html is not None,
            storage_options=storage,
        )
        self.walk_options = WalkOptions(
            hidden=hidden,
            follow_symlinks=follow_symlinks,
            include=tuple(include),
            exclude=tuple(exclude),
            storage_options=storage,
        )
        if workers is not None and workers < 0:
            raise ValueError("workers must be 0 (in this process) or more")
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.client = client
        self.output, self.csv, self.html = output, csv, html
        self.resume = resume
        self.chunk_size = chunk_size
        if progress_style not in PROGRESS_STYLES:
            raise ValueError(f"progress_style must be one of {', '.join(PROGRESS_STYLES)}")
        if not progress_interval > 0:
            raise ValueError("progress_interval must be positive (seconds)")
        self.progress_style, self.progress_interval = progress_style, progress_interval
        if progress is True:
            self._progress_stream: TextIO | None = sys.stderr
        elif progress is None:
            self._progress_stream = sys.stderr if sys.stderr.isatty() else None
        elif progress is False:
            self._progress_stream = None
        else:
            self._progress_stream = progress
        self.summary = ScanSummary(roots=tuple(self.roots))
        self._started = False

    def __iter__(self) -> Iterator[Report]:
        if self._started:
            raise RuntimeError("a ScanRun can be iterated once; make a new one to scan again")
        self._started = True
        return self._reports()

    def run(self) -> ScanSummary:
        """Scan everything without looking at the reports; return the summary."""
        for _ in self:
            pass
        return self.summary

    # -- the scan itself ---------------------------------------------------------------------

    def _open_outputs(self) -> tuple[ResumeIndex, JsonlWriter | None, list[Any]]:
        index = ResumeIndex.empty()
        jsonl = None
        for what, path, example in (
            ("-o (output)", self.output, "scan.jsonl"),
            ("--csv", self.csv, "scan.csv"),
            ("--html", self.html, "report.html"),
        ):
            if path is not None and os.path.isdir(path):
                raise OutputError(
                    f"{what} names the output file; {os.fspath(path)} is a folder — give a "
                    f"file name such as {os.path.join(path, example)}"
                )
        if self.output is not None:
            if self.resume and os.path.exists(self.output):
                index = ResumeIndex.load(self.output)
            jsonl = JsonlWriter(self.output, start=index.end)
        sinks: list[Any] = []
        try:
            if self.csv is not None:
                sinks.append(CsvWriter(self.csv))
            if self.html is not None:
                from aimark.scanner.html import HtmlReport

                sinks.append(HtmlReport(self.html))
        except BaseException:
            for s in sinks:
                s.abort()
            if jsonl is not None:
                jsonl.close()
            raise
        return index, jsonl, sinks

    def _backend(self, chunks: _Chunks) -> Iterator[Outcome]:
        if self.client is not None:
            return _run_dask(chunks, self.config, self.client)
        if self.workers == 0:
            return _run_in_process(chunks, self.config)
        return _run_processes(chunks, self.config, self.workers)

    def _reports(self) -> Iterator[Report]:
        index, jsonl, sinks = self._open_outputs()
        walker = _Walker(self.roots, self.walk_options, index)
        chunks = _Chunks(walker, self.chunk_size, self.summary)
        progress = _Progress(self._progress_stream, self.progress_style, self.progress_interval)
        rescanned = array("Q")  # paths reported by this run (they supersede older reports)
        interrupted = True
        failed = False
        held = _HeldInterrupt()
        held.install()
        walker.start()
        try:
            for done, outcome in enumerate(self._backend(chunks), 1):
                if outcome.report is None:
                    self.summary.skipped[outcome.skipped or "not-media"] += 1
                else:
                    report = outcome.report
                    d = report.to_dict()
                    with held.holding():  # every output gets this report, or none does
                        self.summary.add(d, new=True)
                        if index.has_path(report.source):
                            rescanned.append(path_hash(report.source))
                        if jsonl is not None:
                            jsonl.add(d)
                        for sink in sinks:
                            sink.add(d, outcome.thumbnail)
                    yield report
                progress.update(done, walker.found, not walker.finished)
            interrupted = False
        except BaseException:
            failed = True
            raise
        finally:
            held.uninstall()
            walker.stop()
            progress.close()
            try:
                self._finish(index, jsonl, sinks, rescanned, interrupted)
            except BaseException:
                if not failed:
                    raise

    def _finish(
        self,
        index: ResumeIndex,
        jsonl: JsonlWriter | None,
        sinks: list[Any],
        rescanned: array,
        interrupted: bool,
    ) -> None:
        """Add the earlier run's reports to the totals, the CSV and the HTML report (leaving
        out those this run superseded), drop superseded lines from the JSON Lines file, and
        move the files into place."""
        try:
            if jsonl is not None:
                jsonl.flush()
            if index.lines and self.output is not None:
                newer = np.unique(np.frombuffer(rescanned, dtype=np.uint64))
                kept = 0
                for d in read_reports(self.output, end=index.end):
                    h = np.uint64(path_hash(str(d.get("source", ""))))
                    i = int(np.searchsorted(newer, h))
                    if i < newer.size and newer[i] == h:
                        self.summary.superseded += 1
                        continue
                    kept += 1
                    self.summary.add(d, new=False)
                    for sink in sinks:
                        sink.add(d, None)
                if self.summary.superseded and jsonl is not None:
                    jsonl.close()
                    _drop_superseded(self.output, index.end, newer)
            self.summary.finish(interrupted=interrupted)
            if jsonl is not None:
                jsonl.close()
            for sink in sinks:
                sink.close(self.summary.to_dict())
        except BaseException:
            for sink in sinks:
                sink.abort()
            if jsonl is not None:
                jsonl.abort()
            raise


def _drop_superseded(path: str | os.PathLike[str], end: int, newer: np.ndarray) -> None:
    """Rewrite the JSON Lines file without the earlier lines that newer reports replace."""
    from aimark.media.output import AtomicFile

    with AtomicFile(path, binary=True) as out, open(path, "rb") as f:
        pos = 0
        for line in f:
            pos += len(line)
            if pos <= end:
                d = _loads(line)
                if d is not None:
                    h = np.uint64(path_hash(str(d.get("source", ""))))
                    i = int(np.searchsorted(newer, h))
                    if i < newer.size and newer[i] == h:
                        continue
            out.file.write(line)


def _loads(line: bytes) -> dict[str, Any] | None:
    try:
        d = json.loads(line)
    except ValueError:
        return None
    return d if isinstance(d, dict) else None
