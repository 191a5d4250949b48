"""One thread of numerical libraries in aimark's own worker processes.

numpy's BLAS (OpenBLAS) starts a thread per core for every matrix product. The watermark
detector's products are small, so those threads only contend: a verify loop on 2 cores spent
34 s of CPU for 17.5 s of wall time, and 15.7 s wall (15.7 s CPU) with one BLAS thread. Where
aimark runs several worker processes (``aimark scan``, the service), the processes are the
parallelism and each should use one thread. A user's own process is left alone.

Example:
    >>> single_threaded_math()  # in a worker's initializer; a no-op without threadpoolctl
"""

from __future__ import annotations

__all__ = ["single_threaded_math"]


def single_threaded_math() -> None:
    """Limit BLAS and OpenMP thread pools in this process to one thread (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an install without it: correct, only slower with several workers
        return
    threadpool_limits(limits=1)
