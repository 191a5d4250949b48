"""The body of a verification worker process (kept free of web imports: the forkserver
preloads it, so each new worker starts with aimark already imported)."""

from __future__ import annotations

import signal
import traceback
from multiprocessing.connection import Connection
from typing import Any

from aimark._verifier import Verifier


def serve(conn: Connection, verifier: Verifier, ingester: Any = None) -> None:
    """Answer ``(data, name, job)`` requests until the pipe closes: ``job`` None verifies
    (``("report", Report)``); a dict ingests with ``ingester`` (``("ingested", (bytes,
    summary))`` or ``("refused", message)`` for input it cannot ingest). A bug answers
    ``("internal-error", traceback text)``."""
    from aimark._threads import single_threaded_math

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    single_threaded_math()  # the worker processes are the parallelism
    while True:
        try:
            data, name, job = conn.recv()
        except (EOFError, OSError):
            return
        reply = run_job(verifier, ingester, data, name, job)
        del data
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


def run_job(
    verifier: Verifier, ingester: Any, data: bytes, name: str, job: dict[str, Any] | None
) -> tuple[str, Any]:
    """One request's work, in a worker process or thread (see :func:`serve`)."""
    from aimark.errors import AimarkError

    try:
        if job is None:
            return ("report", verifier.verify_bytes(data, name=name))
        try:
            result = ingester.ingest(data, None, title=name, **job)
        except AimarkError as exc:
            return ("refused", str(exc))
        return ("ingested", (result.data, result.to_dict()))
    except Exception:  # a bug: the server logs it and answers 500, the worker lives on
        return ("internal-error", traceback.format_exc())
