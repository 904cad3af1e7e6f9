"""Shared test settings: a non-interactive matplotlib backend, quick run mode, one torch thread.

The course's networks in tests are tiny: per-step tensor operations are far smaller than what intra-op
parallelism pays off for, and on a busy 2-core machine extra threads only contend. One thread keeps the
tests fast and their timings steady (benchmarks/ measure speed with the machine's default threads).
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["SGF_MODE"] = "quick"

import matplotlib  # noqa: E402
import torch  # noqa: E402

matplotlib.use("Agg")
torch.set_num_threads(1)
