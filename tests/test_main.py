import subprocess
import sys

import pytest

from skglmnn.__main__ import main
from skglmnn._demo import DEMO_FAMILIES
from skglmnn._demo_plots import write_plots


def test_quick_demo_shows_the_thesis_and_agrees_with_references(capsys, tmp_path):
    assert main(["demo", "--quick", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for part in ("[1/4] Linear regression", "[2/4] Logistic regression", "[3/4]", "[4/4]"):
        assert part in printed
    for method in ("(X'X)^-1X'y", "GLMRegressor", "NeuralGLM()", "sklearn", "GLMClassifier"):
        assert method in printed
    assert "Residual deviance" in printed and "Pr(>|z|)" in printed  # the R-style summary
    assert "the hidden layer wins on held-out deviance" in printed
    for family in DEMO_FAMILIES:
        assert family in printed
    worst = float(printed.split("should agree:", 1)[1].split()[0])
    assert worst < 1e-6
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in printed
    else:
        for name in ("identity.png", "coefficients.png", "hidden_features.png"):
            assert (tmp_path / name).stat().st_size > 10_000


def test_plots_are_skipped_with_a_hint_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    lines = []
    assert write_plots(str(tmp_path), {}, {}, {}, out=lines.append) == []
    assert "pip install 'skglmnn[plot]'" in lines[0]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"]])
def test_module_entry_point_runs(argv):
    done = subprocess.run([sys.executable, "-m", "skglmnn", *argv], capture_output=True, text=True)
    assert done.returncode == 0 and "demo" in done.stdout
