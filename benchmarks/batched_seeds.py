"""Benchmark: a short training run of 9 seeds, batched into one model vs one seed after the other.

Each run: ``--steps`` Adam steps (cross-entropy on the time-averaged readout, random Poisson inputs and
random labels, fresh each step, the same for every seed), per-seed gradient-norm clipping at 1.0.
Variants, in the same process on the same inputs, repeats interleaved:

- ``batched``: :class:`helpers.batched.BatchedSNN` (all seeds in one model, fast path, ``torch.bmm``);
- ``sequential_fast``: the seeds one after the other through :func:`helpers.fast.fast_forward`;
- ``sequential_reference``: the seeds one after the other through the readable ``RecurrentSNN``.

Two sizes: ``task`` (a notebook-07-like recurrent network: 40 inputs, 128 LIF neurons, 2 outputs,
T = 100, batch 32) and ``shd`` (700-256-20, T = 100, batch 64, as in training_step.py).
Prints one JSON line: median seconds per run and ratios (sequential time / batched time; larger is better).
Usage: ``python benchmarks/batched_seeds.py [--seeds 9] [--steps 3] [--repeats 3] [--threads 1] [--sizes task,shd]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

from helpers.batched import BatchedSNN, seed_losses
from helpers.fast import fast_forward
from helpers.models import RecurrentSNN

SIZES = {
    "task": dict(n_in=40, n_hidden=128, n_out=2, T=100, batch=32),
    "shd": dict(n_in=700, n_hidden=256, n_out=20, T=100, batch=64),
}
INPUT_RATE = 0.05


def loss_fn(output, labels):
    return F.cross_entropy(output.mean(-2), labels)


def data(size, steps, seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(steps):
        x = (torch.rand(size["batch"], size["T"], size["n_in"], generator=gen) < INPUT_RATE).float()
        out.append((x, torch.randint(0, size["n_out"], (size["batch"],), generator=gen)))
    return out


def make_models(size, seeds):
    return [RecurrentSNN(size["n_in"], size["n_hidden"], size["n_out"], init="fluctuation",
                         generator=torch.Generator().manual_seed(s)) for s in seeds]


def run_batched(size, seeds, batches):
    model = BatchedSNN.from_models(make_models(size, seeds))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for x, labels in batches:
        opt.zero_grad(set_to_none=True)
        seed_losses(loss_fn, model(x).output, labels, shared_target=True).sum().backward()
        model.clip_grad_norm_(1.0)
        opt.step()


def run_sequential(size, seeds, batches, fast):
    for model in make_models(size, seeds):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for x, labels in batches:
            opt.zero_grad(set_to_none=True)
            out = fast_forward(model, x) if fast else model(x)
            loss_fn(out.output, labels).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (1: the cores are shared)")
    parser.add_argument("--sizes", default="task,shd")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds))
    result = {"benchmark": "batched_seeds", "seeds": args.seeds, "steps": args.steps, "repeats": args.repeats,
              "threads": torch.get_num_threads(), "torch": torch.__version__}
    result["load_avg_1min_start"] = round(os.getloadavg()[0], 1)
    for name in args.sizes.split(","):
        size = SIZES[name]
        batches = data(size, args.steps)
        variants = {
            "batched": lambda: run_batched(size, seeds, batches),
            "sequential_fast": lambda: run_sequential(size, seeds, batches, fast=True),
            "sequential_reference": lambda: run_sequential(size, seeds, batches, fast=False),
        }
        run_batched(size, seeds[:2], batches[:1])  # warm-up
        times = {k: [] for k in variants}
        for _ in range(args.repeats):
            for k, fn in variants.items():
                start = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - start)
        med = {k: statistics.median(v) for k, v in times.items()}
        result[name] = {
            "sizes": f"{size['n_in']}-{size['n_hidden']}-{size['n_out']}", "T": size["T"], "batch": size["batch"],
            "median_s": {k: round(v, 3) for k, v in med.items()},
            "ratios": {
                "sequential_reference/batched": round(med["sequential_reference"] / med["batched"], 3),
                "sequential_fast/batched": round(med["sequential_fast"] / med["batched"], 3),
            },
        }
    result["load_avg_1min_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
