"""Verifiers with a behaviour the service tests need, importable by worker processes (they
are pickled by reference, so they must live in a module, not in a test function)."""

from __future__ import annotations

import os
import signal
import threading
import time

import aimark


class CrashingVerifier(aimark.Verifier):
    """Kills its own process on the bytes ``b"CRASH"`` (as a crash in a native decoder
    would), sleeps on ``b"SLOW"``, fails on ``b"BUG"``; verifies anything else."""

    def verify_bytes(self, data: bytes, *, name: str = "<bytes>") -> aimark.Report:
        if data == b"CRASH":
            os.kill(os.getpid(), signal.SIGSEGV)
        if data == b"SLOW":
            time.sleep(60)
        if data == b"BUG":
            raise ZeroDivisionError("a bug with a path in it: /srv/secret/config.py")
        return super().verify_bytes(data, name=name)


class GatedVerifier(aimark.Verifier):
    """Waits at ``gate`` (thread isolation only) until the test opens it."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)

    def verify_bytes(self, data: bytes, *, name: str = "<bytes>") -> aimark.Report:
        self.entered.release()
        if not self.gate.wait(30):
            raise TimeoutError("the test never opened the gate")
        return super().verify_bytes(data, name=name)
