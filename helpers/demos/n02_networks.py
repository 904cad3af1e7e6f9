r"""Notebook 02 (spiking networks): its live demos and the bookkeeping behind its figures.

Equation numbers refer to notebook 02: (2.1)-(2.2) the network (as in :mod:`helpers.models`), (2.7) the
membrane variance from Campbell's theorem, (2.8) the fluctuation-driven weight scale, (2.9) the mean
membrane, (2.10)-(2.12) the regime measures (rate, CV of interspike intervals, synchrony).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..config import by_mode, seed_generator
from ..inputs import poisson_spikes
from ..models import MultiLayerSNN, RecurrentSNN, fluctuation_driven_std, psp_integrals
from ..neurons import LIFParams
from ..plotting import raster
from ..widgets import Choice, FloatSlider, demo

REGIMES = ("silent", "irregular", "synchronous", "saturated")
REGIME_COLOURS = ("0.8", "#7fc97f", "#beaed4", "#f0027f")
SILENT_HZ = 2.0  # below this mean rate (Hz) a network counts as silent
SATURATED_FRACTION = 0.5  # above this fraction of intervals at the minimum a network counts as saturated
SYNCHRONY_CHI = 0.3  # above this synchrony (eq. 2.12) an active, unsaturated network counts as synchronous


def min_isi(params: LIFParams) -> int:
    """The shortest possible interspike interval in steps: 2 for the zero reset, 1 for the subtract reset."""
    return 2 if params.reset == "zero" else 1


# ----------------------------------------------------------------------------------- measures


def regime_metrics(spikes, mem, params: LIFParams) -> dict:
    r"""Measures of a network's activity from spikes and membranes (T, N) (numpy or torch, transient removed).

    - ``rate_hz``: mean firing rate (eq. 2.10); ``silent_fraction``: neurons without a spike;
    - ``cv``: mean over neurons with at least 3 spikes of std/mean of their interspike intervals (eq. 2.11),
      NaN if no neuron qualifies;
    - ``min_isi_fraction``: fraction of all intervals at the shortest possible one (:func:`min_isi`): the
      signature of saturation (neurons firing as fast as the reset allows);
    - ``chi``: synchrony :math:`\chi = \sqrt{\mathrm{Var}_t(\bar U) / \overline{\mathrm{Var}_t(U_i)}}` (eq. 2.12, Golomb 2007),
      about :math:`1/\sqrt N` for asynchronous and 1 for synchronous activity.
    """
    spk = spikes.detach().cpu().numpy() if isinstance(spikes, torch.Tensor) else np.asarray(spikes)
    u = mem.detach().cpu().numpy() if isinstance(mem, torch.Tensor) else np.asarray(mem)
    rates = spk.mean(0)
    cvs, isis = [], []
    for i in range(spk.shape[1]):
        times = np.nonzero(spk[:, i])[0]
        if len(times) >= 3:
            isi = np.diff(times)
            cvs.append(isi.std() / isi.mean())
            isis.append(isi)
    all_isis = np.concatenate(isis) if isis else np.zeros(0)
    var_each = u.var(0).mean()
    return {
        "rate_hz": float(rates.mean() / params.dt),
        "silent_fraction": float((rates == 0).mean()),
        "cv": float(np.mean(cvs)) if cvs else math.nan,
        "min_isi_fraction": float((all_isis == min_isi(params)).mean()) if all_isis.size else 0.0,
        "chi": float(math.sqrt(u.mean(1).var() / var_each)) if var_each > 0 else 0.0,
    }


def classify(metrics: dict) -> str:
    """The regime: silent (rate < 2 Hz), saturated (most intervals at the minimum), synchronous
    (synchrony chi > 0.3) or irregular (asynchronous) otherwise."""
    if metrics["rate_hz"] < SILENT_HZ:
        return "silent"
    if metrics["min_isi_fraction"] > SATURATED_FRACTION:
        return "saturated"
    if metrics["chi"] > SYNCHRONY_CHI:
        return "synchronous"
    return "irregular"


# ----------------------------------------------------------------------------------- simulations


def run_network(gain, input_gain, params: LIFParams | None = None, n_hidden=200, n_in=100, n_steps=600,
                input_rate=0.05, seed=0, transient=100, **model_kwargs):
    """Simulate a :class:`RecurrentSNN` (Gaussian init) driven by Poisson input; returns (model, spikes, mem).

    ``spikes`` and ``mem`` are (T - transient, N) tensors of batch element 0 (the first ``transient`` steps,
    where the network settles from rest, are dropped).
    """
    params = LIFParams() if params is None else params
    model = RecurrentSNN(n_in, n_hidden, 1, params=params, gain=gain, input_gain=input_gain,
                         generator=seed_generator(seed), **model_kwargs)
    x = poisson_spikes(1, n_steps + transient, n_in, input_rate, generator=seed_generator(seed + 1000))
    with torch.no_grad():
        out = model(x)
    return model, out.spikes[0][0, transient:], out.mem[0][0, transient:]


def gain_sweep(gains, input_gains, params: LIFParams | None = None, **kwargs):
    """Regime measures on a grid: rows = input gains, columns = recurrent gains. Returns a dict of 2-D arrays."""
    params = LIFParams() if params is None else params
    keys = ("rate_hz", "silent_fraction", "cv", "min_isi_fraction", "chi")
    table = {key: np.zeros((len(input_gains), len(gains))) for key in keys}
    for i, g_in in enumerate(input_gains):
        for j, g in enumerate(gains):
            _, spk, mem = run_network(g, g_in, params, **kwargs)
            m = regime_metrics(spk, mem, params)
            for key in keys:
                table[key][i, j] = m[key]
    table["regime"] = np.vectorize(lambda i, j: REGIMES.index(classify({k: table[k][i, j] for k in keys})))(
        *np.indices((len(input_gains), len(gains))))
    table["gains"], table["input_gains"] = np.asarray(gains), np.asarray(input_gains)
    return table


def plot_phase_diagram(table, marker=None):
    """Five panels over (recurrent gain, input gain): the regime map, rate, CV, fraction of minimal ISIs, synchrony.

    ``marker`` = (g, g_in) adds a star (e.g. the fluctuation-driven initialisation).
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
    from matplotlib.patches import Patch

    gains, input_gains = table["gains"], table["input_gains"]
    fig, axes = plt.subplots(1, 5, figsize=(18, 3.4), layout="constrained")
    gx, gy = np.meshgrid(gains, input_gains)
    regime_cmap = ListedColormap(REGIME_COLOURS)
    axes[0].pcolormesh(gx, gy, table["regime"], cmap=regime_cmap, shading="nearest",
                       norm=BoundaryNorm(np.arange(len(REGIMES) + 1) - 0.5, len(REGIMES)))
    axes[0].legend(handles=[Patch(color=c, label=r) for c, r in zip(REGIME_COLOURS, REGIMES)], fontsize=7,
                   loc="lower left", framealpha=0.8)
    axes[0].set_title("regime", fontsize=10)
    panels = (
        ("rate_hz", "mean rate (Hz) (2.10)", "viridis", dict(norm=LogNorm(vmin=0.5, vmax=500))),
        ("cv", "CV of ISIs (2.11)", "magma", dict(vmin=0, vmax=2)),
        ("min_isi_fraction", "fraction of minimal ISIs", "cividis", dict(vmin=0, vmax=1)),
        ("chi", r"synchrony $\chi$ (2.12)", "plasma", dict(vmin=0, vmax=1)),
    )
    for ax, (key, label, cmap, norm_kwargs) in zip(axes[1:], panels):
        values = np.ma.masked_invalid(np.maximum(table[key], 0.5) if key == "rate_hz" else table[key])
        cmap_obj = plt.get_cmap(cmap).copy()
        cmap_obj.set_bad("0.85")
        mesh = ax.pcolormesh(gx, gy, values, cmap=cmap_obj, shading="nearest", **norm_kwargs)
        fig.colorbar(mesh, ax=ax, shrink=0.85)
        ax.set_title(label, fontsize=10)
    for ax in axes:
        if marker is not None:
            ax.plot(*marker, "*", color="r", ms=12, mec="w")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("recurrent gain g")
    axes[0].set_ylabel("input gain g_in")
    return fig


def plot_gain_curves(table, row=None):
    """The regime measures against the recurrent gain along one row (input gain) of a sweep, regimes shaded."""
    row = len(table["input_gains"]) // 2 if row is None else row
    gains = table["gains"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3), layout="constrained")
    axes[0].loglog(gains, np.maximum(table["rate_hz"][row], 1e-2), "o-")
    axes[0].set_ylabel("rate (Hz)")
    axes[1].semilogx(gains, table["cv"][row], "o-", label="CV of ISIs")
    axes[1].semilogx(gains, table["min_isi_fraction"][row], "s-", label="fraction of minimal ISIs")
    axes[1].legend(fontsize=8)
    axes[2].semilogx(gains, table["chi"][row], "o-", color="C3")
    axes[2].set_ylabel(r"synchrony $\chi$")
    for ax in axes:
        for j, g in enumerate(gains):
            lo = gains[j - 1] if j else g / 1.2
            hi = gains[j + 1] if j + 1 < len(gains) else g * 1.2
            ax.axvspan(math.sqrt(lo * g), math.sqrt(g * hi), color=REGIME_COLOURS[int(table["regime"][row, j])],
                       alpha=0.35, zorder=0, lw=0)
        ax.set_xlabel("recurrent gain g")
    axes[0].set_title(f"input gain {table['input_gains'][row]:.3g}; shading: regime (colours as in the map)", fontsize=9,
                      loc="left")
    return fig


# ----------------------------------------------------------------------------------- fluctuation-driven init


def fluctuation_layer(sigma_u, params: LIFParams, n_in=100, n_hidden=200, n_steps=2000, input_rate=0.05,
                      recurrent=False, seed=0, transient=100, **model_kwargs):
    """A layer with the fluctuation-driven initialisation (eq. 2.8) driven by Poisson input.

    Returns ``(model, spikes, mem, x)`` with spikes and mem (T - transient, N) of batch element 0 and the
    input ``x`` (1, T, n_in).
    """
    model = MultiLayerSNN(n_in, (n_hidden,), 1, params=params, recurrent=recurrent, init="fluctuation",
                          sigma_u=sigma_u, input_rate=input_rate, generator=seed_generator(seed), **model_kwargs)
    x = poisson_spikes(1, n_steps + transient, n_in, input_rate, generator=seed_generator(seed + 1000))
    with torch.no_grad():
        out = model(x)
    return model, out.spikes[0][0, transient:], out.mem[0][0, transient:], x


def campbell_prediction(weights: torch.Tensor, rate: float, params: LIFParams):
    r"""Per-neuron temporal mean and std of the free membrane, eqs. (2.9) and (2.7), for weights (N, fan_in).

    Mean :math:`p\,\bar\varepsilon \sum_j W_{ij}`, variance :math:`p(1-p)\,\hat\varepsilon \sum_j W_{ij}^2`.
    """
    eps_bar, eps_hat = psp_integrals(params)
    w = weights.detach().double()
    mean = rate * eps_bar * w.sum(1)
    std = torch.sqrt(rate * (1 - rate) * eps_hat * (w**2).sum(1))
    return mean.numpy(), std.numpy()


def plot_firing_vs_sigma(sigma_targets, measured: dict, assumed_rate_hz: float):
    """Rate, CV and synchrony, and the measured membrane std against the target sigma_U (log axis, ticks at the targets)."""
    from matplotlib.ticker import FixedLocator, NullFormatter

    sigma_targets = np.asarray(sigma_targets, dtype=float)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3), layout="constrained")
    axes[0].plot(sigma_targets, measured["rate_hz"], "o-", label="measured rate")
    axes[0].axhline(assumed_rate_hz, color="0.5", ls="--", lw=0.8, label="assumed hidden rate")
    axes[0].set_ylabel("rate (Hz)")
    axes[1].plot(sigma_targets, measured["cv"], "o-", label="CV of ISIs (2.11)")
    axes[1].plot(sigma_targets, measured["chi"], "s-", label=r"synchrony $\chi$ (2.12)")
    axes[2].plot(sigma_targets, measured["std"], "o-", label="with threshold and reset")
    axes[2].plot(sigma_targets, sigma_targets, "k:", lw=1, label="target")
    axes[2].set_yscale("log")
    axes[2].set_ylabel("measured membrane std")
    ticks = sigma_targets[:: max(1, len(sigma_targets) // 5)]
    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlabel(r"target $\sigma_U$")
        ax.legend(fontsize=8)
    return fig


def plot_membrane_check(model, mem, rate, params: LIFParams, sigma_u, ax_pair=None):
    """Left: measured vs predicted (2.7) temporal std per neuron. Right: the pooled membrane histogram."""
    if ax_pair is None:
        _, ax_pair = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    ax0, ax1 = ax_pair
    pred_mean, pred_std = campbell_prediction(model.w_ff[0], rate, params)
    u = mem.detach().cpu().double().numpy()
    measured = u.std(0)
    lim = 1.15 * max(measured.max(), pred_std.max())
    ax0.plot(pred_std, measured, ".", ms=4, alpha=0.7)
    ax0.plot([0, lim], [0, lim], "k:", lw=1)
    ax0.axhline(sigma_u, color="C3", lw=1, label=f"target sigma_U = {sigma_u:g}")
    ax0.set_xlabel("predicted std per neuron (2.7)")
    ax0.set_ylabel("measured temporal std")
    ax0.legend(fontsize=8)
    ax1.hist((u - u.mean(0)).ravel(), bins=80, density=True, alpha=0.6, label="U - its temporal mean")
    grid = np.linspace(-4 * sigma_u, 4 * sigma_u, 200)
    ax1.plot(grid, np.exp(-0.5 * (grid / sigma_u) ** 2) / (sigma_u * math.sqrt(2 * math.pi)), "k-", lw=1,
             label=f"Gaussian, std {sigma_u:g}")
    ax1.set_xlabel("membrane fluctuation")
    ax1.legend(fontsize=8)
    return ax0, ax1


# ----------------------------------------------------------------------------------- demos


@demo(
    gain=FloatSlider(0.05, 20.0, 0.5, description="weight gain g", log=True),
    reset=Choice(("zero", "subtract"), "zero", description="reset"),
)
def network_demo(gain, reset):
    """A recurrent LIF network with input and recurrent weights both scaled by ``gain``: raster, rates, ISIs."""
    params = LIFParams(reset=reset)
    n_steps = by_mode(quick=300, standard=500)
    _, spk, mem = run_network(gain, gain, params, n_hidden=150, n_steps=n_steps)
    m = regime_metrics(spk, mem, params)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.3), layout="constrained", gridspec_kw=dict(width_ratios=(2, 1, 1)))
    raster(spk[:, :80], dt=params.dt, ax=axes[0], markersize=2)
    axes[0].set_title(f"{classify(m)}: {m['rate_hz']:.1f} Hz, CV {m['cv']:.2f}, chi {m['chi']:.2f}", fontsize=10)
    rates = spk.mean(0).numpy() / params.dt
    axes[1].hist(rates, bins=np.linspace(0, 1 / params.dt, 41))
    axes[1].set_xlabel("rate per neuron (Hz)")
    axes[1].set_title(f"silent neurons: {m['silent_fraction']:.0%}", fontsize=10)
    spk_np = spk.numpy()
    isis = np.concatenate([np.diff(np.nonzero(spk_np[:, i])[0]) for i in range(spk_np.shape[1])] + [np.zeros(0)])
    axes[2].hist(isis, bins=np.arange(0.5, 60.5, 1))
    axes[2].set_xlabel("ISI (steps)")
    axes[2].set_title(f"minimal ISIs: {m['min_isi_fraction']:.0%}", fontsize=10)
    return fig


@demo(
    sigma_u=FloatSlider(0.1, 4.0, 1.0, step=0.1, description="target sigma_U"),
    threshold=Choice(("free membrane (no spikes)", "threshold 1"), "free membrane (no spikes)", description="neurons"),
    recurrent=Choice((False, True), False, description="recurrent"),
)
def fluctuation_demo(sigma_u, threshold, recurrent):
    """Fluctuation-driven initialisation (eq. 2.8): the membrane it produces and, with a threshold, the spikes."""
    params = LIFParams(threshold=1e6 if threshold.startswith("free") else 1.0)
    n_steps = by_mode(quick=600, standard=1000)
    model, spk, mem, _ = fluctuation_layer(sigma_u, params, n_hidden=150, n_steps=n_steps, recurrent=recurrent)
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.3), layout="constrained")
    plot_membrane_check(model, mem, 0.05, params, sigma_u, ax_pair=axes[:2])
    measured = float(mem.double().var(0).mean().sqrt())
    axes[0].set_title(f"rms temporal std {measured:.2f} (target {sigma_u:g})", fontsize=10)
    raster(spk[:, :80], dt=params.dt, ax=axes[2], markersize=2)
    axes[2].set_title(f"rate {float(spk.mean()) / params.dt:.1f} Hz", fontsize=10)
    return fig


def fluctuation_weight_std(sigma_u, params: LIFParams, fan_in=100, rate=0.05):
    """Eq. (2.8) (a thin wrapper of :func:`helpers.models.fluctuation_driven_std` for the notebook)."""
    return fluctuation_driven_std(fan_in, rate, params, sigma_u)
