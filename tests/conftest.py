"""Shared test settings: a non-interactive matplotlib backend and quick run mode for everything."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["SGF_MODE"] = "quick"

import matplotlib  # noqa: E402

matplotlib.use("Agg")
