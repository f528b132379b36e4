"""Training speed of NeuralGLM beside scikit-learn's MLPRegressor and a PyTorch loop.

Usage::

    python benchmarks/network.py                 # all cases (about 5 minutes on 2 cores)
    python benchmarks/network.py --quick         # batch 256 only
    python benchmarks/network.py --skip torch    # without PyTorch
    python benchmarks/network.py --hidden 256,256 --skip sklearn torch
    python benchmarks/network.py --skip sklearn torch --rounds 3 --repeat 3   # turns

n = 100k rows, p = 20 standard-normal features, a (64, 64) relu network trained
by Adam (learning rate 1e-3) for exactly 10 epochs (``tol=0``) with mini-batches
of 32 and 256 rows.  Two targets: a smooth non-linear function plus noise
(squared error) and Poisson counts with a log-mean of that function.  skglmnn
runs on float64 and on float32 X (its float32 compute path).  Peers:
scikit-learn's ``MLPRegressor`` (float64 and float32 X; squared error only, so
on the Poisson case it fits the counts by least squares), a plain PyTorch CPU
loop (``torch.set_num_threads(2)``, float32 and float64, ``PoissonNLLLoss`` on
the Poisson case) and JAX on the CPU (float32 and float64; each epoch one
jitted ``lax.scan`` over the mini-batches, Adam written out as ours is, the
same Glorot initialisation and a reshuffle per epoch; XLA uses both cores).
The same penalty everywhere: scikit-learn's ``alpha=1e-4``, which is
``1e-4 / n`` on our scale and a weight decay of ``1e-4 / n`` in PyTorch and JAX.
Reported: samples per second (10 n / median fit time), its ratios to
scikit-learn float64 and to JAX in the same precision, peak extra memory, and
the final training loss of every fit evaluated here with one formula (half the
mean squared error, or half the mean Poisson deviance).
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _measure import PeakMemory  # noqa: E402

N, P, HIDDEN, EPOCHS, LR = 100_000, 20, (64, 64), 10, 1e-3
SK_ALPHA = 1e-4


def make_data(kind, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, P))
    signal = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.3 * np.tanh(X[:, 3:8].sum(axis=1))
    if kind == "squared":
        return X, signal + 0.3 * rng.standard_normal(N)
    return X, rng.poisson(np.exp(0.5 + 0.5 * signal)).astype(np.float64)


def training_loss(kind, y, pred):
    """Half the mean squared error, or half the mean Poisson deviance (mu clipped at 1e-8)."""
    if kind == "squared":
        return 0.5 * float(np.mean((y - pred) ** 2))
    mu = np.clip(pred, 1e-8, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(np.mean(ylogy - y + mu))


def fit_ours(dtype):
    def fit(kind, X, y, batch):
        return _fit_ours(kind, X.astype(dtype), y, batch)

    return fit


def _fit_ours(kind, X, y, batch):
    from skglmnn import NeuralGLM

    net = NeuralGLM(
        hidden=HIDDEN, activation="relu", family="normal" if kind == "squared" else "poisson",
        alpha=SK_ALPHA / N, batch_size=batch, learning_rate_init=LR, max_iter=EPOCHS, tol=0.0,
        n_iter_no_change=EPOCHS, random_state=0,
    )  # fmt: skip
    net.fit(X, y)
    return net.predict(X).astype(np.float64)


def fit_sklearn(dtype):
    def fit(kind, X, y, batch):
        from sklearn.neural_network import MLPRegressor

        X = X.astype(dtype)
        mlp = MLPRegressor(
            hidden_layer_sizes=HIDDEN, activation="relu", alpha=SK_ALPHA, batch_size=batch,
            learning_rate_init=LR, max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS,
            random_state=0,
        )  # fmt: skip
        mlp.fit(X, y)
        return mlp.predict(X).astype(np.float64)

    return fit


def fit_torch(dtype_name):
    def fit(kind, X, y, batch):
        import torch

        torch.set_num_threads(2)
        torch.manual_seed(0)
        dtype = getattr(torch, dtype_name)
        Xt = torch.from_numpy(X).to(dtype)
        yt = torch.from_numpy(y).to(dtype)
        layers, width = [], P
        for h in HIDDEN:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1)).to(dtype)
        opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=SK_ALPHA / N)
        if kind == "squared":
            loss_fn = torch.nn.MSELoss()
        else:
            loss_fn = torch.nn.PoissonNLLLoss(log_input=True, full=False)
        for _ in range(EPOCHS):
            order = torch.randperm(N)
            for start in range(0, N, batch):
                idx = order[start : start + batch]
                opt.zero_grad()
                loss = loss_fn(model(Xt[idx]).squeeze(1), yt[idx])
                loss.backward()
                opt.step()
        with torch.no_grad():
            out = model(Xt).squeeze(1)
            out = out if kind == "squared" else torch.exp(out)
        return out.double().numpy()

    return fit


def fit_jax(dtype_name):
    """The same network, Adam and loss in JAX, each epoch one jitted ``lax.scan`` over its
    full batches (plus one jitted step for the last, shorter batch); compiled outside the
    timing, as ours is.  The rows are permuted before the scan: gathering each batch
    inside it measured slower here (1.12M against 1.35M samples/s, float32, batch 32)."""

    def fit(kind, X, y, batch, warm=False):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)  # float64 arrays stay float64
        dtype = jnp.dtype(dtype_name)
        key = _jax_cache.get((kind, batch, dtype_name))
        if key is None:
            key = _jax_cache[(kind, batch, dtype_name)] = _jax_programs(kind, batch, dtype)
        init, epoch, step, predict = key
        rng = np.random.default_rng(0)
        params = init(rng)
        state = jax.tree_util.tree_map(jnp.zeros_like, (params, params)) + (jnp.zeros((), dtype),)
        Xj, yj = jnp.asarray(X, dtype), jnp.asarray(y, dtype)
        n_full = (len(y) // batch) * batch
        for _ in range(EPOCHS):
            order = jnp.asarray(rng.permutation(len(y)))
            Xs, ys = Xj[order], yj[order]
            params, state = epoch(params, state, Xs[:n_full].reshape(-1, batch, X.shape[1]),
                                  ys[:n_full].reshape(-1, batch))  # fmt: skip
            if n_full < len(y):
                params, state = step(params, state, Xs[n_full:], ys[n_full:])
        out = np.asarray(predict(params, Xj), dtype=np.float64)
        return out

    return fit


_jax_cache = {}


def _jax_programs(kind, batch, dtype):
    import jax
    import jax.numpy as jnp

    decay = SK_ALPHA / N

    def init(rng):
        params, width = [], P
        for h in (*HIDDEN, 1):
            bound = np.sqrt(6.0 / (width + h))
            params.append((jnp.asarray(rng.uniform(-bound, bound, (width, h)), dtype),
                           jnp.zeros(h, dtype)))  # fmt: skip
            width = h
        return params

    def eta(params, x):
        for W, b in params[:-1]:
            x = jax.nn.relu(x @ W + b)
        W, b = params[-1]
        return (x @ W + b)[:, 0]

    def loss(params, x, y):
        e = eta(params, x)
        data = 0.5 * jnp.mean((y - e) ** 2) if kind == "squared" else jnp.mean(jnp.exp(e) - y * e)
        return data + 0.5 * decay * sum(jnp.sum(W * W) for W, _ in params)

    grad = jax.grad(loss)
    b1, b2, eps = 0.9, 0.999, 1e-8

    def adam(params, state, x, y):
        m, v, t = state
        g = grad(params, x, y)
        t = t + 1
        m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
        size = LR * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        params = jax.tree_util.tree_map(lambda p, a, b: p - size * a / (jnp.sqrt(b) + eps),
                                        params, m, v)  # fmt: skip
        return params, (m, v, t)

    @jax.jit
    def epoch(params, state, xs, ys):
        def body(carry, batch_xy):
            return adam(*carry, *batch_xy), None

        (params, state), _ = jax.lax.scan(body, (params, state), (xs, ys))
        return params, state

    step = jax.jit(adam)

    @jax.jit
    def predict(params, x):
        e = eta(params, x)
        return e if kind == "squared" else jnp.exp(e)

    return init, epoch, step, predict


PEERS = {
    "skglmnn f64": fit_ours(np.float64),
    "skglmnn f32": fit_ours(np.float32),
    "jax f64": fit_jax("float64"),
    "jax f32": fit_jax("float32"),
    "sklearn f64": fit_sklearn(np.float64),
    "sklearn f32": fit_sklearn(np.float32),
    "torch f32": fit_torch("float32"),
    "torch f64": fit_torch("float64"),
}


def measure_peer(name, kind, batch, repeat):
    """``(samples/s, seconds, extra bytes, loss, times)`` of one peer, in this process."""
    X, y = make_data(kind)
    fit = PEERS[name]
    if name.startswith(("skglmnn", "jax")):  # compile outside the timing
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(kind, X, y, batch)  # the same shapes: jax compiles per shape
    times, extra = [], 0
    for _ in range(repeat):
        with warnings.catch_warnings(), PeakMemory() as memory:
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            pred = fit(kind, X, y, batch)
            times.append(time.perf_counter() - start)
        extra = max(extra, memory.extra)
    seconds = statistics.median(times)
    return EPOCHS * N / seconds, seconds, extra, training_loss(kind, y, pred), times


def run_case(kind, batch, peers, repeat, rounds=1):
    """Every peer in a fresh process of its own: the thread pools one library leaves
    spinning (OpenMP, XLA's) slowed the next one down 2-4x when they shared a process.

    With ``rounds`` > 1 the peers take turns, a process each per round, and each
    peer's time is the median over all its timed fits: on a shared machine whose
    speed drifts over minutes, every peer then sees the same stretches of it.
    """
    found = {name: [] for name in peers}
    for _ in range(rounds):
        for name in peers:
            command = [sys.executable, __file__, "--one", name, "--kinds", kind, "--batch",
                       str(batch), "--repeat", str(repeat), "--hidden",
                       ",".join(map(str, HIDDEN))]  # fmt: skip
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            found[name].append(json.loads(out.strip().splitlines()[-1]))
    rows = []
    for name, runs in found.items():
        seconds = statistics.median([t for run in runs for t in run[4]])
        extra, loss = max(run[2] for run in runs), runs[-1][3]
        rows.append((name, EPOCHS * N / seconds, seconds, extra, loss))
    reference = next((r[1] for r in rows if r[0] == "sklearn f64"), None)
    jax_rate = {r[0][-3:]: r[1] for r in rows if r[0].startswith("jax")}
    print(f"\n{kind}, batch {batch}  (n={N}, p={P}, hidden={HIDDEN}, {EPOCHS} epochs, "
          f"median of {rounds} x {repeat} fits)")  # fmt: skip
    print(f"{'':14s}{'samples/s':>12s}{'x sklearn':>11s}{'x jax':>8s}{'seconds':>10s}"
          f"{'+MB':>8s}{'loss':>10s}")  # fmt: skip
    for name, rate, seconds, extra, loss in rows:
        ratio = f"{rate / reference:.2f}" if reference else "-"
        to_jax = f"{rate / jax_rate[name[-3:]]:.2f}" if name[-3:] in jax_rate else "-"
        print(f"{name:14s}{rate:12,.0f}{ratio:>11s}{to_jax:>8s}{seconds:10.2f}"
              f"{extra / 2**20:8.0f}{loss:10.4f}")  # fmt: skip
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 256 only")
    parser.add_argument("--repeat", type=int, default=1, help="timed fits per peer (median)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="peers take turns this many times, a process each (median of all)")
    parser.add_argument("--skip", nargs="*", default=[], help="peers to leave out (substring)")
    parser.add_argument("--kinds", nargs="*", default=["squared", "poisson"])
    parser.add_argument("--hidden", default="64,64", help="hidden widths, e.g. 256,256")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single peer, for run_case
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global HIDDEN
    HIDDEN = tuple(int(h) for h in args.hidden.split(","))
    if args.one:
        print(json.dumps(measure_peer(args.one, args.kinds[0], args.batch, args.repeat)))
        return
    peers = [p for p in PEERS if not any(s in p for s in args.skip)]
    for kind in args.kinds:
        for batch in (256,) if args.quick else (32, 256):
            run_case(kind, batch, peers, args.repeat, args.rounds)


if __name__ == "__main__":
    main()
