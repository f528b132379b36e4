"""Timing and peak-memory helpers shared by the benchmark runners."""

import contextlib
import os
import statistics
import threading
import time

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


class PeakMemory:
    """Context manager: the peak RSS above the level at entry, sampled every 2 ms.

    Reads /proc/self/statm from a thread, so memory allocated by C, C++ or
    Fortran code (BLAS, glum, statsmodels) counts as well as NumPy's.
    """

    def __enter__(self):
        self.start = rss_bytes()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())
        self.extra = self.peak - self.start


def measure(fit, repeat, warmup=True):
    """Run ``fit()`` once to warm up (if ``warmup``), ``repeat`` times timed, then once
    more to find its peak memory.

    The memory is sampled in a run of its own: the sampling thread takes the GIL
    every 2 ms, which slowed the timed calls by 2-12% (measured on the Poisson
    paths of ``cv.py``), most where the fit's own Python loop is busiest.  Fits
    too slow for a warm-up (``warmup=False``: peers that take minutes) are
    sampled while they are timed instead, rather than run again.

    Returns
    -------
    median_seconds : float
    result : object
        What the last timed call returned.
    extra_bytes : int
        The largest peak RSS increase of a sampled call.
    """
    if warmup:
        fit()
    result, times, extra = None, [], 0
    for _ in range(repeat):
        with PeakMemory() if not warmup else contextlib.nullcontext() as memory:
            start = time.perf_counter()
            result = fit()
            times.append(time.perf_counter() - start)
        if memory is not None:
            extra = max(extra, memory.extra)
    if warmup:
        with PeakMemory() as memory:
            fit()
        extra = memory.extra
    return statistics.median(times), result, extra
