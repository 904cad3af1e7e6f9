#!/usr/bin/env python
"""Multi-seed study: accuracy on a delayed task (XOR or copy) against delay, with and without flossing.

Trains one calibrated recurrent LIF network (``helpers.training.DELAY_STUDY_DEFAULTS``) per
(delay, flossing, seed), tests it on fresh data, and writes after every run, atomically,

    {"config": {... everything needed to rerun it, "git_commit", "versions"}, "runs": [{...}, ...]}

to ``--out`` and a PNG next to it (accuracy against delay, mean and min-max over seeds). An interrupted
study resumes with ``--resume``: finished runs are skipped, and an unfinished run continues from its
checkpoint in ``--checkpoint-dir``.

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

from helpers.training import DELAY_STUDY_DEFAULTS, delayed_task_schedule, run_delayed_task  # noqa: E402
from helpers.provenance import atomic_write_json, git_commit  # noqa: E402






def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", choices=("xor", "copy"), default="xor")
    p.add_argument("--delays", type=int, nargs="+", default=[2, 4, 6, 8, 10], help="delays in bits")
    p.add_argument("--seeds", type=int, default=9, help="number of seeds (0..seeds-1)")
    p.add_argument("--steps", type=int, default=DELAY_STUDY_DEFAULTS["n_steps"], help="training steps per run")
    p.add_argument("--flossing", choices=("both", "on", "off"), default="both")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=REPO / "figures" / "delayed_xor_study.json")
    p.add_argument("--checkpoint-dir", type=Path, default=Path("/tmp/delayed_xor_ckpt"))
    p.add_argument("--resume", action="store_true", help="keep finished runs of --out and resume from checkpoints")
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
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
    kind, delay, flossing, seed, steps, device, ckpt, threads, overrides = job
    torch.set_num_threads(threads)
    rec = run_delayed_task(kind, delay, flossing, seed, device=device, checkpoint=ckpt, n_steps=steps, **overrides)
    if ckpt is not None and Path(ckpt).exists():
        Path(ckpt).unlink()
    return rec


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
        "overrides": args.overrides,
        "flossing_schedule": repr(delayed_task_schedule({**DELAY_STUDY_DEFAULTS, **args.overrides})),
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
        config["previous_invocations"] = old.pop("previous_invocations", []) + [
            {k: old.get(k) for k in ("command", "git_commit", "date", "machine")}]
    done = {(r["task"], r["delay"], r["flossing"], r["seed"]) for r in runs}
    results = {"config": config, "runs": runs, "study_wall_time_s": 0.0}
    t0 = time.perf_counter()
    prior = json.loads(args.out.read_text()).get("study_wall_time_s", 0.0) if args.resume and args.out.exists() else 0.0
    jobs = []
    for seed in range(args.seeds):  # seeds outermost: a partial study has every delay for the first seeds
        for delay in args.delays:
            for f in flossing:
                if (args.task, delay, f, seed) in done:
                    continue
                ckpt = args.checkpoint_dir / f"{args.task}_d{delay}_f{int(f)}_s{seed}.pt"
                if not args.resume and ckpt.exists():
                    ckpt.unlink()
                jobs.append((args.task, delay, f, seed, args.steps, args.device, str(ckpt), args.threads, args.overrides))
    print(f"{len(done)} runs done, {len(jobs)} to go -> {args.out}", flush=True)

    def finish(rec):
        runs.append(rec)
        results["study_wall_time_s"] = prior + time.perf_counter() - t0
        atomic_write_json(results, args.out)
        print(f"[{len(runs)}] {rec['task']} d={rec['delay']} floss={rec['flossing']} seed={rec['seed']}: "
              f"test acc {rec['test_accuracy']:.3f}, lambda_1 {rec['lambda_1']:.3f}, {rec['wall_time_s']:.0f} s "
              f"(flossing {rec['flossing_time_s']:.0f} s)", flush=True)

    if args.jobs == 1:
        for job in jobs:
            finish(_one(job))
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            for fut in as_completed([pool.submit(_one, job) for job in jobs]):
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
