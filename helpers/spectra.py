r"""Bookkeeping for notebook 05 (Lyapunov spectra): network set-ups, sweeps, tables and figures.

The physics lives in :mod:`helpers.lyapunov` (the QR method, eq. 5.1), :mod:`helpers.systems` (reference
systems with known exponents), :mod:`helpers.models` (the SNNs and their tangent maps, eqs. 2.3-2.6) and
:mod:`helpers.gradients` (the backpropagated error, eq. 4.1). This module only wires them together for the
notebook's experiments and draws the figures, so that the notebook's cells stay short.

Units: exponents are per time step (1/step) unless a function says otherwise; with dt = 1 ms, 0.1 per
step is 100 per second.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import torch

from .config import seed_generator
from .gradients import log_slope, state_gradient_norms
from .inputs import poisson_spikes
from .lyapunov import lyapunov_spectrum
from .models import RecurrentSNN
from .neurons import LIFParams
from .surrogate import surrogate_derivative
from .systems import RateNetwork, RandomTanhNetwork

# ------------------------------------------------------------------------------------------------ tables


def format_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A plain-text table: ``columns`` is a list of (key, header, format) with format like ``"{:.4f}"``."""
    cells = [[header for _, header, _ in columns]]
    for row in rows:
        cells.append([fmt.format(row[key]) if row.get(key) is not None else "-" for key, _, fmt in columns])
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ section 1


def naive_tangent_product(system: RandomTanhNetwork, n_steps: int, dtype=torch.float32, seed: int = 0) -> dict:
    r"""Propagate two tangent vectors by eq. (5.2) *without* re-orthonormalising them.

    The trajectory and the tangent vectors are computed in ``dtype`` (a copy of ``system`` is cast to it),
    so the overflow of :math:`\|J_{t-1} \cdots J_0\, u\|` happens as it would in a naive implementation.

    Returns a dict of numpy arrays over t = 0..n_steps: ``log_norm`` (natural log of the first vector's
    norm; inf once it overflowed, nan after), ``angle`` (radians, between the two vectors) and
    ``overflow_step`` (first t at which an entry of the product is no longer finite, or None).
    """
    net = copy.deepcopy(system).to(dtype)
    g = torch.Generator().manual_seed(seed)
    h = net.initial_state(1).to(dtype)
    q = torch.randn(1, net.state_dim, 2, generator=g, dtype=torch.float64).to(dtype)
    q = q / q.norm(dim=1, keepdim=True)
    log_norm, angle = [], []
    with torch.no_grad():
        for t in range(n_steps + 1):
            # the norm and the angle are evaluated in float64 after scaling by the largest entry, so that
            # what overflows is the product itself, not its evaluation (a squared norm overflows twice as early)
            scale = q.abs().amax(dim=1, keepdim=True).double()
            if torch.isfinite(scale).all() and (scale > 0).all():
                u = q.double() / scale
                norms = u.norm(dim=1)[0]
                log_norm.append(math.log(scale[0, 0, 0].item()) + math.log(norms[0].item()))
                u1, u2 = u[0, :, 0] / norms[0], u[0, :, 1] / norms[1]
                cos = u1 @ u2
                # atan2 of the orthogonal part: accurate down to rounding (acos(cos) is not below ~1e-8)
                angle.append(math.atan2((u2 - cos * u1).norm().item(), abs(cos.item())))
            else:
                log_norm.append(math.inf)
                angle.append(math.nan)
            q = net.tangent(h, None, q)
            h = net.step(h, None)
    log_norm = np.array(log_norm)
    bad = np.nonzero(~np.isfinite(log_norm))[0]
    return {"log_norm": log_norm, "angle": np.array(angle), "overflow_step": int(bad[0]) if bad.size else None}


def plot_naive_product(results: dict, lam1: float, eps: dict, ax=None):
    """Log norm and angle of the naive product for each dtype in ``results`` (dtype name -> dict)."""
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    for name, res in results.items():
        t = np.arange(res["log_norm"].size)
        finite = np.isfinite(res["log_norm"])
        ax[0].plot(t[finite], res["log_norm"][finite] / math.log(10), label=name)
        if res["overflow_step"] is not None:
            ax[0].axvline(res["overflow_step"], ls=":", color=ax[0].lines[-1].get_color())
        good = np.isfinite(res["angle"]) & (res["angle"] > 0)
        ax[1].semilogy(t[good], res["angle"][good], label=name)
        ax[1].axhline(10 * eps[name], ls=":", color=ax[1].lines[-1].get_color())
    t = np.arange(max(r["log_norm"].size for r in results.values()))
    ax[0].plot(t, lam1 * t / math.log(10), "k--", lw=0.8, label=r"slope $\lambda_1$")
    ax[0].set(xlabel="step t", ylabel=r"$\log_{10} \|J_{t-1}\cdots J_0 u\|$", title="the naive product overflows")
    ax[0].legend(fontsize=8)
    ax[1].set(xlabel="step t", ylabel="angle between two tangent vectors (rad)",
              title="and its columns align (dotted: 10 eps)")
    ax[1].legend(fontsize=8)
    return ax


# ------------------------------------------------------------------------------------------------ section 3


def plot_gaussian_products(measured, exact, se, ax=None):
    """Exponents of Gaussian matrix products against the digamma formula (5.6), with 2-SE bars."""
    ax = ax if ax is not None else plt.subplots(figsize=(5, 3.4), layout="constrained")[1]
    i = np.arange(1, len(exact) + 1)
    ax.plot(i, exact, "k-", lw=1, label="theory (5.6)")
    ax.errorbar(i, measured, yerr=2 * np.asarray(se), fmt="o", ms=4, capsize=3, label="QR estimate ± 2 SE")
    ax.set(xlabel="index i", ylabel=r"$\lambda_i$ (1/step)", title="products of Gaussian matrices")
    ax.legend(fontsize=8)
    return ax


# ------------------------------------------------------------------------------------------------ section 4


def rate_network_lambda1(gains, n: int, n_steps: int, transient: int, dt_over_tau: float = 0.1,
                         batch: int = 2, seed: int = 0) -> dict:
    r"""Leading exponent of :class:`~helpers.systems.RateNetwork` against the gain g (eq. 5.8).

    Returns a dict of numpy arrays: ``gains``, ``lambda1`` (mean over ``batch`` initial states) and
    ``predicted``: below the transition the origin is a stable fixed point where
    :math:`J = (1 - \epsilon) I + \epsilon W` (:math:`\epsilon = \Delta t/\tau`), so
    :math:`\lambda_1 = \max_i \log|1 - \epsilon + \epsilon \mu_i|` with :math:`\mu_i` the eigenvalues of W
    (eq. 5.9; only meaningful where that is negative). All in units of 1/tau (per-step values divided by
    ``dt_over_tau``).
    """
    lam, pred = [], []
    for j, g in enumerate(gains):
        net = RateNetwork(n, float(g), dt_over_tau=dt_over_tau, generator=torch.Generator().manual_seed(seed))
        h0 = torch.randn(batch, n, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
        with torch.no_grad():
            res = lyapunov_spectrum(net, n_steps, 1, h0=h0, transient=transient, generator=seed_generator(seed + 2))
            mu = torch.linalg.eigvals(net.weight)
        lam.append(res.exponents[:, 0].mean().item() / dt_over_tau)
        pred.append(torch.log((1 - dt_over_tau + dt_over_tau * mu).abs()).max().item() / dt_over_tau)
    return {"gains": np.asarray(gains, dtype=float), "lambda1": np.array(lam), "predicted": np.array(pred)}


def plot_transition(sweep: dict, ax=None):
    ax = ax if ax is not None else plt.subplots(figsize=(5.5, 3.4), layout="constrained")[1]
    g, lam, pred = sweep["gains"], sweep["lambda1"], sweep["predicted"]
    ax.plot(g, lam, "o-", label=r"$\lambda_1$ measured (QR)")
    below = pred < 0
    ax.plot(g[below], pred[below], "k--", lw=1, label=r"fixed point: $\max_i \log|1-\epsilon+\epsilon\mu_i|/\epsilon$")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.axvline(1, color="0.5", lw=0.8, ls=":")
    ax.set(xlabel="gain g", ylabel=r"$\lambda_1$ (1/$\tau$)", title="rate network: transition to chaos")
    ax.legend(fontsize=8)
    return ax


# ------------------------------------------------------------------------------------------------ section 5: SNNs


@dataclass
class SNNSetup:
    """A recurrent LIF network driven by Poisson input (the notebook's standard SNN experiment).

    n_hidden LIF neurons (state dim 2 n_hidden), ``n_in`` Poisson inputs at ``input_rate`` spikes per step,
    Gaussian weights: input weights N(0, input_gain^2 / n_in), recurrent weights N(0, gain^2 / n_hidden).
    """

    n_hidden: int = 64
    gain: float = 1.0
    steepness: float = 10.0
    reset: str = "zero"
    detach_reset: bool = True
    surrogate: str = "fast_sigmoid"
    n_in: int = 100
    input_gain: float = 0.5
    input_rate: float = 0.05
    seed: int = 0
    dtype: torch.dtype = torch.float32
    device: torch.device | str | None = None
    extra: dict = field(default_factory=dict)

    def params(self) -> LIFParams:
        return LIFParams(reset=self.reset, detach_reset=self.detach_reset, surrogate=self.surrogate,
                         steepness=self.steepness)

    def model(self) -> RecurrentSNN:
        """The network; the same ``seed`` gives the same weights (up to the gain) for every setting."""
        return RecurrentSNN(self.n_in, self.n_hidden, 2, params=self.params(), gain=self.gain,
                            input_gain=self.input_gain, generator=seed_generator(self.seed, self.device or "cpu"),
                            dtype=self.dtype, device=self.device)

    def inputs(self, batch: int, n_steps: int) -> torch.Tensor:
        """Poisson input (batch, n_steps, n_in), seeded by ``seed + 1``."""
        return poisson_spikes(batch, n_steps, self.n_in, self.input_rate,
                              generator=seed_generator(self.seed + 1, self.device or "cpu"),
                              dtype=self.dtype, device=self.device)


def snn_spectrum(setup: SNNSetup, k: int, batch: int, n_steps: int, transient: int) -> dict:
    """The k leading surrogate exponents (mean over the batch), the spread of lambda_1 over the batch, the
    firing rate (spikes per neuron and step) and ``mean_d``, the mean surrogate derivative <sigma'(U - theta)>."""
    model, x = setup.model(), setup.inputs(batch, n_steps)
    p = model.params
    with torch.no_grad():
        out = model(x)
        rate = out.spikes[0].mean().item()
        mean_d = surrogate_derivative(out.mem[0] - p.threshold, p.surrogate, p.steepness).mean().item()
        res = lyapunov_spectrum(model, x, k, transient=transient, generator=seed_generator(setup.seed + 2))
    lam = res.exponents.double().cpu()
    return {"exponents": lam.mean(0).numpy(), "spread": lam[:, 0].std().item() if batch > 1 else 0.0,
            "lambda1": lam[:, 0].mean().item(), "rate": rate, "mean_d": mean_d}


def spectrum_sweep(base: SNNSetup, name: str, values, k: int, batch: int, n_steps: int, transient: int) -> list[dict]:
    """:func:`snn_spectrum` for each value of the field ``name`` of ``base`` (e.g. ``"gain"``)."""
    out = []
    for value in values:
        setup = dataclasses.replace(base, **{name: value})
        out.append({name: value, **snn_spectrum(setup, k, batch, n_steps, transient)})
    return out


def plot_spectra(sweeps: dict, name: str, beta: float, alpha: float, axes=None, label_fmt="{:g}"):
    """One panel per sweep (e.g. per reset): the spectra (exponent against index) for each value of ``name``."""
    if axes is None:
        _, axes = plt.subplots(1, len(sweeps), figsize=(5 * len(sweeps), 3.4), layout="constrained", sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (title, sweep) in zip(axes, sweeps.items()):
        colors = plt.cm.viridis(np.linspace(0, 0.9, len(sweep)))
        for row, c in zip(sweep, colors):
            i = np.arange(1, len(row["exponents"]) + 1)
            ax.plot(i, row["exponents"], "o-", ms=3, color=c,
                    label=f"{name} {label_fmt.format(row[name])} (rate {row['rate']:.2f})")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.axhline(math.log(beta), color="k", ls=":", lw=0.8)
        ax.axhline(math.log(alpha), color="k", ls="--", lw=0.8)
        ax.set(xlabel="index i", title=title)
        ax.legend(fontsize=7)
    axes[0].set_ylabel(r"$\lambda_i$ (1/step); dotted $\log\beta$, dashed $\log\alpha$")
    return axes


# ------------------------------------------------------------------------------------------------ section 6


def jacobian_at_spikes(setup: SNNSetup, n_steps: int = 200) -> dict:
    """Dense Jacobian J_t = tangent(h_t, x_t, I) at the first step t where at least two neurons spike.

    Returns ``jacobian`` (state_dim, state_dim) numpy, ``spiking`` (bool, n_hidden), ``step`` t.
    """
    model, x = setup.model(), setup.inputs(1, n_steps)
    n = setup.n_hidden
    with torch.no_grad():
        h = model.initial_state(1)
        for t in range(n_steps):
            spiking = (model.split_state(h)[0][1] > model.params.threshold)[0]
            if spiking.sum() >= 2:
                eye = torch.eye(model.state_dim, dtype=h.dtype, device=h.device)
                jac = model.tangent(h, x[:, t], eye)[0]
                return {"jacobian": jac.cpu().numpy(), "spiking": spiking.cpu().numpy(), "step": t, "n": n}
            h = model.step(h, x[:, t])
    raise RuntimeError("no step with two spiking neurons; raise the input gain or the number of steps")


def plot_jacobians(panels: dict, axes=None):
    """Images of |J| (log scale) for each entry of ``panels`` (title -> :func:`jacobian_at_spikes` output);
    the membrane rows of the spiking neurons are marked."""
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, (title, p) in zip(axes, panels.items()):
        mag = np.abs(p["jacobian"])
        shown = np.log10(np.where(mag > 0, mag, np.nan))
        im = ax.imshow(np.nan_to_num(shown, nan=-8.0), cmap="magma", vmin=-8, vmax=0.5)
        for i in np.nonzero(p["spiking"])[0]:
            ax.axhline(p["n"] + i, color="cyan", lw=2, alpha=0.5)
        ax.axhline(p["n"] - 0.5, color="w", lw=0.8)
        ax.axvline(p["n"] - 0.5, color="w", lw=0.8)
        ax.set(title=f"{title} (step {p['step']})", xlabel="column: (I, U) of step t", ylabel="row: (I, U) of step t+1")
    plt.colorbar(im, ax=axes[-1], label=r"$\log_{10}|J_{ij}|$ (black: exactly 0)")
    return axes


def local_exponents_full(setup: SNNSetup, n_steps: int) -> dict:
    """Local exponents (one QR per step) of the full spectrum, k = state_dim, and the spikes per step."""
    model, x = setup.model(), setup.inputs(1, n_steps)
    with torch.no_grad():
        spikes = model(x).spikes[0][0].sum(-1)
        res = lyapunov_spectrum(model, x, model.state_dim, return_local=True, generator=seed_generator(setup.seed + 2))
    return {"local": res.local[0].double().cpu().numpy(), "spikes": spikes.cpu().numpy(),
            "exponents": res.exponents[0].double().cpu().numpy()}


def plot_local_exponents(panels: dict, threshold: float, axes=None):
    """Per step: the smallest local exponents (sorted) and the number of spikes, for each reset."""
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.4), layout="constrained", sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (title, p) in zip(axes, panels.items()):
        loc = np.sort(p["local"], axis=1)
        t = np.arange(loc.shape[0])
        for j in range(min(4, loc.shape[1])):
            ax.plot(t, loc[:, j], lw=0.8, label=f"{j + 1}. smallest local exponent")
        ax.axhline(threshold, color="k", ls=":", lw=0.8)
        ax.set(xlabel="step t", title=title)
        twin = ax.twinx()
        twin.bar(t, p["spikes"], color="0.7", alpha=0.5, width=1.0)
        twin.set_ylabel("spikes at step t", color="0.5")
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
    axes[0].set_ylabel("local exponent (log|R_ii| per step)")
    axes[0].legend(fontsize=7, loc="lower left")
    return axes


# ------------------------------------------------------------------------------------------------ section 7


def gradient_link(settings: dict, batch: int, n_steps: int, k: int, transient: int, fit_range) -> list[dict]:
    r"""For each named :class:`SNNSetup`: lambda_1 by QR (eq. 5.1) and the slope of log gradient norm
    against lag (eq. 5.11, :func:`helpers.gradients.state_gradient_norms` and
    :func:`helpers.gradients.log_slope`) on the same network and the same inputs.

    Returns rows with ``name``, ``rate``, ``lambda1`` (batch mean), ``spread`` (std of lambda_1 over the
    batch), ``slope``, ``rel_diff`` = (slope - lambda_1)/|lambda_1|, ``abs_diff`` and ``norms`` (batch, T+1).
    """
    rows = []
    for name, setup in settings.items():
        model, x = setup.model(), setup.inputs(batch, n_steps)
        with torch.no_grad():
            rate = model(x).spikes[0].mean().item()
            res = lyapunov_spectrum(model, x, k, transient=transient, generator=seed_generator(setup.seed + 2))
        lam = res.exponents[:, 0].double().cpu()
        norms = state_gradient_norms(model, x, generator=seed_generator(setup.seed + 3))
        slope = log_slope(norms, fit_range=fit_range)
        lam1 = lam.mean().item()
        rows.append({"name": name, "rate": rate, "lambda1": lam1, "spread": lam.std().item() if batch > 1 else 0.0,
                     "slope": slope, "abs_diff": slope - lam1, "rel_diff": (slope - lam1) / abs(lam1),
                     "norms": norms.double().cpu().numpy()})
    return rows


def plot_gradient_link(rows: list[dict], fit_range, ax=None):
    """log gradient norm against lag per setting (geometric mean over the batch), with the line of slope
    lambda_1 through the fitted window."""
    ax = ax if ax is not None else plt.subplots(figsize=(6.5, 3.8), layout="constrained")[1]
    for row in rows:
        log_norm = np.log(np.clip(row["norms"], 1e-300, None)).mean(0)
        lags = np.arange(log_norm.size - 1, -1, -1)
        line, = ax.plot(lags, log_norm, lw=1, label=f"{row['name']}: slope {row['slope']:+.4f}, "
                                                     rf"$\lambda_1$ {row['lambda1']:+.4f}")
        window = (lags >= fit_range[0]) & (lags <= fit_range[1])
        mid = int(np.median(lags[window]))
        anchor = log_norm[lags == mid][0]
        xs = np.array(fit_range, dtype=float)
        ax.plot(xs, anchor + row["lambda1"] * (xs - mid), "--", color=line.get_color(), lw=1)
    ax.set(xlabel="lag T - t (steps)", ylabel=r"$\log \|\partial L/\partial h_t\|$",
           title=r"BPTT error against lag; dashed: slope $\lambda_1$ from QR")
    ax.legend(fontsize=7)
    return ax
