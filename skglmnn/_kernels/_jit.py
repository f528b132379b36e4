"""The one place that says how kernels are compiled, and when.

Kernels are written once, as plain Python on floats, integer codes and arrays.
The decorators below only register them; :func:`compile_kernels` imports numba
and swaps every registered function, wherever a kernel module holds it, for its
compiled dispatcher.

Why not compile at import: a process pays about 0.45 s the first time it uses
numba at all (0.2 s to import it, 0.25 s to set up its compiler, even when every
kernel comes from the on-disk cache) -- more than a whole small fit costs
scikit-learn.  So the estimators call kernels through :func:`run`, which lets
them run as the Python they are written in while the process has not loaded
numba and the work interpreted so far stays within ``INTERPRETED_BUDGET``
(about a tenth of a second); beyond that, or for one large call, it compiles.
A fit of a few hundred rows thus never loads numba, and a large one compiles
before its first sweep.  The interpreted kernels are the same code: the same
formulas, the same results up to rounding (the tests compare the two on every
family and link).  Where Python's ``math`` raises and compiled code returns
inf or nan (``math.exp(800)``, ``math.log(0)``), the call is run again
compiled, so edge cases behave exactly as compiled ones.

``cache=True``: compiled code is written beside the module and loaded in
milliseconds by the next process.  ``error_model="numpy"``: a division by zero
gives inf or nan as in NumPy instead of raising inside compiled code; the
callers turn a non-finite loss into a clear message.  Only the safe fastmath
flags are used, and only in loops over samples: ``nnan``/``ninf`` would let the
compiler assume away exactly the overflow and domain checks we rely on; and not
in ``exact_loop_kernel``s, whose argument reductions reassociation would undo.  Loops
release the GIL (``nogil``), so that Python threads can run them side by side on
row blocks (``_threads.parallel_row_blocks``): a parallel loop (``prange``)
costs seconds more to compile the first time.

A caching trap for developers: numba checks only the timestamp of the file that
defines a kernel, not of the files its callees live in.  After editing a scalar
function in one module (say a new link in ``links.py``), delete the cached
``*.nbi``/``*.nbc`` files under ``skglmnn/_kernels/__pycache__``, or kernels of
other modules keep the old inlined code.  Installed releases are unaffected (a
new version brings new timestamps to every file).
"""

import sys
import threading

import numpy as np

SAFE_FASTMATH = {"reassoc", "contract", "arcp"}
SCALAR = {"error_model": "numpy"}
LOOP = {"error_model": "numpy", "fastmath": SAFE_FASTMATH, "nogil": True}
# loops whose arithmetic must run as written (no reassociation): ``special.exp_into``
EXACT_LOOP = {"error_model": "numpy", "nogil": True}
PARALLEL = {"error_model": "numpy", "fastmath": SAFE_FASTMATH, "parallel": True}
# Work (array elements; a row's pointwise formulas count as 8) a process may run
# interpreted before it compiles instead.  Interpreted sweeps cost 0.6-0.9 us per
# unit, so this is about 0.1 s, a quarter of what numba's start-up costs; a
# 300 x 5 logistic regression takes some 60 000 units.
INTERPRETED_BUDGET = 150_000

prange = range  # numba.prange once compiled; a kernel module reads it at import


def prefetch_row(X, row):
    """A hint to load ``X[row]`` into cache: nothing when interpreted; compiled kernels
    call ``_prefetch.prefetch_row`` in its place (swapped in by :func:`compile_kernels`
    like any kernel)."""
_registered = []  # (function, numba options), in definition order
_compiled = {}  # plain function -> dispatcher, filled by compile_kernels
_done = False  # compile_kernels has finished (every kernel module rewritten)
_lock = threading.Lock()
_interpreted = 0  # work run interpreted so far in this process


def _register(func, options):
    if _done:  # a kernel module imported after the others were compiled
        return _compile(func, options)
    _registered.append((func, options))
    return func


def scalar_kernel(func):
    """Register a scalar function of floats and integer codes as a kernel."""
    return _register(func, SCALAR)


def loop_kernel(func):
    """Register a loop over samples (vectorisable reductions allowed) as a kernel."""
    return _register(func, LOOP)


def exact_loop_kernel(func):
    """Register a loop over samples whose floating-point operations must keep their order
    (no fastmath: reassociation would undo an argument reduction) as a kernel."""
    return _register(func, EXACT_LOOP)


def parallel_kernel(func):
    """Register a loop over row blocks that runs on all cores (``prange``) as a kernel."""
    return _register(func, PARALLEL)


def _compile(func, options):
    import numba

    dispatcher = numba.njit(cache=True, **options)(func)
    _compiled[func] = dispatcher
    return dispatcher


def compile_kernels():
    """Import numba and replace every registered kernel by its compiled dispatcher.

    Idempotent.  Every kernel module's globals are rewritten (also the names one
    module imported from another), so that a compiled kernel calls compiled
    kernels, and ``prange`` becomes numba's parallel range.  Compilation itself
    is lazy, per signature, and usually a load from the on-disk cache.
    """
    global prange, _done
    if _done:
        return
    with _lock:  # a second thread waits until every module is rewritten
        if _done:
            return
        import numba

        from ._prefetch import prefetch_row as compiled_prefetch

        for func, options in _registered:
            _compile(func, options)
        _compiled[prefetch_row] = compiled_prefetch  # an intrinsic, compiled already
        for name in {func.__module__ for func, _ in _registered}:
            namespace = vars(sys.modules[name])
            for key, value in list(namespace.items()):
                if callable(value) and value in _compiled:
                    namespace[key] = _compiled[value]
            if namespace.get("prange") is range:
                namespace["prange"] = numba.prange
        prange = numba.prange
        _done = True


def is_compiled():
    """Whether this process has compiled (loaded numba for) the kernels."""
    return _done


def compiled(kernel):
    """The compiled dispatcher of ``kernel``, compiling the kernels if needed.

    For callers that always want compiled code (the networks' sweeps).
    """
    compile_kernels()
    return _compiled.get(kernel, kernel)


def ready(work):
    """Whether a kernel call on about ``work`` array elements is to run compiled.

    Compiles the kernels when this call would take the work interpreted in
    this process beyond ``INTERPRETED_BUDGET``; otherwise counts it.
    """
    global _interpreted
    if _done:
        return True
    if _interpreted + work > INTERPRETED_BUDGET:
        compile_kernels()
        return True
    _interpreted += work
    return False


def run(work, kernel, *args):
    """Call ``kernel(*args)``, compiled or interpreted as :func:`ready` decides.

    Parameters
    ----------
    work : int
        About how many array elements the call touches (rows times columns).
    kernel : callable
        A registered kernel, as a kernel module holds it now (a plain function
        before compilation, a dispatcher after; either is accepted).
    *args
        The kernel's arguments.  A kernel must not read what it writes, so that
        a call interpreted up to a ``math`` domain or overflow error can be run
        again compiled.
    """
    if ready(work):
        return _compiled.get(kernel, kernel)(*args)
    try:
        with np.errstate(all="ignore"):
            return kernel(*args)
    except (ArithmeticError, ValueError):  # math raises where compiled code gives inf/nan
        compile_kernels()
        return _compiled[kernel](*args)


def thread_count():
    """Threads a kernel's work may be split into once the kernels are compiled, else 1:
    numba's count, lowered by an OpenMP limit (``threadpoolctl``, see ``_threads.cores``)."""
    if not _done:
        return 1
    from .._threads import cores

    return cores()
