r"""Notebook 03 (surrogate gradients): a small temporal classification task, a minimal training loop, the
bookkeeping behind the figures, and the live demo.

Equation numbers refer to notebook 03: (3.1)-(3.2) the spike and its true derivative; (3.3)-(3.5) the
surrogate derivative, its area and the unit-area normalisation; (3.6) the training loss; (3.7)-(3.12) what
theory says (implemented in :mod:`helpers.theory`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from .. import theory as th
from ..checks import check_int, check_positive
from ..config import by_mode, seed_generator
from ..inputs import poisson_spikes
from ..models import RecurrentSNN
from ..neurons import LIFParams
from ..plotting import surrogate_shapes
from ..surrogate import SURROGATE_KINDS, surrogate_area, surrogate_derivative
from ..widgets import Choice, FloatSlider, demo

# ----------------------------------------------------------------------------------------------- the task


@dataclass
class OrderTask:
    """Classify Poisson spike patterns that differ only in the *order* of their segments.

    A base template switches each of ``n_in`` channels between a low and a high rate (spike probability per
    step) in each of ``n_segments`` time segments; class c presents the segments in its own order (a distinct
    permutation). Every class has the same expected spike count in every channel, so spike counts alone
    carry no information: the network has to use timing. Samples are fresh Poisson draws.

    Attributes:
        n_classes, n_in, n_steps, n_segments: sizes (n_steps a multiple of n_segments).
        rate_low, rate_high: spike probabilities per step (rate in Hz times dt).
        density: fraction of (segment, channel) cells at the high rate.
        seed: seed of the template (the task itself); samples use the generator given to :meth:`sample`.
    """

    n_classes: int = 4
    n_in: int = 20
    n_steps: int = 40
    n_segments: int = 4
    rate_low: float = 0.01
    rate_high: float = 0.15
    density: float = 0.3
    seed: int = 123
    rates: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self):
        check_int("n_segments", self.n_segments, 2, 8)
        check_int("n_classes", self.n_classes, 2, math.factorial(self.n_segments))
        check_int("n_steps", self.n_steps, self.n_segments)
        if self.n_steps % self.n_segments:
            raise ValueError(f"n_steps must be a multiple of n_segments={self.n_segments}, got {self.n_steps}")
        g = seed_generator(self.seed)
        base = (torch.rand(self.n_segments, self.n_in, generator=g) < self.density).float()
        perms = list(itertools.permutations(range(self.n_segments)))
        chosen = torch.randperm(len(perms), generator=g)[: self.n_classes]
        template = torch.stack([base[list(perms[int(i)])] for i in chosen])  # (C, n_segments, n_in)
        template = template.repeat_interleave(self.n_steps // self.n_segments, dim=1)
        self.rates = self.rate_low + (self.rate_high - self.rate_low) * template  # (C, T, n_in)

    @property
    def mean_rate(self) -> float:
        return float(self.rates.mean())

    def sample(self, batch: int, generator: torch.Generator | None = None):
        """A batch ``(x, y)``: spikes (batch, n_steps, n_in) float32 and labels (batch,) int64."""
        y = torch.randint(0, self.n_classes, (batch,), generator=generator)
        x = poisson_spikes(batch, self.n_steps, self.n_in, self.rates[y], generator=generator)
        return x, y


# ------------------------------------------------------------------------------------ a minimal training loop
def classification_loss(output: torch.Tensor, y: torch.Tensor):
    r"""Eq. (3.6): logits :math:`\max_t y_c[t]` of the readout, cross-entropy loss. Returns (loss, logits)."""
    logits = output.max(dim=1).values
    return F.cross_entropy(logits, y), logits


def make_model(task: OrderTask, n_hidden: int, kind: str, steepness: float, seed: int = 0,
               device: torch.device | str = "cpu") -> RecurrentSNN:
    """A recurrent SNN for ``task`` with fluctuation-driven initialisation (membrane std 1 threshold)."""
    params = LIFParams(surrogate=kind, steepness=steepness)
    model = RecurrentSNN(task.n_in, n_hidden, task.n_classes, params=params, init="fluctuation",
                         input_rate=task.mean_rate, hidden_rate=0.05, generator=seed_generator(seed))
    return model.to(device)


def train_snn(task: OrderTask, kind: str = "fast_sigmoid", steepness: float = 10.0, n_hidden: int = 32,
              n_train_steps: int = 100, batch: int = 16, lr: float = 3e-3, seed: int = 0,
              readout_only: bool = False, n_test: int = 256, device: torch.device | str = "cpu") -> dict:
    """Train a :func:`make_model` network on ``task`` with Adam; the course's full loop is :mod:`helpers.training`.

    ``readout_only=True`` trains only the readout: what gradient descent with the *true* gradient does,
    since the true gradient with respect to every weight before a spike is zero (eq. 3.2).

    Returns a history dict: ``kind`` and ``steepness`` (None for readout only), ``step``, ``loss``, ``accuracy`` (per training batch), ``test_accuracy`` (on
    ``n_test`` fresh samples, the same for every run), ``rate`` (hidden spikes per neuron and step at the
    start) and ``grad_norm_hidden`` (norm of the surrogate gradient of the input and recurrent weights at
    the first step).
    """
    model = make_model(task, n_hidden, kind, steepness, seed, device)
    trained = model.readout_parameters() if readout_only else list(model.parameters())
    optimiser = torch.optim.Adam(trained, lr=lr)
    data = seed_generator(seed + 1)
    history = {"kind": None if readout_only else kind, "steepness": None if readout_only else steepness,
               "step": [], "loss": [], "accuracy": []}
    for step in range(n_train_steps):
        x, y = task.sample(batch, data)
        out = model(x.to(device))
        loss, logits = classification_loss(out.output, y.to(device))
        optimiser.zero_grad()
        loss.backward()
        if step == 0:
            hidden = [p.grad for p in (model.w_ff[0], model.w_rec[0])]
            history["grad_norm_hidden"] = float(torch.sqrt(sum((g**2).sum() for g in hidden)))
            history["rate"] = float(out.spikes[0].detach().mean())
        optimiser.step()
        history["step"].append(step)
        history["loss"].append(float(loss.detach()))
        history["accuracy"].append(float((logits.argmax(1).cpu() == y).float().mean()))
    x, y = task.sample(n_test, seed_generator(10_000 + task.seed))
    with torch.no_grad():
        _, logits = classification_loss(model(x.to(device)).output, y.to(device))
    history["test_accuracy"] = float((logits.argmax(1).cpu() == y).float().mean())
    return history


def smooth(values, width: int = 10) -> np.ndarray:
    """Running mean over ``width`` steps (shorter at the start), for noisy per-batch curves."""
    values = np.asarray(values, dtype=float)
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    out = np.empty_like(values)
    for i in range(len(values)):
        lo = max(0, i - width + 1)
        out[i] = (cumsum[i + 1] - cumsum[lo]) / (i + 1 - lo)
    return out


def plot_training(runs: dict, title: str = "", width: int = 10, axes=None):
    """Loss and accuracy (running mean over ``width`` batches) of several runs ``{label: history}``."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    for label, hist in runs.items():
        style = dict(ls="--", color="k") if "readout" in label else {}
        axes[0].plot(hist["step"], smooth(hist["loss"], width), label=label, **style)
        axes[1].plot(hist["step"], smooth(hist["accuracy"], width), label=f"{label}: test {hist['test_accuracy']:.2f}",
                     **style)
    axes[0].set(xlabel="training step", ylabel="loss (3.6)", title=title)
    axes[1].set(xlabel="training step", ylabel="training accuracy", ylim=(0, 1.02))
    axes[1].legend(fontsize=7)
    return axes


# ------------------------------------------------------------------------------- the true gradient is zero
@torch.no_grad()
def _set_weight(model, neuron, channel, value):
    model.w_ff[0][neuron, channel] = value


def scan_weight(model: RecurrentSNN, x: torch.Tensor, y: torch.Tensor, values, neuron: int = 0,
                channel: int = 0, grad_every: int = 10) -> dict:
    """Loss (3.6) as a function of one input weight ``W_in[neuron, channel]`` (all else fixed).

    Returns ``values``, ``loss`` (numpy), and at every ``grad_every``-th value the surrogate gradient
    ``dL/dW`` (``grad_values``, ``surrogate``), plus the number of distinct loss values (``levels``) and the
    fraction of neighbouring grid points with exactly equal loss (``flat_fraction``). The weight is restored.
    """
    original = float(model.w_ff[0][neuron, channel])
    values = np.asarray(values, dtype=float)
    losses, grad_values, grads = [], [], []
    try:
        for i, value in enumerate(values):
            _set_weight(model, neuron, channel, float(value))
            if i % grad_every == 0:
                model.zero_grad()
                loss, _ = classification_loss(model(x).output, y)
                loss.backward()
                grad_values.append(value)
                grads.append(float(model.w_ff[0].grad[neuron, channel]))
            else:
                with torch.no_grad():
                    loss, _ = classification_loss(model(x).output, y)
            losses.append(float(loss))
    finally:
        _set_weight(model, neuron, channel, original)
        model.zero_grad()
    losses = np.asarray(losses)
    return {"values": values, "loss": losses, "grad_values": np.asarray(grad_values), "surrogate": np.asarray(grads),
            "levels": len(np.unique(losses)), "flat_fraction": float(np.mean(np.diff(losses) == 0.0))}


def plot_scan(scan: dict):
    """The staircase: loss against one weight, its surrogate gradient, and the finite-difference slope."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    ax = axes[0]
    ax.step(scan["values"], scan["loss"], where="mid", color="k", lw=1)
    ax.set(xlabel=r"input weight $W_{0,0}$", ylabel="loss (3.6)",
           title=f"{scan['levels']} distinct values on {len(scan['values'])} grid points")
    ax = axes[1]
    slope = np.diff(scan["loss"]) / np.diff(scan["values"])
    mids = 0.5 * (scan["values"][1:] + scan["values"][:-1])
    ax.plot(mids, np.where(slope == 0, 0.0, np.nan), ".", color="0.5", ms=2, label="finite difference = 0")
    ax.plot(scan["grad_values"], scan["surrogate"], "o-", ms=3, color="C3", label="surrogate gradient")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set(xlabel=r"input weight $W_{0,0}$", ylabel=r"$dL/dW_{0,0}$",
           title="the true derivative is 0 between jumps")
    ax.legend(fontsize=8)
    return fig


def surrogate_descent(model: RecurrentSNN, x: torch.Tensor, y: torch.Tensor, step_sizes, eps: float = 1e-6) -> dict:
    """Step the hidden weights (input and recurrent) along minus the normalised surrogate gradient.

    Returns the loss before (``loss0``), after a tiny step ``eps`` (the true directional derivative
    is zero: the loss does not change) and after each of ``step_sizes`` (``losses``). The weights are restored.
    """
    hidden = [model.w_ff[0], model.w_rec[0]]
    model.zero_grad()
    loss0, _ = classification_loss(model(x).output, y)
    grads = torch.autograd.grad(loss0, hidden)
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    direction = [g / norm for g in grads]
    originals = [p.detach().clone() for p in hidden]

    def loss_after(eta):
        with torch.no_grad():
            for p, p0, d in zip(hidden, originals, direction):
                p.copy_(p0 - eta * d)
            return float(classification_loss(model(x).output, y)[0])

    try:
        tiny = loss_after(eps)
        losses = [loss_after(float(eta)) for eta in step_sizes]
    finally:
        with torch.no_grad():
            for p, p0 in zip(hidden, originals):
                p.copy_(p0)
    return {"loss0": float(loss0), "loss_tiny_step": tiny, "step_sizes": np.asarray(step_sizes), "losses": np.asarray(losses)}


# ------------------------------------------------------------------------------------ the surrogate family
def surrogate_table(steepness_values=(10.0, 100.0), v_range: float = 200.0, n_points: int = 400_001) -> list[dict]:
    """Peak and area of each kind, measured on a grid (trapezoid over [-v_range, v_range]) and from the formula."""
    v = torch.linspace(-v_range, v_range, n_points, dtype=torch.float64)
    rows = []
    for steepness in steepness_values:
        for kind in SURROGATE_KINDS:
            d = surrogate_derivative(v, kind, steepness)
            area = surrogate_area(kind, steepness)
            rows.append({"kind": kind, "steepness": steepness, "peak": float(d.max()),
                         "area_numerical": float(torch.trapezoid(d, v)), "area": area, "unit_area_peak": 1.0 / area})
    return rows


def plot_family(steepness_values=(10.0, 100.0)):
    """The six peak-1 surrogates at two steepness values (areas in the legends)."""
    fig, axes = plt.subplots(1, len(steepness_values), figsize=(5 * len(steepness_values), 3.2), layout="constrained")
    for ax, s in zip(np.atleast_1d(axes), steepness_values):
        surrogate_shapes(s, ax=ax, v_range=4.0 / s)
    return fig


# ----------------------------------------------------------------------------------------- theory figures
def plot_single_neuron(steepness: float = 5.0, n_samples: int = 20_000, generator: torch.Generator | None = None):
    """Check (a) along one weight: E[S](w), its derivative, Monte Carlo estimates, and the surrogates.

    One input x = 1, :math:`v = w - 1`. Returns the figure.
    """
    w = torch.linspace(0.0, 2.0, 401, dtype=torch.float64)
    v = w - th.THRESHOLD
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    axes[0].plot(w, th.escape_probability(v, steepness), label=r"stochastic: $E[S] = F(\beta_s v)$ (3.7)")
    axes[0].plot(w, (v > 0).double(), "k--", lw=1, label=r"deterministic: $S = H(v)$")
    axes[0].set(xlabel="weight w (input x = 1)", ylabel="output", title=f"escape noise, steepness {steepness:g}")
    axes[0].legend(fontsize=8)
    ax = axes[1]
    ax.plot(w, steepness * th.escape_probability(v, steepness) * (1 - th.escape_probability(v, steepness)), lw=3,
            alpha=0.4, label=r"$dE[S]/dw$, exact (3.8)")
    ax.plot(w, th.matched_scale(steepness) * surrogate_derivative(v, "sigmoid", steepness), "C3",
            label=rf"sigmoid surrogate $\times \beta_s/4$ (3.9)")
    ax.plot(w, surrogate_derivative(v, "sigmoid", steepness), "C3:", label="sigmoid surrogate, peak 1")
    ax.plot(w, surrogate_derivative(v, "fast_sigmoid", steepness), "C2:", label="fast sigmoid, peak 1")
    w_mc = torch.linspace(0.2, 1.8, 9, dtype=torch.float64)
    mc, se = [], []
    for wi in w_mc:
        r = th.single_neuron_check(wi.reshape(1), torch.ones(1, 1, dtype=torch.float64),
                                   torch.ones(1, dtype=torch.float64), steepness, n_samples, generator)
        mc.append(float(r.monte_carlo[0]))
        se.append(float(r.monte_carlo_stderr[0]))
    ax.errorbar(w_mc, mc, yerr=2 * np.asarray(se), fmt="ko", ms=3, label="Monte Carlo (±2 s.e.)")
    ax.set(xlabel="weight w", ylabel="gradient", title="gradient of the expected output")
    ax.legend(fontsize=7)
    return fig


def plot_two_layer(steepness_values, exact_w1, surrogate_w1, stochastic_w1, random_cosines: dict):
    """Check (b): W1-gradient of the sign-flip network against steepness; cosine similarities of random nets."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    ax = axes[0]
    ax.plot(steepness_values, exact_w1, "k", lw=2, label=r"exact $\partial E[J]/\partial W_1$ (3.10)")
    ax.plot(steepness_values, surrogate_w1, "C3", label="surrogate, deterministic net")
    ax.plot(steepness_values, stochastic_w1, "C0--", label="mean surrogate, stochastic net (3.11)")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set(xscale="log", xlabel=r"steepness $\beta_s$", ylabel="gradient", title="sign-flip network")
    ax.legend(fontsize=7)
    ax = axes[1]
    for i, (label, values) in enumerate(random_cosines.items()):
        values = np.asarray(values)
        ax.plot(np.full(len(values), i) + np.linspace(-0.15, 0.15, len(values)), values, "o", ms=4, label=label)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xticks(range(len(random_cosines)), list(random_cosines), fontsize=7, rotation=30, ha="right")
    ax.set(ylabel="cosine with exact gradient", title="random two-layer networks", ylim=(-1.05, 1.05))
    return fig


def _field_on_grid(field, center, half_width, n):
    a = np.linspace(float(center[0]) - half_width, float(center[0]) + half_width, n)
    b = np.linspace(float(center[1]) - half_width, float(center[1]) + half_width, n)
    A, B = np.meshgrid(a, b)
    U, V = np.zeros_like(A), np.zeros_like(A)
    for i in range(n):
        for j in range(n):
            g = field(torch.tensor([A[i, j], B[i, j]], dtype=torch.float64))
            U[i, j], V[i, j] = float(g[0]), float(g[1])
    return A, B, U, V


def plot_loop(fields: dict, center: torch.Tensor, radius: float, integrals: dict, half_width: float, n_grid: int = 9,
              axes=None, labels=(r"$W_1$", r"$W_2$")):
    """Quiver plots of 2-D fields ``{name: field}`` with the integration circle and its loop integral."""
    if axes is None:
        _, axes = plt.subplots(1, len(fields), figsize=(4.2 * len(fields), 3.6), layout="constrained")
    phi = np.linspace(0, 2 * np.pi, 200)
    for ax, (name, fld) in zip(np.atleast_1d(axes), fields.items()):
        A, B, U, V = _field_on_grid(fld, center, half_width, n_grid)
        longest = float(np.max(np.hypot(U, V)))
        spacing = 2 * half_width / (n_grid - 1)
        ax.quiver(A, B, U, V, angles="xy", scale_units="xy", scale=max(longest, 1e-300) / (0.9 * spacing),
                  color="C0", width=0.006)
        ax.plot(float(center[0]) + radius * np.cos(phi), float(center[1]) + radius * np.sin(phi), "C3", lw=1.5)
        ax.set(xlabel=labels[0], ylabel=labels[1], title=f"{name}\nloop integral {integrals[name]:.3g}")
        ax.set_aspect("equal")
    return axes


# ---------------------------------------------------------------------------------------- the live demo
@lru_cache(maxsize=1)
def _teacher_problem(n_in: int = 10, n_teacher: int = 8, n_student: int = 16, n_out: int = 3, batch: int = 64):
    """A fixed teacher-student problem for the demo (float64).

    Inputs: ``batch`` random binary patterns. Teacher: a binary two-layer network with Gaussian weights and
    thresholds at the median of each unit's input (balanced targets). Student: small random weights, biases
    1, so every membrane starts near threshold. Returns ``(x, y, student_params)``.
    """
    g = seed_generator(3)
    f64 = dict(generator=g, dtype=torch.float64)
    x = (torch.rand(batch, n_in, **f64) < 0.5).double()
    v = x @ torch.randn(n_teacher, n_in, **f64).T
    h = (v > v.median(0).values).double()
    v = h @ torch.randn(n_out, n_teacher, **f64).T
    y = (v > v.median(0).values).double()
    student = [0.5 * torch.randn(n_student, n_in, **f64) / math.sqrt(n_in), torch.ones(n_student, dtype=torch.float64),
               0.5 * torch.randn(n_out, n_student, **f64) / math.sqrt(n_student), torch.ones(n_out, dtype=torch.float64)]
    return x, y, student


def train_binary_student(kind: str, steepness: float, normalisation: str, n_steps: int = 150, lr: float = 0.1):
    """Plain gradient descent with surrogate gradients on the demo's teacher task; returns the error history.

    The student is a deterministic two-layer binary network (as in :class:`helpers.theory.TwoLayerNet`); its
    loss, the mean of :math:`(o - y)^2` over patterns and outputs, is the fraction of wrong output bits.
    ``normalisation`` is ``"peak"`` (the course's surrogates) or ``"area"`` (times 1 / area, eq. 3.5).
    Plain gradient descent, unlike Adam, feels the scale of the gradient.
    """
    x, y, init = _teacher_problem()
    scale = 1.0 if normalisation == "peak" else 1.0 / surrogate_area(kind, steepness)
    params = [p.clone().requires_grad_(True) for p in init]
    errors = []
    for _ in range(n_steps):
        w1, b1, w2, b2 = params
        h = th.scaled_spike(x @ w1.T + b1 - th.THRESHOLD, kind, steepness, scale)
        o = th.scaled_spike(h @ w2.T + b2 - th.THRESHOLD, kind, steepness, scale)
        loss = ((o - y) ** 2).mean()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
        errors.append(float(loss.detach()))
    return np.asarray(errors)


@demo(kind=Choice(SURROGATE_KINDS, "fast_sigmoid", description="surrogate"),
      steepness=FloatSlider(0.5, 100.0, 10.0, step=0.05, description="steepness", log=True))
def surrogate_demo(kind: str = "fast_sigmoid", steepness: float = 10.0):
    """Shape of the surrogate; learning with it (peak-1 vs unit area); its loop integral in a weight plane."""
    check_positive("steepness", steepness)
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6), layout="constrained")
    area = surrogate_area(kind, steepness)
    v = torch.linspace(-4.0 / steepness, 4.0 / steepness, 401, dtype=torch.float64)
    axes[0].plot(v, surrogate_derivative(v, kind, steepness), "C0")
    axes[0].set(xlabel=r"$v = U - \vartheta$", ylabel=r"$\sigma'(v)$ (peak 1)",
                title=f"{kind}, steepness {steepness:.3g}\narea {area:.3g}; unit-area peak {1 / area:.3g}")

    n_steps = 150
    for normalisation, style in (("peak", "C0"), ("area", "C3")):
        errors = train_binary_student(kind, steepness, normalisation, n_steps=n_steps)
        axes[1].plot(errors, style, label=f"{normalisation} normalised: final {errors[-1]:.2f}")
    axes[1].set(xlabel="gradient-descent step (lr 0.1)", ylabel="fraction of wrong output bits", ylim=(-0.02, 0.8),
                title="tiny binary network, teacher task")
    axes[1].legend(fontsize=8)

    # loop integral of the surrogate field in the chain network, centred at distance 1/steepness from thresholds
    net = th.chain_network(w1=1.0 + 1.0 / steepness, w2=1.0 - 1.0 / steepness)
    center, radius = th.plane_point(net), 0.5 / steepness
    fields = {"surrogate gradient": th.plane_field(net, steepness, th.surrogate_objective(kind)),
              "smooth network": th.plane_field(net, steepness, th.smooth_objective)}
    n_loop = by_mode(quick=48, standard=96)
    integrals = {name: th.loop_integral(f, center, radius, n_loop) for name, f in fields.items()}
    plot_loop(fields, center, radius, integrals, half_width=2.0 / steepness, n_grid=7, axes=axes[2:])
    return fig
