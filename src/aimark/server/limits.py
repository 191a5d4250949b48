"""The service's limits: how much it reads, how long it works, how many uploads at once.

Example:
    >>> from aimark.server import ServiceLimits
    >>> ServiceLimits(max_body_bytes=10_000_000).time_limit
    30.0
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["ServiceLimits"]


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ServiceLimits:
    """Ceilings of the upload service (the pixel and byte limits of the media itself are the
    verifier's :class:`~aimark.Limits`).

    Attributes:
        max_body_bytes: largest request body, in bytes (default 32 MiB). A larger declared
            ``Content-Length`` is refused with 413 before any of the body is read; a body that
            grows past it while streaming is refused as soon as it does.
        concurrency: verifications running at once (default: one per core). Each runs in its
            own worker process (``isolation="process"``) or thread.
        queue: uploads allowed to wait for a free worker (default: ``concurrency``). Beyond
            ``concurrency + queue`` uploads in progress, the service answers 503 with
            ``Retry-After`` at once rather than queueing without bound.
        time_limit: seconds one verification may take (default 30). With process isolation
            the worker is killed when it runs over; with threads the answer is given at the
            limit but the thread finishes its work (and keeps its place in ``concurrency``).
        upload_timeout: seconds to receive the whole body (default 60); a slower upload gets
            408, so slow clients cannot hold places.
        retry_after: the ``Retry-After`` seconds sent with 503 (default 1).
    """

    max_body_bytes: int = 32 * 1024 * 1024
    concurrency: int = 0  # 0: one per core
    queue: int = -1  # -1: same as concurrency
    time_limit: float = 30.0
    upload_timeout: float = 60.0
    retry_after: int = 1

    def __post_init__(self) -> None:
        if self.max_body_bytes <= 0:
            raise ValueError("max_body_bytes must be positive")
        if self.concurrency < 0 or self.queue < -1:
            raise ValueError("concurrency and queue must be 0 or more")
        if self.time_limit <= 0 or self.upload_timeout <= 0 or self.retry_after < 0:
            raise ValueError("time limits must be positive")
        if self.concurrency == 0:
            object.__setattr__(self, "concurrency", _cores())
        if self.queue == -1:
            object.__setattr__(self, "queue", self.concurrency)
