"""Flossing schedules at an equal training budget: delayed XOR at a hard and an easy delay (notebook 09).

For each task (delay), schedule and seed: train the calibrated spiking network of notebook 07
(:func:`helpers.training.delayed_task_setup`) for the same number of task steps, then test it on fresh data.
Records final test accuracy, validation curve, steps to 90% of the final accuracy, success (test accuracy >=
``--success``), loss spikes, gradient-norm variance, leading exponent before/after and the fraction of wall
time spent flossing (flossing updates, flossing loss passes and the adaptive schedule's probes).

Then a small search over the parameters of the best new schedule (chosen by mean *validation* accuracy,
never the test data) at the hard delay.

The results file is rewritten atomically after every run; with ``--resume`` finished runs are skipped.

    python scripts/schedule_study.py --jobs 2 --resume                # the study of notebook 09
    python scripts/schedule_study.py --plot-only                      # redraw figures/schedule_study.png
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.provenance import atomic_write_json, git_commit  # noqa: E402

# the schedules of the main comparison: name -> (schedule class name, parameters)
MAIN_SCHEDULES = {
    "none": ("none", {}),
    "pre": ("pre", {"n_updates": 30}),
    "reference": ("periodic", {"pre_updates": 30, "episode_steps": [100, 200], "episode_updates": 30}),
    "regularizer": ("regularizer", {"weight": 10.0, "every": 10}),
    "adaptive": ("adaptive", {"band": 0.03, "episode_updates": 5, "pre_updates": 10, "check_every": 25,
                              "max_episodes": 4}),
    "annealed": ("annealed", {"pre_updates": 10, "initial_updates": 10, "every": 50, "half_life": 100.0}),
    # a follow-up (--phase extra): the regulariser with half the flossing passes, to stay within +25%
    "regularizer_every20": ("regularizer", {"weight": 10.0, "every": 20}),
    # stronger regularisers, for the long-budget study (figures/schedule_study_3000steps.json)
    "regularizer_w100": ("regularizer", {"weight": 100.0, "every": 20}),
    "regularizer_w1000": ("regularizer", {"weight": 1000.0, "every": 20}),
}
DEFAULT_SCHEDULES = ["none", "pre", "reference", "regularizer", "adaptive", "annealed"]

# the small parameter search of each candidate (run only for the one picked on validation accuracy)
TUNE_GRIDS = {
    "regularizer": [{"weight": 100.0, "every": 10}, {"weight": 1000.0, "every": 10}, {"weight": 300.0, "every": 20},
                    {"weight": 100.0, "every": 5}],
    "adaptive": [{"band": 0.015, "episode_updates": 5, "pre_updates": 10, "check_every": 25, "max_episodes": 4},
                 {"band": 0.03, "episode_updates": 10, "pre_updates": 0, "check_every": 50, "max_episodes": 3},
                 {"band": 0.05, "episode_updates": 5, "pre_updates": 10, "check_every": 25, "max_episodes": 4},
                 {"band": 0.03, "episode_updates": 3, "pre_updates": 20, "check_every": 20, "max_episodes": 5}],
    "annealed": [{"pre_updates": 20, "initial_updates": 10, "every": 50, "half_life": 50.0},
                 {"pre_updates": 0, "initial_updates": 15, "every": 50, "half_life": 100.0},
                 {"pre_updates": 10, "initial_updates": 5, "every": 25, "half_life": 100.0},
                 {"pre_updates": 10, "initial_updates": 10, "every": 50, "half_life": 200.0}],
    "pre": [{"n_updates": 10}, {"n_updates": 20}, {"n_updates": 60}],
}




def run_key(r: dict) -> str:
    return json.dumps([r["task"], r["delay"], r["schedule"], r["schedule_params"], r["seed"], r["phase"]], sort_keys=True)


# ------------------------------------------------------------------------------------------ metrics
def steps_to_fraction(steps, acc, fraction=0.9, chance=None):
    """First evaluation step where the validation accuracy reaches ``fraction`` of its final value
    (``chance`` given: of the way from chance to the final value)."""
    final = acc[-1]
    level = fraction * final if chance is None else chance + fraction * (final - chance)
    for s, a in zip(steps, acc):
        if a >= level:
            return s
    return steps[-1]


def loss_spikes(losses, factor=2.0, window=20):
    """Steps whose training loss exceeds ``factor`` x the median of the previous ``window`` losses."""
    n = 0
    for i in range(window, len(losses)):
        if losses[i] > factor * statistics.median(losses[i - window:i]):
            n += 1
    return n


def _schedule(job: dict, model, task, s: dict):
    """The job's schedule object (None for 'none'); an adaptive one gets its own Lyapunov probe."""
    from helpers.flossing import FlossingConfig
    from helpers.schedules import lyapunov_probe, make_schedule

    config = FlossingConfig(seq_len=s["floss_seq_len"], transient=s["floss_transient"])
    params = dict(job["schedule_params"])
    if "episode_steps" in params:
        params["episode_steps"] = tuple(params["episode_steps"])
    if job["kind"] == "adaptive":
        params["probe"] = lyapunov_probe(model, task.input_sampler, seq_len=s["floss_seq_len"],
                                         transient=s["floss_transient"], seed=20_000 + job["seed"])
    return make_schedule(job["kind"], config, **params) if job["kind"] != "none" else None


def run_one(job: dict) -> dict:
    """One network trained by :func:`helpers.training.train` (the path of adaptive schedules)."""
    import torch

    torch.set_num_threads(1)
    from helpers.training import delayed_task_setup, evaluate, train

    s0 = time.perf_counter()
    task, model, s = delayed_task_setup(job["task"], job["delay"], job["seed"], **job["overrides"])
    schedule = _schedule(job, model, task, s)
    hist = train(model, task, s["n_steps"], lr=s["lr"], schedule=schedule, clip=s["clip"], batch_size=s["batch_size"],
                 seed=job["seed"], eval_every=job["eval_every"], eval_batches=s["eval_batches"],
                 eval_batch_size=s["eval_batch_size"], eval_seed=10_000, lyap_every=job["lyap_every"], lyap_k=1,
                 lyap_len=s["floss_seq_len"], lyap_transient=s["floss_transient"], progress=False)
    test = evaluate(model, task, s["test_batches"], s["test_batch_size"], seed=10**6 + job["seed"])
    probe_time = getattr(schedule, "probe_time_s", 0.0) if schedule is not None else 0.0
    return record(job, task, s, schedule, hist, test, floss_time=hist["flossing_time_s"] + probe_time,
                  wall=hist["wall_time_s"], probe_time=probe_time, run_time=time.perf_counter() - s0)


def run_group(jobs: list[dict]) -> list[dict]:
    """The seeds of one (task, delay, schedule, phase) trained together (:func:`helpers.batched.train_batched`).

    The networks, data and updates are those of :func:`run_one` for each seed (to rounding). Times are shared:
    each record's ``wall_time_s`` is the group's training wall time divided by the number of seeds, and its
    ``flossing_time_fraction`` the group's flossing time over the group's wall time.
    """
    import torch

    torch.set_num_threads(1)
    from helpers.batched import BatchedSNN, evaluate_batched, train_batched
    from helpers.training import delayed_task_setup

    s0 = time.perf_counter()
    job, seeds = jobs[0], [j["seed"] for j in jobs]
    setups = [delayed_task_setup(job["task"], job["delay"], seed, **job["overrides"]) for seed in seeds]
    task, _, s = setups[0]
    model = BatchedSNN.from_models([m for _, m, _ in setups])
    schedule = _schedule(job, None, task, s)
    hists = train_batched(model, task, seeds, s["n_steps"], lr=s["lr"], schedule=schedule, clip=s["clip"],
                          batch_size=s["batch_size"], eval_every=job["eval_every"], eval_batches=s["eval_batches"],
                          eval_batch_size=s["eval_batch_size"], eval_seed=10_000, lyap_every=job["lyap_every"],
                          lyap_k=1, lyap_len=s["floss_seq_len"], lyap_transient=s["floss_transient"])
    tests = evaluate_batched(model, task, s["test_batches"], s["test_batch_size"], seed=[10**6 + seed for seed in seeds])
    run_time = (time.perf_counter() - s0) / len(jobs)
    out = []
    for j, hist, test in zip(jobs, hists, tests):
        rec = record(j, task, s, schedule, hist, test, floss_time=hist["flossing_time_s"], wall=hist["wall_time_s"],
                     probe_time=0.0, run_time=run_time)
        rec["wall_time_s"] = hist["wall_time_s"] / len(jobs)
        rec["flossing_time_s"] = hist["flossing_time_s"] / len(jobs)
        rec.update(batched=True, batch_seeds=seeds, batch_wall_time_s=hist["wall_time_s"])
        out.append(rec)
    return out


def record(job: dict, task, s: dict, schedule, hist: dict, test: dict, *, floss_time: float, wall: float,
           probe_time: float, run_time: float) -> dict:
    """One results-file entry from a run's training history and test result."""
    n_steps = s["n_steps"]
    cost = schedule.cost(n_steps) if hasattr(schedule, "cost") else \
        {"flossing_updates": hist["flossing_updates"], "flossing_passes": 0}
    gn = hist["grad_norm"]
    log_gn = [math.log(max(g, 1e-12)) for g in gn]
    acc = hist["accuracy"]
    return {
        "task": job["task"], "delay": job["delay"], "delay_steps": task.delay_steps, "phase": job["phase"],
        "schedule": job["name"], "schedule_kind": job["kind"], "schedule_params": job["schedule_params"],
        "seed": job["seed"], "n_steps": n_steps,
        "final_accuracy": test["accuracy"], "final_loss": test["loss"],
        "final_val_accuracy": acc[-1], "steps_to_90pct": steps_to_fraction(hist["step"], acc, 0.9),
        "steps_to_90pct_above_chance": steps_to_fraction(hist["step"], acc, 0.9, chance=0.5),
        "succeeded": bool(test["accuracy"] >= job["success"]),
        "loss_spikes": loss_spikes(hist["train_loss"]),
        "grad_norm_var": statistics.pvariance(gn) if len(gn) > 1 else 0.0,
        "log_grad_norm_std": statistics.pstdev(log_gn) if len(log_gn) > 1 else 0.0,
        "flossing_updates": hist["flossing_updates"], "flossing_passes": cost.get("flossing_passes", 0),
        "probes": cost.get("probes", 0),
        "triggers": [list(t) for t in getattr(schedule, "triggers", [])],
        "flossing_time_s": floss_time, "probe_time_s": probe_time,
        "flossing_time_fraction": floss_time / wall if wall > 0 else 0.0,
        "wall_time_s": wall, "run_time_s": run_time,
        "lambda_1_init": hist["lambda_1"][0] if hist["lambda_1"] else float("nan"),
        "lambda_1_final": hist["lambda_1"][-1] if hist["lambda_1"] else float("nan"),
        "lambda_1_curve": {"step": hist["lyap_step"], "lambda_1": hist["lambda_1"]},
        "val_accuracy_curve": {"step": hist["step"], "accuracy": acc},
        "train_loss_curve": hist["train_loss"][::5],
        "grad_norm_early": hist["grad_norm_early"],
    }


#: FSDD (notebook 08's recurrent network, official split): the schedules compared, by their study name, and the
#: name :func:`helpers.digits.flossing_schedule` gives them ("regularizer_every20" is the recommended default).
FSDD_SCHEDULES = {"none": None, "reference": "reference", "regularizer_every20": "recommended", "pre": "pre",
                  "regularizer_pre": "recommended_pre"}


def schedule_description(schedule) -> dict:
    """The parameters of a schedule object, for the results file."""
    if schedule is None:
        return {}
    if hasattr(schedule, "params"):
        return schedule.params()
    if hasattr(schedule, "n_updates"):
        return {"n_updates": schedule.n_updates}
    return {"pre_updates": schedule.pre_updates, "episode_steps": list(schedule.episode_steps),
            "episode_updates": schedule.episode_updates}


def run_one_fsdd(job: dict) -> dict:
    """One FSDD run (:func:`helpers.digits.run_digits`, selection on validation, test once) as a study record."""
    import torch

    torch.set_num_threads(1)
    from helpers import digits

    s0 = time.perf_counter()
    name = FSDD_SCHEDULES[job["name"]]
    dataset = job.get("dataset", "fsdd")  # tests pass the synthetic set in the SHD layout
    root = job.get("root") or digits.ensure_fsdd_spikes()
    rec = digits.run_digits(dataset, root, seed=job["seed"], epochs=job["epochs"], flossing=name is not None,
                            schedule=name or "recommended", diagnostics=False, **job.get("overrides", {}))
    curves = rec["curves"]
    spe = curves["steps_per_epoch"]
    settings = digits.settings_for(dataset, **{**job.get("overrides", {}), "epochs": job["epochs"]})
    schedule = digits.flossing_schedule(settings, spe, rec["n_bins"], name) if name is not None else None
    gn = curves["grad_norm"]
    log_gn = [math.log(max(g, 1e-12)) for g in gn]
    acc = curves["val_accuracy"]
    wall = rec["train_time_s"]
    return {
        "task": "fsdd", "delay": None, "phase": job["phase"], "schedule": job["name"],
        "schedule_kind": type(schedule).__name__ if schedule is not None else "none",
        "schedule_params": schedule_description(schedule), "seed": job["seed"],
        "n_steps": curves["step"][-1], "epochs": job["epochs"], "steps_per_epoch": spe,
        "final_accuracy": rec["test_accuracy"], "final_loss": rec["test_loss"],
        "final_val_accuracy": rec["validation_accuracy"], "best_epoch": rec["best_epoch"],
        "steps_to_90pct": steps_to_fraction(curves["step"], acc, 0.9),
        "steps_to_90pct_above_chance": steps_to_fraction(curves["step"], acc, 0.9, chance=0.1),
        "succeeded": bool(rec["test_accuracy"] >= job["success"]),
        "loss_spikes": loss_spikes(curves["train_loss"]),
        "grad_norm_var": statistics.pvariance(gn) if len(gn) > 1 else 0.0,
        "log_grad_norm_std": statistics.pstdev(log_gn) if len(log_gn) > 1 else 0.0,
        "flossing_updates": rec["flossing_updates"],
        "flossing_passes": schedule.passes(curves["step"][-1]) if hasattr(schedule, "passes") else 0,
        "probes": 0, "triggers": [],
        "flossing_time_s": rec["flossing_time_s"], "probe_time_s": 0.0,
        "flossing_time_fraction": rec["flossing_time_s"] / wall if wall > 0 else 0.0,
        "wall_time_s": wall, "run_time_s": time.perf_counter() - s0,
        "lambda_1_init": float("nan"), "lambda_1_final": float("nan"), "lambda_1_curve": {"step": [], "lambda_1": []},
        "val_accuracy_curve": {"step": curves["step"], "accuracy": acc},
        "train_loss_curve": curves["train_loss"][::5],
        "grad_norm_early": curves["grad_norm_early"],
        "spikes_per_neuron_per_sample": rec["spikes_per_neuron_per_sample"],
    }


# ------------------------------------------------------------------------------------------ summary
def summarize(runs: list[dict]) -> list[dict]:
    """Per (phase, task, delay, schedule, params): means, spreads, success rate, overhead."""
    groups: dict = {}
    for r in runs:
        key = (r["phase"], r["task"], r["delay"], r["schedule"], json.dumps(r["schedule_params"], sort_keys=True))
        groups.setdefault(key, []).append(r)
    base_wall = {}
    for (phase, task, delay, name, _), rs in groups.items():
        if name == "none":
            base_wall[(task, delay)] = statistics.mean(r["wall_time_s"] for r in rs)
    rows = []
    for (phase, task, delay, name, params), rs in sorted(groups.items()):
        acc = [r["final_accuracy"] for r in rs]
        wall = statistics.mean(r["wall_time_s"] for r in rs)
        rows.append({
            "phase": phase, "task": task, "delay": delay, "schedule": name, "schedule_params": json.loads(params),
            "n_runs": len(rs), "final_accuracy_mean": statistics.mean(acc),
            "final_accuracy_std": statistics.pstdev(acc) if len(acc) > 1 else 0.0,
            "final_val_accuracy_mean": statistics.mean(r["final_val_accuracy"] for r in rs),
            "success_rate": sum(r["succeeded"] for r in rs) / len(rs),
            "steps_to_90pct_mean": statistics.mean(r["steps_to_90pct"] for r in rs),
            "steps_to_90pct_above_chance_mean": statistics.mean(r["steps_to_90pct_above_chance"] for r in rs),
            "loss_spikes_mean": statistics.mean(r["loss_spikes"] for r in rs),
            "log_grad_norm_std_mean": statistics.mean(r["log_grad_norm_std"] for r in rs),
            "flossing_time_fraction_mean": statistics.mean(r["flossing_time_fraction"] for r in rs),
            "flossing_updates_mean": statistics.mean(r["flossing_updates"] + r["flossing_passes"] for r in rs),
            "wall_time_s_mean": wall,
            "wall_overhead_vs_none": wall / base_wall[(task, delay)] - 1 if (task, delay) in base_wall else None,
            "lambda_1_final_mean": statistics.mean(r["lambda_1_final"] for r in rs),
        })
    return rows


def pick_candidate(runs: list[dict], candidates, max_fraction: float = 0.2) -> str | None:
    """The new schedule with the best mean validation accuracy over the main runs (all delays) among those
    whose mean flossing time fraction is <= ``max_fraction`` (0.2 = +25% over plain training); if none is,
    among all candidates."""
    stats = {}
    for name in candidates:
        rs = [r for r in runs if r["phase"] == "main" and r["schedule"] == name]
        if rs:
            stats[name] = (statistics.mean(r["final_val_accuracy"] for r in rs),
                           statistics.mean(r["flossing_time_fraction"] for r in rs))
    within = {k: v for k, v in stats.items() if v[1] <= max_fraction} or stats
    return max(within, key=lambda k: within[k][0]) if within else None


def best_setting(runs: list[dict], name: str, delay: int) -> dict:
    """The parameter setting of ``name`` with the best mean validation accuracy at ``delay`` (main + tune runs)."""
    groups: dict = {}
    for r in runs:
        if r["schedule"] == name and r["delay"] == delay and r["phase"] in ("main", "tune"):
            groups.setdefault(json.dumps(r["schedule_params"], sort_keys=True), []).append(r["final_val_accuracy"])
    return json.loads(max(groups, key=lambda k: statistics.mean(groups[k])))


# ------------------------------------------------------------------------------------------ main
def _as_list(job: dict) -> list[dict]:
    return [run_one(job)]


def _call(unit):
    function, argument = unit
    return function(argument)



def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", default="xor", choices=["xor", "copy", "fsdd"],
                   help="fsdd: notebook 08's recurrent network on FSDD spikes (schedules none, reference, "
                        "regularizer_every20; --epochs; runs are appended to --out with --resume)")
    p.add_argument("--epochs", type=int, default=12, help="fsdd: training epochs (the equal budget)")
    p.add_argument("--delays", type=int, nargs="+", default=[4, 2],
                   help="delays in bits (default: 4 = plain training fails, 2 = it barely succeeds)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--schedules", nargs="+", default=DEFAULT_SCHEDULES,
                   choices=sorted({*MAIN_SCHEDULES, *FSDD_SCHEDULES}))
    p.add_argument("--phase", default="main", help="label of these runs (main: the comparison; e.g. extra: a "
                   "follow-up that keeps the main config and only appends its command)")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--n-steps", type=int, default=300, help="task steps per run (the equal training budget)")
    p.add_argument("--eval-every", type=int, default=20)
    p.add_argument("--lyap-every", type=int, default=100)
    p.add_argument("--success", type=float, default=None,
                   help="success: final test accuracy >= this (default 0.9 for delayed tasks, 0.95 for fsdd)")
    p.add_argument("--tune", choices=["auto", "off", *TUNE_GRIDS], default="auto",
                   help="schedule whose parameters to search (auto: best new schedule on validation accuracy)")
    p.add_argument("--tune-delay", type=int, default=4)
    p.add_argument("--confirm", type=int, default=0,
                   help="after tuning: this many fresh seeds (after --seeds) at the tuning delay for none, the "
                        "reference and the best tuned setting (picked on validation accuracy)")
    p.add_argument("--jobs", type=int, default=1, help="processes in parallel (each runs one batched group or run)")
    p.add_argument("--batched", action=argparse.BooleanOptionalAction, default=True,
                   help="train the seeds of each (delay, schedule, phase) as one batched model (helpers.batched; "
                        "adaptive schedules always one at a time); --no-batched: one network per process")
    p.add_argument("--out", default=str(ROOT / "figures" / "schedule_study.json"))
    p.add_argument("--png", default=str(ROOT / "figures" / "schedule_study.png"))
    p.add_argument("--resume", action="store_true", help="keep finished runs of --out and skip them")
    p.add_argument("--plot-only", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)

    if args.plot_only:
        from helpers.demos.n09_schedules import plot_study

        fig = plot_study(json.loads(out.read_text()))
        fig.savefig(args.png, dpi=110, bbox_inches="tight")
        print("wrote", args.png)
        return

    import torch

    if args.success is None:
        args.success = 0.95 if args.task == "fsdd" else 0.9
    if args.task == "fsdd":
        return main_fsdd(args, out)
    overrides = {"n_steps": args.n_steps}
    from helpers.training import DELAY_STUDY_DEFAULTS

    settings = {**DELAY_STUDY_DEFAULTS, **overrides}
    results = {"config": {
        "command": "python scripts/schedule_study.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "task": args.task, "delays": args.delays, "seeds": list(range(args.seeds)), "n_steps": args.n_steps,
        "eval_every": args.eval_every, "lyap_every": args.lyap_every, "success_threshold": args.success,
        "success_definition": f"final test accuracy >= {args.success}",
        "steps_to_90pct_definition": "first evaluation step (every eval_every steps) whose validation accuracy "
                                     ">= 0.9 x the run's final validation accuracy",
        "loss_spike_definition": "training steps whose loss exceeds 2 x the median of the previous 20 steps",
        "flossing_time_definition": "time in flossing updates + flossing loss passes + adaptive probes, "
                                    "divided by the run's training wall time",
        "schedules": {k: {"kind": v[0], "params": v[1]} for k, v in MAIN_SCHEDULES.items() if k in args.schedules},
        "tune_grids": TUNE_GRIDS, "tune_delay": args.tune_delay,
        "flossing_config": {"k": 4, "target": 0.0, "seq_len": settings["floss_seq_len"],
                            "transient": settings["floss_transient"], "batch_size": 4, "lr": 3e-3, "path": "frozen"},
        "settings": settings,
        "test_data": "4 x 128 fresh sequences per run, seed 10**6 + seed (training: seed; validation: 10**4)",
        "tuning_selection": "by mean final validation accuracy (validation seed 10**4), never the test data",
        "fsdd": "not run: compute on a 2-core machine shared with 3-4 colleagues did not allow it",
        "git_commit": git_commit(), "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"torch": torch.__version__, "numpy": __import__("numpy").__version__,
                     "python": platform.python_version()},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores (shared), jobs={args.jobs}",
        "batched": args.batched,
    }, "runs": []}
    previous_wall = 0.0
    if args.resume and out.exists():
        previous = json.loads(out.read_text())
        results["runs"] = previous.get("runs", [])
        previous_wall = previous.get("study_wall_time_s", 0.0)
        results["config"]["date_started"] = previous.get("config", {}).get("date_started",
                                                                           previous.get("config", {}).get("date"))
        if args.phase != "main" and "config" in previous:
            cfg = previous["config"]
            cfg.setdefault("followups", []).append(
                {"command": results["config"]["command"], "phase": args.phase, "delays": args.delays,
                 "batched": args.batched,
                 "seeds": list(range(args.first_seed, args.seeds)), "date": results["config"]["date"],
                 "schedules": {k: {"kind": MAIN_SCHEDULES[k][0], "params": MAIN_SCHEDULES[k][1]}
                               for k in args.schedules}})
            results["config"] = cfg
    done = {run_key(r) for r in results["runs"]}
    t_start = time.perf_counter() - previous_wall

    def job(name, kind, params, delay, seed, phase):
        return {"task": args.task, "delay": delay, "name": name, "kind": kind, "schedule_params": params,
                "seed": seed, "phase": phase, "overrides": overrides, "eval_every": args.eval_every,
                "lyap_every": args.lyap_every, "success": args.success}

    def execute(jobs):
        """Run the jobs not done yet: with --batched, the seeds of one (delay, schedule, parameters, phase) as one
        batched model (adaptive schedules, which observe one run, train one network at a time)."""
        todo = [j for j in jobs if run_key({**j, "schedule": j["name"]}) not in done]
        print(f"{len(jobs) - len(todo)} runs done already, {len(todo)} to run", flush=True)
        units = []  # (function, argument) pairs; each returns a list of records
        groups: dict = {}
        for j in todo:
            if args.batched and j["kind"] != "adaptive":
                groups.setdefault(run_key({**j, "schedule": j["name"], "seed": None}), []).append(j)
            else:
                units.append((_as_list, j))
        units = [(run_group, g) for g in groups.values()] + units
        if args.jobs > 1 and len(units) > 1:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(args.jobs) as pool:
                for recs in pool.imap_unordered(_call, units):
                    for rec in recs:
                        save(rec)
        else:
            for unit in units:
                for rec in _call(unit):
                    save(rec)

    def save(rec):
        results["runs"].append(rec)
        done.add(run_key(rec))
        results["summary"] = summarize(results["runs"])
        results["study_wall_time_s"] = time.perf_counter() - t_start
        atomic_write_json(results, out)
        print(f"[{time.strftime('%H:%M:%S')}] d={rec['delay']} {rec['schedule']:<12} seed {rec['seed']} "
              f"{rec['phase']}: test acc {rec['final_accuracy']:.3f}, floss frac {rec['flossing_time_fraction']:.2f}, "
              f"wall {rec['wall_time_s']:.0f} s", flush=True)

    main_jobs = [job(name, MAIN_SCHEDULES[name][0], MAIN_SCHEDULES[name][1], d, seed, args.phase)
                 for d in args.delays for seed in range(args.first_seed, args.seeds) for name in args.schedules]
    execute(main_jobs)

    if args.tune != "off" and args.phase == "main":
        name = pick_candidate(results["runs"], [n for n in TUNE_GRIDS if n in args.schedules]) \
            if args.tune == "auto" else args.tune
        results["config"]["tuned_schedule"] = name
        if name is not None:
            kind = MAIN_SCHEDULES[name][0]
            execute([job(name, kind, params, args.tune_delay, seed, "tune")
                     for params in TUNE_GRIDS[name] for seed in range(args.seeds)])
        if name is not None and args.confirm > 0:
            best = best_setting(results["runs"], name, args.tune_delay)
            results["config"]["confirmed_setting"] = {"schedule": name, "params": best}
            seeds = range(args.seeds, args.seeds + args.confirm)
            execute([job(n, MAIN_SCHEDULES[n][0], MAIN_SCHEDULES[n][1], args.tune_delay, seed, "confirm")
                     for seed in seeds for n in ("none", "reference")] +
                    [job(name, MAIN_SCHEDULES[name][0], best, args.tune_delay, seed, "confirm") for seed in seeds])
    results["summary"] = summarize(results["runs"])
    results["study_wall_time_s"] = time.perf_counter() - t_start
    atomic_write_json(results, out)
    try:
        from helpers.demos.n09_schedules import plot_study

        plot_study(results).savefig(args.png, dpi=110, bbox_inches="tight")
        print("wrote", args.png)
    except Exception as exc:  # the figure can be redrawn with --plot-only
        print("figure failed:", exc)


def main_fsdd(args, out: Path) -> None:
    """The FSDD comparison, appended to the results file as phase ``args.phase`` (default: fsdd)."""
    import torch

    phase = "fsdd" if args.phase == "main" else args.phase
    schedules = [n for n in args.schedules if n in FSDD_SCHEDULES] if args.schedules != DEFAULT_SCHEDULES \
        else list(FSDD_SCHEDULES)
    results = json.loads(out.read_text()) if out.exists() else {"config": {}, "runs": []}
    if not args.resume:
        results["runs"] = [r for r in results["runs"] if r["phase"] != phase]
    followup = {"command": "python scripts/schedule_study.py " + " ".join(sys.argv[1:]), "phase": phase,
                "task": "fsdd", "epochs": args.epochs, "seeds": list(range(args.first_seed, args.seeds)),
                "schedules": {n: FSDD_SCHEDULES[n] or "none" for n in schedules},
                "success_definition": f"final test accuracy >= {args.success}",
                "steps_to_90pct_definition": "first epoch end whose validation accuracy >= 0.9 x the last epoch's",
                "final_accuracy": "test accuracy of the epoch selected on validation accuracy (run_digits)",
                "git_commit": git_commit(), "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "versions": {"torch": torch.__version__, "python": platform.python_version()},
                "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores (shared), jobs={args.jobs}"}
    followups = [f for f in results["config"].get("followups", []) if f.get("phase") != phase]
    results["config"]["followups"] = followups + [followup]
    results["config"]["fsdd"] = f"phase {phase!r}: {len(schedules)} schedules x {args.seeds - args.first_seed} seeds, " \
                                f"{args.epochs} epochs (see followups)"
    done = {(r["schedule"], r["seed"]) for r in results["runs"] if r["task"] == "fsdd" and r["phase"] == phase}
    jobs = [{"task": "fsdd", "delay": None, "name": n, "schedule_params": None, "seed": seed, "phase": phase,
             "epochs": args.epochs, "success": args.success}
            for seed in range(args.first_seed, args.seeds) for n in schedules]
    todo = [j for j in jobs if (j["name"], j["seed"]) not in done]
    print(f"{len(jobs) - len(todo)} FSDD runs done already, {len(todo)} to run", flush=True)

    def save(rec):
        results["runs"].append(rec)
        results["summary"] = summarize(results["runs"])
        atomic_write_json(results, out)
        print(f"[{time.strftime('%H:%M:%S')}] fsdd {rec['schedule']:<20} seed {rec['seed']}: test acc "
              f"{rec['final_accuracy']:.3f}, floss frac {rec['flossing_time_fraction']:.2f}, "
              f"wall {rec['wall_time_s']:.0f} s",
              flush=True)

    if args.jobs > 1 and len(todo) > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(args.jobs) as pool:
            for rec in pool.imap_unordered(run_one_fsdd, todo):
                save(rec)
    else:
        for j in todo:
            save(run_one_fsdd(j))
    results["summary"] = summarize(results["runs"])
    atomic_write_json(results, out)
    from helpers.demos.n09_schedules import plot_fsdd

    png = Path(args.png).with_name(Path(args.png).stem + "_fsdd.png")
    plot_fsdd(results).savefig(png, dpi=110, bbox_inches="tight")
    print("wrote", png)


if __name__ == "__main__":
    main()
