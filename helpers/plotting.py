"""Plotting helpers shared by the notebooks: rasters, membrane traces, surrogate shapes, training curves.

Every function takes an optional ``ax`` and returns it, so that cells can compose figures; none of them
calls ``plt.show()``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .surrogate import SURROGATE_KINDS, surrogate_area, surrogate_derivative


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _axis(ax, figsize=(6, 3)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def raster(spikes, dt: float | None = None, ax=None, color="k", markersize=2.0, title: str | None = None):
    """Spike raster of a (T, N) 0/1 array: a dot at (time, neuron) per spike. ``dt`` in seconds (else steps)."""
    ax = _axis(ax)
    spk = _np(spikes)
    t_idx, n_idx = np.nonzero(spk)
    times = t_idx * dt * 1e3 if dt else t_idx
    ax.scatter(times, n_idx, s=markersize, c=color, marker="|" if markersize > 3 else ".", linewidths=0.8)
    ax.set_xlim(0, (spk.shape[0] * dt * 1e3) if dt else spk.shape[0])
    ax.set_ylim(-0.5, spk.shape[1] - 0.5)
    ax.set_xlabel("time (ms)" if dt else "time step")
    ax.set_ylabel("neuron")
    if title:
        ax.set_title(title)
    return ax


def membrane_traces(mem, spikes=None, dt: float | None = None, threshold: float | None = 1.0, ax=None,
                    neurons=None, offset: float = 0.0, title: str | None = None):
    """Membrane potentials of a (T, N) array for the chosen ``neurons``; spikes drawn as vertical ticks.

    ``offset`` stacks the traces vertically (membrane units) for readability.
    """
    ax = _axis(ax)
    mem = _np(mem)
    if mem.ndim == 1:
        mem = mem[:, None]
    neurons = range(min(mem.shape[1], 5)) if neurons is None else neurons
    times = np.arange(mem.shape[0]) * (dt * 1e3 if dt else 1)
    for i, n in enumerate(neurons):
        line, = ax.plot(times, mem[:, n] + i * offset, lw=1.2)
        if spikes is not None:
            spk = _np(spikes)
            spk = spk[:, None] if spk.ndim == 1 else spk
            for t in np.nonzero(spk[:, n])[0]:
                ax.plot([times[t], times[t]], [threshold + i * offset, threshold + 0.5 + i * offset],
                        color=line.get_color(), lw=1.2)
        if threshold is not None:
            ax.axhline(threshold + i * offset, color="0.6", ls="--", lw=0.8)
    ax.set_xlabel("time (ms)" if dt else "time step")
    ax.set_ylabel("membrane U")
    if title:
        ax.set_title(title)
    return ax


def surrogate_shapes(steepness: float = 10.0, kinds=SURROGATE_KINDS, ax=None, v_range: float = 1.0):
    """All surrogate derivatives (peak 1) against v = U - threshold, with their areas in the legend."""
    ax = _axis(ax)
    v = torch.linspace(-v_range, v_range, 801, dtype=torch.float64)
    for kind in kinds:
        area = surrogate_area(kind, steepness)
        ax.plot(v.numpy(), surrogate_derivative(v, kind, steepness).numpy(), label=f"{kind} (area {area:.3g})")
    ax.set_xlabel(r"$v = U - \vartheta$")
    ax.set_ylabel(r"$\sigma'(v)$")
    ax.set_title(f"surrogate derivatives, steepness {steepness:g}")
    ax.legend(fontsize=8)
    return ax


def training_curves(history: dict, keys=("loss", "accuracy"), axes=None, label: str | None = None,
                    x_key: str | None = "step"):
    """Plot each of ``keys`` of a history dict (lists of numbers) on its own axis; returns the axes."""
    if axes is None:
        _, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, key in zip(axes, keys):
        values = np.asarray(history[key], dtype=float)
        xs = np.asarray(history[x_key]) if x_key and x_key in history else np.arange(len(values))
        ax.plot(xs[: len(values)], values, label=label)
        ax.set_xlabel(x_key or "step")
        ax.set_ylabel(key)
        if label:
            ax.legend(fontsize=8)
    return axes


def mean_and_spread(ax, x, runs, label=None, color=None):
    """Mean over runs (rows of ``runs``) as a line, min-max as a band; returns the line."""
    runs = np.asarray(runs, dtype=float)
    mean = runs.mean(0)
    line, = ax.plot(x, mean, label=label, color=color, marker="o", ms=3)
    ax.fill_between(x, runs.min(0), runs.max(0), color=line.get_color(), alpha=0.2, lw=0)
    return line


# ------------------------------------------------------------------ gradients through time (notebook 04)
def gradient_norms_vs_lag(norms, ax=None, lags=None, label: str | None = None, color=None, **kwargs):
    r"""Norm of the backpropagated error against lag on a log scale.

    ``norms``: (T+1,) or (batch, T+1) ordered by time t, as :func:`helpers.gradients.state_gradient_norms`
    returns them (entry t is lag T - t, unless ``lags`` says otherwise). A batch is averaged in the log domain
    (geometric mean). Lags at which a norm is exactly zero (an annihilated error) or not finite are left out
    rather than drawn at :math:`\log 0 = -\infty`, so the line holds only finite data. Returns the axis.
    """
    ax = _axis(ax)
    norms = np.atleast_2d(_np(norms).astype(float))
    n = norms.shape[1]
    lags = np.arange(n - 1, -1, -1) if lags is None else np.asarray(lags)
    keep = np.isfinite(norms).all(0) & (norms > 0).all(0)
    geo = np.exp(np.log(np.where(keep, norms, 1.0)).mean(0))
    order = np.argsort(lags[keep])
    ax.plot(lags[keep][order], geo[keep][order], label=label, color=color, **kwargs)
    ax.set_yscale("log")
    ax.set_xlabel("lag T - t (steps)")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    return ax


def jacobian_image(jacobian, n: int, spiking=None, ax=None, title: str | None = None, linthresh: float = 1e-3,
                   vmax: float | None = None):
    r"""Image of a one-layer LIF Jacobian in block form :math:`[[\partial I'/\partial I, \partial I'/\partial U],
    [\partial U'/\partial I, \partial U'/\partial U]]` (eqs. 2.3-2.6), state ordered (I_1..I_n, U_1..U_n).

    Symmetric-log colour scale (entries below ``linthresh`` in magnitude are near white), so that both the
    leak (about 1) and the small recurrent entries :math:`V D` show. ``spiking``: boolean (n,) of the neurons
    that spike at this step; their membrane rows are marked with red ticks on the left. Returns the image.
    """
    from matplotlib.colors import SymLogNorm

    ax = _axis(ax, figsize=(4, 4))
    jac = _np(jacobian).astype(float)
    vmax = float(np.abs(jac).max()) if vmax is None else vmax
    vmax = vmax if vmax > linthresh else 1.0
    image = ax.imshow(jac, cmap="RdBu_r", norm=SymLogNorm(linthresh=linthresh, vmin=-vmax, vmax=vmax),
                      interpolation="nearest")
    for pos in (n - 0.5,):
        ax.axhline(pos, color="k", lw=0.8)
        ax.axvline(pos, color="k", lw=0.8)
    ax.set_xticks([n / 2 - 0.5, 3 * n / 2 - 0.5], [r"$\partial / \partial I$", r"$\partial / \partial U$"])
    ax.set_yticks([n / 2 - 0.5, 3 * n / 2 - 0.5], [r"$I'$", r"$U'$"])
    if spiking is not None:
        rows = n + np.nonzero(_np(spiking).astype(bool))[0]
        ax.scatter(np.full(rows.shape, -1.2), rows, marker=">", color="C3", s=18, clip_on=False)
    if title:
        ax.set_title(title, fontsize=9)
    return image


def unrolled_graph(ax=None, n_steps: int = 4):
    r"""Schematic of backpropagation through time: states :math:`h_0 \dots h_T` linked by the step F (forward,
    black) and the transposed Jacobians :math:`J_t^\top` (backward, red), inputs :math:`x_t` and the loss L."""
    ax = _axis(ax, figsize=(8, 2.6))
    xs = np.arange(n_steps + 1) * 2.0
    for t, x in enumerate(xs):
        name = f"h_{t}" if t < n_steps else "h_T"
        ax.add_patch(plt.Circle((x, 0), 0.42, fc="white", ec="k", lw=1.2))
        ax.text(x, 0, f"${name}$", ha="center", va="center", fontsize=11)
        if t < n_steps:
            xname = f"x_{t}" if t < n_steps - 1 else "x_{T-1}"
            ax.text(x + 1.0, 1.35, f"${xname}$", ha="center", va="center", fontsize=10)
            ax.annotate("", xy=(x + 1.0, 0.12), xytext=(x + 1.0, 1.1), arrowprops=dict(arrowstyle="->", color="0.4"))
            ax.annotate("", xy=(x + 1.55, 0.08), xytext=(x + 0.45, 0.08), arrowprops=dict(arrowstyle="->", lw=1.3))
            ax.text(x + 1.25, 0.3, "F", ha="center", fontsize=9)
            ax.annotate("", xy=(x + 0.45, -0.2), xytext=(x + 1.55, -0.2),
                        arrowprops=dict(arrowstyle="->", color="C3", lw=1.3))
            jname = f"J_{t}" if t < n_steps - 1 else "J_{T-1}"
            ax.text(x + 1.0, -0.65, f"${jname}^\\top$", ha="center", color="C3", fontsize=10)
    end = xs[-1]
    ax.text(end + 1.6, 0, "$L$", ha="center", va="center", fontsize=12)
    ax.annotate("", xy=(end + 1.4, 0.08), xytext=(end + 0.45, 0.08), arrowprops=dict(arrowstyle="->", lw=1.3))
    ax.annotate("", xy=(end + 0.45, -0.2), xytext=(end + 1.4, -0.2), arrowprops=dict(arrowstyle="->", color="C3"))
    ax.text(end + 0.95, -0.65, r"$\partial L/\partial h_T$", ha="center", color="C3", fontsize=9)
    ax.set_xlim(-0.6, end + 2.0)
    ax.set_ylim(-1.0, 1.7)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def delay_study_axes(runs, axes, title: str | None = None):
    """Notebook 07: (left) test accuracy against delay, mean over seeds with min-max band, without and with
    flossing, chance and 90% lines; (right) gradient norm reaching the early state (geometric mean, log scale).

    ``runs``: the records of ``scripts/delayed_xor_study.py`` (dicts with delay, flossing, test_accuracy,
    grad_norm_early). Returns the axes.
    """
    axes = np.atleast_1d(axes)
    delays = sorted({r["delay"] for r in runs})
    for flossing, color, label in ((False, "C0", "no flossing"), (True, "C3", "flossing")):
        sel = [d for d in delays if any(r["delay"] == d and r["flossing"] == flossing for r in runs)]
        if not sel:
            continue
        acc = [[r["test_accuracy"] for r in runs if r["delay"] == d and r["flossing"] == flossing] for d in sel]
        mean = np.array([np.mean(a) for a in acc])
        axes[0].plot(sel, mean, marker="o", color=color, label=f"{label} (n={min(len(a) for a in acc)} seeds)")
        axes[0].fill_between(sel, [min(a) for a in acc], [max(a) for a in acc], color=color, alpha=0.2, lw=0)
        if len(axes) > 1:
            g = [[max(r["grad_norm_early"], 1e-30) for r in runs if r["delay"] == d and r["flossing"] == flossing]
                 for d in sel]
            axes[1].plot(sel, [float(np.exp(np.mean(np.log(v)))) for v in g], marker="o", color=color, label=label)
    axes[0].axhline(0.5, color="gray", ls=":", lw=1, label="chance")
    axes[0].axhline(0.9, color="gray", ls="--", lw=1, label="90%")
    axes[0].set(xlabel="delay d (bits)", ylabel="test accuracy", ylim=(0.4, 1.02), title=title or "accuracy vs delay")
    axes[0].legend(fontsize=8)
    if len(axes) > 1:
        axes[1].set(xlabel="delay d (bits)", ylabel=r"$\|\partial L/\partial h_{t_0}\|$ (end of training)",
                    yscale="log", title="gradient reaching the first bit's state")
        axes[1].legend(fontsize=8)
    return axes
