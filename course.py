#!/usr/bin/env python3
"""Set up the course and open it, or set it up and run every test.

    python3 course.py lab     # create .venv, install, pair the notebooks, open JupyterLab on notebooks/
    python3 course.py test    # create .venv, install, run the whole test suite (notebooks included)

Needs only Python 3.11 or newer. The environment lives in ``.venv`` next to this file and is reinstalled
only when ``requirements.txt`` or ``pyproject.toml`` change. Extra arguments after ``test`` go to pytest
(``python3 course.py test -k lyapunov``); after ``lab`` they go to JupyterLab.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".sgf-installed"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _run(*cmd, **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)


def setup() -> None:
    """Create the virtual environment and install the pinned requirements and the course package."""
    if sys.version_info < (3, 11):
        sys.exit(f"The course needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"Creating the virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    _run(PYTHON, "-m", "pip", "install", "--upgrade", "pip")
    _run(PYTHON, "-m", "pip", "install", "-r", "requirements.txt")
    _run(PYTHON, "-m", "pip", "install", "--no-deps", "-e", ".")
    STAMP.write_text(_fingerprint())


def pair_notebooks() -> None:
    """Make each notebooks/NN_topic.py into a paired .ipynb (edits in JupyterLab save back to the .py)."""
    sources = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    if sources:
        _run(BIN / "jupytext", "--sync", *sources)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("lab", "test"):
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    setup()
    if command == "lab":
        pair_notebooks()
        # The course's networks are small: one BLAS/OpenMP thread per kernel is fastest, and on a busy
        # machine extra threads wait on each other (measured: 10-40x slower). Override by exporting it.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
            extra = ["--allow-root", *extra]  # containers and cloud machines often run as root
        os.execv(str(BIN / "jupyter"), [str(BIN / "jupyter"), "lab", "notebooks", *extra])
    # Tests use tiny networks: one BLAS/OpenMP thread is fastest and avoids thread contention.
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run([str(PYTHON), "-m", "pytest", "tests", "--durations=20", *extra], cwd=ROOT, env=env)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
