"""The one place that says how kernels are compiled.

``cache=True``: compiled code is written beside the module and loaded in
milliseconds by the next process.  ``error_model="numpy"``: a division by zero
gives inf or nan as in NumPy instead of raising inside compiled code; the
callers turn a non-finite loss into a clear message.  Only the safe fastmath
flags are used, and only in loops over samples: ``nnan``/``ninf`` would let the
compiler assume away exactly the overflow and domain checks we rely on.

A caching trap for developers: numba checks only the timestamp of the file that
defines a kernel, not of the files its callees live in.  After editing a scalar
function in one module (say a new link in ``links.py``), delete the cached
``*.nbi``/``*.nbc`` files under ``skglmnn/_kernels/__pycache__``, or kernels of
other modules keep the old inlined code.  Installed releases are unaffected (a
new version brings new timestamps to every file).
"""

from numba import njit

SAFE_FASTMATH = {"reassoc", "contract", "arcp"}


def scalar_kernel(func):
    """Compile a scalar function of floats and integer codes."""
    return njit(cache=True, error_model="numpy")(func)


def loop_kernel(func):
    """Compile a loop over samples (vectorisable reductions allowed)."""
    return njit(cache=True, error_model="numpy", fastmath=SAFE_FASTMATH)(func)


def parallel_kernel(func):
    """Compile a loop over row blocks that runs on all cores (``prange``)."""
    return njit(cache=True, error_model="numpy", fastmath=SAFE_FASTMATH, parallel=True)(func)
