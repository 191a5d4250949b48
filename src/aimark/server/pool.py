"""Where verifications run: a fixed set of worker processes (or threads), off the event loop.

Each worker process verifies one upload at a time. One that runs past the time limit is
killed and replaced, and one that dies (a crash in a native decoder) is replaced, so neither
takes the service or other uploads with it. The thread pool that waits on the workers has
exactly one thread per worker: work beyond that waits in the executor's queue, which the
app bounds (see :class:`~aimark.server.ServiceLimits`).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from aimark._verifier import Verifier
from aimark.report import Report

__all__ = ["Isolation", "Outcome", "VerifyPool"]

log = logging.getLogger("aimark.server")

Isolation = Literal["process", "thread"]


@dataclass(frozen=True)
class Outcome:
    """A verification's result: the ``report``, or why there is none (``failure`` is
    ``"time-limit-exceeded"``, ``"worker-crash"`` or ``"internal-error"``)."""

    report: Report | None = None
    failure: str | None = None
    ingested: tuple[bytes, dict[str, Any]] | None = None  # an ingest's copy and summary
    refused: str | None = None  # why an upload cannot be ingested (an input error)


def _outcome(kind: str, value: Any) -> Outcome:
    if kind == "report":
        return Outcome(report=value)
    if kind == "ingested":
        return Outcome(ingested=value)
    if kind == "refused":
        return Outcome(refused=value)
    log.error("verification failed in a worker:\n%s", value)
    return Outcome(failure="internal-error")


def _context() -> Any:
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(["aimark.server._worker"])
    return ctx


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx: Any, verifier: Verifier, ingester: Any = None) -> None:
        from aimark.server._worker import serve

        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=serve, args=(child, verifier, ingester), daemon=True, name="aimark-verify"
        )
        self.process.start()
        child.close()

    def call(
        self, data: bytes, name: str, time_limit: float, job: dict[str, Any] | None = None
    ) -> Outcome:
        try:
            self.conn.send((data, name, job))
            if not self.conn.poll(time_limit):
                return Outcome(failure="time-limit-exceeded")
            kind, value = self.conn.recv()
        except (EOFError, OSError):
            return Outcome(failure="worker-crash")
        return _outcome(kind, value)

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class VerifyPool:
    """Runs ``verifier.verify_bytes`` on ``size`` workers; :meth:`submit` returns a
    ``concurrent.futures.Future`` of an :class:`Outcome`.

    ``isolation="process"`` (the default) gives each worker its own process, started on
    first use; the time limit is then hard. With ``"thread"`` the verifier runs in the
    threads themselves: cheaper, but a verification that runs over cannot be stopped (the
    caller stops waiting; the thread finishes its work).
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        size: int,
        time_limit: float,
        isolation: Isolation = "process",
        ingester: Any = None,
    ) -> None:
        if isolation not in ("process", "thread"):
            raise ValueError("isolation must be 'process' or 'thread'")
        if size < 1:
            raise ValueError("size must be at least 1")
        self.verifier = verifier
        self.ingester = ingester  # an aimark.Ingester for POST /v1/ingest, or None
        self.size = size
        self.time_limit = time_limit
        self.isolation = isolation
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="aimark-verify")
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._ctx: Any = None
        self._closed = False
        self.restarts = 0  # workers replaced after a crash or a time-out
        for _ in range(size):
            self._idle.put(None)  # a place for a worker not started yet

    def start(self) -> None:
        """Start every worker process now (otherwise each starts on its first upload)."""
        if self.isolation == "thread":
            return
        places = [self._idle.get() for _ in range(self.size)]
        try:
            for i, w in enumerate(places):
                if w is None:
                    places[i] = self._new_worker()
        finally:
            for w in places:
                self._idle.put(w)

    def submit(self, data: bytes, name: str, job: dict[str, Any] | None = None) -> Future[Outcome]:
        """Queue one verification (or, with ``job``, one ingest: the keyword arguments of
        :meth:`aimark.Ingester.ingest`); the future's result is an :class:`Outcome`."""
        if self._closed:
            raise RuntimeError("the pool is closed")
        if job is not None and self.ingester is None:
            raise RuntimeError("this pool has no ingester")
        if self.isolation == "thread":
            return self._threads.submit(self._in_thread, data, name, job)
        return self._threads.submit(self._in_process, data, name, job)

    def _in_thread(self, data: bytes, name: str, job: dict[str, Any] | None) -> Outcome:
        from aimark.server._worker import run_job

        return _outcome(*run_job(self.verifier, self.ingester, data, name, job))

    def _in_process(self, data: bytes, name: str, job: dict[str, Any] | None) -> Outcome:
        worker = self._idle.get()  # never waits: one thread per place
        try:
            if worker is None:
                worker = self._new_worker()
            outcome = worker.call(data, name, self.time_limit, job)
            if outcome.failure in ("time-limit-exceeded", "worker-crash"):
                self._retire(worker)
                worker = None
                self.restarts += 1
            return outcome
        finally:
            self._idle.put(worker)

    def _new_worker(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is closed")
            if self._ctx is None:
                self._ctx = _context()
            worker = _Worker(self._ctx, self.verifier, self.ingester)
            self._workers.add(worker)
            return worker

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
        worker.stop()

    def worker_pids(self) -> list[int]:
        """The process ids of the running workers (for monitoring and tests)."""
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def close(self) -> None:
        """Stop the workers (running verifications are cut short). Idempotent."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for w in workers:
            w.stop()
        self._threads.shutdown(wait=False, cancel_futures=True)
