#!/usr/bin/env python
"""Multi-seed study: accuracy on a delayed task (XOR or copy) against delay, with and without flossing.

Trains one calibrated recurrent LIF network (``helpers.training.DELAY_STUDY_DEFAULTS``) per
(delay, flossing, seed), with flossing by the schedule ``--schedule`` names (``recommended``, the course's
default: the flossing loss with weight 10 on every 20th step; ``reference``: the episodic schedule of the
first studies), tests it on fresh data, and writes after every run (or group of runs), atomically,

    {"config": {... everything needed to rerun it, "git_commit", "versions"}, "runs": [{...}, ...]}

to ``--out`` and a PNG next to it (accuracy against delay, mean and min-max over seeds).

``--batched`` (the default) trains all seeds of one (delay, flossing) group as one batched model
(``helpers.batched.run_delayed_task_batched``: the same networks, data and updates as separate runs, to
rounding); ``--jobs`` then runs groups in parallel, and a record's ``wall_time_s`` is its group's wall
time divided by the number of seeds. ``--no-batched`` runs every (delay, flossing, seed) in its own process.

An interrupted study resumes with ``--resume``: finished runs are skipped; with ``--no-batched`` an
unfinished run continues from its checkpoint in ``--checkpoint-dir``, with ``--batched`` an unfinished
group trains its missing seeds again from the start (no checkpoints).

Example (the run behind figures/delayed_xor_study.json; see its "config" for the exact command):

    python scripts/delayed_xor_study.py --task xor --delays 2 4 6 8 10 --seeds 9 --jobs 2 --resume
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from helpers.batched import run_delayed_task_batched  # noqa: E402
from helpers.provenance import atomic_write_json, git_commit  # noqa: E402
from helpers.training import (DELAY_SCHEDULES, DELAY_STUDY_DEFAULTS, delayed_task_schedule,  # noqa: E402
                              run_delayed_task)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", choices=("xor", "copy"), default="xor")
    p.add_argument("--delays", type=int, nargs="+", default=[2, 4, 6, 8, 10], help="delays in bits")
    p.add_argument("--seeds", type=int, default=9, help="number of seeds (0..seeds-1)")
    p.add_argument("--steps", type=int, default=DELAY_STUDY_DEFAULTS["n_steps"], help="training steps per run")
    p.add_argument("--flossing", choices=("both", "on", "off"), default="both")
    p.add_argument("--schedule", choices=DELAY_SCHEDULES, default="recommended",
                   help="flossing schedule (helpers.training.delayed_task_schedule)")
    p.add_argument("--batched", action=argparse.BooleanOptionalAction, default=True,
                   help="train the seeds of each (delay, flossing) as one batched model (default); "
                        "--no-batched: one process per run, with checkpoints")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=REPO / "figures" / "delayed_xor_study.json")
    p.add_argument("--checkpoint-dir", type=Path, default=Path("/tmp/delayed_xor_ckpt"))
    p.add_argument("--resume", action="store_true", help="keep finished runs of --out and resume from checkpoints")
    p.add_argument("--jobs", type=int, default=1,
                   help="runs (--no-batched) or (delay, flossing) groups (--batched) in parallel (processes)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a calibrated setting (helpers.training.DELAY_STUDY_DEFAULTS), e.g. --set steepness=3")
    args = p.parse_args(argv)
    args.overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or key not in DELAY_STUDY_DEFAULTS:
            p.error(f"--set: {item!r} must be KEY=VALUE with KEY one of {sorted(DELAY_STUDY_DEFAULTS)}")
        try:
            args.overrides[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            args.overrides[key] = value
    for d in args.delays:
        if d < 1 or (args.task == "xor" and d % 2):
            p.error(f"--delays: {d} is not allowed for --task {args.task} (xor: even >= 2; copy: >= 1)")
    if args.seeds < 1 or args.steps < 1 or args.jobs < 1:
        p.error("--seeds, --steps and --jobs must be >= 1")
    return args


def _one(job):
    """One run (--no-batched); returns [record]."""
    kind, delay, flossing, seed, steps, device, ckpt, threads, overrides, schedule = job
    torch.set_num_threads(threads)
    rec = run_delayed_task(kind, delay, flossing, seed, device=device, checkpoint=ckpt, schedule=schedule,
                           n_steps=steps, **overrides)
    if ckpt is not None and Path(ckpt).exists():
        Path(ckpt).unlink()
    return [rec]


def _group(job):
    """All missing seeds of one (delay, flossing) as one batched model (--batched); returns their records."""
    kind, delay, flossing, seeds, steps, device, threads, overrides, schedule = job
    torch.set_num_threads(threads)
    return run_delayed_task_batched(kind, delay, flossing, seeds, device=device, schedule=schedule, n_steps=steps,
                                    **overrides)


def summarise(runs):
    """{(delay, flossing): (mean, std, n)} of the test accuracy."""
    out = {}
    for d in sorted({r["delay"] for r in runs}):
        for f in (False, True):
            acc = [r["test_accuracy"] for r in runs if r["delay"] == d and r["flossing"] == f]
            if acc:
                out[(d, f)] = (float(np.mean(acc)), float(np.std(acc)), len(acc))
    return out


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import delay_study_axes

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    delay_study_axes(results["runs"], axes)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    flossing = {"both": [False, True], "on": [True], "off": [False]}[args.flossing]
    config = {
        "command": "python scripts/delayed_xor_study.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "task": args.task, "delays": args.delays, "seeds": list(range(args.seeds)), "flossing": flossing,
        "settings": {**DELAY_STUDY_DEFAULTS, "n_steps": args.steps, **args.overrides}, "device": args.device,
        "overrides": args.overrides, "schedule": args.schedule,
        "flossing_schedule": repr(delayed_task_schedule({**DELAY_STUDY_DEFAULTS, **args.overrides}, args.schedule)),
        "batched": args.batched,
        "test_data": "4 x 128 fresh sequences per run, generator seed 10**6 + seed (training: seed; validation: 10**4)",
        "git_commit": git_commit(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, jobs={args.jobs}",
    }
    runs = []
    if args.resume and args.out.exists():
        stored = json.loads(args.out.read_text())
        runs = stored.get("runs", [])
        old = stored.get("config", {})
        mismatch = {k for k in config["settings"] if old.get("settings", {}).get(k, config["settings"][k]) != config["settings"][k]
                    and not (isinstance(config["settings"][k], tuple) and list(config["settings"][k]) == old["settings"][k])}
        if runs and mismatch:
            sys.exit(f"--resume: the stored runs in {args.out} used different settings {sorted(mismatch)}; "
                     "use another --out or rerun without --resume")
        if any(r["flossing"] for r in runs) and old.get("flossing_schedule") != config["flossing_schedule"]:
            sys.exit(f"--resume: the stored flossing runs in {args.out} used the schedule "
                     f"{old.get('flossing_schedule')}, not {config['flossing_schedule']} (--schedule {args.schedule}); "
                     "use another --out or --schedule")
        config["previous_invocations"] = old.pop("previous_invocations", []) + [
            {k: old.get(k) for k in ("command", "git_commit", "date", "machine")}]
    done = {(r["task"], r["delay"], r["flossing"], r["seed"]) for r in runs}
    results = {"config": config, "runs": runs, "study_wall_time_s": 0.0}
    t0 = time.perf_counter()
    prior = json.loads(args.out.read_text()).get("study_wall_time_s", 0.0) if args.resume and args.out.exists() else 0.0
    jobs = []
    if args.batched:  # one job per (delay, flossing) group, with the seeds it still lacks
        for delay in args.delays:
            for f in flossing:
                seeds = [seed for seed in range(args.seeds) if (args.task, delay, f, seed) not in done]
                if seeds:
                    jobs.append((args.task, delay, f, seeds, args.steps, args.device, args.threads, args.overrides,
                                 args.schedule))
        n_todo = sum(len(job[3]) for job in jobs)
    else:
        for seed in range(args.seeds):  # seeds outermost: a partial study has every delay for the first seeds
            for delay in args.delays:
                for f in flossing:
                    if (args.task, delay, f, seed) in done:
                        continue
                    name = f"{args.task}_d{delay}_f{int(f)}" + (f"_{args.schedule}" if f else "") + f"_s{seed}.pt"
                    ckpt = args.checkpoint_dir / name
                    if not args.resume and ckpt.exists():
                        ckpt.unlink()
                    jobs.append((args.task, delay, f, seed, args.steps, args.device, str(ckpt), args.threads,
                                 args.overrides, args.schedule))
        n_todo = len(jobs)
    print(f"{len(done)} runs done, {n_todo} to go ({len(jobs)} jobs) -> {args.out}", flush=True)

    def finish(records):
        for rec in records:
            runs.append(rec)
            print(f"[{len(runs)}] {rec['task']} d={rec['delay']} floss={rec['flossing']} seed={rec['seed']}: "
                  f"test acc {rec['test_accuracy']:.3f}, lambda_1 {rec['lambda_1']:.3f}, {rec['wall_time_s']:.0f} s "
                  f"(flossing {rec['flossing_time_s']:.0f} s)", flush=True)
        results["study_wall_time_s"] = prior + time.perf_counter() - t0
        atomic_write_json(results, args.out)

    work = _group if args.batched else _one
    if args.jobs == 1:
        for job in jobs:
            finish(work(job))
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            for fut in as_completed([pool.submit(work, job) for job in jobs]):
                finish(fut.result())
    results["study_wall_time_s"] = prior + time.perf_counter() - t0
    atomic_write_json(results, args.out)
    plot(results, args.out.with_suffix(".png"))
    print("delay  no-flossing mean (std)   flossing mean (std)")
    summary = summarise(runs)
    for d in sorted({r["delay"] for r in runs}):
        cells = [f"{summary[(d, f)][0]:.3f} ({summary[(d, f)][1]:.3f}) n={summary[(d, f)][2]}" if (d, f) in summary
                 else "-" for f in (False, True)]
        print(f"{d:5d}  {cells[0]:>24s}  {cells[1]:>22s}")
    print(f"study wall time {results['study_wall_time_s'] / 60:.1f} min; wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
