"""Every notebook executes top to bottom in quick mode (SGF_MODE=quick) under nbval.

Each source ``notebooks/NN_topic.py`` (Jupytext percent format, the source of truth) is converted to a
fresh .ipynb in a temporary folder beside the notebooks and executed by nbval in a subprocess. A failing
cell fails the test; ``pytest --durations`` reports the slowest notebooks. The course's budget is 90 s per
notebook on 2 CPU cores: a notebook over budget is reported by name at the end of the run (timings are
measured in benchmarks/notebook_suite.py, not asserted here); only a hang (over 600 s) fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
BUDGET_S = 90
HANG_S = 600


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3, f"expected the course's notebooks in {ROOT / 'notebooks'}"


@pytest.mark.notebook
@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(source: Path, tmp_path_factory, record_property):
    workdir = source.parent / f".nbval_{source.stem}"
    workdir.mkdir(exist_ok=True)
    notebook = workdir / f"{source.stem}.ipynb"
    subprocess.run([sys.executable, "-m", "jupytext", "--to", "ipynb", "--output", str(notebook), str(source)],
                   check=True, capture_output=True)
    env = {**os.environ, "SGF_MODE": "quick", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
             "--nbval-cell-timeout=300", "--rootdir", str(workdir), str(notebook)],
            cwd=source.parent, env=env, capture_output=True, text=True, timeout=HANG_S,
        )
    finally:
        elapsed = time.perf_counter() - start
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    record_property("seconds", round(elapsed, 1))
    print(f"{source.name}: {elapsed:.1f} s in quick mode")
    assert result.returncode == 0, f"{source.name} failed under nbval:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    if elapsed > BUDGET_S:
        print(f"WARNING: {source.name} took {elapsed:.0f} s, over the {BUDGET_S} s quick-mode budget")
