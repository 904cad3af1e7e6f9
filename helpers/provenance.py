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
import tempfile
from collections.abc import Callable
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


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path`` (``os.replace``).

    The rename is atomic on one file system, so readers see the old file or the complete new one; if
    ``write`` raises (or the process is interrupted), the temporary file is removed and ``path`` is left
    as it was. The temporary name ends in ``.tmp`` (never ``.h5``, so tonic's glob cannot count it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results and data are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(obj, path: str | os.PathLike) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=1)))


def atomic_torch_save(obj, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` atomically (:func:`atomic_write`): checkpoints are never half-written."""
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))
