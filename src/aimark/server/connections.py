"""Connection guards for ``aimark serve``: what the ASGI app cannot see.

A client that opens a connection and sends its request head one line at a time holds a
file descriptor and never reaches the app, so the app's own limits (body size, upload
timeout, the admission queue) never apply to it. uvicorn alone holds such connections
without limit; when they exhaust the open-file limit, asyncio's accept loop logs a
traceback for every attempt. This module bounds that at the transport:

* **a deadline for the request head**: a connection must deliver a complete request line
  and headers within ``header_timeout`` seconds of opening (or of its previous response, on
  keep-alive), else it is answered 408 and closed;
* **at most** ``max_connections`` **open connections**: one more evicts the connection that
  has waited longest for its request head (answered 503), or, when every connection is busy
  with a request, is answered 503 itself, so a flood of slow clients cannot lock out a
  health probe;
* **the open-file limit** is raised to its hard limit at start, and ``max_connections`` is
  kept below it by a reserve that covers the server's own files and the connections asyncio
  accepts in a few bursts before any of them is seen (its accept loop takes up to the
  ``backlog`` it was given per wakeup, so :func:`connection_budget` sizes that small), so
  ``accept()`` does not run out of descriptors; the kernel's own listen queue is then made
  long (:data:`LISTEN_QUEUE`, by :func:`guarded_server`), so that a prompt client waits in it
  behind reconnecting slow ones instead of having its connection attempt dropped;
* **repeated log lines are rate-limited** (:class:`RateLimitFilter`): the same message at
  most a few times per interval, then one line counting what was dropped.

Example:
    >>> from aimark.server.connections import connection_budget
    >>> connection_budget(requested=None, open_files=1024)
    Budget(max_connections=704, accept_burst=64)
    >>> connection_budget(requested=None, open_files=1_048_576)
    Budget(max_connections=10000, accept_burst=512)
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "DEFAULT_HEADER_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "FD_RESERVE",
    "LISTEN_QUEUE",
    "Budget",
    "ConnectionGuard",
    "RateLimitFilter",
    "connection_budget",
    "guarded_protocol",
    "guarded_server",
    "install_log_rate_limit",
    "raise_open_file_limit",
]

log = logging.getLogger("aimark.server")

#: seconds a connection has to deliver its request line and headers
DEFAULT_HEADER_TIMEOUT = 10.0
#: open connections at most, when the open-file limit allows that many
DEFAULT_MAX_CONNECTIONS = 10_000
#: file descriptors kept free for the server's own files (worker pipes, the repository,
#: static files, logs), besides those for accept bursts
FD_RESERVE = 64
#: the kernel's queue of connections not yet accepted (capped by net.core.somaxconn)
LISTEN_QUEUE = 4096
# when the hard limit is "unlimited", raise the soft one to this
_UNLIMITED_CAP = 1 << 20


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to its hard limit; returns the soft limit
    now in force (unchanged where the platform has no such limit or refuses)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return _UNLIMITED_CAP
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _UNLIMITED_CAP if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # e.g. macOS's OPEN_MAX: keep what we have
            pass
    return _UNLIMITED_CAP if soft == resource.RLIM_INFINITY else int(soft)


class Budget(NamedTuple):
    """How many connections to hold, and how many asyncio may accept per wakeup (the
    ``backlog`` to give uvicorn; :func:`guarded_server` lengthens the kernel's queue)."""

    max_connections: int
    accept_burst: int


def connection_budget(*, requested: int | None, open_files: int) -> Budget:
    """``requested`` connections (default :data:`DEFAULT_MAX_CONNECTIONS`), but never more
    than fit under ``open_files``.

    asyncio accepts up to ``accept_burst`` sockets each time the listening socket is ready,
    and a few such bursts can land before the server sees (and evicts for) any of them, so
    the reserve is :data:`FD_RESERVE` plus four bursts; a burst is a sixteenth of the limit
    (16 to 512)."""
    burst = min(512, max(16, open_files // 16))
    fits = max(1, open_files - FD_RESERVE - 4 * burst)
    return Budget(min(requested or DEFAULT_MAX_CONNECTIONS, fits), burst)


def _raw_answer(status: int, reason: str, code: str, message: str, extra: str = "") -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\ncache-control: no-store\r\n"
        f"x-content-type-options: nosniff\r\n{extra}connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


@dataclass
class ConnectionGuard:
    """The shared state of the guarded connections of one server: the limits, the
    connections waiting for their request head (oldest first), and counters."""

    max_connections: int
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    retry_after: int = 1
    waiting: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    timed_out: int = 0
    evicted: int = 0
    refused: int = 0

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if not self.header_timeout > 0:
            raise ValueError("header_timeout must be positive")

    def timeout_answer(self) -> bytes:
        return _raw_answer(
            408,
            "Request Timeout",
            "header-timeout",
            f"the request head did not arrive within {self.header_timeout:g} s",
        )

    def busy_answer(self) -> bytes:
        return _raw_answer(
            503,
            "Service Unavailable",
            "busy",
            "the service has as many open connections as it allows; retry shortly",
            f"retry-after: {self.retry_after}\r\n",
        )


def guarded_protocol(guard: ConnectionGuard) -> type:
    """uvicorn's h11 protocol class, with ``guard``'s header deadline and connection bound
    (pass it as ``uvicorn.Config(http=...)``)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):  # type: ignore[misc]
        _deadline: Any = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._sync_header_phase()
            if len(self.connections) > guard.max_connections:
                oldest = next((c for c in guard.waiting if c is not self), None)
                if oldest is not None:
                    guard.evicted += 1
                    oldest._drop(guard.busy_answer())
                else:  # every other connection is in the middle of a request
                    guard.refused += 1
                    self._drop(guard.busy_answer())

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._sync_header_phase()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._sync_header_phase()

        def connection_lost(self, exc: Exception | None) -> None:
            self._end_header_phase()
            super().connection_lost(exc)

        # -- the header phase ---------------------------------------------------------

        def _sync_header_phase(self) -> None:
            """Track whether this connection is waiting on its client: from opening (or the
            end of its previous response) until h11 has parsed the next request head. (The
            app bounds the time of a request it is working on.)"""
            idle = self.cycle is None or self.cycle.response_complete
            waiting = idle and not self.transport.is_closing()
            if waiting and self not in guard.waiting:
                guard.waiting[self] = None
                self._deadline = self.loop.call_later(guard.header_timeout, self._expire)
            elif not waiting:
                self._end_header_phase()

        def _end_header_phase(self) -> None:
            guard.waiting.pop(self, None)
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if self in guard.waiting:
                guard.timed_out += 1
                self._drop(guard.timeout_answer())

        def _drop(self, answer: bytes) -> None:
            self._end_header_phase()
            if not self.transport.is_closing():
                self.transport.write(answer)
                self.transport.close()

    return GuardedH11Protocol


def guarded_server(
    config: Any,
    listen_queue: int = LISTEN_QUEUE,
    on_started: Callable[[str], None] | None = None,
) -> Any:
    """A ``uvicorn.Server`` for ``config`` whose listening sockets get a kernel queue of
    ``listen_queue`` once they are open (uvicorn gives them its ``backlog``, which asyncio
    also uses as its accept burst, kept small by :func:`connection_budget`). ``on_started``
    is called with the address (``http://host:port``) once the server listens."""
    import socket

    import uvicorn

    class GuardedServer(uvicorn.Server):  # type: ignore[misc]
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            for server in getattr(self, "servers", ()):
                for listening in server.sockets:
                    with socket.fromfd(
                        listening.fileno(), listening.family, listening.type
                    ) as same:  # a second descriptor of the same socket
                        same.listen(listen_queue)
            if on_started is not None and not self.should_exit:
                on_started(_address(self))

    return GuardedServer(config)


def _address(server: Any) -> str:
    for listening in getattr(server, "servers", ()):
        for sock in listening.sockets:
            host, port = sock.getsockname()[:2]
            return f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    return f"http://{server.config.host}:{server.config.port}"


class RateLimitFilter(logging.Filter):
    """Let the same message (logger and format string) through at most ``burst`` times per
    ``interval`` seconds; the first one let through after a pause says how many were
    dropped. A flood of identical errors then costs a few lines, not megabytes."""

    def __init__(self, burst: int = 5, interval: float = 10.0) -> None:
        super().__init__()
        self.burst = burst
        self.interval = interval
        self._seen: dict[tuple[str, str], list[float]] = {}  # key: [window start, count, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        state = self._seen.get(key)
        if state is None or now - state[0] >= self.interval:
            dropped = int(state[2]) if state else 0
            self._seen[key] = [now, 1, 0]
            if len(self._seen) > 1000:  # forget the oldest windows
                for old in list(self._seen)[:500]:
                    del self._seen[old]
            if dropped:
                record.msg = f"{record.msg} ({dropped} more like this were not logged)"
            return True
        state[1] += 1
        if state[1] <= self.burst:
            return True
        state[2] += 1
        return False


def install_log_rate_limit(
    loggers: tuple[str, ...] = ("asyncio", "uvicorn.error", "aimark.server"),
) -> RateLimitFilter:
    """Attach one :class:`RateLimitFilter` to each of ``loggers``; returns it."""
    limiter = RateLimitFilter()
    for name in loggers:
        logging.getLogger(name).addFilter(limiter)
    return limiter
