"""Fitting on dask collections: the rows stay on the workers, the client solves.

A GLM's loss, its gradient, its Fisher information ``[X 1]^T W [X 1]``, the
column moments of the standardisation and every fit statistic are sums over
rows.  So a fit on a row-chunked dask array needs, per solver iteration, the
same numba kernels the in-memory fit runs, applied to each chunk on the worker
holding it, and a tree of additions down to a few numbers of size ``p`` or
``p x p``, which the client (the solver) receives.  On a distributed cluster
each worker runs its chunks when the client asks (``Client.run``: a solver
iteration costs ~3 ms of messages instead of a task graph's ~40 ms); dask's
tasks are the fallback.  X never travels: the client holds ``O(p^2)`` numbers.

Everything here is the glue: turning dask arrays and dataframes into aligned,
persisted row chunks (``DaskData``), checking them in one pass that also
computes the column moments (``summarise``), the sums themselves
(``DaskData.map_reduce``), the problems whose sweeps are those sums
(``DaskGLMProblem``, ``DaskMultinomialProblem``: the in-memory solvers run on
them unchanged), and lazy predictions (``map_rows``).

One rule for the user: the estimators take dask input where they take numpy
input.  A fit on dask input runs on the active ``dask.distributed`` client, or
dask's default scheduler without one; the fitted model is an ordinary
in-memory estimator.
"""

import asyncio
import contextlib
import copy
import functools
import warnings
from dataclasses import replace

import numpy as np

from ._kernels._jit import run
from ._kernels.scaling import dense_column_moments
from ._loss import multinomial_gram, weighted_gram
from ._solvers._problem import GLMProblem, MultinomialProblem
from ._solvers._scaling import ColumnScaling
from ._threads import single_threaded_blas

FAN_IN = 8  # partial sums added per task of the reduction tree


def block_task(func):
    """``func`` run single-threaded on a dask worker: numba's loops and BLAS on one thread.

    On a cluster the tasks are the parallelism (a worker runs as many as it has
    threads, and a cluster has about one worker thread per core); a task that
    also started a thread per core would share its cores with the other
    tasks' threads: measured 5 s instead of 1 s for a pass over 20M x 50 on
    2 workers of 1 thread, on 2 cores.  Without a cluster the blocks run one
    after the other (``DaskData.map_reduce``), each on all of numba's threads.
    """

    @functools.wraps(func)
    def task(*args):
        if not _in_worker():
            return func(*args)
        with _one_thread():
            return func(*args)

    return task


@contextlib.contextmanager
def _one_thread():
    """numba's parallel loops (in this thread) and BLAS on one thread."""
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)  # this thread's parallel loops only
    try:
        with single_threaded_blas():
            yield
    finally:
        numba.set_num_threads(previous)


def is_dask(obj):
    """Whether ``obj`` is a dask collection (array, dataframe, series), without importing dask."""
    return obj is not None and hasattr(obj, "__dask_graph__") and hasattr(obj, "dask")


def any_dask(*objects):
    """Whether any of ``objects`` is a dask collection."""
    return any(is_dask(obj) for obj in objects)


def _modules():
    try:
        import dask
        import dask.array as da
    except ImportError as error:  # pragma: no cover - dask is in the test extra
        raise ImportError(
            "Fitting on dask collections needs dask: pip install 'skglmnn[dask]'."
        ) from error
    return dask, da


# -- input ---------------------------------------------------------------------------


def _as_dask_array(obj, name, row_chunks=None):
    """``obj`` as a dask array: dask arrays as they are, dataframes and series through
    ``to_dask_array`` (chunk lengths computed), in-memory arrays split into ``row_chunks``."""
    dask, da = _modules()
    if is_dask(obj):
        if hasattr(obj, "to_dask_array"):  # a dask DataFrame or Series
            return obj.to_dask_array(lengths=True)
        if not isinstance(obj, da.Array):
            raise TypeError(f"{name} is a {type(obj).__name__}; pass a dask array or dataframe.")
        if any(np.isnan(size) for size in obj.chunks[0]):
            obj = obj.compute_chunk_sizes()
        return obj
    array = np.asarray(obj)
    if row_chunks is None:
        return da.from_array(array)
    if array.ndim == 0 or array.shape[0] != sum(row_chunks):
        raise ValueError(
            f"{name} must have shape ({sum(row_chunks)},), one value per sample; got shape "
            f"{array.shape}."
        )
    return da.from_array(array, chunks=(row_chunks,) + array.shape[1:])


def _check_dense(X):
    """Refuse chunks that are sparse matrices: the kernels read dense row blocks."""
    meta = getattr(X, "_meta", None)
    module = type(meta).__module__.split(".")[0]
    if module in ("scipy", "sparse", "cupyx"):
        raise ValueError(
            f"X has {type(meta).__name__} chunks; dask input must have dense NumPy chunks "
            "(X.map_blocks(lambda block: block.toarray()) for scipy.sparse ones, or fit the "
            "in-memory sparse matrix)."
        )


def _float_dtype(dtype, name):
    if dtype in (np.float32, np.float64):
        return dtype
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    raise ValueError(f"{name} must be numeric; got dtype {dtype}.")


def _in_worker():
    """Whether this thread runs a task of a ``dask.distributed`` worker."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def _client():
    """The active ``dask.distributed`` client, or None."""
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


class DaskData:
    """X, y, sample_weight and offset as dask arrays with the same row chunks, persisted.

    Parameters
    ----------
    X : dask array or dataframe of shape (n_samples, n_features)
    y, sample_weight, offset : dask or in-memory array of shape (n_samples,), or None
        In-memory ones are split into X's row chunks.
    labels : bool, default=False
        ``y`` holds class labels: kept in its own dtype (``set_codes`` replaces
        it by class indices).

    Attributes
    ----------
    X, y, sample_weight, offset : dask arrays (the last two may be None)
    n_samples, n_features : int
    dtype : numpy dtype
        X's float dtype (integers become float64); y, weights and offset share it.
    """

    def __init__(self, X, y=None, sample_weight=None, offset=None, *, labels=False):
        X = _as_dask_array(X, "X")
        _check_dense(X)
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2-D array for X, got {X.ndim} dimension(s) with shape {X.shape}; "
                "reshape a single feature with X.reshape(-1, 1)."
            )
        self.dtype = _float_dtype(X.dtype, "X")
        X = X.astype(self.dtype) if X.dtype != self.dtype else X
        if len(X.chunks[1]) > 1:  # a chunk is a block of whole rows
            X = X.rechunk({1: -1})
        self.n_samples, self.n_features = (int(s) for s in X.shape)
        if self.n_samples == 0 or self.n_features == 0:
            raise ValueError(f"X has shape {X.shape}: at least one sample and one feature needed.")
        self.X = X
        self.y = None if y is None else self._column(y, "y", labels)
        self.sample_weight = self._column(sample_weight, "sample_weight")
        self.offset = self._column(offset, "offset")
        self._plan = None  # (identity of the arrays, _LocalSums or None)

    def _column(self, obj, name, labels=False):
        if obj is None:
            return None
        chunks = self.X.chunks[0]
        column = _as_dask_array(obj, name, chunks)
        if column.ndim == 2 and column.shape[1] == 1:
            column = column[:, 0]
        if column.ndim != 1 or column.shape[0] != self.n_samples:
            raise ValueError(
                f"{name} must have shape ({self.n_samples},), one value per sample; got shape "
                f"{column.shape}."
            )
        if not labels:
            column = column.astype(_float_dtype(column.dtype, name)).astype(self.dtype)
        return column.rechunk((chunks,)) if column.chunks[0] != chunks else column

    def persist(self):
        """Keep the chunks in the workers' memory for the iterations to come (in place)."""
        dask, _ = _modules()
        names = ("X", "y", "sample_weight", "offset")
        present = [name for name in names if getattr(self, name) is not None]
        arrays = dask.persist(*(getattr(self, name) for name in present))
        for name, array in zip(present, arrays, strict=True):
            setattr(self, name, array)
        return self

    def with_design(self, X):
        """These rows with another design (a network's features): a shallow copy."""
        other = copy.copy(self)
        other.X, other.n_features, other.dtype = X, int(X.shape[1]), X.dtype
        return other

    def set_codes(self, classes):
        """Replace labels ``y`` by their index in ``classes``, in X's dtype (lazy)."""
        self.y = self.y.map_blocks(_codes, classes, self.dtype, dtype=self.dtype)

    def _holders(self):
        """The workers holding each chunk of X (None each without a distributed client)."""
        client = _client()
        if client is None:
            return [None] * len(self.X.chunks[0])
        keys = [row[0] for row in self.X.__dask_keys__()]
        # asked by collection: a list of tuple keys is not understood as keys (answers {})
        where = client.who_has(self.X)
        return [list(where.get(key, ())) or None for key in keys]

    def weigh_classes(self, per_class):
        """Multiply the sample weights by the weight of each sample's class (y: codes; lazy)."""
        factor = self.y.map_blocks(_class_factor, np.asarray(per_class, dtype=self.dtype),
                                   dtype=self.dtype)  # fmt: skip
        self.sample_weight = factor if self.sample_weight is None else self.sample_weight * factor

    def blocks(self):
        """One ``(X, y, sample_weight, offset)`` tuple of delayed chunks per block of rows."""
        # the arrays are persisted: their graphs are the chunks themselves (and optimising
        # them loses the reference to the chunks with distributed 2025.1)
        columns = [self.X.to_delayed(optimize_graph=False)[:, 0]]
        for array in (self.y, self.sample_weight, self.offset):
            columns.append([None] * len(columns[0]) if array is None
                           else array.to_delayed(optimize_graph=False))  # fmt: skip
        return list(zip(*columns, strict=True))

    def map_reduce(self, func, *args, combine=None):
        """``func(X, y, w, offset, *args)`` on every block, added up (or ``combine``d).

        ``func`` returns a tuple; entries are added elementwise (None stays None).
        On a distributed client each worker adds up the blocks it holds
        (``_LocalSums``); where that cannot run, or fails, one task per block and a
        tree of additions, on the active client or dask's default scheduler.
        """
        combine = _add if combine is None else combine
        client = _client()
        if client is not None and not _in_worker():
            identity = self._identity()
            if self._plan is None or self._plan[0] != identity:
                self._plan = (identity, _LocalSums.build(self, client))
            plan = self._plan[1]
            if plan is not None:
                result = plan.run(client, func, args, combine)
                if result is None:
                    self._plan = (identity, None)  # a worker was lost: tasks from now on
                elif result is not _TOO_BIG:
                    return _owned(result)
        return _owned(self._task_reduce(func, args, combine))

    def _identity(self):
        return tuple(None if array is None else array.name
                     for array in (self.X, self.y, self.sample_weight, self.offset))  # fmt: skip

    def _task_reduce(self, func, args, combine):
        """The sum as a dask graph: one task per block, then additions, FAN_IN at a time."""
        dask, _ = _modules()
        from dask import delayed

        holders = self._holders()
        parts = []
        for block, holder in zip(self.blocks(), holders, strict=True):
            # run where the chunk of X lives: the scheduler's work stealing otherwise moves
            # whole chunks between workers
            where = {} if holder is None else {"workers": holder, "allow_other_workers": True}
            with dask.annotate(**where):
                parts.append(delayed(func, pure=True)(*block, *args))
        parts = _tree(parts, lambda group: delayed(_fold, pure=True)(combine, *group))
        # Without a cluster (and no scheduler configured) the blocks run one after the
        # other in this process, each on all of numba's threads: dask's thread pool would
        # start a kernel per core at once, each wanting every core.
        scheduler = None
        if _client() is None and dask.config.get("scheduler", None) is None:
            scheduler = "synchronous"
        try:
            return dask.compute(parts[0], scheduler=scheduler)[0]
        except Exception as error:
            if type(error).__name__ != "KilledWorker":
                raise
            chunk = max(self.X.chunks[0]) * self.n_features * self.dtype.itemsize
            raise RuntimeError(
                "A dask worker died while computing a block of rows, on every worker the "
                "scheduler tried (distributed's 'allowed-failures'): most often it ran out of "
                f"memory. A task holds one chunk of X ({chunk / 2**20:.0f} MB here) and its "
                "temporaries; make the row chunks smaller "
                "(X.rechunk({0: rows})) or give the workers more memory. Dask's message: "
                f"{error}"
            ) from error


CLIENT_BUDGET = 256 * 2**20  # bytes of partial sums the client receives in one pass


class _LocalSums:
    """Sums over blocks computed by each worker from the chunks it holds, outside the graph.

    A pass of tasks costs a fixed ~40 ms on a loaded two-core machine (graph
    submission, the scheduler's bookkeeping, a transfer for the tree of
    additions, the gather), as much as the arithmetic on two chunks of
    500k x 50; ``Client.run`` reaches the workers in ~2 ms.  So, for the
    iterations of a fit, each worker runs ``func`` on the chunks of X in its
    memory (beside their y, weights and offset, placed once on the same worker
    as ``_companions`` tasks), on as many threads as it has.  The additions
    follow the task path's tree exactly (chunks in groups of ``FAN_IN``, each
    group added left to right, then the groups' sums the same way): a worker
    holding a whole group adds it up, the other chunks' results go to the
    client, which completes the tree.  The sum therefore does not depend on
    where the chunks are and equals the task path's, up to rounding: BLAS and
    numba's vectorised loops round differently on arrays at different addresses
    (measured: 2e-16 relative), and a transfer places an array anywhere.

    A worker lost or a chunk gone ends the plan (the caller falls back to tasks,
    which dask recomputes from the graph); a ``func`` whose results would give
    the client more than ``CLIENT_BUDGET`` bytes in one pass runs as tasks, whose
    tree adds up on the workers.

    Attributes
    ----------
    assignments : dict
        Worker address -> list of ``(chunk index, X chunk key, companions key or
        None)``, in chunk order.
    n_chunks : int
    futures : list
        The companion columns, kept in the workers' memory while the plan lives.
    too_big : set
        Functions whose results exceeded the budget once.
    """

    def __init__(self, assignments, n_chunks, futures):
        self.assignments, self.n_chunks, self.futures = assignments, n_chunks, futures
        self.too_big = set()

    @classmethod
    def build(cls, data, client):
        """The plan for ``data`` on ``client``, or None when a chunk of X is not in memory."""
        from distributed import futures_of, wait

        wait(futures_of(data.X))  # persisted chunks still being computed
        holders = data._holders()
        if any(holder is None for holder in holders):
            return None  # X not persisted: tasks compute it
        workers = [holder[0] for holder in holders]
        dask, _ = _modules()
        from dask import delayed

        pending, slots = [], []
        for (_, *columns), worker in zip(data.blocks(), workers, strict=True):
            if all(column is None for column in columns):
                slots.append(None)
                continue
            with dask.annotate(workers=[worker], allow_other_workers=False):
                pending.append(delayed(_companions, pure=False)(*columns))
            slots.append(len(pending) - 1)
        futures = client.compute(pending, optimize_graph=False) if pending else []
        wait(futures)
        if any(future.status != "finished" for future in futures):
            return None
        placed = client.who_has(futures) if futures else {}
        x_keys = [row[0] for row in data.X.__dask_keys__()]
        assignments = {}
        for index, (x_key, worker, slot) in enumerate(zip(x_keys, workers, slots, strict=True)):
            key = None if slot is None else futures[slot].key
            if key is not None and worker not in placed.get(key, ()):
                return None
            assignments.setdefault(worker, []).append((index, x_key, key))
        return cls(assignments, len(x_keys), futures)

    def run(self, client, func, args, combine):
        """The sum over all blocks; None when a worker or a chunk is missing, ``_TOO_BIG``
        when the results would exceed the client's budget."""
        if func in self.too_big:
            return _TOO_BIG
        share = CLIENT_BUDGET // len(self.assignments)
        try:
            results = client.run(_local_sums, self.assignments, self.n_chunks, func, args,
                                 combine, share, workers=list(self.assignments))  # fmt: skip
        except Exception:  # a worker gone (or func failing: the tasks will say how)
            return None
        parts = {}
        for result in results.values():
            if result is None:
                return None
            if isinstance(result, str):  # _TOO_BIG
                self.too_big.add(func)
                return _TOO_BIG
            parts.update(result)
        sums = []
        for group in range(0, self.n_chunks, FAN_IN):
            members = range(group, min(group + FAN_IN, self.n_chunks))
            whole = parts.get(("group", group))
            sums.append(_fold(combine, *(parts[("chunk", i)] for i in members))
                        if whole is None else whole)  # fmt: skip
        return _tree(sums, lambda group: _fold(combine, *group))[0]


_TOO_BIG = "too big"


def _tree(parts, add):
    """``parts`` added ``FAN_IN`` at a time, level by level, by ``add(list of parts)``
    (eager or delayed): the one order of addition of both paths.  Returns a list of one."""
    while len(parts) > 1:
        parts = [add(parts[i : i + FAN_IN]) for i in range(0, len(parts), FAN_IN)]
    return parts


def _companions(y, w, offset):
    return y, w, offset


async def _local_sums(assignments, n_chunks, func, args, combine, budget, dask_worker=None):
    """On a worker: ``func`` on each block it holds; a group of ``FAN_IN`` chunks held here
    entirely is added up here.  Returns ``{("group", first chunk): sum, ("chunk", index):
    result}``, None when a chunk is not here, ``_TOO_BIG`` beyond ``budget`` bytes.  The
    arithmetic runs in the worker's thread pool, never in its event loop."""
    from dask.sizeof import sizeof

    mine = assignments.get(dask_worker.address, ())
    try:
        blocks = {index: (dask_worker.data[x_key],)
                  + ((None, None, None) if key is None else tuple(dask_worker.data[key]))
                  for index, x_key, key in mine}  # fmt: skip
    except KeyError:
        return None
    jobs = []  # (key, blocks to add up in order)
    for group in sorted({index - index % FAN_IN for index in blocks}):
        members = range(group, min(group + FAN_IN, n_chunks))
        if n_chunks > 1 and all(index in blocks for index in members):
            jobs.append((("group", group), [blocks[index] for index in members]))
        else:
            jobs.extend((("chunk", i), [blocks[i]]) for i in members if i in blocks)
    nthreads = getattr(dask_worker, "state", dask_worker).nthreads
    n_threads = max(1, min(int(nthreads), len(jobs)))
    bounds = np.linspace(0, len(jobs), n_threads + 1).round().astype(int)
    loop = asyncio.get_running_loop()
    executor = dask_worker.executors["default"]
    try:
        done = await asyncio.gather(*(
            loop.run_in_executor(executor, _add_up, jobs[a:b], func, args, combine)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ))  # fmt: skip
    except Exception:  # noqa: BLE001 - the tasks the client falls back to will raise it
        return None
    parts = dict(pair for run in done for pair in run)
    return _TOO_BIG if sizeof(list(parts.values())) > budget else parts


def _add_up(jobs, func, args, combine):
    with _one_thread():
        return [(key, _fold(combine, *(func(*block, *args) for block in blocks)))
                for key, blocks in jobs]  # fmt: skip


def _owned(result):
    """``result`` with its arrays aligned and writable: arrays received from a worker can
    be views of a message buffer at any offset, which Fortran code (scipy's L-BFGS-B in
    scipy 1.11) refuses."""
    if isinstance(result, np.ndarray):
        return np.require(result, requirements=("C", "A", "W"))
    if isinstance(result, tuple):
        return tuple(_owned(entry) for entry in result)
    return result


def _codes(labels, classes, dtype):
    return np.searchsorted(classes, labels).astype(dtype)


def _class_factor(codes, per_class):
    return per_class[codes.astype(np.intp)]


def _add(a, b):
    return tuple(None if x is None else x + y for x, y in zip(a, b, strict=True))


def _fold(combine, *parts):
    total = parts[0]
    for part in parts[1:]:
        total = combine(total, part)
    return total


# -- the first pass: checks, moments, targets ----------------------------------------


class Moments:
    """Weighted count, means and centred sums of squares of columns, mergeable.

    Two blocks combine exactly (Chan, Golub and LeVeque's update), so the
    variance of a column far from zero (a calendar year) keeps its digits.
    """

    def __init__(self, weight, mean, squares):
        self.weight, self.mean, self.squares = weight, mean, squares

    @classmethod
    def of(cls, X, w):
        """The moments of the columns of dense ``X`` with weights ``w`` (None: ones)."""
        w = np.empty(0) if w is None else np.asarray(w, dtype=np.float64)
        if X.shape[0] == 0:
            return cls(0.0, np.zeros(X.shape[1]), np.zeros(X.shape[1]))
        x0 = np.asarray(X[0], dtype=np.float64)  # one thread: the worker's
        weight, first, second = run(X.size, dense_column_moments, X, w, x0)
        if weight <= 0:
            return cls(0.0, np.zeros(X.shape[1]), np.zeros(X.shape[1]))
        return cls(weight, x0 + first / weight, np.maximum(second - first**2 / weight, 0.0))

    def __add__(self, other):
        total = self.weight + other.weight
        if total <= 0:
            return self
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.weight / total)
        squares = self.squares + other.squares + delta**2 * (self.weight * other.weight / total)
        return Moments(total, mean, squares)

    def scaling(self, centre, ridge=0.0):
        """The solvers' standardisation of these columns (``ColumnScaling.of``)."""
        variance = self.squares / self.weight
        if centre:
            return ColumnScaling._centred(self.mean, variance, ridge)
        return ColumnScaling._from_spread(variance + self.mean**2, None, ridge)


class LabelCounts:
    """Distinct labels and their weighted counts, mergeable."""

    def __init__(self, labels, counts):
        self.labels, self.counts = labels, counts

    def __add__(self, other):
        labels, inverse = np.unique(np.concatenate([self.labels, other.labels]),
                                    return_inverse=True)  # fmt: skip
        counts = np.bincount(inverse.ravel(), np.concatenate([self.counts, other.counts]),
                             minlength=labels.size)  # fmt: skip
        return LabelCounts(labels, counts)


class Example:
    """The count of values failing a check, and one of them, mergeable."""

    def __init__(self, count=0, value=None):
        self.count, self.value = count, value

    @classmethod
    def of(cls, values, bad):
        count = int(np.count_nonzero(bad))
        return cls(count, values[bad].flat[0] if count else None)

    def __add__(self, other):
        return Example(self.count + other.count,
                       self.value if self.value is not None else other.value)  # fmt: skip


@block_task
def _block_summary(X, y, w, offset, y_interval, labels):
    """Checks and sums of one block: (bad X, bad y, outside y, bad weights, bad offset,
    moments, weight sum, nonzero weights, sum w y, sum w offset, labels)."""
    X = np.ascontiguousarray(X)
    ones = w is None
    weights = np.ones(X.shape[0]) if ones else np.asarray(w, dtype=np.float64)
    bad_w = Example(0) if ones else Example.of(weights, ~(np.isfinite(weights) & (weights >= 0)))
    bad_o = Example(0) if offset is None else Example.of(offset, ~np.isfinite(offset))
    wo = 0.0 if offset is None else float(np.dot(weights, offset))
    if labels:
        found, inverse = np.unique(y, return_inverse=True)
        counts = LabelCounts(found, np.bincount(inverse.ravel(), weights, minlength=found.size))
        bad_y, outside, wy = Example(0), Example(0), 0.0
    else:
        values = np.asarray(y, dtype=np.float64)
        bad_y = Example.of(values, ~np.isfinite(values))
        inside = y_interval.contains(values) if y_interval is not None else True
        outside = Example.of(values, ~np.asarray(inside) & np.isfinite(values))
        counts, wy = None, float(np.dot(weights, values))
    moments = Moments.of(X, None if ones else weights)
    bad_x = Example(0)  # NaN or inf in X make the moments so: only then are they counted
    if not (np.all(np.isfinite(moments.mean)) and np.all(np.isfinite(moments.squares))):
        bad_x = Example.of(X, ~np.isfinite(X))
    return (bad_x, bad_y, outside, bad_w, bad_o, moments, float(weights.sum()),
            int(np.count_nonzero(weights)), wy, wo, counts)  # fmt: skip


class Summary:
    """What the first pass over the data found (``summarise``).

    Attributes
    ----------
    moments : Moments
    weight_sum : float
    nonzero_weights : int
    y_mean, offset_mean : float
        Weighted means (0 without offset).
    labels : LabelCounts or None
    """

    def __init__(self, parts):
        (_, _, _, _, _, self.moments, self.weight_sum, self.nonzero_weights, wy, wo,
         self.labels) = parts  # fmt: skip
        total = self.weight_sum if self.weight_sum > 0 else 1.0
        self.y_mean, self.offset_mean = wy / total, wo / total


def summarise(data, family=None, labels=False):
    """Check every block of ``data`` and compute what the fit needs before it starts.

    Raises the same errors as the in-memory checks: NaN or inf in X, y, weights
    or offset; y outside the family's domain; negative weights; weights summing
    to zero.

    Parameters
    ----------
    data : DaskData
    family : Family, optional
        Its ``y_interval`` is checked (regressors).
    labels : bool, default=False
        y holds class labels: count them instead.

    Returns
    -------
    summary : Summary
    """
    interval = None if family is None else family.y_interval
    parts = data.map_reduce(_block_summary, interval, labels, combine=_add)
    bad_x, bad_y, outside, bad_w, bad_o = parts[:5]
    for name, bad in (("X", bad_x), ("y", bad_y), ("offset", bad_o)):
        if bad.count:
            raise ValueError(
                f"Input {name} contains NaN or infinity: {bad.count} value(s) (for example "
                f"{bad.value!r}); remove or impute them before fitting."
            )
    if bad_w.count:
        raise ValueError(
            f"sample_weight must be finite and non-negative; {bad_w.count} value(s) are not "
            f"(for example {bad_w.value!r})."
        )
    if outside.count:
        raise ValueError(
            f"The {family!r} family needs y in {family.y_interval}; {outside.count} of "
            f"{data.n_samples} values fall outside (for example {outside.value:g})."
        )
    summary = Summary(parts)
    if not summary.weight_sum > 0:
        raise ValueError("The sample weights sum to zero; at least one must be positive.")
    return summary


# -- problems whose sweeps run on the workers ----------------------------------------


@block_task
def _glm_block(X, y, w, offset, loss, coef, intercept, shift, curvature):
    X = np.ascontiguousarray(X)
    value, grad, hess = loss.loss_gradient(X, y, coef, intercept, w, offset, curvature, shift)
    return value, grad, (weighted_gram(X, hess, shift) if curvature else None)


@block_task
def _start_block(X, y, w, offset, family, link, shift, y_mean):
    bad, rhs, fisher = GLMProblem.start_terms(np.ascontiguousarray(X), y, w, offset, family,
                                              link, shift, y_mean)  # fmt: skip
    if bad:
        return 1, None, None
    return 0, rhs, weighted_gram(np.ascontiguousarray(X), fisher.astype(X.dtype), shift)


class _Distributed:
    """What a problem on ``DaskData`` changes: sums over blocks instead of sweeps."""

    distributed = True
    uses_fused_sweep = False  # the client's BLAS only sees (p + 1)^2 matrices

    def _distributed_setup(self, data, summary):
        self.data, self.summary = data, summary

    def _total_weight(self, sample_weight):
        return float(self.summary.weight_sum)

    def _column_scaling(self, X, sample_weight, centre):
        return self.summary.moments.scaling(centre, ridge=self.alpha)

    def _raw_hessian(self, state):
        return np.array(state, dtype=np.float64)  # summed on the workers with the gradient


class DaskGLMProblem(_Distributed, GLMProblem):
    """:class:`~skglmnn._solvers.GLMProblem` on dask data (one linear predictor).

    The curvature state is the summed ``[X - c, 1]^T W [X - c, 1]`` itself,
    formed in the same pass as the loss and gradient.

    Parameters
    ----------
    loss : GLMLoss
    data : DaskData
    summary : Summary
    alpha, fit_intercept, l1, intercept_penalty
        As for ``GLMProblem``.
    """

    def __init__(self, loss, data, summary, alpha, fit_intercept, *, l1=0.0,
                 intercept_penalty=(0.0, 0.0)):  # fmt: skip
        self._distributed_setup(data, summary)
        self.loss = loss
        self.y, self.offset = data.y, data.offset
        self._setup(data.X, data.sample_weight, alpha, l1, fit_intercept, intercept_penalty, True)

    def _loss_gradient(self, coef, intercept, curvature):
        loss, grad, gram = self.data.map_reduce(
            _glm_block, self.loss, np.ascontiguousarray(coef[0]), float(intercept[0]),
            self.scaling.shift, curvature,
        )  # fmt: skip
        return loss, grad[None, :], gram

    def _means(self):
        return self.summary.y_mean, self.summary.offset_mean

    def _start_system(self):
        family, link = self.loss.family, self.loss.link
        bad, rhs, gram = self.data.map_reduce(_start_block, family, link, self.scaling.shift,
                                              self.summary.y_mean)  # fmt: skip
        return (None, None) if bad else (rhs, gram)

    def linear_predictor(self, theta):
        """``eta`` at ``theta`` as a lazy dask array (offset included)."""
        coef, intercept = self.to_original(theta)
        return _linear_predictor(self.data, coef[0], float(intercept[0]))


@block_task
def _multinomial_block(X, y, w, offset, loss, coef, intercept, raw_intercept, shift, curvature):
    X = np.ascontiguousarray(X)
    value, grad = loss.loss_gradient(X, y, coef, raw_intercept, w)
    gram = multinomial_gram(X, coef, intercept, w, shift) if curvature else None
    return value, grad, gram


class DaskMultinomialProblem(_Distributed, MultinomialProblem):
    """:class:`~skglmnn._solvers.MultinomialProblem` on dask data (y: class codes)."""

    def __init__(self, data, summary, alpha, fit_intercept, n_classes, *, l1=0.0):
        self._distributed_setup(data, summary)
        MultinomialProblem.__init__(self, data.X, data.y, data.sample_weight, alpha,
                                    fit_intercept, n_classes, l1=l1)  # fmt: skip

    def _loss_gradient(self, coef, intercept, curvature):
        shift = self.scaling.shift
        raw_intercept = intercept if shift is None else intercept - coef @ shift
        loss, grad, gram = self.data.map_reduce(
            _multinomial_block, self.loss, np.ascontiguousarray(coef), intercept, raw_intercept,
            shift, curvature,
        )  # fmt: skip
        if shift is not None:
            grad[:, :-1] -= np.outer(grad[:, -1], shift)
        return loss, grad, gram

    def _class_counts(self):
        return self.summary.class_counts


def make_dask_problem(data, summary, *, family=None, link=None, n_classes=None, alpha=0.0,
                      l1=0.0, fit_intercept=True, intercept_penalty=(0.0, 0.0)):  # fmt: skip
    """The distributed problem for a GLM or a K-class multinomial model (``make_problem``)."""
    from ._loss import GLMLoss

    if n_classes is not None and n_classes > 2:
        return DaskMultinomialProblem(data, summary, alpha, fit_intercept, n_classes, l1=l1)
    return DaskGLMProblem(GLMLoss(family, link), data, summary, alpha, fit_intercept, l1=l1,
                          intercept_penalty=intercept_penalty)  # fmt: skip


# -- separation, checked block by block ----------------------------------------------


@block_task
def _separation_block(X, y, w, offset, coef, intercept):
    eta = np.asarray(X, dtype=np.float64) @ coef + intercept
    if offset is not None:
        eta = eta + offset
    keep = np.ones(len(y), dtype=bool) if w is None else np.asarray(w) > 0
    y, eta = np.asarray(y, dtype=np.float64)[keep], eta[keep]
    fractional = int(np.count_nonzero((y > 0) & (y < 1)))
    top0 = eta[y == 0].max(initial=-np.inf)
    bottom1 = eta[y == 1].min(initial=np.inf)
    return fractional, top0, bottom1, int((y == 0).any()), int((y == 1).any())


def _separation_combine(a, b):
    return a[0] + b[0], max(a[1], b[1]), min(a[2], b[2]), a[3] | b[3], a[4] | b[4]


def separation(problem, theta):
    """Whether a threshold on the fitted linear predictor splits the 0s from the 1s of a
    binary problem on dask data (the test of ``BinomialFamily.separated``, block by block)."""
    coef, intercept = problem.to_original(theta)
    fractional, top0, bottom1, zeros, ones = problem.data.map_reduce(
        _separation_block, coef[0], float(intercept[0]), combine=_separation_combine)
    return not fractional and bool(zeros and ones) and top0 < bottom1


# -- predictions ---------------------------------------------------------------------


def _linear_predictor(data, coef, intercept):
    eta = data.X @ np.asarray(coef, dtype=data.dtype) + data.dtype.type(intercept)
    return eta if data.offset is None else eta + data.offset


def check_features(estimator, X, reset):
    """Set (``reset``) or check ``n_features_in_`` and ``feature_names_in_`` from a dask
    array or dataframe, as ``validate_data`` does for in-memory input."""
    from sklearn.utils.validation import _check_feature_names, _check_n_features

    if hasattr(X, "columns"):  # a dask DataFrame: its empty pandas template has the names
        template = X._meta
    else:
        if getattr(X, "ndim", 2) != 2:
            raise ValueError(f"Expected a 2-D array for X, got shape {X.shape}.")
        template = np.empty((0, X.shape[1]))
    _check_feature_names(estimator, template, reset=reset)
    _check_n_features(estimator, template, reset=reset)


def _apply_rows(X, offset, method, estimator):
    with warnings.catch_warnings():  # names were checked once on the client
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return getattr(estimator, method)(X, **({} if offset is None else {"offset": offset}))


def map_rows(estimator, method, X, offset=None, columns=None, dtype=None, checked=False):
    """``estimator.<method>(X_chunk, offset=offset_chunk)`` on every row chunk: a lazy array.

    Parameters
    ----------
    estimator : fitted estimator
    method : str
        ``"predict"``, ``"predict_proba"``, ``"transform"``...
    X : dask array or dataframe
    offset : dask or in-memory array, optional
    columns : int or None
        Columns of the result (None: a 1-D result per row).
    dtype : numpy dtype, optional
        The result's dtype (default: X's float dtype).
    checked : bool, default=False
        X's features were checked already (it is the fit's own dask array).

    Returns
    -------
    result : dask array
    """
    _, da = _modules()
    if not checked:
        check_features(estimator, X, reset=False)
    X = _as_dask_array(X, "X")
    _check_dense(X)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    dtype = dtype or _float_dtype(X.dtype, "X")
    chunks = (X.chunks[0],) if columns is None else (X.chunks[0], (columns,))
    drop = [1] if columns is None else []
    if offset is None:
        return X.map_blocks(_apply_rows, None, method, estimator, chunks=chunks, drop_axis=drop,
                            dtype=dtype)  # fmt: skip
    offset = _as_dask_array(offset, "offset", X.chunks[0])
    if offset.ndim != 1 or offset.shape[0] != X.shape[0]:
        raise ValueError(
            f"offset must have shape ({X.shape[0]},), one value per sample; got shape "
            f"{offset.shape}."
        )
    offset = offset.rechunk((X.chunks[0],))[:, None]
    return da.map_blocks(_apply_offset_rows, X, offset, method, estimator, chunks=chunks,
                         drop_axis=drop, dtype=dtype)  # fmt: skip


def _apply_offset_rows(X, offset, method, estimator):
    return _apply_rows(X, offset[:, 0], method, estimator)


def output_template(out):
    """``out`` without its row data (design, y, weights, offset): what a block's task gets."""
    return replace(out, design=None, y=None, weights=None, offset=None)


def map_outputs(data, template, func, *args, combine=None):
    """``func(out_block, *args)`` over the row blocks of an :class:`OutputGLM` on dask data.

    ``template`` is the output GLM without its rows (``output_template``);
    each block's task fills in its chunk of the design, y, weights and offset.
    """
    return data.map_reduce(_output_block, template, func, *args, combine=combine)


@block_task
def _output_block(X, y, w, offset, template, func, *args):
    out = replace(template, design=np.ascontiguousarray(X), y=np.asarray(y, dtype=np.float64),
                  weights=None if w is None else np.asarray(w, dtype=np.float64),
                  offset=None if offset is None else np.asarray(offset, dtype=np.float64))
    return func(out, *args)


def _score_block(y, mu, w, family):
    y = np.asarray(y, dtype=np.float64)
    family.check_y(y)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=np.float64)
    return np.array([[float(w @ family.unit_deviance(y, mu)), float(w.sum()), float(w @ y)]])


def _null_block(y, w, family, parts):
    y = np.asarray(y, dtype=np.float64)
    ybar = parts[2] / parts[1]
    return np.array([family.deviance(y, np.full_like(y, ybar), w)])


def deviance_score(estimator, X, y, sample_weight=None, offset=None):
    """D^2 of a fitted GLM on dask data, lazily: a 0-d dask array (``GLMRegressor.score``)."""
    _, da = _modules()
    mu = map_rows(estimator, "predict", X, offset)
    rows = (mu.chunks[0],)
    y = _as_dask_array(y, "y", rows[0])
    if y.ndim != 1 or y.shape[0] != mu.shape[0]:
        raise ValueError(f"y has shape {y.shape}, but X has {mu.shape[0]} samples.")
    y = y.rechunk(rows)
    w = None if sample_weight is None else _as_dask_array(sample_weight, "sample_weight",
                                                           rows[0]).rechunk(rows)  # fmt: skip
    family = estimator.family_
    parts = da.map_blocks(_score_block, y, mu, w, family, new_axis=1, chunks=((1,) * len(rows[0]),
                          (3,)), dtype=np.float64).sum(axis=0)  # fmt: skip
    null = da.map_blocks(_null_block, y, w, family, parts, chunks=((1,) * len(rows[0]),),
                         dtype=np.float64).sum()  # fmt: skip
    return 1.0 - parts[0] / null


def _hits_block(y, predicted, w):
    hits = np.asarray(y) == np.asarray(predicted)
    w = np.ones(hits.shape) if w is None else np.asarray(w, dtype=np.float64)
    return np.array([[float(w @ hits), float(w.sum())]])


def accuracy(estimator, X, y, sample_weight=None, offset=None):
    """The (weighted) share of correct predictions on dask data, lazily: a 0-d dask array."""
    _, da = _modules()
    predicted = map_rows(estimator, "predict", X, offset, dtype=estimator.classes_.dtype)
    rows = predicted.chunks[0]
    y = _as_dask_array(y, "y", rows)
    if y.ndim != 1 or y.shape[0] != predicted.shape[0]:
        raise ValueError(f"y has shape {y.shape}, but X has {predicted.shape[0]} samples.")
    w = None if sample_weight is None else _as_dask_array(sample_weight, "sample_weight",
                                                           rows).rechunk((rows,))  # fmt: skip
    chunks = ((1,) * len(rows), (2,))
    parts = da.map_blocks(_hits_block, y.rechunk((rows,)), predicted, w, new_axis=1,
                          chunks=chunks, dtype=np.float64).sum(axis=0)  # fmt: skip
    return parts[0] / parts[1]


# -- networks: full-batch sums on the workers, mini-batches streamed block by block --


@block_task
def _network_block(X, y, w, offset, stack, theta, shift, inv_scale, scale, mean_w):
    from ._kernels import network as K
    from ._kernels._jit import compiled
    from ._layers import CHUNK_ROWS, row_source

    y, w, offset = _network_columns(y, w, offset, X.shape[0], mean_w, stack.n_outputs)
    grad = np.empty_like(theta)
    value = compiled(K.loss_gradient)(
        *row_source(X), y, w, offset, np.arange(X.shape[0], dtype=np.int64), CHUNK_ROWS,
        shift, inv_scale, theta, stack.layout, stack.act, stack.output, stack.opower, scale,
        grad, stack.buffers(CHUNK_ROWS, theta.dtype),
    )  # fmt: skip
    return value, grad


def _network_columns(y, w, offset, n, mean_w, n_outputs):
    """A block's targets, normalised weights and (n, m) offset as the network kernels read them."""
    y = np.asarray(y, dtype=np.float64)
    w = np.ones(n) / mean_w if w is None else np.asarray(w, dtype=np.float64) / mean_w
    offset = (np.empty((0, n_outputs)) if offset is None
              else np.asarray(offset, dtype=np.float64).reshape(-1, 1))  # fmt: skip
    return y, w, offset


class DaskNetworkData:
    """The training rows of a network on dask data (``NetworkData``'s role).

    Full-batch L-BFGS sums each block's loss and gradient on the workers
    (``problem``); Adam and SGD stream the blocks to the client one at a time,
    in a new random order every epoch, and run the in-memory epoch kernel on
    each (rows shuffled within the block), the next block fetched while the
    current one trains (``run_epoch``).

    Parameters
    ----------
    rows : DaskData
    summary : Summary
    scaling : ColumnScaling
        The first layer's standardisation.
    """

    def __init__(self, rows, summary, scaling):
        self.data, self.summary = rows, summary
        shift = np.zeros_like(scaling.scale) if scaling.shift is None else scaling.shift
        self.shift = np.ascontiguousarray(shift, dtype=np.float64)
        self.inv_scale = 1.0 / scaling.scale
        self.n_train = self.n_samples = rows.n_samples
        self.mean_w = summary.weight_sum / rows.n_samples  # weights normalised to mean 1

    def value_gradient(self, stack, theta):
        """The loss (mean over rows) and its gradient, summed over blocks on the workers."""
        return self.data.map_reduce(_network_block, stack, theta, self.shift, self.inv_scale,
                                    1.0 / self.n_samples, self.mean_w)  # fmt: skip

    def run_epoch(self, stack, theta, optimizer, batch_size, rng, decay, kernel, extra):
        """One epoch of mini-batch updates over every block; the summed loss of its batches."""
        from concurrent.futures import ThreadPoolExecutor

        import dask

        from ._kernels._jit import compiled
        from ._layers import row_source

        blocks = self.data.blocks()
        order = [blocks[k] for k in rng.permutation(len(blocks))]
        total = 0.0
        with ThreadPoolExecutor(1) as fetcher:  # the next block travels while this one trains
            coming = fetcher.submit(dask.compute, *order[0])
            for k in range(len(order)):
                X, y, w, offset = coming.result()
                if k + 1 < len(order):
                    coming = fetcher.submit(dask.compute, *order[k + 1])
                X = np.ascontiguousarray(X)
                y, w, offset = _network_columns(y, w, offset, X.shape[0], self.mean_w,
                                                stack.n_outputs)  # fmt: skip
                rows = rng.permutation(X.shape[0]).astype(np.int64)
                total += compiled(kernel)(
                    *row_source(X), y, w, offset, rows, batch_size, self.shift, self.inv_scale,
                    theta, stack.layout, stack.act, stack.output, stack.opower, decay,
                    optimizer.hyper, optimizer.state, *extra,
                )  # fmt: skip
        return total


def prepare_labels(estimator, X, y, sample_weight, offset, reset, check_link):
    """``(rows, summary, link)`` for a classifier on dask input.

    Checks and persists the rows, finds the classes (sets ``classes_`` if
    ``reset``, else checks the labels against them), replaces y by class codes
    and folds ``estimator.class_weight`` into the sample weights, on the
    workers.  ``check_link(n_classes)`` returns the link or raises.
    ``summary.class_counts`` holds the weighted count of each class, and for two
    classes ``summary.y_mean`` the weighted share of ``classes_[1]``.
    """
    from sklearn.utils.class_weight import compute_class_weight
    from sklearn.utils.multiclass import check_classification_targets

    rows = DaskData(X, y, sample_weight, offset, labels=True)
    check_features(estimator, X, reset=reset)
    summary = summarise(rows.persist(), labels=True)
    labels = summary.labels
    check_classification_targets(labels.labels)
    if reset:
        estimator.classes_ = labels.labels
    elif not np.all(np.isin(labels.labels, estimator.classes_)):
        raise ValueError(
            f"y has labels {labels.labels[~np.isin(labels.labels, estimator.classes_)]!r} "
            f"that were not seen in fit (classes_ = {estimator.classes_!r})."
        )
    classes = estimator.classes_
    if len(classes) < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but the data "
            f"contains only one class: {classes[0]!r}"
        )
    link = check_link(len(classes))
    if offset is not None and len(classes) > 2:
        raise ValueError("offset is supported for binary problems only.")
    rows.set_codes(classes)
    counts = np.zeros(len(classes))  # in the order of classes_
    counts[np.searchsorted(classes, labels.labels)] = labels.counts
    class_weight = getattr(estimator, "class_weight", None)
    if class_weight is not None:
        per_class = compute_class_weight(class_weight, classes=classes, y=classes,
                                         sample_weight=counts)  # fmt: skip
        rows.weigh_classes(per_class)
        counts = counts * per_class
    if np.count_nonzero(counts > 0) < 2:
        raise ValueError(
            "The sample weights leave only one class with positive weight "
            f"({classes[np.argmax(counts)]!r}); a classifier needs at least 2 classes."
        )
    rows.persist()
    if class_weight is not None:  # the column moments under the combined weights
        summary = summarise(rows, labels=True)
    summary.class_counts = counts
    if len(classes) == 2:  # a binary model's y is the code of classes_[1]
        summary.y_mean = counts[1] / counts.sum()
    return rows, summary, link
