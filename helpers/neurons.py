r"""Leaky integrate-and-fire (LIF) neurons with a current-based synapse, discretised exactly.

The continuous model (time constants :math:`\tau_\mathrm{syn}`, :math:`\tau_\mathrm{mem}`) is

.. math::  \tau_\mathrm{syn} \dot I = -I + \text{input}, \qquad \tau_\mathrm{mem} \dot U = -U + \tau_\mathrm{mem} I

Integrating the leak exactly over one step :math:`\Delta t` gives the decay factors
:math:`\alpha = e^{-\Delta t/\tau_\mathrm{syn}}` and :math:`\beta = e^{-\Delta t/\tau_\mathrm{mem}}` and the
course's update (COURSE.md 4.1), with index ``t`` holding the values *before* the update at step ``t``:

.. math::
    :label: lif

    U[0] = I[0] = 0, \qquad S[t] = H(U[t] - \vartheta)                                     \quad (1.1)

    I[t+1] = \alpha I[t] + \text{current}[t]                                               \quad (1.2)

    U[t+1] = (\beta U[t] + I[t]) (1 - S[t])            \quad \text{reset = "zero"}          \quad (1.3)

    U[t+1] = \beta U[t] + I[t] - \vartheta S[t]           \quad \text{reset = "subtract"}      \quad (1.4)

so an input at step ``t`` reaches the synaptic current at ``t+1`` and the membrane at ``t+2``. With
``detach_reset=True`` the :math:`S[t]` of the reset term is detached from the autograd graph: the error
signal does not flow through the reset (a common choice that improves training, Zenke & Vogels 2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .checks import check_choice, check_positive, check_tensor
from .surrogate import DEFAULT_STEEPNESS, SURROGATE_KINDS, spike

RESET_MODES = ("zero", "subtract")


@dataclass
class LIFParams:
    """Parameters of a LIF population (COURSE.md 4.1).

    Attributes:
        tau_mem: membrane time constant, seconds (> 0).
        tau_syn: synaptic time constant, seconds (> 0).
        dt: simulation time step, seconds (> 0).
        threshold: firing threshold :math:`\\vartheta`, membrane units (> 0).
        reset: ``"zero"`` (eq. 1.3) or ``"subtract"`` (eq. 1.4).
        detach_reset: if True the spike in the reset term carries no gradient.
        surrogate: surrogate-derivative kind used in the backward pass (see :mod:`helpers.surrogate`).
        steepness: surrogate steepness, 1 / membrane units (> 0).
    """

    tau_mem: float = 10e-3
    tau_syn: float = 5e-3
    dt: float = 1e-3
    threshold: float = 1.0
    reset: str = "zero"
    detach_reset: bool = True
    surrogate: str = "fast_sigmoid"
    steepness: float = DEFAULT_STEEPNESS

    def __post_init__(self):
        check_positive("tau_mem", self.tau_mem)
        check_positive("tau_syn", self.tau_syn)
        check_positive("dt", self.dt)
        check_positive("threshold", self.threshold)
        check_choice("reset", self.reset, RESET_MODES)
        check_choice("surrogate", self.surrogate, SURROGATE_KINDS)
        check_positive("steepness", self.steepness)
        if not isinstance(self.detach_reset, bool):
            raise TypeError(f"detach_reset must be True or False, got {self.detach_reset!r}")

    @property
    def alpha(self) -> float:
        """Synaptic decay per step, :math:`\\alpha = e^{-\\Delta t / \\tau_\\mathrm{syn}}`."""
        return math.exp(-self.dt / self.tau_syn)

    @property
    def beta(self) -> float:
        """Membrane decay per step, :math:`\\beta = e^{-\\Delta t / \\tau_\\mathrm{mem}}`."""
        return math.exp(-self.dt / self.tau_mem)


@dataclass
class LIFResult:
    """Recorded trajectory of :func:`simulate_lif`; each tensor is (batch, T, N), index t = before step t."""

    spikes: torch.Tensor
    mem: torch.Tensor
    syn: torch.Tensor


def lif_step(syn: torch.Tensor, mem: torch.Tensor, current: torch.Tensor, params: LIFParams):
    """One step of eqs. (1.1)-(1.4): returns ``(spk, syn_next, mem_next)``.

    ``spk`` is :math:`S[t]` computed from ``mem`` = :math:`U[t]`; ``current`` is current[t].
    """
    spk = spike(mem - params.threshold, params.surrogate, params.steepness)  # (1.1)
    spk_reset = spk.detach() if params.detach_reset else spk
    syn_next = params.alpha * syn + current  # (1.2)
    if params.reset == "zero":
        mem_next = (params.beta * mem + syn) * (1.0 - spk_reset)  # (1.3)
    else:
        mem_next = params.beta * mem + syn - params.threshold * spk_reset  # (1.4)
    return spk, syn_next, mem_next


def simulate_lif(current: torch.Tensor, params: LIFParams | None = None) -> LIFResult:
    """Simulate uncoupled LIF neurons driven by ``current`` (batch, T, N), eqs. (1.1)-(1.4).

    Args:
        current: input current per step, (batch, T, N), float32 or float64, on any device. It is
            added to the synaptic current (eq. 1.2), so its unit is membrane units per step.
        params: :class:`LIFParams` (defaults if None).

    Returns:
        :class:`LIFResult` with ``spikes``, ``mem`` and ``syn``, each (batch, T, N), holding at index t
        the values before the update at step t (so ``mem[:, 0] == 0``). Differentiable with respect to
        ``current`` through the surrogate derivative.
    """
    params = LIFParams() if params is None else params
    check_tensor("current", current, ndim=3)
    batch, n_steps, n = current.shape
    syn = current.new_zeros(batch, n)
    mem = current.new_zeros(batch, n)
    spikes, mems, syns = [], [], []
    for t in range(n_steps):
        spk, syn_next, mem_next = lif_step(syn, mem, current[:, t], params)
        spikes.append(spk)
        mems.append(mem)
        syns.append(syn)
        syn, mem = syn_next, mem_next
    return LIFResult(torch.stack(spikes, 1), torch.stack(mems, 1), torch.stack(syns, 1))


def steady_state_rate(current: float, params: LIFParams | None = None, n_steps: int = 2000) -> float:
    """Firing rate (spikes per second) of one LIF neuron under a constant input ``current`` per step.

    The f-I curve of notebook 01. For a constant input the synaptic current settles at
    :math:`I^* = c / (1 - \\alpha)` and the free membrane at :math:`U^* = I^* / (1 - \\beta)`; the neuron
    fires only if :math:`U^* > \\vartheta` (the rheobase). Measured by simulation over ``n_steps`` steps,
    the first half discarded.
    """
    params = LIFParams() if params is None else params
    drive = torch.full((1, n_steps, 1), float(current), dtype=torch.float64)
    spikes = simulate_lif(drive, params).spikes[0, n_steps // 2 :, 0]
    return float(spikes.mean()) / params.dt
