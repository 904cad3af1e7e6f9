#!/usr/bin/env python
"""Spoken-digit study: recurrent and multi-layer LIF networks, with and without flossing, several seeds.

Each run (``helpers.digits.run_digits``) trains with the course's training loop, keeps the model with the
best validation accuracy (the test set is never used for selection) and tests it once. After every run the
results file is rewritten atomically,

    {"config": {... everything to rerun, "git_commit", "versions"}, "runs": [{"dataset", "split", "model",
     "layers", "flossing", "seed", "validation_accuracy", "test_accuracy", "spikes_per_neuron_per_sample",
     "synaptic_ops_per_sample", "wall_time_s", ...}, ...]}

with a PNG next to it. ``--resume`` keeps the finished runs of ``--out`` (they are skipped) and continues an
unfinished run from its checkpoint in ``--checkpoint-dir``.

Examples:

    # the FSDD study of figures/fsdd_study.json (converts ../shared/data/fsdd if the spikes are missing)
    python scripts/spoken_digits_study.py --dataset fsdd --data-root /tmp/fsdd_spikes --seeds 3 --resume
    python scripts/spoken_digits_study.py --dataset fsdd --data-root /tmp/fsdd_spikes --split speaker_out \\
        --model recurrent --seeds 3 --resume
    # SHD on a GPU (the recommended configuration, helpers.digits.DIGITS_SETTINGS["shd"]; unmeasured here)
    python scripts/spoken_digits_study.py --dataset shd --data-root ~/data --device cuda --seeds 3 \\
        --out figures/shd_study.json --resume
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from helpers import digits  # noqa: E402
from helpers.provenance import atomic_write_json, git_commit, versions  # noqa: E402








def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=digits.DATASETS, default="fsdd")
    p.add_argument("--data-root", type=Path, default=None,
                   help="dataset root holding SHD/shd_{train,test}.h5 (fsdd default: $FSDD_SPIKES or <data root>/fsdd; "
                        "synthetic: a synthetic SHD is written there if missing)")
    p.add_argument("--fsdd-dir", type=Path, default=None, help="FSDD recordings (default $FSDD_DIR or ../shared/data/fsdd)")
    p.add_argument("--split", choices=digits.SPLITS, default="official")
    p.add_argument("--held-out-speaker", default=None, help=f"speaker_out: test speaker (default {digits.DEFAULT_HELD_OUT})")
    p.add_argument("--model", choices=("recurrent", "multilayer", "both"), default="both")
    p.add_argument("--flossing", choices=("on", "off", "both"), default="both")
    p.add_argument("--schedule", choices=digits.DIGIT_SCHEDULES, default="recommended",
                   help="flossing schedule (recommended: notebook 09's default; reference: Engelken 2023's episodes)")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0..seeds-1)")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None, help="training epochs per run (default: the dataset's settings)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="override entries of helpers.digits.DIGITS_SETTINGS[dataset] (numbers or tuples as Python literals)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=None, help="results JSON (default figures/<dataset>_study.json)")
    p.add_argument("--checkpoint-dir", type=Path, default=Path("/tmp/spoken_digits_ckpt"))
    p.add_argument("--resume", action="store_true", help="skip the finished runs of --out; resume from checkpoints")
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1 or (args.epochs is not None and args.epochs < 1):
        p.error("--seeds, --jobs and --epochs must be >= 1")
    if args.split == "speaker_out" and args.dataset == "shd" and args.held_out_speaker is None:
        p.error("--split speaker_out with --dataset shd needs --held-out-speaker (a speaker id)")
    if args.out is None:
        args.out = REPO / "figures" / f"{args.dataset}_study.json"
    return args


def parse_overrides(items) -> dict:
    import ast

    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def prepare_data(args) -> Path:
    """The dataset root; converts FSDD or writes the synthetic SHD when needed (clear errors otherwise)."""
    if args.dataset == "fsdd":
        return digits.ensure_fsdd_spikes(args.data_root, args.fsdd_dir)
    if args.dataset == "synthetic":
        from helpers.data import make_synthetic_shd, shd_path

        root = args.data_root or Path("/tmp/sgf_synthetic_shd")
        if not shd_path(root, "test").exists():
            make_synthetic_shd(root, n_train=400, n_test=100, n_classes=10)
        return root
    return args.data_root


def merge_and_write(path: Path, config: dict, runs: list) -> dict:
    """Write ``{"config", "runs"}`` atomically, keeping runs another invocation (e.g. another split) wrote
    to the same file meanwhile (under a lock file); our runs win on equal keys."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile

    with open(Path(tempfile.gettempdir()) / f"sgf_{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        on_disk = digits.load_study(path) or {"runs": [], "config": {}}
        ours = {run_key(r) for r in runs}
        merged = [r for r in on_disk["runs"] if run_key(r) not in ours] + list(runs)
        merged.sort(key=lambda r: run_key(r)[1:])
        other = on_disk.get("config") or {}
        cfg = dict(config)
        invocations = [c for c in other.get("invocations", []) if c.get("command") != config["command"]]
        if other.get("command") and other.get("command") != config["command"]:
            invocations.append({k: other.get(k) for k in ("command", "split", "date", "git_commit")})
        seen, cfg["invocations"] = set(), []
        for c in invocations:
            if c["command"] not in seen:
                seen.add(c["command"])
                cfg["invocations"].append(c)
        results = {"config": cfg, "runs": merged}
        atomic_write_json(results, path)
    return results


def run_key(run: dict) -> tuple:
    # runs written before the schedule field existed used the reference schedule
    schedule = run.get("schedule", "reference") if run["flossing"] else "none"
    return (run["dataset"], run["split"], run.get("held_out_speaker"), run["model"], bool(run["flossing"]),
            schedule, int(run["seed"]))


def _one(job):
    (dataset, root, split, held, model, flossing, schedule, seed, epochs, device, ckpt, threads, progress,
     overrides) = job
    torch.set_num_threads(threads)
    return digits.run_digits(dataset, root, split=split, held_out_speaker=held, model=model, flossing=flossing,
                             schedule=schedule, seed=seed, epochs=epochs, device=device, checkpoint_dir=ckpt,
                             progress=progress, **overrides)


def main(argv=None) -> dict:
    args = parse_args(argv)
    overrides = parse_overrides(args.set)
    settings = digits.settings_for(args.dataset, **overrides)
    root = prepare_data(args)
    held = (args.held_out_speaker or digits.DEFAULT_HELD_OUT) if args.split == "speaker_out" else None
    config = {
        "command": "python scripts/spoken_digits_study.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "dataset": args.dataset, "data_root": str(root), "split": args.split, "held_out_speaker": held,
        "model": args.model, "flossing": args.flossing, "schedule": args.schedule,
        "seeds": args.seeds, "first_seed": args.first_seed,
        "epochs": args.epochs or settings["epochs"], "device": args.device,
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
        "selection": "best validation accuracy over epochs (validation carved from training); test evaluated once",
        "git_commit": git_commit(), "versions": versions(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": f"{platform.node()} ({os.cpu_count()} CPUs)",
    }
    old = digits.load_study(args.out) if args.resume else None
    runs = list(old["runs"]) if old else []
    done = {run_key(r) for r in runs}
    models = ("recurrent", "multilayer") if args.model == "both" else (args.model,)
    flossings = (False, True) if args.flossing == "both" else (args.flossing == "on",)
    jobs = []  # seed-major order: an interrupted study has every (model, flossing) group for the first seeds
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for model in models:
            for flossing in flossings:
                key = (args.dataset, args.split, held, model, flossing, args.schedule if flossing else "none", seed)
                if key in done:
                    print(f"skip (done): {model} flossing={flossing} seed={seed}", flush=True)
                    continue
                # everything that changes the run is in the tag: a checkpoint never continues another run
                key = hashlib.sha1(json.dumps([args.epochs, overrides], sort_keys=True).encode()).hexdigest()[:8]
                tag = (f"{args.dataset}_{args.split}{'_' + held if held else ''}_{model}_"
                       f"{args.schedule if flossing else 'plain'}_e{args.epochs or settings['epochs']}_{key}_s{seed}")
                ckpt = args.checkpoint_dir / tag if args.resume else None
                if ckpt is not None:
                    ckpt.mkdir(parents=True, exist_ok=True)
                progress = (not args.no_progress) and args.jobs == 1
                jobs.append((args.dataset, root, args.split, held, model, flossing, args.schedule, seed, args.epochs,
                             args.device, ckpt, args.threads, progress, overrides))

    def record(run):
        runs.append(run)
        results = merge_and_write(args.out, config, runs)
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig = digits.plot_study(results, args.out.with_suffix(".png"))
            plt.close(fig)
        except Exception as exc:  # pragma: no cover - a figure must never lose a result
            print(f"(figure not written: {exc})", flush=True)
        print(f"done: {run['split']} {run['model']} flossing={run['flossing']} seed={run['seed']}: "
              f"val {run['validation_accuracy']:.3f} test {run['test_accuracy']:.3f} "
              f"spikes/neuron {run['spikes_per_neuron_per_sample']:.2f} ({run['wall_time_s']:.0f} s)", flush=True)

    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        tqdm = None
    bar = tqdm(total=len(jobs), desc="runs", disable=args.no_progress) if tqdm else None
    if args.jobs == 1:
        for job in jobs:
            record(_one(job))
            if bar:
                bar.update(1)
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for fut in as_completed([pool.submit(_one, job) for job in jobs]):
                record(fut.result())
                if bar:
                    bar.update(1)
    if bar:
        bar.close()
    if not jobs and not args.out.exists():
        return merge_and_write(args.out, config, runs)
    return digits.load_study(args.out) or {"config": config, "runs": runs}


if __name__ == "__main__":
    main()
