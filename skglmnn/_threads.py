"""Keeping numba's threads and BLAS's threads off each other's cores.

OpenBLAS threads spin for a while after each call, and so do numba's after a
parallel loop.  When a solver alternates between the two (a numba sweep over X,
then BLAS on X), the two pools share the cores and both slow down: measured
2.6x slower L-BFGS fits at 100k x 100 on 2 cores.  So solvers that sweep X
with numba keep BLAS single-threaded for the whole solve, and the one large
BLAS job they have (X^T W X) is split over rows among Python threads, each
running single-threaded BLAS; scipy's BLAS wrappers release the GIL.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_controller = None
_pool = None  # kept between calls: starting threads costs ~2 ms a call


def _forget_pool():
    global _pool
    _pool = None  # a forked child has none of the parent's threads


os.register_at_fork(after_in_child=_forget_pool)
MIN_ELEMENTS_PER_THREAD = 2**18  # below this, one thread is faster than two


def _threads_for(n_elements):
    """Threads worth using on ``n_elements``: :func:`cores`, one per 2**18 elements."""
    most = n_elements // MIN_ELEMENTS_PER_THREAD
    if most < 2:
        return 1  # without asking numba: a small fit need not load it
    return max(1, min(cores(), most))


_openmp = None  # threadpoolctl's view of the loaded OpenMP runtimes, found once


def cores():
    """Threads skglmnn may use: numba's count (``numba.set_num_threads``,
    ``NUMBA_NUM_THREADS``), lowered by the thread limit of the loaded OpenMP
    runtimes -- what ``threadpoolctl.threadpool_limits`` and ``OMP_NUM_THREADS``
    set, and what process-based parallelism (joblib's loky workers) lowers to
    avoid oversubscription.  numba's parallel loops do not read that limit
    themselves, so the callers that choose how many chunks to split work into
    (network epochs, row ranges on Python threads) ask here.
    """
    global _openmp
    import numba

    n = numba.get_num_threads()
    if _openmp is None or not _openmp.lib_controllers:
        from threadpoolctl import ThreadpoolController

        _openmp = ThreadpoolController().select(user_api="openmp")  # 0.1 ms a scan
    limits = [lib.get_num_threads() for lib in _openmp.lib_controllers]
    limits = [limit for limit in limits if limit and limit > 0]
    return max(1, min([n, *limits]))


def single_threaded_blas(active=True):
    """Context manager limiting BLAS to one thread while ``active``."""
    global _controller
    if not active:
        return contextlib.nullcontext()
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()  # built once: it scans loaded libraries
    return _controller.limit(limits=1, user_api="blas")


def split_rows(func, n, n_elements):
    """``[func(a, b), ...]`` over consecutive row ranges ``[a, b)`` that cover ``range(n)``,
    one range per thread, in row order.

    As many threads as ``n_elements`` (the work, in array elements) is worth
    (:func:`_threads_for`), each with BLAS limited to one thread; a single
    range ``func(0, n)`` in this thread when one is enough.  ``func`` must
    release the GIL (a nogil kernel, BLAS) for the threads to overlap.
    """
    n_threads = _threads_for(n_elements)
    if n_threads == 1:
        return [func(0, n)]
    global _pool
    if _pool is None or _pool._max_workers < n_threads:
        _pool = ThreadPoolExecutor(n_threads, thread_name_prefix="skglmnn")
    bounds = [n * k // n_threads for k in range(n_threads + 1)]
    with single_threaded_blas():
        return list(_pool.map(lambda k: func(bounds[k], bounds[k + 1]), range(n_threads)))


def parallel_row_blocks(func, X, weights):
    """Sum of ``func(X[a:b], weights[a:b])`` over row ranges, one per thread.

    ``func`` returns a tuple of arrays; the tuples are summed element-wise, in
    row order.  A length-0 ``weights`` is passed as it is (unit weights).
    """
    n, p = X.shape
    parts = split_rows(lambda a, b: func(X[a:b], weights[a:b] if weights.size else weights),
                       n, n * p)  # fmt: skip
    if len(parts) == 1:
        return parts[0]
    return tuple(sum(items) for items in zip(*parts, strict=True))


_scratch = threading.local()


def scratch(name, size):
    """A float64 work array of ``size`` elements, the calling thread's own, kept for the
    next call that asks for ``name``.

    Row-block loops (Hessians, centred products) centre and scale each block of
    about 1 MB in such an array: a fresh one per call costs page faults that
    made a Hessian of a few columns 4x slower than its arithmetic (measured on
    this project's virtual machines).  A caller must not hand the array on to
    code that asks for the same name.
    """
    buffers = getattr(_scratch, "buffers", None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    buffer = buffers.get(name)
    if buffer is None or buffer.size < size:
        buffer = buffers[name] = None  # the old one goes before the new one comes
        buffer = buffers[name] = np.empty(size)
    return buffer[:size]


CAST_ROWS = 2048  # rows of X cast at a time when its dtype is not the product's


def parallel_matvec(X, coef):
    """``X @ coef`` for dense X, its rows split among the pool's threads (single-threaded
    BLAS each), so that no BLAS thread is left spinning against numba's afterwards.

    When X's dtype is not the product's (float32 features, float64 coefficients),
    each thread casts ``CAST_ROWS`` rows at a time into one buffer of its own
    rather than letting NumPy cast its whole range: that temporary was fresh
    memory each time, and its page faults cost 110 ms of a 0.5 s network fit
    (100k x 64 float32, measured on this project's virtual machine).
    """
    n, p = X.shape
    dtype = np.result_type(X.dtype, coef.dtype)
    out = np.empty((n,) + coef.shape[1:], dtype=dtype)

    def run(a, b):
        if X.dtype == dtype:
            out[a:b] = X[a:b] @ coef
            return
        buffer = np.empty((min(CAST_ROWS, b - a), p), dtype=dtype)
        for start in range(a, b, CAST_ROWS):
            stop = min(start + CAST_ROWS, b)
            block = buffer[: stop - start]
            block[...] = X[start:stop]
            np.matmul(block, coef, out=out[start:stop])

    split_rows(run, n, n * p)
    return out
