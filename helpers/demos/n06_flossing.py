"""Notebook 06 (gradient flossing): the experiments' bookkeeping, the figures and the live demo.

The notebook shows the physics; the loops over conditions, the measurements before and after flossing and
the plotting live here.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..config import FIGURES_DIR, by_mode
from ..flossing import FlossingConfig, floss, poisson_sampler
from ..gradients import condition_number, log_slope, long_term_jacobian, state_gradient_norms
from ..lyapunov import lyapunov_spectrum
from ..models import RecurrentSNN
from ..neurons import LIFParams
from ..surrogate import surrogate_derivative
from ..widgets import FloatSlider, IntSlider, demo

SWEEP_FILE = FIGURES_DIR / "flossing_sweep.json"

#: LIF parameters of the flossing experiments: the course's defaults with a wider surrogate (steepness 3), the
#: setting in which the sweep found the leading exponents near 0 and flossing able to hold them there.
FLOSS_PARAMS = LIFParams(steepness=3.0)
DEMO_LR = 1e-2


# ------------------------------------------------------------------------------------------- the sweep
def load_sweep(path=SWEEP_FILE) -> dict | None:
    """The results of ``scripts/flossing_sweep.py`` (``figures/flossing_sweep.json``), or None if absent."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def sweep_table(data: dict, names=None) -> str:
    """A text table: per condition, lambda_1..k before -> after, the firing rate and |V| before -> after."""
    results = data["results"]
    names = [n for n in (names or results) if n in results]
    lines = [f"{'condition':26s} {'path':10s} {'reset':9s} {'st':>4s} {'lr':>7s} {'target':>7s}"
             f"   lambda_1..k before -> after                       rate        |V|"]
    for n in names:
        r = results[n]
        c, k = r["config"], r["config"]["k"]
        reset = c["reset"] + ("" if c["detach_reset"] else "+att")
        fmt = lambda e: " ".join(f"{v:+.3f}" for v in e[:k])  # noqa: E731
        lines.append(
            f"{n:26s} {c['path'] + (' +mask' if c.get('mask_grad') else ''):10s} {reset:9s} {c['steepness']:4g} "
            f"{c['lr']:7.0e} {c['target']:+7.2f}   {fmt(r['before']['exponents'])} -> {fmt(r['after']['exponents'])}"
            f"   {r['before']['rate']:.2f}->{r['after']['rate']:.2f}  {r['before']['w_rec_norm']:.1f}->{r['after']['w_rec_norm']:.1f}"
        )
    return "\n".join(lines)


def plot_sweep(data: dict, names=None):
    """Leading exponent lambda_1 (and the mean of lambda_1..k) before and after flossing, per condition."""
    results = data["results"]
    names = [n for n in (names or results) if n in results]
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.35 * len(names) + 1.6), layout="constrained", sharey=True)
    y = np.arange(len(names))
    for ax, what in zip(axes, ("lambda_1", "history")):
        if what == "lambda_1":
            for i, n in enumerate(names):
                r = results[n]
                k, target = r["config"]["k"], r["config"]["target"]
                b, a = r["before"]["exponents"][:k], r["after"]["exponents"][:k]
                ax.plot(b, [i] * k, "o", mfc="none", color="0.5", ms=5)
                ax.plot(a, [i] * k, "o", color="C3" if abs(np.mean(a) - target) < 0.01 else "C0", ms=5)
                ax.annotate("", xy=(a[0], i), xytext=(b[0], i), arrowprops=dict(arrowstyle="->", color="0.3"))
                ax.plot([target], [i], "|", color="k", ms=12)
            ax.axvline(math.log(math.exp(-0.1)), color="0.7", ls=":", lw=1)
            ax.set_xlabel(r"$\lambda_1..\lambda_k$ (1/step): open before, filled after ($|$ target)")
            ax.set_yticks(y, names)
            ax.invert_yaxis()
        else:
            for i, n in enumerate(names):
                r = results[n]
                ax.barh(i - 0.2, r["before"]["rate"], height=0.4, color="0.7")
                ax.barh(i + 0.2, r["after"]["rate"], height=0.4, color="C1")
            ax.set_xlabel("firing rate (spikes / neuron / step): grey before, orange after")
    return fig


# ------------------------------------------------------------------------------------------- pre-flossing
def default_network(n_hidden: int, seed: int = 0, n_in: int = 20, params: LIFParams | None = None, **kwargs):
    """The course's default RecurrentSNN (Gaussian init, gain 1) with the given LIF parameters."""
    return RecurrentSNN(n_in, n_hidden, 2, params=params or LIFParams(), generator=torch.Generator().manual_seed(seed),
                        **kwargs)


def measure(model, x: torch.Tensor, n_exponents: int, transient: int, window: tuple[int, int]) -> dict:
    """Spectrum (leading ``n_exponents``), gradient norm against lag, long-term Jacobian condition numbers."""
    with torch.no_grad():
        spec = lyapunov_spectrum(model, x, n_exponents, transient=transient,
                                 generator=torch.Generator().manual_seed(1))
        out = model(x)
        jac = long_term_jacobian(model, x, start=window[0], stop=window[1])
    norms = state_gradient_norms(model, x, generator=torch.Generator().manual_seed(2))
    n_steps = x.shape[1]
    fit = (5, max(6, n_steps - transient))
    svals = torch.linalg.svdvals(jac.double())
    return dict(
        exponents=spec.exponents.mean(0).numpy(),
        norms=norms.mean(0).numpy() if False else torch.exp(torch.log(norms.clamp_min(1e-300)).mean(0)).numpy(),
        slope=log_slope(norms, fit_range=fit),
        svals=torch.exp(torch.log(svals.clamp_min(1e-300)).mean(0)).numpy(),
        cond={kk: float(torch.exp(torch.log(condition_number(jac, kk)).mean())) for kk in (1, 2, 4, 8, 16, 32, 64)
              if kk <= jac.shape[-1]},
        rate=float(out.spikes[0].mean()),
    )


def preflossing_experiment(ks=(1, 8, 32), n_hidden=64, n_updates=60, config: FlossingConfig | None = None,
                           params: LIFParams | None = None, n_exponents=32, eval_len=300, eval_batch=4,
                           window_len=60, seed=0, input_rate=0.05, verbose=True) -> dict:
    """Pre-floss copies of one network with each k in ``ks`` and measure before/after (see :func:`measure`).

    Returns ``{"before": measurement, k: measurement after flossing k, ..., "history": {k: floss history}}``.
    """
    config = config or FlossingConfig()
    base = default_network(n_hidden, seed, params=params)
    sampler = poisson_sampler(base.n_in, input_rate)
    x = sampler(eval_batch, eval_len, torch.Generator().manual_seed(seed + 1000))
    start = config.transient
    window = (start, min(eval_len, start + window_len))
    n_exponents = min(n_exponents, base.state_dim)
    out = {"before": measure(base, x, n_exponents, config.transient, window), "history": {}, "window": window}
    for k in ks:
        model = default_network(n_hidden, seed, params=params)
        model.load_state_dict(base.state_dict())
        cfg = replace(config, k=min(k, base.state_dim))
        hist = floss(model, sampler, n_updates, cfg, generator=torch.Generator().manual_seed(seed + 7),
                     record_every=max(1, n_updates // 20))
        out[k] = measure(model, x, n_exponents, config.transient, window)
        out["history"][k] = hist
        if verbose:
            print(f"k = {k:2d}: {n_updates} updates in {hist['time_s']:.1f} s; lambda_1..{min(k, 4)} "
                  f"{np.round(out['before']['exponents'][:min(k, 4)], 3)} -> {np.round(out[k]['exponents'][:min(k, 4)], 3)}")
    return out


def plot_preflossing(res: dict, ks, target: float = 0.0):
    """Three panels: spectra, gradient norm against lag, singular values of the long-term Jacobian."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
    colors = {k: f"C{i + 1}" for i, k in enumerate(ks)}
    runs = [("before", "k", "0.3")] + [(k, f"after, k = {k}", colors[k]) for k in ks]
    for key, label, color in runs:
        m = res[key]
        label = "before" if key == "before" else label
        axes[0].plot(np.arange(1, len(m["exponents"]) + 1), m["exponents"], "o-", ms=3, color=color, label=label)
        lags = np.arange(len(m["norms"]) - 1, -1, -1)
        axes[1].semilogy(lags, m["norms"], color=color, label=f"{label}: slope {m['slope']:+.3f}")
        axes[2].semilogy(np.arange(1, len(m["svals"]) + 1), m["svals"], color=color, label=label)
    for k in ks:
        axes[0].axvline(k + 0.5, color=colors[k], ls=":", lw=1)
    axes[0].axhline(target, color="k", lw=0.8)
    axes[0].set(xlabel="index i", ylabel=r"$\lambda_i$ (1/step)", title="surrogate Lyapunov spectrum")
    axes[1].set(xlabel="lag T - t (steps)", ylabel=r"$\|\partial L/\partial h_t\|$", title="gradient norm against lag")
    w = res["window"]
    axes[2].set(xlabel="index", ylabel="singular value",
                title=f"long-term Jacobian over steps {w[0]}..{w[1]}")
    for ax in axes:
        ax.legend(fontsize=7)
    return fig


# ------------------------------------------------------------------------------------------- live demo
@demo(
    strength=FloatSlider(0.0, 0.12, 0.06, step=0.01, description="flossing strength s = lr x updates"),
    k=IntSlider(1, 16, 4, description="k (exponents flossed)"),
    target=FloatSlider(-0.08, 0.04, 0.0, step=0.01, description="target (1/step)"),
)
def flossing_demo(strength=0.06, k=4, target=0.0):
    """Floss a small recurrent SNN with strength s = lr x n_updates (Adam moves a weight by at most about lr
    per update, so s bounds how far any weight can move; lr = DEMO_LR), then show its leading exponents
    before and after and the exponents during flossing."""
    n_hidden = by_mode(quick=10, standard=24)
    seq_len, transient = by_mode(quick=(30, 8), standard=(100, 20))
    n_updates = int(round(strength / DEMO_LR))
    cfg = replace(FlossingConfig(), k=k, target=target, seq_len=seq_len, transient=transient, batch_size=1,
                  lr=DEMO_LR)
    lr = DEMO_LR
    model = default_network(n_hidden, seed=3, n_in=10, params=FLOSS_PARAMS)
    sampler = poisson_sampler(10, 0.05)
    x = sampler(2, 2 * seq_len, torch.Generator().manual_seed(11))
    n_show = min(16, model.state_dim)
    with torch.no_grad():
        before = lyapunov_spectrum(model, x, n_show, transient=transient).exponents.mean(0)
    hist = floss(model, sampler, n_updates, cfg, generator=torch.Generator().manual_seed(5)) if n_updates else None
    with torch.no_grad():
        after = lyapunov_spectrum(model, x, n_show, transient=transient).exponents.mean(0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    idx = np.arange(1, n_show + 1)
    axes[0].plot(idx, before.numpy(), "o-", color="0.5", ms=4, label="before")
    axes[0].plot(idx, after.numpy(), "o-", color="C3", ms=4, label=f"after {n_updates} updates (lr {lr:g})")
    axes[0].axhline(target, color="k", lw=0.8, label="target")
    axes[0].axvspan(0.5, k + 0.5, color="C3", alpha=0.08, label=f"flossed (k = {k})")
    axes[0].set(xlabel="index i", ylabel=r"$\lambda_i$ (1/step)", title=f"{n_hidden} LIF neurons")
    axes[0].legend(fontsize=7)
    if hist is not None and len(hist["exponents"]):
        e = np.asarray(hist["exponents"])
        axes[1].plot(hist["step"], e[:, 0], color="C3", label=r"$\lambda_1$")
        axes[1].plot(hist["step"], e.mean(1), color="C0", label=rf"mean $\lambda_1..\lambda_{k}$")
        axes[1].axhline(target, color="k", lw=0.8)
        axes[1].legend(fontsize=7)
    else:
        axes[1].text(0.5, 0.5, "strength 0: no flossing", ha="center", va="center", transform=axes[1].transAxes)
    axes[1].set(xlabel="flossing update", ylabel="exponent on the training batch (1/step)", title="history")
    return fig




# ------------------------------------------------------------------------------------------- gradient check
def gradient_check(model, x: torch.Tensor, config: FlossingConfig, eps=(1e-3, 1e-2), seed: int = 2) -> list[dict]:
    r"""Does each path's gradient predict how :math:`\bar\lambda = \mathrm{mean}(\lambda_1..\lambda_k)` changes?

    For each path: g = d(mean lambda_1..k)/d(theta) by that path; move the dynamics parameters by ``eps`` along
    g/|g| and measure the change of the exponents (same inputs, same initial basis), (a) for real (the
    trajectory changes too) and (b) with the trajectory frozen at the old weights (only the tangent map's
    weights moved). The path's prediction is eps * |g|. Works in the model's dtype (use float64).
    """
    from ..flossing import flossing_exponents, FrozenTrajectory  # noqa: F401
    from ..lyapunov import random_basis

    params = model.dynamics_parameters()
    q0 = random_basis(model.state_dim, config.k, generator=torch.Generator().manual_seed(seed), dtype=x.dtype)

    def mean_lambda(system):
        with torch.no_grad():
            return float(lyapunov_spectrum(system, x, config.k, transient=config.transient, q0=q0).exponents.mean())

    base = mean_lambda(model)
    rows = []
    for path in ("frozen", "trajectory"):
        e = flossing_exponents(model, x, replace(config, path=path), torch.Generator().manual_seed(seed))
        grads = torch.autograd.grad(e.mean(), params, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
        norm = float(torch.sqrt(sum((g**2).sum() for g in grads)))
        for step in eps:
            saved = [p.detach().clone() for p in params]
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p.add_(step * g / norm)
            full = mean_lambda(model) - base
            moved = [p.detach().clone() for p in params]
            with torch.no_grad():
                for p, s in zip(params, saved):
                    p.copy_(s)

            class _Counterfactual:  # trajectory of the old weights, tangent map of the moved ones
                state_dim = model.state_dim
                initial_state = staticmethod(model.initial_state)
                step = staticmethod(model.step)

                @staticmethod
                def tangent(h, xx, q):
                    with torch.no_grad():
                        for p, m in zip(params, moved):
                            p.copy_(m)
                        out = model.tangent(h, xx, q)
                        for p, s in zip(params, saved):
                            p.copy_(s)
                    return out

            frozen = mean_lambda(_Counterfactual()) - base
            rows.append(dict(path=path, grad_norm=norm, eps=step, predicted=step * norm, actual=full,
                             actual_frozen_trajectory=frozen))
    return rows


def print_gradient_check(rows) -> None:
    print(f"{'path':11s} {'|grad|':>8s} {'eps':>6s} {'predicted':>10s} {'actual':>10s} {'traj. frozen':>13s}")
    for r in rows:
        print(f"{r['path']:11s} {r['grad_norm']:8.3g} {r['eps']:6.0e} {r['predicted']:+10.2e} {r['actual']:+10.2e} "
              f"{r['actual_frozen_trajectory']:+13.2e}")


# ------------------------------------------------------------------------------------------- live sweep
LIVE_CONDITIONS = {
    "zero_frozen": dict(),
    "zero_traj": dict(path="trajectory"),
    "sub_frozen": dict(reset="subtract"),
    "zero_frozen_s3": dict(steepness=3.0),
}


def live_sweep(n_updates: int = 10, n_hidden: int = 24, seq_len: int = 100, conditions=None) -> dict:
    """A small live version of ``scripts/flossing_sweep.py`` (same record format, fewer neurons and updates)."""
    conditions = conditions or LIVE_CONDITIONS
    base = dict(n_in=20, n_hidden=n_hidden, input_rate=0.05, reset="zero", detach_reset=True, steepness=10.0,
                path="frozen", k=4, target=0.0, lr=FlossingConfig().lr, batch_size=2, seq_len=seq_len,
                transient=seq_len // 4, n_updates=n_updates)
    results = {}
    for name, over in conditions.items():
        cfg = dict(base, **over)
        params = LIFParams(reset=cfg["reset"], detach_reset=cfg["detach_reset"], steepness=cfg["steepness"])
        model = default_network(cfg["n_hidden"], seed=0, params=params)
        sampler = poisson_sampler(cfg["n_in"], cfg["input_rate"])
        x = sampler(4, 2 * seq_len, torch.Generator().manual_seed(12345))

        def evaluate():
            with torch.no_grad():
                e = lyapunov_spectrum(model, x, cfg["k"], transient=cfg["transient"],
                                      generator=torch.Generator().manual_seed(1)).exponents.mean(0)
                rate = float(model(x).spikes[0].mean())
            return dict(exponents=e.tolist(), rate=rate, w_rec_norm=float(model.w_rec[0].detach().norm()))

        before = evaluate()
        fc = FlossingConfig(k=cfg["k"], target=cfg["target"], seq_len=seq_len, transient=cfg["transient"],
                            batch_size=cfg["batch_size"], lr=cfg["lr"], path=cfg["path"])
        floss(model, sampler, n_updates, fc, generator=torch.Generator().manual_seed(100))
        results[name] = dict(name=name, config=cfg, before=before, after=evaluate())
    return dict(results=results, base_config=base, script="helpers.demos.n06_flossing.live_sweep (live)",
                provenance=dict(date="now", commit="working tree", torch=torch.__version__))


def summarise_sweep(data: dict) -> None:
    """Print, per condition, whether flossing moved lambda_1..k towards the target and what it did to the
    operating point (firing rate, mean surrogate derivative D)."""
    print(f"{'condition':28s} {'mean|lambda_i - target|':>24s}   verdict    {'rate':>12s} {'mean D':>16s}")
    for name, r in data["results"].items():
        k, target = r["config"]["k"], r["config"]["target"]
        db = float(np.mean(np.abs(np.asarray(r["before"]["exponents"][:k]) - target)))
        da = float(np.mean(np.abs(np.asarray(r["after"]["exponents"][:k]) - target)))
        verdict = "towards" if da < 0.9 * db else ("away" if da > 1.1 * db else "held")
        d_b, d_a = r["before"].get("mean_D"), r["after"].get("mean_D")
        dtxt = f"{d_b:.4f}->{d_a:.4f}" if d_b is not None and d_a is not None else "-"
        print(f"{name:28s} {db:11.4f} -> {da:.4f}   {verdict:9s} {r['before']['rate']:.3f}->{r['after']['rate']:.3f} {dtxt:>16s}")


def gain_invariance(gains=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0), steepnesses=(10.0, 3.0), n_hidden: int = 64,
                    seq_len: int = 300, transient: int = 50, reset: str = "zero", seed: int = 0) -> list[dict]:
    r"""Why weights alone cannot move a spiking network's surrogate exponents far: scale V and measure.

    For each recurrent gain g (Gaussian V with std g / sqrt(N)) and surrogate steepness, records the firing
    rate, the temporal membrane std :math:`\sigma_U`, the mean surrogate derivative
    :math:`\overline D = \langle \sigma'(U - \vartheta) \rangle` and :math:`\lambda_1`. The recurrent term
    :math:`V D_t` of the tangent map scales like :math:`g \overline D`, and in a fluctuation-driven network
    :math:`\overline D \approx \text{area} \cdot p_U(\vartheta) \propto \text{area} / \sigma_U` with
    :math:`\sigma_U` growing with g: the product, and with it :math:`\lambda_1`, barely moves (eq. 6.6).
    """
    x = poisson_sampler(20, 0.05, dtype=torch.float64)(2, seq_len, torch.Generator().manual_seed(seed + 1))
    rows = []
    for steepness in steepnesses:
        params = LIFParams(reset=reset, steepness=steepness)
        for gain in gains:
            model = default_network(n_hidden, seed=seed, params=params, gain=gain).double()
            with torch.no_grad():
                out = model(x)
                mem = out.mem[0][:, transient:]
                d_bar = float(surrogate_derivative(mem - params.threshold, params.surrogate, steepness).mean())
                lam1 = float(lyapunov_spectrum(model, x, 1, transient=transient).exponents.mean())
            rows.append(dict(steepness=steepness, gain=gain, rate=float(out.spikes[0].mean()),
                             sigma_u=float(mem.std(1).mean()), d_bar=d_bar, gain_times_d=gain * d_bar, lambda_1=lam1))
    return rows


def print_gain_invariance(rows) -> None:
    """The table of :func:`gain_invariance`."""
    print(f"{'steepness':>9s} {'gain g':>7s} {'rate':>6s} {'sigma_U':>8s} {'D_bar':>7s} {'g*D_bar':>8s} {'lambda_1':>9s}")
    for r in rows:
        print(f"{r['steepness']:9.1f} {r['gain']:7.2f} {r['rate']:6.3f} {r['sigma_u']:8.2f} {r['d_bar']:7.4f} "
              f"{r['gain_times_d']:8.4f} {r['lambda_1']:+9.4f}")
