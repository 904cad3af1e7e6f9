"""Benchmark: 9 seeds trained as one batched model vs one seed after the other.

Cases ``task`` and ``shd``: a short training loop written out here. Each run: ``--steps`` Adam steps
(cross-entropy on the time-averaged readout, random Poisson inputs and random labels, fresh each step,
the same for every seed), per-seed gradient-norm clipping at 1.0.
Variants, in the same process on the same inputs, repeats interleaved:

- ``batched``: :class:`helpers.batched.BatchedSNN` (all seeds in one model, fast path, ``torch.bmm``);
- ``sequential_fast``: the seeds one after the other through :func:`helpers.fast.fast_forward`;
- ``sequential_reference``: the seeds one after the other through the readable ``RecurrentSNN``.

Two sizes: ``task`` (a notebook-07-like recurrent network: 40 inputs, 128 LIF neurons, 2 outputs,
T = 100, batch 32) and ``shd`` (700-256-20, T = 100, batch 64, as in training_step.py).

Case ``study``: whole runs of the delayed-XOR study (``scripts/delayed_xor_study.py``: d = 4, the setting
``helpers.training.DELAY_STUDY_DEFAULTS`` with ``--study-steps`` training steps, evaluations, spectra and
the test included), without flossing and with the recommended schedule:
``helpers.batched.run_delayed_task_batched`` for all seeds (``batched``) against ``run_delayed_task`` seed
after seed with ``fast=True`` (``sequential_fast``) and ``fast=False`` (``sequential_reference``, what
the study ran before).

Prints one JSON line: median seconds per run and ratios (sequential time / batched time; larger is better).
Usage: ``python benchmarks/batched_seeds.py [--seeds 9] [--steps 3] [--repeats 3] [--threads 1]
[--cases task,shd,study] [--study-steps 20]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

from helpers.batched import BatchedSNN, run_delayed_task_batched, seed_losses
from helpers.fast import fast_forward
from helpers.models import RecurrentSNN
from helpers.training import run_delayed_task

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


def time_variants(variants: dict, repeats: int) -> dict:
    """Median seconds of each variant, repeats interleaved."""
    times = {k: [] for k in variants}
    for _ in range(repeats):
        for k, fn in variants.items():
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def ratios(med: dict) -> dict:
    return {
        "sequential_reference/batched": round(med["sequential_reference"] / med["batched"], 3),
        "sequential_fast/batched": round(med["sequential_fast"] / med["batched"], 3),
    }


def study_case(seeds, n_steps, repeats) -> dict:
    """Whole delayed-XOR runs (d = 4), batched against sequential, without and with flossing."""
    out = {"delay": 4, "n_steps": n_steps}
    run_delayed_task_batched("xor", 4, True, seeds[:2], n_steps=1)  # warm-up (first calls, allocator)
    for label, flossing in (("no_flossing", False), ("recommended", True)):
        settings = dict(n_steps=n_steps)
        variants = {
            "batched": lambda: run_delayed_task_batched("xor", 4, flossing, seeds, **settings),
            "sequential_fast": lambda: [run_delayed_task("xor", 4, flossing, s, fast=True, **settings) for s in seeds],
            "sequential_reference": lambda: [run_delayed_task("xor", 4, flossing, s, **settings) for s in seeds],
        }
        med = time_variants(variants, repeats)
        out[label] = {"median_s": {k: round(v, 3) for k, v in med.items()}, "ratios": ratios(med)}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (1: the cores are shared)")
    parser.add_argument("--cases", default="task,shd,study", help="comma-separated: task, shd, study")
    parser.add_argument("--study-steps", type=int, default=20, help="training steps per run in the study case")
    args = parser.parse_args()
    cases = args.cases.split(",")
    unknown = set(cases) - set(SIZES) - {"study"}
    if unknown:
        parser.error(f"--cases: unknown {sorted(unknown)}; allowed: {sorted(SIZES) + ['study']}")
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds))
    result = {"benchmark": "batched_seeds", "seeds": args.seeds, "steps": args.steps, "repeats": args.repeats,
              "threads": torch.get_num_threads(), "torch": torch.__version__}
    result["load_avg_1min_start"] = round(os.getloadavg()[0], 1)
    for name in cases:
        if name == "study":
            result["study"] = study_case(seeds, args.study_steps, args.repeats)
            continue
        size = SIZES[name]
        batches = data(size, args.steps)
        variants = {
            "batched": lambda: run_batched(size, seeds, batches),
            "sequential_fast": lambda: run_sequential(size, seeds, batches, fast=True),
            "sequential_reference": lambda: run_sequential(size, seeds, batches, fast=False),
        }
        run_batched(size, seeds[:2], batches[:1])  # warm-up
        med = time_variants(variants, args.repeats)
        result[name] = {
            "sizes": f"{size['n_in']}-{size['n_hidden']}-{size['n_out']}", "T": size["T"], "batch": size["batch"],
            "median_s": {k: round(v, 3) for k, v in med.items()}, "ratios": ratios(med),
        }
    result["load_avg_1min_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
