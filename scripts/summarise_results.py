#!/usr/bin/env python3
"""Print the README's result tables (Markdown) from the results files in figures/.

    python scripts/summarise_results.py            # every study whose file exists
    python scripts/summarise_results.py xor fsdd   # only these

Every number in the README's results section is printed by this script from a named results file, so the
README can be regenerated after any full run.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

FIGURES = Path(__file__).resolve().parents[1] / "figures"


def _load(name: str):
    path = FIGURES / name
    return json.loads(path.read_text()) if path.exists() else None


def _provenance(data: dict, name: str) -> str:
    cfg = data.get("config", {})
    commit = str(cfg.get("git_commit", "?"))[:12]
    followups = len(cfg.get("followups", []))
    more = f"; {followups} follow-up invocations listed in its config" if followups else ""
    return f"_From `figures/{name}` (commit {commit}, {cfg.get('date', '?')}, {len(data['runs'])} runs{more})._"


def _mean_std(values) -> str:
    arr = np.asarray(values, dtype=float)
    return f"{100 * arr.mean():.1f} ± {100 * arr.std():.1f}" if arr.size else "n/a"


def schedule_label(run: dict) -> str:
    """'none' without flossing, else the schedule's name (runs written before the field existed: 'reference')."""
    return run.get("schedule", "reference") if run["flossing"] else "none"


def xor_table(name: str = "delayed_xor_study.json") -> str | None:
    data = _load(name)
    if data is None:
        return None
    groups = defaultdict(list)
    for run in data["runs"]:
        groups[(run["task"], run["delay"], schedule_label(run))].append(run["test_accuracy"])
    delays = sorted({d for (_, d, _) in groups})
    task = sorted({t for (t, _, _) in groups})[0]
    labels = sorted({s for (_, _, s) in groups}, key=lambda s: (s != "none", s))
    lines = [f"| delayed {task}, delay d (bits) | " + " | ".join(str(d) for d in delays) + " |",
             "|---|" + "---|" * len(delays)]
    for label in labels:
        cells = []
        for d in delays:
            acc = groups.get((task, d, label), [])
            cells.append(f"{_mean_std(acc)} (n={len(acc)})" if acc else "")
        row = "without flossing" if label == "none" else f"with flossing ({label} schedule)"
        lines.append(f"| {row}, test accuracy % | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + _provenance(data, name)


def fsdd_table(name: str = "fsdd_study.json") -> str | None:
    data = _load(name)
    if data is None:
        return None
    groups = defaultdict(list)
    for run in data["runs"]:
        groups[(run["split"], run["model"], schedule_label(run))].append(run)
    lines = ["| split | model | flossing | seeds | validation % | test % | spikes / neuron / sample | synaptic ops / sample | wall time / run (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (split, model, label), runs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] != "none")):
        lines.append(
            f"| {split} | {model} | {'off' if label == 'none' else label} | {len(runs)} | "
            f"{_mean_std([r['validation_accuracy'] for r in runs])} | {_mean_std([r['test_accuracy'] for r in runs])} | "
            f"{np.mean([r['spikes_per_neuron_per_sample'] for r in runs]):.1f} | "
            f"{np.mean([r['synaptic_ops_per_sample'] for r in runs]):.3g} | {np.mean([r['wall_time_s'] for r in runs]):.0f} |")
    epochs = sorted({r.get("epochs") for r in data["runs"]})
    return "\n".join(lines) + f"\n\nEpochs: {epochs}. " + _provenance(data, name)


def schedule_table(name: str = "schedule_study.json") -> str | None:
    data = _load(name)
    if data is None:
        return None
    groups = defaultdict(list)
    for run in data["runs"]:
        if run.get("phase", "main") == "tune":
            continue
        label = run["schedule"]
        groups[(run["task"], run["delay"], label)].append(run)
    lines = ["| task | delay | schedule | seeds | final accuracy % | success rate | median steps to 90% | flossing time fraction |",
             "|---|---|---|---|---|---|---|---|"]
    for (task, delay, label), runs in sorted(groups.items(), key=lambda kv: (kv[0][0], -(kv[0][1] or 0), kv[0][2])):
        lines.append(
            f"| {task} | {'-' if delay is None else delay} | {label} | {len(runs)} | "
            f"{_mean_std([r['final_accuracy'] for r in runs])} | "
            f"{np.mean([r['succeeded'] for r in runs]):.2f} | {np.median([r['steps_to_90pct'] for r in runs]):.0f} | "
            f"{np.mean([r['flossing_time_fraction'] for r in runs]):.2f} |")
    return "\n".join(lines) + ("\n\nTuning runs excluded; success: test accuracy >= 0.9 (delayed XOR), >= 0.95 "
                               "(FSDD, 12 epochs). ") + _provenance(data, name)


TABLES = {"xor": xor_table, "xor_reference": lambda: xor_table("delayed_xor_study_reference_schedule.json"),
          "xor_steepness3": lambda: xor_table("delayed_xor_study_steepness3.json"),
          "xor_steepness3_reference": lambda: xor_table("delayed_xor_study_steepness3_reference_schedule.json"),
          "xor3000": lambda: xor_table("delayed_xor_study_3000steps.json"),
          "xor_2layers": lambda: xor_table("delayed_xor_study_2layers.json"),
          "xor_2layers_3000": lambda: xor_table("delayed_xor_study_2layers_3000steps.json"),
          "fsdd": fsdd_table, "fsdd24": lambda: fsdd_table("fsdd_study_24epochs.json"),
          "fsdd_reference": lambda: fsdd_table("fsdd_study_reference_schedule.json"),
          "fsdd24_reference": lambda: fsdd_table("fsdd_study_24epochs_reference_schedule.json"),
          "schedules": schedule_table}


def main(argv):
    for key in argv or TABLES:
        if key not in TABLES:
            sys.exit(f"unknown table {key!r}; choose from {list(TABLES)}")
        table = TABLES[key]()
        print(f"### {key}\n\n{table if table else '(no results file yet)'}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
