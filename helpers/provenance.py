"""What every results file records about the run that wrote it, and how it is written.

A results file in ``figures/`` names its run: the git commit (with ``+uncommitted-changes`` when the tree
was dirty), the package versions and the machine. It is written atomically (a temporary file in the same
folder, then ``os.replace``), so an interrupted study never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch

from .config import REPO_ROOT


def git_commit(repo: Path = REPO_ROOT) -> str:
    """The commit of ``repo`` (``+uncommitted-changes`` if the working tree differs), or ``"unknown"``."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
        return sha.stdout.strip() + ("+uncommitted-changes" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions() -> dict:
    """Versions of Python and the packages the results depend on."""
    try:
        import tonic

        tonic_version = tonic.__version__
    except ImportError:  # pragma: no cover
        tonic_version = "not installed"
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "tonic": tonic_version}


def atomic_write_json(obj, path: str | os.PathLike) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (temporary file in the same folder, then ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(obj, indent=1))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
