r"""Spiking network models: recurrent and multi-layer LIF networks with a leaky-integrator readout.

Each hidden layer :math:`l` is a LIF population (eqs. 1.1-1.4 of :mod:`helpers.neurons`) whose input
current at step t is

.. math::  \text{current}_l[t] = W_l\, S_{l-1}[t] + V_l\, S_l[t] + b_l  \qquad (2.1)

with :math:`S_0[t] = x[t]` the network input, :math:`W_l` the feed-forward, :math:`V_l` the recurrent
weights (absent in a feed-forward layer) and :math:`b_l` an optional bias. All layers update together
from the state before the step, so a spike of layer l-1 at step t reaches layer l's synaptic current at
t+1 and its membrane at t+2, exactly like a recurrent spike. The readout is a leaky integrator,

.. math::  y[t] = \kappa\, y[t-1] + W_\mathrm{out} S_L[t] + b_\mathrm{out}, \qquad \kappa = e^{-\Delta t/\tau_\mathrm{out}}  \qquad (2.2)

The **hidden state** is :math:`h = (I_1, U_1, I_2, U_2, \dots)`, of dimension
``state_dim = 2 * sum(hidden)``. The models implement the dynamical-system protocol of
:mod:`helpers.lyapunov` over it: ``initial_state``, ``step`` (one pure update, eq. 2.1 into 1.1-1.4) and
``tangent`` (the Jacobian of ``step`` times a matrix, from the structure; eqs. 2.3-2.6 below).

**Tangent map.** With :math:`D_l = \operatorname{diag}\sigma'(U_l - \vartheta)` (the surrogate
derivatives), a tangent vector :math:`(\delta I_l, \delta U_l)` maps to

.. math::
    \delta S_l = D_l\, \delta U_l                                                           \qquad (2.3)

    \delta I_l' = \alpha\, \delta I_l + V_l\, \delta S_l + W_l\, \delta S_{l-1}              \qquad (2.4)

    \delta U_l' = (1 - S_l) \odot (\beta\, \delta U_l + \delta I_l)
                  \;[\, - (\beta U_l + I_l) \odot \delta S_l \text{ if the reset is attached}]  \quad \text{zero}   \qquad (2.5)

    \delta U_l' = \beta\, \delta U_l + \delta I_l \;[\, - \vartheta\, \delta S_l \text{ if attached}]  \quad \text{subtract}  \qquad (2.6)

so for the zero reset with a detached reset, the membrane row of a neuron that spikes is exactly zero:
that tangent direction is annihilated. No dense Jacobian is ever formed; the cost per step is that of
multiplying the weight matrices into the tangent vectors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .checks import check_choice, check_int, check_nonnegative, check_positive, check_tensor
from .neurons import LIFParams
from .surrogate import spike, surrogate_derivative

INIT_SCHEMES = ("gaussian", "fluctuation")


def psp_kernel(params: LIFParams, n_steps: int | None = None) -> torch.Tensor:
    r"""Membrane response :math:`\varepsilon_k` to a unit current input at step 0 (float64, (n_steps,)).

    From eqs. (1.2)-(1.3) without threshold: :math:`\varepsilon_0 = \varepsilon_1 = 0`,
    :math:`\varepsilon_k = \sum_{j=1}^{k-1} \beta^{k-1-j} \alpha^{j-1}` for :math:`k \ge 2`
    (membrane units per unit input). ``n_steps`` defaults to 40 of the longer time constants.
    """
    if n_steps is None:
        n_steps = int(math.ceil(40 * max(params.tau_mem, params.tau_syn) / params.dt)) + 2
    syn, mem, kernel = 0.0, 0.0, []
    for k in range(n_steps):
        kernel.append(mem)
        syn, mem = params.alpha * syn + (1.0 if k == 0 else 0.0), params.beta * mem + syn
    return torch.tensor(kernel, dtype=torch.float64)


def psp_integrals(params: LIFParams) -> tuple[float, float]:
    r"""The PSP kernel integrals :math:`(\bar\varepsilon, \hat\varepsilon) = (\sum_k \varepsilon_k, \sum_k \varepsilon_k^2)`.

    The discrete-time versions of Rossbroich, Gygax & Zenke (2022): :math:`\bar\varepsilon` sets the mean
    and :math:`\hat\varepsilon` the variance of the free membrane under Poisson input (Campbell's theorem).
    In closed form :math:`\bar\varepsilon = 1 / ((1-\alpha)(1-\beta))`.
    """
    kernel = psp_kernel(params)
    return float(kernel.sum()), float((kernel**2).sum())


def fluctuation_driven_std(fan_in: int, rate: float, params: LIFParams, sigma_u: float = 1.0) -> float:
    r"""Weight std that gives free-membrane fluctuations of std ``sigma_u`` (Rossbroich et al. 2022).

    For centred weights of std :math:`\sigma_W` and ``fan_in`` = N Bernoulli inputs with spike probability
    ``rate`` = p per step, Campbell's theorem gives the temporal membrane variance
    :math:`\sigma_U^2 = N\, p(1-p)\, \sigma_W^2\, \hat\varepsilon` (eq. 2.7), so

    .. math::  \sigma_W = \sigma_U / \sqrt{N\, p (1-p)\, \hat\varepsilon}  \qquad (2.8)

    (continuous-time form: :math:`\sigma_U / \sqrt{N \nu \hat\varepsilon}` with :math:`p(1-p) \approx \nu\, \Delta t`).
    """
    check_int("fan_in", fan_in, 1)
    check_positive("sigma_u", sigma_u)
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must be a spike probability per step in (0, 1), got {rate!r}")
    _, eps_hat = psp_integrals(params)
    return sigma_u / math.sqrt(fan_in * rate * (1.0 - rate) * eps_hat)


@dataclass
class SNNOutput:
    r"""What a forward pass records.

    Attributes:
        output: readout :math:`y[t]` (eq. 2.2), (batch, T, n_out).
        spikes: per hidden layer, spikes :math:`S_l[t]` (batch, T, N_l) (index t: before step t).
        mem: per hidden layer, membrane potentials :math:`U_l[t]` (batch, T, N_l).
        states: if requested, the T+1 hidden states :math:`h_0 \dots h_T` (each (batch, state_dim)),
            part of the autograd graph, so ``torch.autograd.grad(loss, states)`` gives the BPTT signal.
    """

    output: torch.Tensor
    spikes: list[torch.Tensor]
    mem: list[torch.Tensor]
    states: list[torch.Tensor] | None = field(default=None)


def membrane_tangent(p: LIFParams, syn: torch.Tensor, mem: torch.Tensor, q_syn: torch.Tensor, q_mem: torch.Tensor,
                     d_spk: torch.Tensor) -> torch.Tensor:
    r"""The membrane rows of :math:`J Q` for one layer, eqs. (2.5)-(2.6).

    ``syn``, ``mem``: the layer's state (..., N); ``q_syn``, ``q_mem``: its rows of Q (..., N, m);
    ``d_spk``: :math:`\sigma'(U - \vartheta) \odot Q_U` (..., N, m), eq. (2.3). Any leading axes.
    """
    if p.reset == "zero":  # (2.5)
        not_spiking = (mem <= p.threshold).to(q_mem.dtype).unsqueeze(-1)
        q_mem_next = not_spiking * (p.beta * q_mem + q_syn)
        if not p.detach_reset:
            q_mem_next = q_mem_next - (p.beta * mem + syn).unsqueeze(-1) * d_spk
        return q_mem_next
    q_mem_next = p.beta * q_mem + q_syn  # (2.6)
    if not p.detach_reset:
        q_mem_next = q_mem_next - p.threshold * d_spk
    return q_mem_next


class MultiLayerSNN(nn.Module):
    """A stack of LIF layers (each optionally recurrent) and a leaky-integrator readout (eqs. 2.1-2.2).

    Args:
        n_in: number of input channels.
        hidden: sizes of the hidden LIF layers, e.g. ``(128, 128)``.
        n_out: number of readout units.
        params: :class:`LIFParams` shared by all hidden layers (time constants, threshold, reset,
            detach flag, surrogate kind and steepness).
        recurrent: True/False for every layer, or one bool per layer.
        init: ``"gaussian"`` (weights :math:`\\mathcal N(0, g^2/\\text{fan-in})` with ``input_gain`` for
            :math:`W_l` and ``gain`` for :math:`V_l`) or ``"fluctuation"`` (Rossbroich et al. 2022, eq. 2.8:
            membrane std ``sigma_u`` with a fraction ``ff_fraction`` of the variance from the feed-forward
            input, the rest from the recurrent input; ``input_rate`` and ``hidden_rate`` are the assumed
            spike probabilities per step of the input and of the hidden neurons).
        gain, input_gain: scale of the recurrent / feed-forward weights for ``"gaussian"``.
        tau_out: readout time constant, seconds (default: ``params.tau_mem``).
        bias: learnable biases :math:`b_l` in the hidden layers (initialised at 0).
        generator: ``torch.Generator`` for the initial weights (pass a seeded one for reproducibility).
        dtype, device: of the parameters.
    """

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int],
        n_out: int,
        params: LIFParams | None = None,
        recurrent: bool | Sequence[bool] = True,
        init: str = "gaussian",
        gain: float = 1.0,
        input_gain: float = 1.0,
        sigma_u: float = 1.0,
        ff_fraction: float = 0.9,
        input_rate: float = 0.05,
        hidden_rate: float = 0.02,
        tau_out: float | None = None,
        bias: bool = False,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        check_int("n_in", n_in, 1)
        check_int("n_out", n_out, 1)
        hidden = tuple(hidden)
        if len(hidden) == 0:
            raise ValueError("hidden must list at least one layer size, got ()")
        for size in hidden:
            check_int("hidden layer size", size, 1)
        if isinstance(recurrent, bool):
            recurrent = (recurrent,) * len(hidden)
        recurrent = tuple(recurrent)
        if len(recurrent) != len(hidden) or not all(isinstance(r, bool) for r in recurrent):
            raise ValueError(f"recurrent must be a bool or {len(hidden)} bools (one per layer), got {recurrent!r}")
        check_choice("init", init, INIT_SCHEMES)
        check_nonnegative("gain", gain)
        check_nonnegative("input_gain", input_gain)
        check_positive("sigma_u", sigma_u)
        if not 0.0 < ff_fraction <= 1.0:
            raise ValueError(f"ff_fraction must be in (0, 1], got {ff_fraction!r}")
        self.params = LIFParams() if params is None else params
        self.n_in, self.hidden, self.n_out, self.recurrent = n_in, hidden, n_out, recurrent
        self.tau_out = check_positive("tau_out", tau_out) if tau_out is not None else self.params.tau_mem
        self.init_scheme = init

        factory = dict(dtype=dtype, device=device)
        sizes = (n_in,) + hidden
        self.w_ff = nn.ParameterList()
        self.w_rec = nn.ParameterList()
        self.biases = nn.ParameterList()
        for layer, (fan_in, size) in enumerate(zip(sizes[:-1], sizes[1:])):
            if init == "gaussian":
                std_ff = input_gain / math.sqrt(fan_in)
                std_rec = gain / math.sqrt(size)
            else:
                rate_in = input_rate if layer == 0 else hidden_rate
                frac = ff_fraction if recurrent[layer] else 1.0
                std_ff = fluctuation_driven_std(fan_in, rate_in, self.params, sigma_u * math.sqrt(frac))
                std_rec = fluctuation_driven_std(size, hidden_rate, self.params, sigma_u * math.sqrt(max(1 - frac, 1e-12)))
            self.w_ff.append(nn.Parameter(std_ff * torch.randn(size, fan_in, generator=generator, **factory)))
            # A feed-forward layer keeps a 0 x 0 placeholder so that indices stay aligned with layers.
            shape = (size, size) if recurrent[layer] else (0, 0)
            self.w_rec.append(nn.Parameter(std_rec * torch.randn(*shape, generator=generator, **factory)))
            self.biases.append(nn.Parameter(torch.zeros(size, **factory), requires_grad=bias))
        self.w_out = nn.Parameter(torch.randn(n_out, hidden[-1], generator=generator, **factory) / math.sqrt(hidden[-1]))
        self.b_out = nn.Parameter(torch.zeros(n_out, **factory))

    # ---------------------------------------------------------------- bookkeeping of the hidden state
    @property
    def state_dim(self) -> int:
        """Dimension of the hidden state :math:`(I_1, U_1, I_2, U_2, \\dots)`."""
        return 2 * sum(self.hidden)

    @property
    def kappa(self) -> float:
        """Readout decay per step, :math:`\\kappa = e^{-\\Delta t/\\tau_\\mathrm{out}}`."""
        return math.exp(-self.params.dt / self.tau_out)

    def dynamics_parameters(self) -> list[nn.Parameter]:
        """The parameters that shape the hidden dynamics (what flossing may change): W_l, V_l, b_l."""
        params = list(self.w_ff) + [w for w in self.w_rec if w.numel() > 0]
        return params + [b for b in self.biases if b.requires_grad]

    def readout_parameters(self) -> list[nn.Parameter]:
        """The readout's parameters :math:`W_\\mathrm{out}, b_\\mathrm{out}` (never flossed)."""
        return [self.w_out, self.b_out]

    def initial_state(self, batch_size: int) -> torch.Tensor:
        """The resting state h = 0, (batch_size, state_dim)."""
        check_int("batch_size", batch_size, 1)
        ref = self.w_out
        return torch.zeros(batch_size, self.state_dim, dtype=ref.dtype, device=ref.device)

    def split_state(self, h: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Views ``[(I_1, U_1), (I_2, U_2), ...]`` of a state (..., state_dim) (works on tangent rows too)."""
        out, start = [], 0
        for size in self.hidden:
            out.append((h[..., start : start + size], h[..., start + size : start + 2 * size]))
            start += 2 * size
        return out

    def split_rows(self, q: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Like :meth:`split_state` for tangent vectors (batch, state_dim, m): row blocks per layer."""
        out, start = [], 0
        for size in self.hidden:
            out.append((q[:, start : start + size], q[:, start + size : start + 2 * size]))
            start += 2 * size
        return out

    def _check_state(self, h: torch.Tensor, x: torch.Tensor | None) -> None:
        check_tensor("h", h, shape=(None, self.state_dim), finite=False)
        if x is None:
            raise ValueError(f"x must be a tensor of shape (batch, {self.n_in}) for {type(self).__name__}, got None")
        check_tensor("x", x, shape=(h.shape[0], self.n_in), finite=False)

    # ---------------------------------------------------------------- dynamics
    def _advance(self, h: torch.Tensor, drive0: torch.Tensor):
        """One step of every layer from state ``h``; ``drive0`` is layer 1's feed-forward current W_1 x[t].

        Returns ``(spikes, h_next)``, spikes a list per layer of :math:`S_l[t]` (computed from ``h``).
        """
        p = self.params
        layers = self.split_state(h)
        spikes = [spike(mem - p.threshold, p.surrogate, p.steepness) for _, mem in layers]  # (1.1)
        new = []
        for layer, (syn, mem) in enumerate(layers):
            current = drive0 if layer == 0 else spikes[layer - 1] @ self.w_ff[layer].T  # (2.1)
            if self.recurrent[layer]:
                current = current + spikes[layer] @ self.w_rec[layer].T
            current = current + self.biases[layer]
            spk_reset = spikes[layer].detach() if p.detach_reset else spikes[layer]
            syn_next = p.alpha * syn + current  # (1.2)
            if p.reset == "zero":
                mem_next = (p.beta * mem + syn) * (1.0 - spk_reset)  # (1.3)
            else:
                mem_next = p.beta * mem + syn - p.threshold * spk_reset  # (1.4)
            new += [syn_next, mem_next]
        return spikes, torch.cat(new, dim=-1)

    def step(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """One pure time step of the hidden dynamics: h[t+1] from h[t] (batch, state_dim) and x[t] (batch, n_in)."""
        self._check_state(h, x)
        return self._advance(h, x @ self.w_ff[0].T)[1]

    def tangent(self, h: torch.Tensor, x: torch.Tensor | None, q: torch.Tensor) -> torch.Tensor:
        """:math:`J(h, x)\\, Q` with J the Jacobian of :meth:`step` (surrogate derivatives), eqs. (2.3)-(2.6).

        Args:
            h: state (batch, state_dim) at which the Jacobian is taken.
            x: input (batch, n_in); it does not enter J (kept for the protocol).
            q: tangent vectors (batch, state_dim, m) or (state_dim, m) (shared by the batch).

        Returns (batch, state_dim, m). Never forms J: each layer costs two (N x N) @ (N x m) products.
        """
        p = self.params
        if q.ndim == 2:
            q = q.expand(h.shape[0], *q.shape)
        layers = self.split_state(h)
        rows = self.split_rows(q)
        d_spikes = []
        for syn, mem in layers:
            d_spikes.append(surrogate_derivative(mem - p.threshold, p.surrogate, p.steepness))
        out, d_spk_prev = [], None
        for layer, ((syn, mem), (q_syn, q_mem)) in enumerate(zip(layers, rows)):
            d_spk = d_spikes[layer].unsqueeze(-1) * q_mem  # (2.3)
            # (2.4); the weight products as fused batched multiply-adds (a broadcast ``W @ d_spk`` with a
            # weight that requires grad takes a slower unfolded path, about 1.7x the time)
            q_syn_next = p.alpha * q_syn
            if self.recurrent[layer]:
                q_syn_next = torch.baddbmm(q_syn_next, self.w_rec[layer].expand(q.shape[0], -1, -1), d_spk)
            if layer > 0:
                q_syn_next = torch.baddbmm(q_syn_next, self.w_ff[layer].expand(q.shape[0], -1, -1), d_spk_prev)
            out += [q_syn_next, membrane_tangent(p, syn, mem, q_syn, q_mem, d_spk)]  # (2.5)-(2.6)
            d_spk_prev = d_spk
        return torch.cat(out, dim=1)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, return_states: bool = False) -> SNNOutput:
        """Run the network over an input sequence x (batch, T, n_in); returns an :class:`SNNOutput`."""
        check_tensor("x", x, shape=(None, None, self.n_in))
        batch, n_steps, _ = x.shape
        h = self.initial_state(batch) if h0 is None else h0
        drive0 = x @ self.w_ff[0].T  # layer 1's feed-forward current for all steps in one product
        y = x.new_zeros(batch, self.n_out)
        outputs, spikes, mems, states = [], [[] for _ in self.hidden], [[] for _ in self.hidden], [h]
        for t in range(n_steps):
            for layer, (_, mem) in enumerate(self.split_state(h)):
                mems[layer].append(mem)
            spk, h = self._advance(h, drive0[:, t])
            for layer, s in enumerate(spk):
                spikes[layer].append(s)
            y = self.kappa * y + spk[-1] @ self.w_out.T + self.b_out  # (2.2)
            outputs.append(y)
            if return_states:
                states.append(h)
        return SNNOutput(
            output=torch.stack(outputs, 1),
            spikes=[torch.stack(s, 1) for s in spikes],
            mem=[torch.stack(m, 1) for m in mems],
            states=states if return_states else None,
        )


class RecurrentSNN(MultiLayerSNN):
    """One recurrent LIF layer and a leaky-integrator readout: ``MultiLayerSNN(n_in, (n_hidden,), n_out)``.

    ``w_in`` and ``w_rec_matrix`` name the input and recurrent weights (W_1 and V_1 of eq. 2.1).
    All keyword arguments are those of :class:`MultiLayerSNN`.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, **kwargs):
        kwargs.setdefault("recurrent", True)
        super().__init__(n_in, (n_hidden,), n_out, **kwargs)

    @property
    def w_in(self) -> nn.Parameter:
        return self.w_ff[0]

    @property
    def w_rec_matrix(self) -> nn.Parameter:
        return self.w_rec[0]
