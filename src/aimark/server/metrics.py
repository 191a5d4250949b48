"""The service's metrics, in the Prometheus text exposition format (written by hand).

Counted in the main process, where every request is answered (worker processes only
verify), so the numbers hold whatever the number of workers. Only the event loop adds to
them; the gauges are read from the service when ``/metrics`` is asked.

Example:
    >>> from aimark.server.metrics import Metrics
    >>> m = Metrics()
    >>> m.observe("/healthz", 200, 0.003)
    >>> 'aimark_requests_total{route="/healthz",status="200"} 1' in m.render({})
    True
"""

from __future__ import annotations

import math
from collections import Counter

__all__ = ["BUCKETS", "CONTENT_TYPE", "Metrics"]

#: upper bounds (seconds) of the request duration histogram's buckets
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: name → (type, help) of the gauges the service reports at each scrape
GAUGES = {
    "aimark_uploads_in_progress": (
        "gauge",
        "Uploads admitted and not yet answered (receiving, waiting or verifying).",
    ),
    "aimark_workers": ("gauge", "Verifications that can run at once (concurrency)."),
    "aimark_queue_capacity": (
        "gauge",
        "Uploads that may wait for a worker; past workers + queue, uploads get 503.",
    ),
    "aimark_worker_restarts_total": (
        "counter",
        "Worker processes replaced after a time-out or a crash.",
    ),
}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(x: float) -> str:
    if x == math.inf:
        return "+Inf"
    return repr(float(x)) if isinstance(x, float) and not x.is_integer() else str(int(x))


class Metrics:
    """Request and verdict counters and a latency histogram, per route template."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self.verdicts: Counter[str] = Counter()
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}
        self._counts: Counter[str] = Counter()

    def observe(self, route: str, status: int, seconds: float, verdict: str | None = None) -> None:
        """Count one answered request (``verdict``: the report's verdict status, if any)."""
        self.requests[(route, str(status))] += 1
        if verdict is not None:
            self.verdicts[verdict] += 1
        buckets = self._buckets.setdefault(route, [0] * len(BUCKETS))
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                buckets[i] += 1
        self._sums[route] = self._sums.get(route, 0.0) + seconds
        self._counts[route] += 1

    def render(self, gauges: dict[str, float]) -> str:
        """The exposition text: the counters, the histogram and ``gauges`` (by name, from
        :data:`GAUGES`)."""
        out = [
            "# HELP aimark_requests_total Requests answered by the app, by route and status.",
            "# TYPE aimark_requests_total counter",
        ]
        for (route, status), n in sorted(self.requests.items()):
            out.append(f'aimark_requests_total{{route="{_label(route)}",status="{status}"}} {n}')
        out += [
            "# HELP aimark_verdicts_total Reports answered by POST /v1/verify, by verdict.",
            "# TYPE aimark_verdicts_total counter",
        ]
        for verdict, n in sorted(self.verdicts.items()):
            out.append(f'aimark_verdicts_total{{status="{_label(verdict)}"}} {n}')
        name = "aimark_request_duration_seconds"
        out += [
            f"# HELP {name} Time from the request's start to the end of its answer.",
            f"# TYPE {name} histogram",
        ]
        for route in sorted(self._buckets):
            r = _label(route)
            for bound, n in zip(BUCKETS, self._buckets[route], strict=True):
                out.append(f'{name}_bucket{{route="{r}",le="{_number(bound)}"}} {n}')
            out.append(f'{name}_bucket{{route="{r}",le="+Inf"}} {self._counts[route]}')
            out.append(f'{name}_sum{{route="{r}"}} {self._sums[route]:.6f}')
            out.append(f'{name}_count{{route="{r}"}} {self._counts[route]}')
        for gauge, value in gauges.items():
            kind, text = GAUGES[gauge]
            out += [f"# HELP {gauge} {text}", f"# TYPE {gauge} {kind}", f"{gauge} {_number(value)}"]
        return "\n".join(out) + "\n"
