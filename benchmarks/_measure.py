"""Timing and peak-memory helpers shared by the benchmark runners."""

import os
import statistics
import threading
import time

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _peak_rss_bytes():
    """The kernel's high-water mark of this process's resident set (``VmHWM``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status")


def _reset_peak():
    """Set the kernel's high-water mark back to the current RSS (Linux 4.0 and later);
    False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """Context manager: the peak RSS above the level at entry (``extra``, bytes).

    Where Linux lets a process reset its high-water mark (``/proc/self/clear_refs``)
    the kernel's own peak is read at exit: exact, and nothing runs beside the
    measured code.  Otherwise a thread samples ``/proc/self/statm`` every 2 ms;
    that thread takes the GIL at each sample, which slowed timed fits by 2-12%
    (measured on the Poisson paths of ``cv.py``).  Either way memory allocated by
    C, C++ or Fortran code (BLAS, glum, statsmodels) counts as well as NumPy's.
    """

    def __enter__(self):
        self.start = rss_bytes()
        self.peak = self.start
        self._thread = None
        if not _reset_peak():
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc):
        if self._thread is None:
            self.peak = max(self.peak, _peak_rss_bytes())
        else:
            self._stop.set()
            self._thread.join()
        self.peak = max(self.peak, rss_bytes())
        self.extra = self.peak - self.start


def measure(fit, repeat, warmup=True):
    """Run ``fit()`` once to warm up (if ``warmup``), then ``repeat`` times.

    Returns
    -------
    median_seconds : float
    result : object
        What the last call returned.
    extra_bytes : int
        Largest peak RSS increase over the timed calls.
    """
    if warmup:
        fit()
    result, times, extra = None, [], 0
    for _ in range(repeat):
        with PeakMemory() as memory:
            start = time.perf_counter()
            result = fit()
            times.append(time.perf_counter() - start)
        extra = max(extra, memory.extra)
    return statistics.median(times), result, extra


def measure_alternating(fits, repeat, warmup=True):
    """``measure`` for several fits whose times are compared, their calls interleaved.

    Each round runs every fit once, in turn, so that a slow spell of this
    noisy machine (two cores shared with other virtual machines) falls on all
    of them rather than on one fit's repeats: the ratios of the medians are
    then measured under the same conditions.

    Returns
    -------
    measured : list of (median_seconds, result, extra_bytes), one per fit
    """
    if warmup:
        for fit in fits:
            fit()
    times = [[] for _ in fits]
    results, extras = [None] * len(fits), [0] * len(fits)
    for _ in range(repeat):
        for i, fit in enumerate(fits):
            with PeakMemory() as memory:
                start = time.perf_counter()
                results[i] = fit()
                times[i].append(time.perf_counter() - start)
            extras[i] = max(extras[i], memory.extra)
    return [(statistics.median(t), r, e) for t, r, e in zip(times, results, extras, strict=True)]
