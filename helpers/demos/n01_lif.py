r"""Notebook 01 (the LIF neuron): its live demos and the bookkeeping behind its figures.

Equation numbers refer to notebook 01 (eqs. 1.1-1.4 are those of :mod:`helpers.neurons`):

- (1.5)-(1.6) the continuous model, (1.7) its exact one-step solution, (1.8) forward Euler;
- (1.9) the free membrane's fixed point and the rheobase, (1.10) the interspike interval (zero reset);
- (1.11) the PSP kernel.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..config import by_mode
from ..models import psp_kernel
from ..neurons import LIFParams, simulate_lif
from ..widgets import Choice, FloatSlider, demo

# ----------------------------------------------------------------------------------- discretisation


def step_integral(dt: float, tau_mem: float, tau_syn: float) -> float:
    r"""Eq. (1.7): :math:`\kappa(\Delta t) = \int_0^{\Delta t} e^{-(\Delta t - s)/\tau_m} e^{-s/\tau_s} ds` (seconds).

    It is the factor by which a synaptic current :math:`I(t)` moves the membrane over one step, when
    :math:`I` decays exactly (no zero-order hold needed). Equal time constants take the limit
    :math:`\Delta t\, e^{-\Delta t/\tau}`.
    """
    alpha, beta = math.exp(-dt / tau_syn), math.exp(-dt / tau_mem)
    rate_diff = 1.0 / tau_syn - 1.0 / tau_mem
    if abs(rate_diff) * dt < 1e-9:
        return dt * beta
    return (beta - alpha) / rate_diff


def psp_continuous(t, params: LIFParams, c0: float, t_arrival: float):
    r"""Exact solution of eqs. (1.5)-(1.6) for a unit current impulse arriving at ``t_arrival`` (seconds).

    :math:`U(t) = c_0\, \kappa(t - t_a)` with :math:`\kappa` of eq. (1.7) evaluated at the elapsed time.
    ``c0`` (1/s) sets the units; ``t`` is an array of times in seconds.
    """
    t = np.asarray(t, dtype=float)
    elapsed = np.clip(t - t_arrival, 0.0, None)
    ts, tm = params.tau_syn, params.tau_mem
    rate_diff = 1.0 / ts - 1.0 / tm
    if abs(rate_diff) * params.dt < 1e-9:
        return c0 * elapsed * np.exp(-elapsed / tm)
    return c0 * (np.exp(-elapsed / tm) - np.exp(-elapsed / ts)) / rate_diff


def psp_schemes(params: LIFParams, dt: float, t_max: float, c0: float):
    """The PSP to a unit impulse at the end of step 0, integrated with step ``dt`` (seconds) two ways.

    Returns ``(times, exact, euler, continuous)`` (numpy, times in seconds): eq. (1.7) (leak integrated
    exactly), eq. (1.8) (forward Euler), and the continuous solution sampled at the same times.
    """
    n = int(round(t_max / dt)) + 1
    alpha, beta = math.exp(-dt / params.tau_syn), math.exp(-dt / params.tau_mem)
    kappa = step_integral(dt, params.tau_mem, params.tau_syn)
    syn_x = mem_x = syn_e = mem_e = 0.0
    exact, euler = [], []
    for k in range(n):
        exact.append(mem_x)
        euler.append(mem_e)
        kick = 1.0 if k == 0 else 0.0  # input of step 0, arriving at time dt (end of the step)
        syn_x, mem_x = alpha * syn_x + kick, beta * mem_x + c0 * kappa * syn_x  # (1.7)
        syn_e, mem_e = (1 - dt / params.tau_syn) * syn_e + kick, (1 - dt / params.tau_mem) * mem_e + c0 * dt * syn_e  # (1.8)
    times = np.arange(n) * dt
    return times, np.array(exact), np.array(euler), psp_continuous(times, params, c0, t_arrival=dt)


def discretisation_errors(params: LIFParams, dts, t_max: float = 0.1):
    """Largest error of each scheme against the continuous PSP, relative to the PSP peak, for each dt."""
    c0 = 1.0 / step_integral(params.dt, params.tau_mem, params.tau_syn)  # units: kappa = 1 at params.dt
    err_exact, err_euler = [], []
    for dt in dts:
        _, exact, euler, cont = psp_schemes(params, dt, t_max, c0)
        peak = np.abs(cont).max()
        err_exact.append(np.abs(exact - cont).max() / peak)
        err_euler.append(np.abs(euler - cont).max() / peak)
    return np.array(err_exact), np.array(err_euler)


def plot_discretisation(params: LIFParams, dt_show: float, dts, t_max: float = 0.06):
    """Left: the PSP at step ``dt_show`` (continuous, exact, Euler). Right: error against dt (log-log)."""
    c0 = 1.0 / step_integral(params.dt, params.tau_mem, params.tau_syn)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    fine = np.linspace(0, t_max, 600)
    ax0.plot(fine * 1e3, psp_continuous(fine, params, c0, t_arrival=dt_show), "k-", lw=1, label="continuous (1.5)-(1.6)")
    times, exact, euler, _ = psp_schemes(params, dt_show, t_max, c0)
    ax0.plot(times * 1e3, exact, "o", ms=3.5, label="exact update (1.7)")
    ax0.plot(times * 1e3, euler, "s", ms=3, mfc="none", label="forward Euler (1.8)")
    ax0.set_xlabel("time (ms)")
    ax0.set_ylabel("membrane U")
    ax0.set_title(f"PSP, dt = {dt_show * 1e3:.3g} ms")
    ax0.legend(fontsize=8)
    err_exact, err_euler = discretisation_errors(params, dts)
    dts_ms = np.asarray(dts) * 1e3
    ax1.loglog(dts_ms, np.maximum(err_exact, 1e-17), "o-", label="exact update (1.7)")
    ax1.loglog(dts_ms, err_euler, "s-", label="forward Euler (1.8)")
    ax1.loglog(dts_ms, err_euler[0] * dts_ms / dts_ms[0], "k:", lw=1, label=r"$\propto \Delta t$")
    ax1.set_xlabel("dt (ms)")
    ax1.set_ylabel("max error / PSP peak")
    ax1.set_title("discretisation error")
    ax1.legend(fontsize=8)
    return fig


# ----------------------------------------------------------------------------------- f-I curve


def rheobase(params: LIFParams) -> float:
    r"""Eq. (1.9): the smallest constant input that makes the neuron fire, :math:`\vartheta (1-\alpha)(1-\beta)`."""
    return params.threshold * (1.0 - params.alpha) * (1.0 - params.beta)


def free_membrane_fixed_point(current: float, params: LIFParams) -> float:
    r"""Eq. (1.9): the free membrane settles at :math:`U^* = c / ((1-\alpha)(1-\beta))`."""
    return current / ((1.0 - params.alpha) * (1.0 - params.beta))


def isi_theory(current: float, params: LIFParams) -> float:
    r"""Eq. (1.10): interspike interval in steps for the zero reset, once the synaptic current has settled.

    After a spike the membrane restarts from 0 and climbs as :math:`U^*(1-\beta^k)`; the next spike is
    at the first k with :math:`U^*(1-\beta^k) > \vartheta`, one step after the reset step, so
    ISI = k + 1. Returns ``inf`` at or below the rheobase.
    """
    u_star = free_membrane_fixed_point(current, params)
    if u_star <= params.threshold:
        return math.inf
    bound = math.log(1.0 - params.threshold / u_star) / math.log(params.beta)  # k must exceed this
    k = math.floor(bound) + 1
    return float(k + 1)


def fi_curve(currents, params: LIFParams, n_steps: int = 2000):
    """Simulated firing rate (Hz) for each constant input in ``currents``, all neurons in one run.

    The rate is 1 / (mean interspike interval) over the second half of the run (0 with fewer than two
    spikes there), so that it can be compared with eq. (1.10) without counting-window effects.
    """
    currents = torch.as_tensor(np.asarray(currents, dtype=float), dtype=torch.float64)
    drive = currents.expand(1, n_steps, currents.numel()).clone()
    spikes = simulate_lif(drive, params).spikes[0, n_steps // 2 :].numpy()
    rates = np.zeros(spikes.shape[1])
    for i in range(spikes.shape[1]):
        times = np.nonzero(spikes[:, i])[0]
        if len(times) >= 2:
            rates[i] = 1.0 / (np.diff(times).mean() * params.dt)
    return rates


def plot_fi_curve(params: LIFParams, max_factor: float = 8.0, n: int = 60, n_steps: int = 2000, ax=None):
    """The f-I curve: simulation for both resets and eq. (1.10) for the zero reset; rheobase marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")
    c_rh = rheobase(params)
    currents = np.linspace(0.0, max_factor * c_rh, n)
    for reset, marker in (("zero", "o"), ("subtract", "^")):
        p = LIFParams(**{**params.__dict__, "reset": reset})
        ax.plot(currents / c_rh, fi_curve(currents, p, n_steps), marker, ms=3.5, label=f"simulation, reset={reset}")
    theory = [1.0 / (isi_theory(c, params) * params.dt) for c in currents]
    ax.plot(currents / c_rh, theory, "k-", lw=1, label="eq. (1.10), zero reset")
    ax.axvline(1.0, color="0.6", ls="--", lw=0.8)
    ax.set_xlabel(r"constant input c / rheobase $c_\mathrm{rh}$")
    ax.set_ylabel("firing rate (Hz)")
    ax.set_title(f"f-I curve (rheobase c_rh = {c_rh:.4g} per step)")
    ax.legend(fontsize=8)
    return ax


# ----------------------------------------------------------------------------------- gradients through the reset


def reset_gradients(params: LIFParams, current: float, n_steps: int = 60):
    """d(sum of the membrane over the run) / d(input at each step), with the reset detached and attached.

    Returns ``(grad_detached, grad_attached, spikes)`` as numpy arrays of length ``n_steps``: a single
    neuron under constant input ``current``; the gradient flows through the surrogate derivative.
    """
    out = {}
    for detach in (True, False):
        p = LIFParams(**{**params.__dict__, "detach_reset": detach})
        drive = torch.full((1, n_steps, 1), float(current), dtype=torch.float64, requires_grad=True)
        result = simulate_lif(drive, p)
        result.mem.sum().backward()
        out[detach] = drive.grad[0, :, 0].numpy()
        spikes = result.spikes[0, :, 0].detach().numpy()
    return out[True], out[False], spikes


# ----------------------------------------------------------------------------------- demos


@demo(
    tau_mem=FloatSlider(1e-3, 50e-3, 10e-3, step=1e-3, description="tau_mem (s)"),
    tau_syn=FloatSlider(1e-3, 30e-3, 5e-3, step=1e-3, description="tau_syn (s)"),
    current=FloatSlider(1e-3, 1.0, 0.03, description="input c (per step)", log=True),
    threshold=FloatSlider(0.2, 3.0, 1.0, step=0.1, description="threshold"),
    reset=Choice(("zero", "subtract"), "zero", description="reset"),
)
def lif_demo(tau_mem, tau_syn, current, threshold, reset):
    """One LIF neuron under a constant input: currents, membrane, spikes; and where it sits on its f-I curve."""
    params = LIFParams(tau_mem=tau_mem, tau_syn=tau_syn, threshold=threshold, reset=reset)
    n_steps = 200
    drive = torch.full((1, n_steps, 1), float(current), dtype=torch.float64)
    res = simulate_lif(drive, params)
    t_ms = np.arange(n_steps) * params.dt * 1e3
    mem, syn, spk = (x[0, :, 0].numpy() for x in (res.mem, res.syn, res.spikes))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), layout="constrained")
    axes[0].plot(t_ms, syn, color="C1")
    axes[0].set_title("synaptic current I (1.2)")
    axes[0].set_xlabel("time (ms)")
    u_star = free_membrane_fixed_point(current, params)
    axes[1].plot(t_ms, mem, color="C0", label="U")
    axes[1].axhline(threshold, color="0.5", ls="--", lw=0.8, label="threshold")
    if u_star < 3 * threshold:
        axes[1].axhline(u_star, color="C2", ls=":", lw=1, label="free fixed point U* (1.9)")
    spike_t = t_ms[spk > 0]
    axes[1].plot(spike_t, np.full(spike_t.shape, 1.15 * threshold), "|", color="k", ms=8, label="spikes")
    axes[1].set_ylim(-0.05 * threshold, 1.3 * threshold)
    axes[1].set_xlabel("time (ms)")
    axes[1].set_title(f"membrane U, reset = {reset}: {int(spk.sum())} spikes")
    axes[1].legend(fontsize=7, loc="lower right")
    c_rh = rheobase(params)
    factors = np.linspace(0.0, max(4.0, 1.2 * current / c_rh), 40)
    rates = fi_curve(factors * c_rh, params, n_steps=400)
    axes[2].plot(factors, rates, "-", color="C0")
    axes[2].plot([current / c_rh], fi_curve([current], params, n_steps=400), "o", color="C3", label="this input")
    axes[2].axvline(1.0, color="0.6", ls="--", lw=0.8)
    axes[2].set_xlabel("c / rheobase")
    axes[2].set_ylabel("rate (Hz)")
    axes[2].set_title(f"f-I curve, c_rh = {c_rh:.3g}")
    axes[2].legend(fontsize=7)
    return fig


@demo(
    dt=FloatSlider(0.05e-3, 5e-3, 1e-3, description="dt (s)", log=True),
    tau_mem=FloatSlider(2e-3, 50e-3, 10e-3, step=1e-3, description="tau_mem (s)"),
)
def discretisation_demo(dt, tau_mem):
    """The PSP integrated exactly (1.7) and by forward Euler (1.8) at step ``dt``, and the error against dt."""
    params = LIFParams(tau_mem=tau_mem, tau_syn=5e-3, dt=1e-3)
    dts = np.geomspace(0.05e-3, 5e-3, by_mode(quick=6, standard=10))
    return plot_discretisation(params, dt, dts, t_max=max(0.06, 6 * tau_mem))
