"""What makes surrogate gradient flossing work? A sweep over gradient path, reset, steepness, lr, batch, k, target.

Each condition builds a seeded RecurrentSNN (64 LIF neurons, 20 Poisson inputs), measures its leading
exponents, firing rate and weight norms on held-out inputs (no gradient), flosses it with
:func:`helpers.flossing.floss`, and measures again. Results (one record per condition, with the history of
the flossed exponents) are merged into ``figures/flossing_sweep.json`` together with the base config, the
commit and the library versions; notebook 06 loads that file.

Usage::

    OMP_NUM_THREADS=1 python scripts/flossing_sweep.py                # every condition, 2 processes
    OMP_NUM_THREADS=1 python scripts/flossing_sweep.py --only zero_frozen zero_traj --updates 40

Run with one thread per process (OMP_NUM_THREADS=1): the models are tiny and threads only contend.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from helpers.flossing import FlossingConfig, floss, poisson_sampler  # noqa: E402
from helpers.lyapunov import lyapunov_spectrum  # noqa: E402
from helpers.models import RecurrentSNN  # noqa: E402
from helpers.neurons import LIFParams  # noqa: E402
from helpers.provenance import atomic_write_json, git_commit, versions  # noqa: E402
from helpers.surrogate import surrogate_derivative  # noqa: E402

BASE = dict(
    n_in=20, n_hidden=64, input_rate=0.05, gain=1.0, input_gain=1.0, bias=False,
    reset="zero", detach_reset=True, surrogate="fast_sigmoid", steepness=10.0,
    path="frozen", k=4, target=0.0, lr=3e-3, batch_size=4, seq_len=200, transient=50, rate_weight=0.0,
    rate_target=None, hold="rate", mask_grad=False, keep_norm=False, placebo=False, init="gaussian",
    n_updates=80, seed=0, eval_batch=8, eval_len=300, eval_k=8,
)

# name -> overrides of BASE. Stage A: the prototype's failure and the obvious factors.
CONDITIONS = {
    # gradient path x reset convention (fast sigmoid, steepness 10)
    "zero_frozen": dict(),
    "zero_traj": dict(path="trajectory"),
    "sub_frozen": dict(reset="subtract"),
    "sub_traj": dict(reset="subtract", path="trajectory"),
    "zeroatt_frozen": dict(detach_reset=False),
    "zeroatt_traj": dict(detach_reset=False, path="trajectory"),
    # a wider surrogate (larger D everywhere)
    "zero_frozen_s3": dict(steepness=3.0),
    "zero_traj_s3": dict(steepness=3.0, path="trajectory"),
    "sub_frozen_s3": dict(reset="subtract", steepness=3.0),
    # learning rate
    "zero_frozen_lr1e-2": dict(lr=1e-2),
    "zero_traj_lr3e-4": dict(path="trajectory", lr=3e-4),
    # trajectory path held at its firing rate
    "zero_traj_ratereg": dict(path="trajectory", rate_weight=10.0, rate_target=0.15),
    # Stage B: the trajectory path with a surrogate derivative for the zero reset's mask (TrajectorySystem)
    "zero_traj_mask": dict(path="trajectory", mask_grad=True),
    "zero_traj_mask_bias": dict(path="trajectory", mask_grad=True, bias=True),
    # Stage C: hold the firing rate (eq. 6.5) while flossing; a negative target
    "zero_frozen_ratereg": dict(rate_weight=10.0, rate_target=0.15),
    "zero_frozen_s3_t-0.03": dict(steepness=3.0, target=-0.03),
    "sub_frozen_t-0.03": dict(reset="subtract", target=-0.03),
    # Stage D: reshape but do not scale the weights; an intermediate surrogate width
    "zero_frozen_keepnorm": dict(keep_norm=True),
    "zero_frozen_s5": dict(steepness=5.0),
    # Stage E: hold the operating point (mean surrogate derivative, eq. 6.5 with hold="surrogate")
    "zero_frozen_holdD": dict(rate_weight=1000.0, hold="surrogate"),
    "zero_frozen_s3_holdD": dict(steepness=3.0, rate_weight=1000.0, hold="surrogate"),
    "zero_frozen_s3_holdD_t-0.02": dict(steepness=3.0, rate_weight=1000.0, hold="surrogate", target=-0.02),
    # Control: random-sign steps of the same size as Adam's (is the drift generic or the gradient's doing?)
    "placebo": dict(placebo=True),
    "placebo_s3": dict(placebo=True, steepness=3.0),
    "sub_frozen_keepnorm": dict(reset="subtract", keep_norm=True),
}


def build(cfg: dict):
    params = LIFParams(reset=cfg["reset"], detach_reset=cfg["detach_reset"], surrogate=cfg["surrogate"],
                       steepness=cfg["steepness"])
    gen = torch.Generator().manual_seed(cfg["seed"])
    model = RecurrentSNN(cfg["n_in"], cfg["n_hidden"], 2, params=params, gain=cfg["gain"],
                         input_gain=cfg["input_gain"], bias=cfg["bias"], init=cfg["init"],
                         input_rate=cfg["input_rate"], generator=gen)
    return model


def evaluate(model, cfg: dict) -> dict:
    """Exponents (batch mean), rate, mean surrogate derivative and weight norms on fixed held-out inputs."""
    gen = torch.Generator().manual_seed(12345)
    x = poisson_sampler(cfg["n_in"], cfg["input_rate"])(cfg["eval_batch"], cfg["eval_len"], gen)
    with torch.no_grad():
        res = lyapunov_spectrum(model, x, cfg["eval_k"], transient=cfg["transient"],
                                generator=torch.Generator().manual_seed(1))
        out = model(x)
        p = model.params
        d = surrogate_derivative(out.mem[0] - p.threshold, p.surrogate, p.steepness)
    return dict(
        exponents=[round(v, 5) for v in res.exponents.mean(0).tolist()],
        exponents_sem=[round(v, 5) for v in (res.exponents.std(0) / cfg["eval_batch"] ** 0.5).tolist()],
        rate=round(float(out.spikes[0].mean()), 5),
        mean_D=round(float(d.mean()), 5),
        w_rec_norm=round(float(model.w_rec[0].detach().norm()), 4),
        w_in_norm=round(float(model.w_ff[0].detach().norm()), 4),
    )


def run_condition(item):
    name, overrides, n_updates = item
    torch.set_num_threads(1)
    cfg = dict(BASE, **overrides)
    if n_updates is not None:
        cfg["n_updates"] = n_updates
    model = build(cfg)
    before = evaluate(model, cfg)
    fc = FlossingConfig(k=cfg["k"], target=cfg["target"], seq_len=cfg["seq_len"], transient=cfg["transient"],
                        batch_size=cfg["batch_size"], lr=cfg["lr"], path=cfg["path"],
                        rate_weight=cfg["rate_weight"], rate_target=cfg["rate_target"], hold=cfg["hold"],
                        mask_grad=cfg["mask_grad"], keep_norm=cfg["keep_norm"])
    if cfg["placebo"]:  # control: Adam-sized steps of random sign (lr per weight per update), no gradient
        gen = torch.Generator().manual_seed(cfg["seed"] + 100)
        start = time.perf_counter()
        with torch.no_grad():
            for _ in range(cfg["n_updates"]):
                for p in model.dynamics_parameters():
                    p.add_(cfg["lr"] * torch.sign(torch.randn(p.shape, generator=gen)))
        hist = dict(step=[], exponents=[], loss=[], time_s=time.perf_counter() - start)
    else:
        hist = floss(model, poisson_sampler(cfg["n_in"], cfg["input_rate"]), cfg["n_updates"], fc,
                     generator=torch.Generator().manual_seed(cfg["seed"] + 100), record_every=5)
    after = evaluate(model, cfg)
    k = cfg["k"]
    dist = lambda e: sum(abs(v - cfg["target"]) for v in e[:k]) / k  # noqa: E731
    rec = dict(name=name, overrides=overrides, config=cfg, before=before, after=after,
               distance_before=round(dist(before["exponents"]), 5), distance_after=round(dist(after["exponents"]), 5),
               history=dict(step=hist["step"], exponents=[[round(v, 5) for v in e] for e in hist["exponents"]],
                            loss=[round(v, 7) for v in hist["loss"]]),
               time_s=round(hist["time_s"], 1))
    print(f"{name:24s} lam1..k {before['exponents'][:k]} -> {after['exponents'][:k]}  "
          f"rate {before['rate']} -> {after['rate']}  |V| {before['w_rec_norm']} -> {after['w_rec_norm']}  "
          f"({rec['time_s']} s)", flush=True)
    return rec


def provenance() -> dict:
    """The run's commit, versions and date (keys read by notebook 06)."""
    commit = git_commit()
    v = versions()
    return dict(commit=commit.removesuffix("+uncommitted-changes"),
                helpers_uncommitted_changes=commit.endswith("+uncommitted-changes"), torch=v["torch"],
                numpy=v["numpy"], python=v["python"], machine=platform.machine(), date=time.strftime("%Y-%m-%d %H:%M:%S"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="condition names (default: all)")
    ap.add_argument("--updates", type=int, default=None, help="flossing updates per condition (default BASE)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(REPO / "figures" / "flossing_sweep.json"))
    args = ap.parse_args(argv)
    names = args.only or list(CONDITIONS)
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        raise SystemExit(f"unknown conditions {unknown}; known: {list(CONDITIONS)}")
    items = [(n, CONDITIONS[n], args.updates) for n in names]
    out = Path(args.out)

    def save(rec):  # merge each result as it arrives (several sweeps may write the same file)
        data = json.loads(out.read_text()) if out.exists() else {"results": {}}
        data["base_config"] = BASE
        data["provenance"] = provenance()
        data["script"] = "scripts/flossing_sweep.py"
        data["results"][rec["name"]] = rec
        atomic_write_json(data, out)

    if args.jobs > 1:
        with mp.get_context("spawn").Pool(args.jobs) as pool:
            for rec in pool.imap_unordered(run_condition, items, chunksize=1):
                save(rec)
    else:
        for item in items:
            save(run_condition(item))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
