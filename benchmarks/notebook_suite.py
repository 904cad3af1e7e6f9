"""Benchmark: wall time of the whole quick-mode notebook suite (what CI runs), per notebook and in total.

Each ``notebooks/NN_topic.py`` (Jupytext source) is converted to a fresh .ipynb in a temporary folder and
executed top to bottom with nbclient (kernel ``python3``) under ``SGF_MODE=quick``, with the notebooks
folder as working directory, one notebook after the other, as CI does. The course's budgets: each
notebook <= 90 s (CI) and ~60 s (target); the whole suite <= 10 min on 2 CPU cores.

``--threads 1`` sets ``OMP_NUM_THREADS=1`` for the kernels: on a 2-core machine shared with other work,
torch's default of one OpenMP thread per core makes every parallel region wait for a descheduled thread
(measured: a batched QR of (4, 256, 4) took 20 ms with 2 threads against 0.013 ms with 1).

Prints one JSON line: seconds per notebook (and "error" with the failing cell's error name where one
fails), the total, and the budget check. Usage: ``python benchmarks/notebook_suite.py [--only 01,02]
[--timeout 600] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE_BUDGET_S = 600
NOTEBOOK_BUDGET_S = 90


def run_notebook(source: Path, workdir: Path, timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient

    notebook = workdir / f"{source.stem}.ipynb"
    subprocess.run([sys.executable, "-m", "jupytext", "--to", "ipynb", "--output", str(notebook), str(source)],
                   check=True, capture_output=True)
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(source.parent)}})
    start = time.perf_counter()
    entry = {}
    try:
        client.execute()
    except Exception as exc:  # noqa: BLE001 - report any failure by name, keep measuring the others
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        entry["error"] = f"{type(exc).__name__}: {lines[-1][:200]}" if lines else type(exc).__name__
    entry["seconds"] = round(time.perf_counter() - start, 1)
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated notebook numbers, e.g. 01,02 (default: all)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell before giving up")
    parser.add_argument("--threads", type=int, default=None,
                        help="OMP_NUM_THREADS / MKL_NUM_THREADS for the kernels (default: torch's default, one per core)")
    args = parser.parse_args()
    os.environ["SGF_MODE"] = "quick"  # inherited by the kernels
    if args.threads is not None:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("MPLBACKEND", "Agg")
    sources = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    if args.only:
        wanted = set(args.only.split(","))
        sources = [s for s in sources if s.name[:2] in wanted]
    results = {}
    with tempfile.TemporaryDirectory(prefix="notebook_suite_") as tmp:
        for source in sources:
            results[source.stem] = run_notebook(source, Path(tmp), args.timeout)
    total = round(sum(r["seconds"] for r in results.values()), 1)
    print(json.dumps({
        "benchmark": "notebook_suite", "mode": "quick", "cpu_count": os.cpu_count(), "threads": args.threads or "default", "load_avg_1min": round(os.getloadavg()[0], 1),
        "notebooks": results, "n_notebooks": len(results),
        "n_failed": sum("error" in r for r in results.values()),
        "total_s": total, "suite_budget_s": SUITE_BUDGET_S, "within_suite_budget": total <= SUITE_BUDGET_S,
        "over_notebook_budget": [k for k, r in results.items() if r["seconds"] > NOTEBOOK_BUDGET_S],
    }))


if __name__ == "__main__":
    main()
