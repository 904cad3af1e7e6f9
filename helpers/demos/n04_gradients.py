r"""Notebook 04, gradients through time: the networks, measurements and sweeps of the notebook, and its demo.

The notebook studies one recurrent LIF layer (:class:`helpers.models.RecurrentSNN`) driven by Poisson input.
Its recurrent *gain* g multiplies the recurrent weights of the fluctuation-driven initialisation of
notebook 02 (membrane std about one threshold, 90% of the variance from the input), so g = 1 is that
initialisation, g = 0 removes the recurrence and g > 1 strengthens it. Every measurement is the norm of the
backpropagated error :math:`\|\partial L/\partial h_t\|` against the lag T - t (eq. 4.1, computed by
:func:`helpers.gradients.state_gradient_norms`) and its log-slope (:func:`helpers.gradients.log_slope`),
a rate per step.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, replace

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..checks import check_choice, check_nonnegative
from ..config import by_mode, seed_generator
from ..gradients import log_slope, long_term_jacobian, singular_values, state_gradient_norms
from ..inputs import poisson_spikes
from ..models import RecurrentSNN
from ..neurons import LIFParams
from ..plotting import gradient_norms_vs_lag, raster
from ..widgets import Choice, FloatSlider, demo

RESET_VARIANTS = {
    "zero, detached": ("zero", True),
    "zero, attached": ("zero", False),
    "subtract, detached": ("subtract", True),
    "subtract, attached": ("subtract", False),
}


@dataclass
class Setting:
    """One network configuration of the notebook's sweeps.

    Attributes:
        gain: factor on the recurrent weights of the fluctuation-driven initialisation (>= 0).
        steepness: fast-sigmoid surrogate steepness, 1 / membrane units.
        tau_mem: membrane time constant, seconds.
        tau_syn: synaptic time constant, seconds.
        reset: ``"zero"`` or ``"subtract"``.
        detach_reset: whether the reset carries no gradient.
    """

    gain: float = 1.0
    steepness: float = 10.0
    tau_mem: float = 10e-3
    tau_syn: float = 5e-3
    reset: str = "zero"
    detach_reset: bool = True

    def params(self) -> LIFParams:
        return LIFParams(tau_mem=self.tau_mem, tau_syn=self.tau_syn, reset=self.reset,
                         detach_reset=self.detach_reset, steepness=self.steepness)


def make_network(setting: Setting, n_hidden: int, n_in: int = 20, n_out: int = 2, seed: int = 1,
                 dtype=torch.float64, device=None) -> RecurrentSNN:
    """A :class:`RecurrentSNN` with fluctuation-driven weights (notebook 02), recurrent weights times ``gain``."""
    check_nonnegative("gain", setting.gain)
    net = RecurrentSNN(n_in, n_hidden, n_out, params=setting.params(), init="fluctuation",
                       generator=seed_generator(seed), dtype=dtype, device=device)
    with torch.no_grad():
        net.w_rec_matrix.mul_(setting.gain)
    return net


def poisson_input(batch: int, n_steps: int, n_in: int = 20, rate: float = 0.05, seed: int = 0,
                  dtype=torch.float64, device=None) -> torch.Tensor:
    """Poisson spike trains (batch, n_steps, n_in) with probability ``rate`` per step (5% = 50 Hz at 1 ms)."""
    return poisson_spikes(batch, n_steps, n_in, rate, generator=seed_generator(seed), dtype=dtype, device=device)


def default_fit_range(n_steps: int) -> tuple[int, int]:
    """Lags used to fit the slope: skip the first 10% (the error's own transient) and the last 10% (the
    network's start from rest)."""
    return max(1, n_steps // 10), n_steps - n_steps // 10


def measure(setting: Setting, n_hidden: int, n_steps: int, batch: int, seed: int = 1, input_seed: int = 0,
            fit_range=None, device=None) -> dict:
    """Gradient norms (eq. 4.1), their log-slope, and the firing rate of one network under Poisson input.

    Returns a dict with ``norms`` (batch, T+1) numpy, ``slope`` (1/step), ``rate`` (spikes per neuron and step).
    """
    net = make_network(setting, n_hidden, seed=seed, device=device)
    x = poisson_input(batch, n_steps, net.n_in, seed=input_seed, device=device)
    norms = state_gradient_norms(net, x, generator=seed_generator(1000 + seed))
    with torch.no_grad():
        spikes = net(x).spikes[0]
    fit_range = default_fit_range(n_steps) if fit_range is None else fit_range
    try:
        slope = log_slope(norms, fit_range=fit_range)
    except ValueError:  # every norm in the fit range is 0 (cannot happen with the I rows, but be safe)
        slope = float("-inf")
    return dict(norms=norms.cpu().numpy(), slope=slope, rate=float(spikes.mean()), spikes=spikes[0].cpu().numpy())


def sweep(name: str, values, base: Setting | None = None, seeds=(1,), **sizes) -> dict:
    """Measure the slope and the rate for each value of the setting ``name`` (a field of :class:`Setting`,
    or ``"reset"`` with a key of :data:`RESET_VARIANTS`) and each network seed.

    Returns ``values``, ``slopes`` and ``rates`` (len(values), len(seeds)) arrays, and ``norms``: the
    gradient norms of the first seed for each value.
    """
    base = Setting() if base is None else base
    slopes, rates, norms = [], [], []
    for value in values:
        if name == "reset":
            reset, detach = RESET_VARIANTS[value]
            setting = replace(base, reset=reset, detach_reset=detach)
        else:
            if name not in asdict(base):
                raise ValueError(f"name must be a field of Setting {tuple(asdict(base))} or 'reset', got {name!r}")
            setting = replace(base, **{name: value})
        runs = [measure(setting, seed=seed, **sizes) for seed in seeds]
        slopes.append([r["slope"] for r in runs])
        rates.append([r["rate"] for r in runs])
        norms.append(runs[0]["norms"])
    return dict(name=name, values=list(values), slopes=np.array(slopes), rates=np.array(rates), norms=norms)


def sweep_figure(result: dict, label: str, log_x: bool = False, reference=None, fmt="{:g}", scale: float = 1.0):
    """Left: gradient norm against lag for each value (first seed). Right: slope (mean and range over seeds,
    blue) and firing rate (red) against the value; ``reference`` (values -> slopes) draws a dashed prediction.
    Values are shown times ``scale`` (e.g. 1e3 for seconds in ms)."""
    fig, (ax_lag, ax_slope) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(result["values"])))
    categorical = isinstance(result["values"][0], str)
    names = [v if categorical else fmt.format(v * scale) for v in result["values"]]
    for name, norms, color in zip(names, result["norms"], colors):
        gradient_norms_vs_lag(norms, ax=ax_lag, color=color, label=name if categorical else f"{label} = {name}")
    ax_lag.legend(fontsize=7, ncol=2)
    xs = np.arange(len(names)) if categorical else np.asarray(result["values"], dtype=float) * scale
    slopes = result["slopes"]
    ls = "none" if categorical else "-"
    ax_slope.plot(xs, slopes.mean(1), marker="o", ls=ls, color="C0", label="measured slope")
    if categorical:
        ax_slope.vlines(xs, slopes.min(1), slopes.max(1), color="C0", alpha=0.5)
    else:
        ax_slope.fill_between(xs, slopes.min(1), slopes.max(1), color="C0", alpha=0.2, lw=0)
    if reference is not None:
        ax_slope.plot(xs, reference(xs / scale), "k--", lw=1, label="silent network (4.6)")
        ax_slope.legend(fontsize=7, loc="lower right")
    ax_slope.axhline(0, color="0.6", lw=0.8)
    ax_slope.set_xlabel(label)
    ax_slope.set_ylabel("slope of log norm (1/step)", color="C0")
    ax_rate = ax_slope.twinx()
    ax_rate.plot(xs, result["rates"].mean(1), marker="s", ls="none" if categorical else ":", color="C3", ms=3)
    ax_rate.set_ylabel("firing rate (spikes / neuron / step)", color="C3")
    if log_x and not categorical:
        ax_slope.set_xscale("log")
        ax_slope.xaxis.set_minor_formatter(plt.NullFormatter())
    if categorical or log_x:
        ax_slope.set_xticks(xs, names, rotation=15 if categorical else 0, fontsize=8)
    return fig


def silent_slope(tau_mem: float, tau_syn: float, dt: float = 1e-3) -> float:
    """Predicted slope of a silent (uncoupled, sub-threshold) population: log max(alpha, beta) (eq. 4.6)."""
    return max(-dt / tau_mem, -dt / tau_syn)


def with_reset(net: RecurrentSNN, reset: str, detach_reset: bool) -> RecurrentSNN:
    """A copy of ``net`` (same weights) with another reset convention: its step and tangent follow eq. 1.3/1.4."""
    variant = copy.deepcopy(net)
    variant.params = replace(net.params, reset=reset, detach_reset=detach_reset)
    return variant


def dense_jacobian(net, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """J = d step(h, x) / d h of one sample (state_dim, state_dim), from the structured tangent (eqs. 2.3-2.6)."""
    eye = torch.eye(net.state_dim, dtype=h.dtype, device=h.device)
    return net.tangent(h[:1], x[:1], eye)[0]


def long_term_spectrum(setting: Setting, n_hidden: int, windows, start: int, batch: int, seed: int = 1,
                       device=None) -> dict:
    r"""Singular values of the long-term Jacobian :math:`J_{t_0 + w \leftarrow t_0}` (eq. 4.7) for each window w.

    The network runs from rest through Poisson input; ``start`` = :math:`t_0` skips the transient.
    Returns ``windows``, ``svals`` (len(windows), batch, state_dim) numpy, descending per row, and
    ``jacobian``: the long-term Jacobian of the longest window (batch, state_dim, state_dim).
    """
    net = make_network(setting, n_hidden, seed=seed, device=device)
    x = poisson_input(batch, start + max(windows), net.n_in, device=device)
    svals = []
    for w in windows:
        jac = long_term_jacobian(net, x, start=start, stop=start + w)
        svals.append(singular_values(jac).cpu().numpy())
    return dict(windows=np.asarray(windows), svals=np.stack(svals), state_dim=net.state_dim, jacobian=jac)


def long_term_figure(result: dict, k: int, show_windows=None, fit_from: int | None = None):
    r"""Left: singular values of :math:`J_{t_0+w \leftarrow t_0}` against their index for a few windows
    (geometric mean over inputs; values below machine precision times :math:`\sigma_1` drawn at that floor).
    Right: :math:`\log \sigma_1`, :math:`\log \sigma_k` and :math:`\log \kappa_k` against w with their
    fitted slopes (windows >= ``fit_from``). Returns the figure and the fitted slopes (dict)."""
    windows, svals = result["windows"], result["svals"]
    floor = np.finfo(float).eps
    rel = np.clip(svals / svals[..., :1], floor, None) * svals[..., :1]  # relative floor: numerical zero
    log_s = np.log(rel).mean(1)  # (windows, state_dim): mean over inputs of log sigma_i
    show_windows = windows if show_windows is None else show_windows
    fig, (ax_s, ax_w) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(show_windows)))
    index = np.arange(1, svals.shape[-1] + 1)
    for w, color in zip(show_windows, colors):
        row = int(np.nonzero(windows == w)[0][0])
        ax_s.semilogy(index, np.exp(log_s[row]), color=color, label=f"w = {w}")
    ax_s.axvline(k, color="0.6", ls=":", lw=1)
    ax_s.set_xlabel("index i")
    ax_s.set_ylabel(r"$\sigma_i$ of $J_{t_0+w \leftarrow t_0}$")
    ax_s.legend(fontsize=8)
    fit_from = windows[len(windows) // 2] if fit_from is None else fit_from
    fit = windows >= fit_from
    slopes = {}
    for name, values, style in ((r"$\log \sigma_1$", log_s[:, 0], "o-"),
                                (rf"$\log \sigma_{{{k}}}$", log_s[:, k - 1], "s-"),
                                (rf"$\log \kappa_{{{k}}} = \log \sigma_1/\sigma_{{{k}}}$", log_s[:, 0] - log_s[:, k - 1], "^-")):
        slope = float(np.polyfit(windows[fit], values[fit], 1)[0])
        slopes[name] = slope
        ax_w.plot(windows, values, style, ms=4, label=f"{name}: slope {slope:+.3f}")
    ax_w.axhline(0, color="0.6", lw=0.8)
    ax_w.set_xlabel("window w (steps)")
    ax_w.set_ylabel("log (mean over inputs)")
    ax_w.legend(fontsize=8)
    return fig, dict(zip(("sigma_1", "sigma_k", "kappa_k"), slopes.values()))


def cue_task(batch: int, n_steps: int, n_in: int = 20, n_cue: int = 10, cue_rate: float = 0.3,
             rate: float = 0.05, seed: int = 0, dtype=torch.float64, device=None):
    """A small memory task: during the first ``n_cue`` steps one half of the input channels (the class,
    0 or 1) fires at ``cue_rate`` per step; afterwards all channels fire at the background ``rate``.
    The readout must report the class at the last step. Returns ``(x, labels)``."""
    gen = seed_generator(seed)
    labels = torch.randint(0, 2, (batch,), generator=gen)
    x = poisson_spikes(batch, n_steps, n_in, rate, generator=gen, dtype=dtype)
    cue = poisson_spikes(batch, n_cue, n_in // 2, cue_rate, generator=gen, dtype=dtype)
    for b, label in enumerate(labels.tolist()):
        channels = slice(0, n_in // 2) if label == 0 else slice(n_in // 2, 2 * (n_in // 2))
        x[b, :n_cue, channels] = cue[b]
    return x.to(device), labels.to(device)


def last_step_loss(labels: torch.Tensor):
    """Cross-entropy of the readout at the last step against ``labels``: a ``loss_fn`` for ``bptt_signal``."""
    return lambda out: torch.nn.functional.cross_entropy(out.output[:, -1], labels)


# ------------------------------------------------------------------------------------------------ demo
DEMO_SIZES = dict(n_hidden=by_mode(quick=48, standard=64), n_steps=by_mode(quick=150, standard=200),
                  batch=by_mode(quick=2, standard=4))


@demo(
    gain=FloatSlider(0.0, 8.0, 1.0, step=0.25, description="recurrent gain g"),
    steepness=FloatSlider(1.0, 100.0, 10.0, step=0.05, log=True, description="surrogate steepness"),
    tau_mem=FloatSlider(2e-3, 50e-3, 10e-3, step=1e-3, description="tau_mem (s)"),
    reset=Choice(tuple(RESET_VARIANTS), "zero, detached", description="reset"),
)
def gradient_demo(gain, steepness, tau_mem, reset):
    """Gradient norm against lag (log scale) with its fitted slope, and the network's spikes."""
    check_choice("reset", reset, RESET_VARIANTS)
    mode, detach = RESET_VARIANTS[reset]
    setting = Setting(gain=float(gain), steepness=float(steepness), tau_mem=float(tau_mem), reset=mode,
                      detach_reset=detach)
    sizes = DEMO_SIZES
    result = measure(setting, sizes["n_hidden"], sizes["n_steps"], sizes["batch"])
    fig, (ax, ax_r) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained", width_ratios=(3, 2))
    gradient_norms_vs_lag(result["norms"], ax=ax, color="C0", label="measured (geometric mean over inputs)")
    n_steps = sizes["n_steps"]
    low, high = default_fit_range(n_steps)
    lags = np.arange(low, high + 1)
    norms = result["norms"]
    anchor = np.exp(np.mean(np.log(np.clip(norms[:, n_steps - low], 1e-300, None))))
    if math.isfinite(result["slope"]):
        ax.plot(lags, anchor * np.exp(result["slope"] * (lags - low)), "C1--",
                label=f"fit: slope {result['slope']:+.3f} / step")
    silent = silent_slope(setting.tau_mem, setting.tau_syn)
    ax.plot(lags, anchor * np.exp(silent * (lags - low)), "k:", lw=1,
            label=f"silent network: log max(alpha, beta) = {silent:+.3f}")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"g = {gain:g}, steepness {steepness:.3g}, tau_mem {tau_mem * 1e3:.0f} ms, {reset}", fontsize=9)
    raster(result["spikes"][:, :32], ax=ax_r, markersize=2)
    ax_r.set_title(f"32 neurons, rate {result['rate']:.3f} spikes / neuron / step", fontsize=9)
    return fig
