"""The service's limits: how much it reads, how long it works, how many uploads at once.

Example:
    >>> from aimark.server import ServiceLimits
    >>> ServiceLimits(max_body_bytes=10_000_000).time_limit
    30.0
    >>> ServiceLimits(concurrency=2).queue, ServiceLimits(concurrency=2, max_body_bytes=2**30).queue
    (64, 2)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["DEFAULT_QUEUE", "QUEUE_MEMORY", "ServiceLimits", "default_queue"]

#: uploads that may wait for a worker, by default (fewer when bodies may be large)
DEFAULT_QUEUE = 64
#: the default queue is cut so that the bodies waiting in it (each up to max_body_bytes)
#: stay within this many bytes: 64 places at the default 32 MiB
QUEUE_MEMORY = 2 * 1024**3


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def default_queue(concurrency: int, max_body_bytes: int) -> int:
    """The queue a service gets unless told: :data:`DEFAULT_QUEUE` places, fewer when
    ``queue × max_body_bytes`` would pass :data:`QUEUE_MEMORY`, never fewer than
    ``concurrency``."""
    return max(concurrency, min(DEFAULT_QUEUE, QUEUE_MEMORY // max_body_bytes))


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
        queue: uploads allowed to wait for a free worker (default 64, so that a burst of
            uploads is held rather than refused; fewer when ``max_body_bytes`` is over 32 MiB,
            so that waiting bodies stay within 2 GiB: see :func:`default_queue`). Beyond
            ``concurrency + queue`` uploads in progress, the service answers 503 with
            ``Retry-After`` at once rather than queueing without bound; bodies held in
            memory are at most ``(concurrency + queue) × max_body_bytes``.
        time_limit: seconds one verification may take (default 30). With process isolation
            the worker is killed when it runs over; with threads the answer is given at the
            limit but the thread finishes its work (and keeps its place in ``concurrency``).
        upload_timeout: seconds to receive the whole body (default 60); a slower upload gets
            408, so slow clients cannot hold places.
        retry_after: the ``Retry-After`` seconds sent with 503 (default 1).
    """

    max_body_bytes: int = 32 * 1024 * 1024
    concurrency: int = 0  # 0: one per core
    queue: int = -1  # -1: default_queue(concurrency, max_body_bytes)
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
            object.__setattr__(self, "queue", default_queue(self.concurrency, self.max_body_bytes))
