"""Notebook 07 (temporal credit assignment): plots, the stored study, and the live control."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..config import FIGURES_DIR, by_mode
from ..widgets import Choice, IntSlider, demo

STUDY_PATH = FIGURES_DIR / "delayed_xor_study.json"

#: Published anchor (Engelken 2023, binary RNNs, N = 80, 9 networks, mean final test accuracy in %),
#: quoted from COURSE.md section 5: delay -> (no flossing, flossing during training).
PUBLISHED_ANCHOR = {10: (100.0, 100.0), 14: (99.8, 100.0), 18: (52.7, 98.7), 22: (52.8, 76.3), 26: (52.8, 64.3)}


def plot_task(task, x, y, mask, sample: int = 0):
    """Input raster (group 0 / group 1), the bit stream, the targets and the mask of one sample."""
    x, y, mask = x[sample].cpu(), y[sample].cpu(), mask[sample].cpu()
    t = np.arange(x.shape[0])
    fig, axes = plt.subplots(3, 1, figsize=(9, 5), sharex=True, layout="constrained",
                             height_ratios=(3, 1, 1))
    for group, color in ((0, "C0"), (1, "C3")):
        chans = slice(group * task.n_per_group, (group + 1) * task.n_per_group)
        tt, nn = np.nonzero(x[:, chans].numpy())
        axes[0].scatter(tt, nn + group * task.n_per_group, s=3, color=color, label=f"group for bit {group}")
    for b in range(task.n_bits + 1):
        for ax in axes:
            ax.axvline(b * task.hold - 0.5, color="0.85", lw=0.5, zorder=0)
    axes[0].set(ylabel="input neuron", title=task.describe())
    axes[0].legend(fontsize=7, loc="upper right")
    decoded = x.reshape(task.n_bits, task.hold, 2, task.n_per_group).sum((1, 3)).argmax(-1)
    axes[1].step(t, decoded.repeat_interleave(task.hold).numpy(), where="mid", color="k")
    axes[1].set(ylabel="bit $x_b$", yticks=(0, 1))
    target = np.where(mask.numpy(), y.numpy(), np.nan)
    axes[2].step(t, target, where="mid", color="C2", label="target $y_b$")
    axes[2].fill_between(t, -0.1, 1.1, where=~mask.numpy(), color="0.8", alpha=0.6, step="mid",
                         label="masked (before the delay)")
    axes[2].set(ylabel="target", xlabel="time step", yticks=(0, 1), ylim=(-0.15, 1.15))
    axes[2].legend(fontsize=7, loc="upper right")
    return fig


def load_study(path: Path | str | None = None) -> dict | None:
    """The stored results of ``scripts/delayed_xor_study.py`` (None if the file does not exist)."""
    path = Path(STUDY_PATH if path is None else path)
    if not path.exists():
        return None
    return json.loads(path.read_text())


def stored_study_table(name: str, command: str, hold: int, tau_steps: float):
    """Name the run behind ``figures/<name>`` and print its table (no anchor); returns the rows, or None (and the
    command that makes the file) if it does not exist."""
    results = load_study(FIGURES_DIR / name)
    if results is None:
        print(f"figures/{name} not found: {command}")
        return None
    print(describe_run(results))
    return print_tables([r for r in results["runs"] if r["task"] == "xor"], hold=hold, tau_steps=tau_steps,
                        anchor=False)


def describe_run(results: dict) -> str:
    """One line naming the run that produced stored results."""
    c = results["config"]
    n = len(results["runs"])
    return (f"stored study: {n} runs, git commit {c.get('git_commit', '?')}, {c.get('date', '?')}, "
            f"torch {c['versions']['torch']}, {c.get('machine', '')}, "
            f"{results.get('study_wall_time_s', float('nan')) / 60:.0f} min wall time\n  command: {c.get('command', '?')}")


def study_table(runs) -> list[dict]:
    """Rows per delay: mean, std and n of the test accuracy (%) without and with flossing."""
    rows = []
    for d in sorted({r["delay"] for r in runs}):
        row = {"delay": d}
        for f, key in ((False, "off"), (True, "on")):
            acc = [100 * r["test_accuracy"] for r in runs if r["delay"] == d and r["flossing"] == f]
            row[key] = (float(np.mean(acc)), float(np.std(acc)), len(acc)) if acc else None
            lam = [r["lambda_1"] for r in runs if r["delay"] == d and r["flossing"] == f and "lambda_1" in r]
            row[f"lambda_1_{key}"] = float(np.mean(lam)) if lam else float("nan")
        rows.append(row)
    return rows


def longest_delay_above(rows, key: str, level: float = 90.0):
    """The longest delay whose mean accuracy (%) is >= level, with all shorter delays also >= level (or None)."""
    best = None
    for row in rows:
        if row[key] is None or row[key][0] < level:
            break
        best = row["delay"]
    return best


def print_tables(runs, hold: int, tau_steps: float, anchor: bool = True):
    """The study table (mean +- std over seeds, %) and (``anchor``) the published binary-network anchor."""
    rows = study_table(runs)
    print("This course (LIF RSNN, spike-coded bits; mean +- std over seeds, test accuracy %;"
          " lambda_1: mean leading exponent per step at the end of training)")
    print(f"{'d (bits)':>9} {'steps':>6} {'tau_mem':>8} {'no flossing':>20} {'flossing':>20}"
          f" {'lambda_1 off':>12} {'lambda_1 on':>12}")
    for row in rows:
        cells = []
        for key in ("off", "on"):
            cells.append("-" if row[key] is None else f"{row[key][0]:6.1f} +- {row[key][1]:4.1f} (n={row[key][2]})")
        print(f"{row['delay']:>9} {row['delay'] * hold:>6} {row['delay'] * hold / tau_steps:>8.1f} "
              f"{cells[0]:>20} {cells[1]:>20} {row['lambda_1_off']:>12.3f} {row['lambda_1_on']:>12.3f}")
    if not anchor:
        return rows
    print("\nPublished anchor (Engelken 2023, binary RNNs, N = 80, 9 networks, mean test accuracy %; COURSE.md 5)")
    print(f"{'d (steps)':>9} {'no flossing':>12} {'flossing':>9}")
    for d, (off, on) in PUBLISHED_ANCHOR.items():
        print(f"{d:>9} {off:>12.1f} {on:>9.1f}")
    return rows


def plot_training(histories: dict, title: str = ""):
    """Validation accuracy and task loss against training step, one line per labelled history."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3), layout="constrained")
    for label, h in histories.items():
        axes[0].plot(h["step"], h["accuracy"], marker="o", ms=3, label=label)
        axes[1].plot(np.arange(1, len(h["train_loss"]) + 1), h["train_loss"], lw=0.8, label=label)
    axes[0].axhline(0.5, color="gray", ls=":", lw=1)
    axes[0].set(xlabel="training step", ylabel="accuracy (fresh data)", title=title)
    axes[1].set(xlabel="training step", ylabel="task loss (training batch)")
    axes[0].legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------------------------------- live control
def _live_runs(delay: int, flossing: bool):
    """A tiny live training run (when no stored study exists): a few steps, small network, sanity-level only."""
    from ..flossing import FlossingConfig, PreFlossing
    from ..training import delayed_task_setup, evaluate, train

    task, model, s = delayed_task_setup("xor", delay, 0, n_hidden=16, extra_bits=2)
    schedule = PreFlossing(1, FlossingConfig(k=2, seq_len=20, transient=4, batch_size=2)) if flossing else None
    steps = by_mode(quick=3, standard=6, full=6)
    hist = train(model, task, steps, lr=s["lr"], schedule=schedule, batch_size=8, eval_every=steps,
                 eval_batches=1, eval_batch_size=16, lyap_every=0, progress=False)
    test = evaluate(model, task, 1, 32, seed=10**6)
    return [{"delay": delay, "flossing": flossing, "seed": 0, "test_accuracy": test["accuracy"],
             "val_accuracy_curve": {"step": hist["step"], "accuracy": hist["accuracy"]}}]


@demo(delay=IntSlider(2, 10, 4, step=2, description="delay d (bits)"),
      flossing=Choice(("off", "on", "both"), "both", description="flossing"))
def study_demo(delay, flossing):
    """Stored study at one delay: per-seed test accuracy and validation-accuracy curves, with/without flossing."""
    results = load_study()
    modes = {"off": [False], "on": [True], "both": [False, True]}[flossing]
    if results is not None:
        runs = [r for r in results["runs"] if r["delay"] == delay and r["flossing"] in modes]
        source = "stored study"
    else:
        runs = [r for f in modes for r in _live_runs(delay, f)]
        source = "tiny live run (no stored study found), sanity-level only"
    fig, axes = plt.subplots(1, 2, figsize=(9, 3), layout="constrained")
    for f, color in ((False, "C0"), (True, "C3")):
        sel = sorted((r for r in runs if r["flossing"] == f), key=lambda r: r["seed"])
        if not sel:
            continue
        label = "flossing" if f else "no flossing"
        offset = 0.2 if f else -0.2
        acc = [r["test_accuracy"] for r in sel]
        axes[0].bar(np.arange(len(sel)) + offset, acc, width=0.4, color=color,
                    label=f"{label}: mean {np.mean(acc):.3f}")
        for r in sel:
            curve = r["val_accuracy_curve"]
            axes[1].plot(curve["step"], curve["accuracy"], color=color, alpha=0.6, lw=1)
        axes[1].plot([], [], color=color, label=label)
    if not runs:
        axes[0].text(0.5, 0.5, "no stored runs at this delay yet", ha="center", transform=axes[0].transAxes)
    for ax in axes:
        ax.axhline(0.5, color="gray", ls=":", lw=1)
    axes[0].axhline(0.9, color="gray", ls="--", lw=1)
    axes[0].set(xlabel="seed", ylabel="test accuracy", ylim=(0, 1.05), title=f"delay {delay} bits ({source})")
    axes[1].set(xlabel="training step", ylabel="validation accuracy", ylim=(0.3, 1.05))
    if runs:
        axes[0].legend(fontsize=7, loc="lower right")
        axes[1].legend(fontsize=7)
    return fig
