"""Run modes and device selection: the one switch ``SGF_MODE`` and the one place a device is chosen.

``SGF_MODE`` sizes every experiment (COURSE.md section 3):

- ``quick``: what CI and nbval run; each notebook top to bottom in at most 90 s on 2 CPU cores. Results
  are sanity-level only, and the notebooks say so where they show them.
- ``standard`` (default): each notebook in about 3 minutes on a laptop CPU, showing the real effects.
- ``full``: paper-quality runs (many seeds, long training, GPU where present) that write JSON and figures
  to ``figures/``; the other modes load those results where they exist and name the run.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

MODES = ("quick", "standard", "full")
REPO_ROOT = Path(__file__).resolve().parents[1]
FIGURES_DIR = REPO_ROOT / "figures"


def run_mode() -> str:
    """The current run mode, from the environment variable ``SGF_MODE`` (default ``standard``)."""
    mode = os.environ.get("SGF_MODE", "standard").strip().lower()
    if mode not in MODES:
        raise ValueError(f"SGF_MODE must be one of {MODES}, got {mode!r}")
    return mode


def by_mode(quick, standard, full=None):
    """Pick a setting by run mode: ``by_mode(quick=50, standard=500, full=5000)`` (full defaults to standard)."""
    mode = run_mode()
    if mode == "quick":
        return quick
    if mode == "full" and full is not None:
        return full
    return standard


def get_device(prefer: str | None = None) -> torch.device:
    """Choose the device once: ``prefer`` (or env ``SGF_DEVICE``) if given, else CUDA when present, else CPU.

    Pass the result down to every model and tensor factory; nothing else in the course picks a device.
    """
    choice = prefer or os.environ.get("SGF_DEVICE")
    if choice:
        device = torch.device(choice)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {choice!r} was requested but CUDA is not available; use 'cpu'")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``: pass it to every random draw."""
    return torch.Generator(device=device).manual_seed(int(seed))
