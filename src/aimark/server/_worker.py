"""The body of a verification worker process (kept free of web imports: the forkserver
preloads it, so each new worker starts with aimark already imported)."""

from __future__ import annotations

import signal
import traceback
from multiprocessing.connection import Connection
from typing import Any

from aimark._verifier import Verifier


def serve(conn: Connection, verifier: Verifier) -> None:
    """Answer ``(data, name)`` requests with ``("report", Report)`` or ``("internal-error",
    traceback text)`` until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    while True:
        try:
            data, name = conn.recv()
        except (EOFError, OSError):
            return
        reply: tuple[str, Any]
        try:
            reply = ("report", verifier.verify_bytes(data, name=name))
        except Exception:  # a bug: the server logs it and answers 500, the worker lives on
            reply = ("internal-error", traceback.format_exc())
        del data
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
