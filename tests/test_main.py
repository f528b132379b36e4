import subprocess
import sys

from skglmnn.__main__ import main
from skglmnn._demo import DEMO_FAMILIES


def test_quick_demo_agrees_with_references(capsys):
    assert main(["demo", "--quick"]) == 0
    printed = capsys.readouterr().out
    for family in DEMO_FAMILIES:
        assert family in printed
    assert "OLS" in printed and "statsmodels" in printed
    worst = float(printed.rsplit("Largest difference to a reference:", 1)[1])
    assert worst < 1e-6


def test_module_entry_point_runs():
    done = subprocess.run(
        [sys.executable, "-m", "skglmnn", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "demo" in done.stdout
