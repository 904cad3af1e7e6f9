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
