"""The demo's plots (matplotlib, an optional dependency)."""

import os


def write_plots(directory, linear, logistic, hidden, out=print):
    """Write ``identity.png``, ``coefficients.png`` and ``hidden_features.png`` to ``directory``.

    Without matplotlib, say how to get it and write nothing.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        out("\nPlots skipped: matplotlib is not installed (pip install 'skglmnn[plot]').")
        return []
    os.makedirs(directory, exist_ok=True)
    paths = [os.path.join(directory, name) for name in
             ("identity.png", "coefficients.png", "hidden_features.png")]  # fmt: skip

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, data, title in ((axes[0], linear, "linear regression: predicted mean"),
                            (axes[1], logistic, "logistic regression: P(y = 1)")):  # fmt: skip
        ax.scatter(data["glm"][:2000], data["net"][:2000], s=4, alpha=0.5)
        both = (data["glm"], data["net"])
        lo, hi = min(v.min() for v in both), max(v.max() for v in both)
        ax.plot([lo, hi], [lo, hi], color="black", linewidth=1, label="identity line")
        ax.set(xlabel="GLM prediction", ylabel="network (hidden=()) prediction", title=title)
        ax.legend(loc="upper left")
    fig.suptitle("A network without hidden layers is the GLM")
    fig.tight_layout()
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, data, title in ((axes[0], linear, "linear regression"),
                            (axes[1], logistic, "logistic regression")):  # fmt: skip
        rows = data["rows"]
        width = 0.8 / len(rows)
        for k, (name, params, _) in enumerate(rows):
            positions = [j + k * width for j in range(len(params))]
            ax.bar(positions, params, width=width, label=name)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(rows[0][1]))],
                      ["intercept", "x0", "x1", "x2"])  # fmt: skip
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set(title=title, ylabel="coefficient")
        ax.legend(fontsize=8)
    fig.suptitle("The same coefficients, fitted four and three ways")
    fig.tight_layout()
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    axes[0].plot(hidden["grid"], hidden["features"])
    axes[0].set(xlabel="x0 (x1 = 0)", ylabel="tanh unit output",
                title="learned features: the 8 hidden units")  # fmt: skip
    axes[1].plot(hidden["grid"], hidden["truth"], color="black", label="true mean")
    axes[1].plot(hidden["grid"], hidden["net"], label="NeuralGLM (poisson, log)")
    axes[1].plot(hidden["grid"], hidden["glm"], label="GLMRegressor on X")
    axes[1].set(xlabel="x0 (x1 = 0)", ylabel="expected count",
                title="the output GLM on those features")  # fmt: skip
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(paths[2], dpi=110)
    plt.close(fig)
    out(f"\nPlots written: {', '.join(paths)}")
    return paths
