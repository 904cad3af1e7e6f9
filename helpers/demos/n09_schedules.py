"""Notebook 09 (flossing schedules): the schedules' timelines, a live training demo, the stored study.

The notebook explains; the bookkeeping (building schedules, reading ``figures/schedule_study.json``, the
tables and figures) lives here.
"""

from __future__ import annotations

import json
import math
import statistics

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..config import FIGURES_DIR, by_mode
from ..flossing import FlossingConfig, NoFlossing, PeriodicFlossing, PreFlossing
from ..schedules import AdaptiveFlossing, AnnealedFlossing, RegularizerFlossing, lyapunov_probe, schedule_timeline
from ..widgets import Choice, FloatSlider, IntSlider, demo

STUDY_FILE = FIGURES_DIR / "schedule_study.json"
ORDER = ("none", "pre", "reference", "regularizer", "adaptive", "annealed", "regularizer_every20", "regularizer_pre",
         "regularizer_w100", "regularizer_w1000")
COLORS = dict(zip(ORDER, ("0.4", "tab:purple", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:brown",
                          "tab:pink", "tab:olive", "tab:cyan")))
POOLED = ("main", "confirm", "extra")  # phases whose runs were never used to pick parameters


# ------------------------------------------------------------------------------------------ the schedules
def study_schedules(config: FlossingConfig | None = None) -> dict:
    """The six schedules of the study with its parameters (see ``scripts/schedule_study.py``)."""
    c = config or FlossingConfig(seq_len=100, transient=20)
    return {
        "none": NoFlossing(c),
        "pre": PreFlossing(30, c),
        "reference": PeriodicFlossing(30, (100, 200), 30, c),
        "regularizer": RegularizerFlossing(weight=10.0, every=10, config=c),
        "adaptive": AdaptiveFlossing(band=0.03, episode_updates=5, pre_updates=10, check_every=25, max_episodes=4,
                                     config=c),
        "annealed": AnnealedFlossing(pre_updates=10, initial_updates=10, every=50, half_life=100.0, config=c),
    }


def illustrative_observations(schedule: AdaptiveFlossing, n_steps: int, lam0: float = -0.02,
                              drift: float = -2e-4, pull: float = 0.01) -> list:
    """Feed an adaptive schedule a made-up exponent that drifts down with training and jumps up by ``pull``
    after each flossing episode (an illustration, not a measurement). Returns the observed values."""
    schedule.reset()
    lam, seen = lam0, []
    for s in range(1, n_steps):
        lam += drift
        if schedule.updates_before(s) > 0:
            lam += pull
        if s % schedule.check_every == 0:
            seen.append((s, lam))
            schedule.observe(s, lambda_1=lam)
    return seen


def timeline_figure(n_steps: int = 300):
    """Flossing updates (bars) and loss weight (line) against the training step for each schedule."""
    scheds = study_schedules()
    seen = illustrative_observations(scheds["adaptive"], n_steps)
    fig, axes = plt.subplots(len(scheds), 1, figsize=(8, 1.25 * len(scheds)), sharex=True, layout="constrained")
    for ax, (name, s) in zip(axes, scheds.items()):
        t = schedule_timeline(s, n_steps)
        steps, upd, w = np.array(t["step"]), np.array(t["updates"]), np.array(t["weight"])
        nz = upd > 0
        ax.vlines(steps[nz], 0, upd[nz], color=COLORS[name], lw=2)
        cost = int(upd.sum()), int((w > 0).sum())
        ax.set_ylabel("updates", fontsize=8)
        ax.text(0.99, 0.8, f"{name}: {cost[0]} updates + {cost[1]} loss passes", transform=ax.transAxes,
                ha="right", fontsize=8)
        ax.set_ylim(0, max(35, upd.max() * 1.2))
        if w.any():
            ax2 = ax.twinx()
            ax2.plot(steps, w, color="k", lw=1)
            ax2.set_ylabel("weight $w_s$", fontsize=8)
            ax2.set_ylim(0, w.max() * 1.3)
        if name == "adaptive":
            ax.text(0.01, 0.8, f"episodes from illustrative observations at {len(seen)} checks", fontsize=7,
                    transform=ax.transAxes)
    axes[-1].set_xlabel("training step")
    fig.suptitle("when each schedule flosses (eq. 9.1)", fontsize=10)
    return fig


# ------------------------------------------------------------------------------------------ live demo
LIVE_CHOICES = ("none", "pre", "periodic", "regularizer", "adaptive", "annealed")


def make_live_schedule(name: str, amount: int, target: float, n_steps: int, config: FlossingConfig,
                       probe=None):
    """One schedule of the live demo; ``amount`` sets its size (updates per episode, or the loss weight)."""
    c = FlossingConfig(**{**config.__dict__, "target": float(target)})
    third = max(1, n_steps // 3)
    if name == "none":
        return NoFlossing(c)
    if name == "pre":
        return PreFlossing(amount, c)
    if name == "periodic":
        return PeriodicFlossing(amount, (third, 2 * third), amount, c)
    if name == "regularizer":
        return RegularizerFlossing(weight=float(amount), every=2, config=c)
    if name == "adaptive":
        return AdaptiveFlossing(band=0.02, episode_updates=amount, check_every=max(1, n_steps // 5),
                                probe=probe, config=c)
    if name == "annealed":
        return AnnealedFlossing(initial_updates=2 * amount, every=max(1, n_steps // 5), half_life=n_steps / 3,
                                pre_updates=amount, config=c)
    raise ValueError(f"schedule must be one of {LIVE_CHOICES}, got {name!r}")


def live_run(schedule: str = "periodic", amount: int = 2, target: float = 0.0, seed: int = 0,
             n_steps: int | None = None, n_hidden: int | None = None, delay: int = 2) -> dict:
    """Train a small network on delayed XOR with one schedule; return the history and the timeline used."""
    from ..training import delayed_task_setup, train

    n_steps = n_steps or by_mode(quick=10, standard=60, full=300)
    n_hidden = n_hidden or by_mode(quick=16, standard=32, full=64)
    seq = by_mode(quick=20, standard=50, full=100)
    task, model, s = delayed_task_setup("xor", delay, seed, n_hidden=n_hidden, hold=2, n_per_group=4,
                                        extra_bits=4)
    config = FlossingConfig(k=1, seq_len=seq, transient=4, batch_size=1, lr=3e-3)
    probe = lyapunov_probe(model, task.input_sampler, seq_len=seq, transient=4, batch_size=1, seed=seed)
    sched = make_live_schedule(schedule, amount, target, n_steps, config, probe)
    every = max(1, n_steps // 4)
    hist = train(model, task, n_steps, lr=5e-3, schedule=None if schedule == "none" else sched,
                 batch_size=by_mode(quick=8, standard=16, full=32), seed=seed, eval_every=every, eval_batches=1,
                 eval_batch_size=by_mode(quick=16, standard=32, full=64), lyap_every=every, lyap_k=1,
                 lyap_len=seq, lyap_transient=4, progress=False)
    timeline = schedule_timeline(sched, n_steps)
    return {"history": hist, "timeline": timeline, "schedule": sched, "task": task, "n_hidden": n_hidden}


@demo(schedule=Choice(LIVE_CHOICES, "periodic", description="schedule"),
      amount=IntSlider(1, 5, 2, description="updates / weight"),
      target=FloatSlider(-0.1, 0.05, 0.0, step=0.01, description="target λ*"))
def schedule_demo(schedule, amount, target):
    """Train a small spiking network on delayed XOR with the chosen schedule; watch lambda_1 and the training."""
    run = live_run(schedule, amount, target)
    h, t = run["history"], run["timeline"]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3), layout="constrained")
    ax = axes[0]
    st, up = np.asarray(t["step"]), np.asarray(t["updates"])
    ax.vlines(st[up > 0], 0, up[up > 0], color=COLORS.get(schedule, "tab:blue"), lw=3, label="updates")
    ax.plot(t["step"], t["weight"], "k-", lw=1, label="loss weight")
    ax.set(xlabel="training step", ylabel="updates / weight", title=f"{schedule}: when it flossed")
    ax.set_ylim(0, max(1.0, max(t["updates"]) * 1.2, max(t["weight"]) * 1.2))
    ax.legend(fontsize=7)
    ax = axes[1]
    lam = np.nan_to_num(np.asarray(h["lambda_1"], dtype=float), nan=0.0)
    ax.plot(h["lyap_step"], lam, "o-", color="tab:green")
    ax.axhline(target, color="k", ls="--", lw=1, label="target")
    if schedule == "adaptive":
        ax.axhspan(target - 0.02, target + 0.02, color="tab:green", alpha=0.15, label="band")
    ax.set(xlabel="training step", ylabel=r"$\lambda_1$ (1/step)", title="leading exponent")
    ax.legend(fontsize=7)
    ax = axes[2]
    ax.plot(np.arange(1, len(h["train_loss"]) + 1), h["train_loss"], color="0.5", lw=1, label="train loss")
    ax.plot(h["step"], np.nan_to_num(h["accuracy"], nan=0.5), "o-", color="tab:blue", label="val accuracy")
    ax.set(xlabel="training step", title=f"training ({run['n_hidden']} LIF, sanity-level)")
    ax.legend(fontsize=7)
    return fig


# ------------------------------------------------------------------------------------------ the stored study
def load_study(path=STUDY_FILE) -> dict | None:
    """The results of ``scripts/schedule_study.py``, or None if the file is absent."""
    try:
        return json.loads(open(path).read())
    except FileNotFoundError:
        return None


def _groups(runs, phase="main"):
    phases = (phase,) if isinstance(phase, str) else tuple(phase)
    out: dict = {}
    for r in runs:
        if r["phase"] in phases:
            out.setdefault((r["delay"], r["schedule"]), []).append(r)
    return out


def steps_to_level(run: dict, level: float) -> float:
    """First evaluation step where the run's validation accuracy reaches ``level`` (inf if never)."""
    c = run["val_accuracy_curve"]
    for s, a in zip(c["step"], c["accuracy"]):
        if a >= level:
            return s
    return math.inf


def study_rows(results: dict, phases=("main",)) -> list[dict]:
    """Per delay x schedule (runs of ``phases``): accuracy mean/std, success, steps to 90%, flossing fraction,
    and the steps needed to reach the reference schedule's mean final validation accuracy."""
    g = _groups(results["runs"], phases)
    rows = []
    def order(kv):  # the hard delay first; FSDD runs have no delay (None)
        (delay, name), _ = kv
        return -(delay or 0), ORDER.index(name) if name in ORDER else 9

    for (delay, name), rs in sorted(g.items(), key=order):
        acc = [r["final_accuracy"] for r in rs]
        ref = g.get((delay, "reference"))
        ref_level = statistics.mean(r["final_val_accuracy"] for r in ref) if ref else math.nan
        reach = [steps_to_level(r, ref_level) for r in rs] if ref else []
        none = g.get((delay, "none"))
        wall_none = statistics.mean(r["wall_time_s"] for r in none) if none else math.nan
        rows.append({
            "delay": delay, "schedule": name, "n": len(rs), "acc_mean": statistics.mean(acc),
            "acc_std": statistics.pstdev(acc) if len(acc) > 1 else 0.0,
            "success": sum(r["succeeded"] for r in rs) / len(rs),
            "steps90": statistics.mean(r["steps_to_90pct"] for r in rs),
            "floss_frac": statistics.mean(r["flossing_time_fraction"] for r in rs),
            "updates": statistics.mean(r["flossing_updates"] + r.get("flossing_passes", 0) for r in rs),
            "wall_overhead": statistics.mean(r["wall_time_s"] for r in rs) / wall_none - 1,
            "loss_spikes": statistics.mean(r["loss_spikes"] for r in rs),
            "log_gn_std": statistics.mean(r["log_grad_norm_std"] for r in rs),
            "lambda_1": statistics.mean(r["lambda_1_final"] for r in rs),
            "reach_ref_median": statistics.median(reach) if reach else math.nan,
            "reach_ref_frac": sum(math.isfinite(x) for x in reach) / len(reach) if reach else math.nan,
        })
    return rows


def study_table(results: dict, phases=("main",), extras: bool = True) -> str:
    """A text table of :func:`study_rows`, and the tuning and confirmation runs if any."""
    lines = [f"{'d':>2} {'schedule':<12} {'n':>2} {'test acc':>14} {'success':>7} {'steps90':>7} "
             f"{'floss t':>7} {'updates':>7} {'spikes':>6} {'lambda1':>8} {'to ref':>7}"]
    for r in study_rows(results, phases):
        lines.append(f"{r['delay']:>2} {r['schedule']:<12} {r['n']:>2} {r['acc_mean']:>7.3f} ± {r['acc_std']:.3f} "
                     f"{r['success']:>7.2f} {r['steps90']:>7.0f} {r['floss_frac']:>7.2f} {r['updates']:>7.0f} "
                     f"{r['loss_spikes']:>6.1f} {r['lambda_1']:>8.3f} {r['reach_ref_median']:>7}")
    tune = tuning_rows(results) if extras else []
    if tune:
        lines.append("\ntuning (hard delay; selected on validation accuracy):")
        for t in tune:
            lines.append(f"  {t['schedule']} {json.dumps(t['params'])}: val {t['val_mean']:.3f}, "
                         f"test {t['acc_mean']:.3f} ± {t['acc_std']:.3f}, floss t {t['floss_frac']:.2f} (n={t['n']})")
    conf = confirm_rows(results) if extras else []
    if conf:
        setting = results["config"].get("confirmed_setting", {})
        lines.append(f"\nconfirmation on fresh seeds (hard delay; tuned setting {json.dumps(setting.get('params'))}):")
        for c in conf:
            lines.append(f"  {c['schedule']:<12} seeds {c['seeds']}: test {c['acc_mean']:.3f} ± {c['acc_std']:.3f}, "
                         f"success {c['success']:.2f}, floss t {c['floss_frac']:.2f}")
    return "\n".join(lines)


def confirm_rows(results: dict) -> list[dict]:
    """The confirmation runs (fresh seeds, never used for selection): per schedule mean/std test accuracy."""
    groups: dict = {}
    for r in results["runs"]:
        if r["phase"] == "confirm":
            groups.setdefault(r["schedule"], []).append(r)
    rows = []
    for name, rs in groups.items():
        acc = [r["final_accuracy"] for r in rs]
        rows.append({"schedule": name, "seeds": sorted(r["seed"] for r in rs), "n": len(rs),
                     "acc_mean": statistics.mean(acc), "acc_std": statistics.pstdev(acc) if len(acc) > 1 else 0.0,
                     "success": sum(r["succeeded"] for r in rs) / len(rs),
                     "floss_frac": statistics.mean(r["flossing_time_fraction"] for r in rs)})
    return sorted(rows, key=lambda r: ORDER.index(r["schedule"]) if r["schedule"] in ORDER else 9)


def tuning_rows(results: dict) -> list[dict]:
    """The tuned schedule's parameter settings at the tuning delay (its main-phase setting included)."""
    name = results["config"].get("tuned_schedule")
    delay = results["config"].get("tune_delay")
    if name is None:
        return []
    groups: dict = {}
    for r in results["runs"]:
        if r["schedule"] == name and r["delay"] == delay and r["phase"] in ("main", "tune"):
            groups.setdefault(json.dumps(r["schedule_params"], sort_keys=True), []).append(r)
    rows = []
    for params, rs in groups.items():
        acc = [r["final_accuracy"] for r in rs]
        rows.append({"schedule": name, "params": json.loads(params), "n": len(rs),
                     "val_mean": statistics.mean(r["final_val_accuracy"] for r in rs),
                     "acc_mean": statistics.mean(acc), "acc_std": statistics.pstdev(acc) if len(acc) > 1 else 0.0,
                     "success": sum(r["succeeded"] for r in rs) / len(rs),
                     "floss_frac": statistics.mean(r["flossing_time_fraction"] for r in rs)})
    return sorted(rows, key=lambda r: -r["val_mean"])


def describe_run(results: dict) -> str:
    c = results["config"]
    started = c.get("date_started") or c["date"]
    return (f"study started {started} (last resumed {c['date']}) at commit {c['git_commit']}: {c['task']} delays {c['delays']}, "
            f"{len(c['seeds'])} seeds (+ confirmation and {len(c.get('followups', []))} follow-up commands "
            f"adding seeds up to {max(r['seed'] for r in results['runs'])}), {c['n_steps']} task steps per run, "
            f"{c['settings']['n_hidden']} LIF neurons, {len(results['runs'])} runs, "
            f"{results.get('study_wall_time_s', float('nan')) / 60:.0f} min on {c['machine']}")


def plot_study(results: dict):
    """Final test accuracy, flossing time fraction and validation curves per schedule (and the tuning), from
    every run never used to choose parameters (main, confirmation and follow-up phases)."""
    g = _groups(results["runs"], POOLED)
    delays = sorted({d for d, _ in g}, reverse=True)
    names = [n for n in ORDER if any((d, n) in g for d in delays)]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.4), layout="constrained")
    ax = axes[0]
    width = 0.8 / max(1, len(delays))
    for j, d in enumerate(delays):
        for i, n in enumerate(names):
            rs = g.get((d, n), [])
            if not rs:
                continue
            acc = [r["final_accuracy"] for r in rs]
            x = i + (j - (len(delays) - 1) / 2) * width
            ax.bar(x, np.mean(acc), width * 0.9, color=COLORS[n], alpha=0.45 if j else 0.9)
            ax.plot([x] * len(acc), acc, "k.", ms=4)
    ax.axhline(results["config"]["success_threshold"], color="k", ls=":", lw=1)
    ax.set_xticks(range(len(names)), names, rotation=40, fontsize=8)
    title = f"d = {delays[0]} (dark)" + (f", d = {delays[1]} (light)" if len(delays) > 1 else "")
    ax.set(ylim=(0.45, 1.0), ylabel="final test accuracy", title=title)
    ax = axes[1]
    for i, n in enumerate(names):
        fr = [r["flossing_time_fraction"] for d in delays for r in g.get((d, n), [])]
        if fr:
            ax.bar(i, np.mean(fr), color=COLORS[n])
    ax.axhline(0.2, color="k", ls=":", lw=1)
    ax.set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], rotation=40, fontsize=7)
    ax.set(ylabel="fraction of wall time flossing", title="compute overhead (0.2 = +25%)")
    ax = axes[2]
    d = delays[0]
    for n in names:
        rs = g.get((d, n), [])
        if rs:
            steps = rs[0]["val_accuracy_curve"]["step"]
            acc = np.mean([r["val_accuracy_curve"]["accuracy"] for r in rs], axis=0)
            ax.plot(steps, acc, "-", color=COLORS[n], label=n)
    ax.set(xlabel="training step", ylabel="validation accuracy", title=f"mean learning curves, d = {d}")
    ax.legend(fontsize=7)
    ax = axes[3]
    tune = tuning_rows(results)
    if tune:
        labels = [", ".join(f"{k}={v}" for k, v in t["params"].items() if k not in ("target",))[:40] for t in tune]
        y = np.arange(len(tune))
        ax.barh(y, [t["acc_mean"] for t in tune], xerr=[t["acc_std"] for t in tune],
                color=COLORS.get(tune[0]["schedule"], "tab:gray"))
        ax.set_yticks(y, labels, fontsize=6)
        ax.set(xlim=(0.45, 1.0), xlabel="final test accuracy",
               title=f"tuning {tune[0]['schedule']} (d = {results['config'].get('tune_delay')})")
        ref = g.get((results["config"].get("tune_delay"), "reference"))
        if ref:
            ax.axvline(np.mean([r["final_accuracy"] for r in ref]), color=COLORS["reference"], ls="--",
                       label="reference")
            ax.legend(fontsize=7)
    else:
        for n in names:
            lam = [r["lambda_1_final"] for dd in delays for r in g.get((dd, n), [])]
            if lam:
                ax.plot([names.index(n)] * len(lam), lam, "o", color=COLORS[n])
        ax.set_xticks(range(len(names)), names, rotation=40, fontsize=8)
        ax.set(ylabel=r"final $\lambda_1$", title="leading exponent after training")
    return fig


# ------------------------------------------------------------------------------------------ the verdict
def overhead_over_plain(fraction: float) -> float:
    """Extra compute relative to training without flossing, from the fraction f of wall time spent flossing:
    f / (1 - f) (e.g. f = 0.2 -> +25%)."""
    return fraction / (1.0 - fraction) if fraction < 1 else math.inf


def verdict(results: dict, max_overhead: float = 0.25) -> dict:
    """The issue's goal, checked per schedule on the runs never used for selection (main, confirmation and
    follow-up phases pooled): at equal budget, reach the reference schedule's mean final validation accuracy
    within half the task steps (median over seeds, at either delay), or raise the success rate at the hard
    delay, with at most ``max_overhead`` extra compute over training without flossing (overhead f / (1 - f)
    from the measured fraction f of wall time spent flossing, averaged over both delays).

    Returns ``{"hard_delay", "easy_delay", "schedules": {name: {...}}, "recommended", "reason"}``. The
    recommendation: among flossing schedules within the overhead limit (else all), those meeting the goal
    first, then the best mean test accuracy over both delays.
    """
    rows = study_rows(results, POOLED)
    delays = sorted({r["delay"] for r in rows})
    hard, easy = max(delays), min(delays)
    n_steps = results["config"]["n_steps"]
    by = {(r["delay"], r["schedule"]): r for r in rows}
    out = {}
    for name in dict.fromkeys(r["schedule"] for r in rows):
        if (hard, name) not in by:
            continue
        r, e = by[(hard, name)], by.get((easy, name))
        ref = by.get((hard, "reference"))
        fr = [x["floss_frac"] for x in rows if x["schedule"] == name]
        ov = overhead_over_plain(statistics.mean(fr))
        fast = {d: by[(d, name)]["reach_ref_frac"] == 1.0 and by[(d, name)]["reach_ref_median"] <= n_steps / 2
                for d in (hard, easy) if (d, name) in by}
        more_success = ref is not None and r["success"] > ref["success"]
        out[name] = {"acc_hard": r["acc_mean"], "acc_hard_std": r["acc_std"], "n_hard": r["n"],
                     "success_hard": r["success"],
                     "acc_easy": e["acc_mean"] if e else math.nan, "acc_easy_std": e["acc_std"] if e else math.nan,
                     "n_easy": e["n"] if e else 0, "success_easy": e["success"] if e else math.nan,
                     "overhead": ov, "reach_ref_median_hard": r["reach_ref_median"],
                     "reach_ref_median_easy": e["reach_ref_median"] if e else math.nan,
                     "half_the_steps": fast, "higher_success": more_success,
                     "meets_goal": (any(fast.values()) or more_success) and ov <= max_overhead}
    flossing = {k: v for k, v in out.items() if k != "none"}
    within = {k: v for k, v in flossing.items() if v["overhead"] <= max_overhead}
    pool = within or flossing
    best = max(pool, key=lambda k: (pool[k]["meets_goal"], pool[k]["acc_hard"] + pool[k]["acc_easy"]))
    reason = (f"{'meets the goal; ' if pool[best]['meets_goal'] else 'no schedule meets the goal; '}"
              f"best mean test accuracy (hard + easy delay) among flossing schedules "
              f"{'within' if within else 'closest to (none within)'} the {max_overhead:.0%} overhead limit")
    return {"hard_delay": hard, "easy_delay": easy, "schedules": out, "recommended": best, "reason": reason}


def verdict_text(v: dict) -> str:
    h, e = v["hard_delay"], v["easy_delay"]
    lines = [f"{'schedule':<20} {'acc d=' + str(h):>16} {'succ':>5} {'acc d=' + str(e):>16} {'succ':>5} "
             f"{'overhead':>8} {'to ref d=' + str(h):>10} {'to ref d=' + str(e):>10} {'goal':>5}"]
    for name, s in v["schedules"].items():
        lines.append(f"{name:<20} {s['acc_hard']:>6.3f} ± {s['acc_hard_std']:.3f} ({s['n_hard']}) {s['success_hard']:>5.2f} "
                     f"{s['acc_easy']:>6.3f} ± {s['acc_easy_std']:.3f} ({s['n_easy']}) {s['success_easy']:>5.2f} "
                     f"{s['overhead']:>+8.0%} {s['reach_ref_median_hard']:>10} {s['reach_ref_median_easy']:>10} "
                     f"{str(s['meets_goal']):>5}")
    lines.append(f"(n) = seeds; 'to ref' = median step at which the validation accuracy first reached the reference "
                 f"schedule's mean final value (inf: never)")
    none = v["schedules"].get("none")
    if none and none["meets_goal"]:
        lines.append("note: training without flossing also meets the speed criterion (it reaches the reference "
                     "schedule's final accuracy within half the steps), so that bar is not demanding here")
    lines.append(f"recommended: {v['recommended']} ({v['reason']})")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ spoken digits
def fsdd_rows(results: dict) -> list[dict]:
    """The FSDD comparison (phase ``fsdd`` of the study): :func:`study_rows` per schedule, plus the median
    epoch at which the validation accuracy first reached the reference schedule's mean final value."""
    rows = study_rows(results, ("fsdd",))
    runs = [r for r in results["runs"] if r["phase"] == "fsdd"]
    spe = runs[0]["steps_per_epoch"] if runs else 1
    for r in rows:
        r["reach_ref_epoch"] = r["reach_ref_median"] / spe
        r["epoch90"] = r["steps90"] / spe
        r["epochs"] = runs[0]["epochs"] if runs else 0
    return rows


def fsdd_verdict(results: dict, max_overhead: float = 0.25) -> dict:
    """The issue's goal on FSDD: reach the reference schedule's mean final validation accuracy within half the
    training steps (median over seeds, every seed reaching it), with at most ``max_overhead`` extra compute."""
    rows = {r["schedule"]: r for r in fsdd_rows(results)}
    if not rows:
        return {}
    n_steps = max(r["n_steps"] for r in results["runs"] if r["phase"] == "fsdd")
    out = {}
    for name, r in rows.items():
        ov = overhead_over_plain(r["floss_frac"])
        half = r["reach_ref_frac"] == 1.0 and r["reach_ref_median"] <= n_steps / 2
        out[name] = {**r, "overhead": ov, "half_the_steps": half,
                     "meets_goal": name not in ("none", "reference") and half and ov <= max_overhead}
    return out


def fsdd_text(results: dict) -> str:
    """A text table of :func:`fsdd_verdict`."""
    v = fsdd_verdict(results)
    if not v:
        return "no FSDD runs in the study file (run: python scripts/schedule_study.py --task fsdd --resume)"
    first = next(iter(v.values()))
    lines = [f"FSDD, official split, recurrent 128 LIF, {first['epochs']} epochs, test accuracy of the epoch selected "
             f"on validation",
             f"{'schedule':<20} {'n':>2} {'test acc':>14} {'success':>7} {'epoch 90%':>9} {'to ref (epoch)':>14} "
             f"{'floss t':>7} {'overhead':>8} {'spikes':>6} {'log|g| sd':>9} {'goal':>5}"]
    for name, s in v.items():
        lines.append(f"{name:<20} {s['n']:>2} {s['acc_mean']:>7.3f} ± {s['acc_std']:.3f} {s['success']:>7.2f} "
                     f"{s['epoch90']:>9.1f} "
                     f"{s['reach_ref_epoch']:>14.1f} {s['floss_frac']:>7.2f} {s['overhead']:>+8.0%} "
                     f"{s['loss_spikes']:>6.1f} {s['log_gn_std']:>9.2f} {str(s['meets_goal']):>5}")
    lines.append("success: test accuracy >= 0.95; 'to ref': median epoch at which the validation accuracy first reached "
                 "the reference schedule's mean final value (inf: never); overhead f / (1 - f)")
    return "\n".join(lines)


def plot_fsdd(results: dict):
    """FSDD: test accuracy per schedule (seeds as dots), validation curves per epoch (mean and seeds), and the
    fraction of wall time spent flossing."""
    runs = [r for r in results["runs"] if r["phase"] == "fsdd"]
    names = [n for n in ORDER if any(r["schedule"] == n for r in runs)]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), layout="constrained")
    for i, n in enumerate(names):
        rs = [r for r in runs if r["schedule"] == n]
        acc = [r["final_accuracy"] for r in rs]
        axes[0].bar(i, np.mean(acc), 0.7, color=COLORS[n], alpha=0.8)
        axes[0].plot([i] * len(acc), acc, "k.", ms=4)
        spe = rs[0]["steps_per_epoch"]
        epochs = np.array(rs[0]["val_accuracy_curve"]["step"]) / spe
        curves = np.array([r["val_accuracy_curve"]["accuracy"] for r in rs])
        axes[1].plot(epochs, curves.T, "-", color=COLORS[n], lw=0.5, alpha=0.4)
        axes[1].plot(epochs, curves.mean(0), "-", color=COLORS[n], lw=2, label=n)
        axes[2].bar(i, np.mean([r["flossing_time_fraction"] for r in rs]), 0.7, color=COLORS[n])
    axes[0].set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=7)
    lo = min(r["final_accuracy"] for r in runs) if runs else 0.5
    axes[0].set(ylim=(max(0.0, lo - 0.03), 1.0), ylabel="test accuracy (selected epoch)",
                title=f"FSDD, {len(runs)} runs")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy", ylim=(0.5, 1.0), title="learning curves")
    axes[1].legend(fontsize=7)
    axes[2].axhline(0.2, color="k", ls=":", lw=1)
    axes[2].set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=7)
    axes[2].set(ylabel="fraction of wall time flossing", title="compute overhead (0.2 = +25%)")
    return fig


def measured_costs(n_steps: int = 300, seed: int = 0) -> dict:
    """Time one task step and one flossing update of the study's network here and now, and predict each
    study schedule's overhead f / (1 - f) from its count of updates and passes (eq. 9.1)."""
    import time

    from ..flossing import floss
    from ..training import delayed_task_setup

    n_hidden = by_mode(quick=16, standard=64, full=64)
    task, model, s = delayed_task_setup("xor", 4, seed, n_hidden=n_hidden)
    config = FlossingConfig(seq_len=s["floss_seq_len"], transient=s["floss_transient"])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    reps = by_mode(quick=2, standard=5, full=10)
    floss(model, task.input_sampler, 1, config, generator=gen)  # warm-up: the first QR call pays a one-off cost
    t0 = time.process_time()
    for _ in range(reps):
        x, y, mask = task.sample(s["batch_size"], gen)
        loss = task.loss(model(x).output, y, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
    t_step = (time.process_time() - t0) / reps
    t0 = time.process_time()
    floss(model, task.input_sampler, reps, config, generator=gen)
    t_update = (time.process_time() - t0) / reps
    table = {}
    for name, sch in study_schedules(config).items():
        if isinstance(sch, AdaptiveFlossing):
            illustrative_observations(sch, n_steps)
        c = sch.cost(n_steps) if hasattr(sch, "cost") else {"flossing_updates": sch.total_updates(n_steps),
                                                            "flossing_passes": 0}
        extra = (c["flossing_updates"] + c["flossing_passes"]) * t_update
        table[name] = {"updates": c["flossing_updates"], "passes": c["flossing_passes"],
                       "predicted_overhead": extra / (n_steps * t_step)}
    return {"n_hidden": n_hidden, "t_step_s": t_step, "t_update_s": t_update, "schedules": table}


def live_study(names=("none", "periodic", "regularizer", "annealed"), seeds=(0,), n_steps: int | None = None,
               amount: int = 2) -> list[dict]:
    """A small live version of the study (tiny network, few steps): one row per schedule and seed with the
    final validation accuracy, the leading exponent and the fraction of time spent flossing."""
    rows = []
    for name in names:
        for seed in seeds:
            run = live_run(name, amount, 0.0, seed=seed, n_steps=n_steps)
            h = run["history"]
            rows.append({"schedule": name, "seed": seed, "val_accuracy": h["accuracy"][-1],
                         "lambda_1": h["lambda_1"][-1] if h["lambda_1"] else math.nan,
                         "flossing_fraction": (h["flossing_time_s"] + getattr(run["schedule"], "probe_time_s", 0.0))
                         / max(h["wall_time_s"], 1e-9),
                         "steps": len(h["train_loss"]), "n_hidden": run["n_hidden"]})
    return rows


def live_study_table(rows: list[dict]) -> str:
    lines = [f"{'schedule':<12} {'seeds':>5} {'val acc':>8} {'lambda_1':>9} {'floss t':>8}"]
    for name in dict.fromkeys(r["schedule"] for r in rows):
        rs = [r for r in rows if r["schedule"] == name]
        lines.append(f"{name:<12} {len(rs):>5} {np.mean([r['val_accuracy'] for r in rs]):>8.3f} "
                     f"{np.mean([r['lambda_1'] for r in rs]):>9.4f} {np.mean([r['flossing_fraction'] for r in rs]):>8.2f}")
    return "\n".join(lines)
