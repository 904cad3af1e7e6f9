r"""A fast simulation path for the course's SNNs: the same equations, a hand-written backward pass.

:mod:`helpers.models` is the readable reference: every time step is a handful of small autograd
operations, so a training step of T steps builds a graph of ~20 T nodes, and backpropagation through
time walks it node by node. This module computes **exactly the same forward pass** (eqs. 1.1-1.4 and
2.1-2.2, same operation order, so the spikes are bit-identical) and the **same surrogate gradients**
(to rounding), but each hidden layer is *one* :class:`torch.autograd.Function` over the whole sequence:

* forward: a loop over time without autograd that writes into preallocated time-major buffers
  ``syn``, ``mem`` (T+1, ..., batch, N) and ``spk`` (T, ..., batch, N); per step one (batch x N) @ (N x N)
  recurrent product and a few in-place elementwise operations;
* backward: the adjoint (BPTT) recursion written out by hand, from t = T-1 down to 0,
  with :math:`\hat I_t = \partial L / \partial I[t]`, :math:`\hat U_t = \partial L / \partial U[t]`,
  :math:`\sigma'_t = \sigma'(U[t] - \vartheta)` (all surrogate derivatives computed in one vectorised call
  before the loop), :math:`m_t = 1 - S[t]` for the zero reset and 1 for subtract:

  .. math::
      g_{S,t} = \partial L/\partial S[t]\,\big|_\text{outside} + V^\top \hat I_{t+1}
                \;[\, - (\beta U[t] + I[t]) \odot \hat U_{t+1} \text{ (zero) or } - \vartheta\, \hat U_{t+1}
                \text{ (subtract), if the reset is attached}]                                  \quad (F.1)

      \hat I_t = \alpha\, \hat I_{t+1} + m_t \odot \hat U_{t+1}                                  \quad (F.2)

      \hat U_t = \beta\, m_t \odot \hat U_{t+1} + \sigma'_t \odot g_{S,t}
                 + \partial L/\partial U[t]\,\big|_\text{outside}                              \quad (F.3)

  and, since :math:`I[t+1] = \alpha I[t] + \text{current}[t]`, the gradient of the current at t is
  :math:`\hat I_{t+1}`; the weight gradients are then *one* big product each,
  :math:`\partial L/\partial V = \sum_t \hat I_{t+1} S[t]^\top` (eq. F.4), and
  :math:`\partial L/\partial W = \sum_t \hat I_{t+1} S_{l-1}[t]^\top` through autograd of the input product.

Because all layers update from the state before the step (eq. 2.1), layer l at step t needs only
:math:`S_{l-1}[t]`, so the stack is simulated **layer by layer**, each over the whole sequence, and the
feed-forward currents :math:`W_l S_{l-1}[t]` of all steps are one matrix product. The leaky readout
(eq. 2.2) is a small linear scan with its own hand-written backward.

Measured and rejected (benchmarks/README.md): computing the input and recurrent products from the
active spikes only (``embedding_bag``, CSR ``torch.sparse.mm``): at 3-5% spike density the sparse product
itself is ~3x faster than a dense GEMM, but finding the non-zeros of a dense spike tensor costs more than
the GEMM saves, so the fast path stays dense (and bit-identical). ``torch.compile`` of the per-step
update on this CPU: ~110 s to compile, no faster than eager (0.091 s vs 0.092 s for 100 steps), so unused.

Limits: no double backward through the fast path (flossing "through the trajectory" uses
:meth:`~helpers.models.MultiLayerSNN.step` and autograd; use the reference model there);
``return_states=True`` falls back to the reference forward (the states must be autograd nodes).

Usage: ``out = fast_forward(model, x)`` wherever ``out = model(x)`` was written, or
``FastSNN(model)`` (an ``nn.Module`` sharing the model's parameters). Device and dtype come from
the model's parameters; everything is plain torch, so CUDA works as CPU does.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .checks import check_tensor
from .models import MultiLayerSNN, SNNOutput
from .neurons import LIFParams
from .surrogate import surrogate_derivative


@dataclass(frozen=True)
class _LayerConfig:
    """The constants one LIF layer needs (floats from :class:`LIFParams`)."""

    alpha: float
    beta: float
    threshold: float
    reset: str
    detach_reset: bool
    surrogate: str
    steepness: float

    @classmethod
    def from_params(cls, p: LIFParams) -> "_LayerConfig":
        return cls(p.alpha, p.beta, float(p.threshold), p.reset, p.detach_reset, p.surrogate, float(p.steepness))


def _weight_grad(a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    r""":math:`\sum_{t,b} a_{t,b}\, s_{t,b}^\top` for time-major (T, [G,] B, N) tensors -> (N_a, N_s) or (G, N_a, N_s)."""
    if a.ndim == 3:
        return a.reshape(-1, a.shape[-1]).T @ s.reshape(-1, s.shape[-1])
    g = a.shape[1]
    a = a.transpose(0, 1).reshape(g, -1, a.shape[-1])
    s = s.transpose(0, 1).reshape(g, -1, s.shape[-1])
    return torch.bmm(a.transpose(1, 2), s)


def _new_sequence(drive: torch.Tensor, n_steps: int) -> torch.Tensor:
    """An empty (n_steps, *drive.shape[1:]) tensor.

    Time-major (T, B, N) for one network; for a batch of networks (4-d ``drive``) the (T, S, B, N) view
    of seed-major (S, T, B, N) storage, so that the per-seed products of all steps need no copy.
    """
    if drive.ndim == 4:
        n_seeds, batch, size = drive.shape[1:]
        return drive.new_empty((n_seeds, n_steps, batch, size)).transpose(0, 1)
    return drive.new_empty((n_steps,) + tuple(drive.shape[1:]))


def _surrogate_derivative_inplace(v: torch.Tensor, kind: str, steepness: float) -> torch.Tensor:
    """:func:`helpers.surrogate.surrogate_derivative` of ``v`` computed in place in ``v`` (a temporary).

    The same formulas (tested against it), with fewer passes over memory and no temporaries of the size
    of the whole trajectory.
    """
    x = v.mul_(steepness)
    if kind == "fast_sigmoid":
        return x.abs_().add_(1.0).pow_(-2)
    if kind == "sigmoid":
        s = x.sigmoid_()
        return s.mul_(1.0 - s).mul_(4.0)
    if kind == "arctan":
        return x.square_().add_(1.0).reciprocal_()
    if kind == "triangle":
        return x.abs_().neg_().add_(1.0).clamp_(min=0.0)
    if kind == "exponential":
        return x.abs_().neg_().exp_()
    if kind == "gaussian":
        return x.square_().mul_(-0.5).exp_()
    return surrogate_derivative(v / steepness, kind, steepness)


def _addmm(c: torch.Tensor, a: torch.Tensor, b: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``c + a @ b`` into ``out`` for 2-d operands or batches of them (3-d)."""
    if a.ndim == 2:
        return torch.addmm(c, a, b, out=out)
    return torch.baddbmm(c, a, b, out=out)


class LIFLayerFunction(torch.autograd.Function):
    """One LIF layer over a whole sequence with a hand-written BPTT backward (eqs. 1.1-1.4, 2.1, F.1-F.4).

    Inputs (time-major):
        drive: feed-forward current W S_{l-1}[t] for every step, (T, [G,] B, N).
        w_rec: recurrent weights V (N, N) or (G, N, N), or None (feed-forward layer).
        bias: b (N,) or (G, 1, N), or None.
        syn0, mem0: initial state (..., B, N).
        cfg: :class:`_LayerConfig`.
    Returns ``(spk, mem)``, each (T, [G,] B, N): S[t] and U[t] (before step t).
    """

    @staticmethod
    def forward(ctx, drive, w_rec, bias, syn0, mem0, cfg):
        n_steps = drive.shape[0]
        shape = drive.shape[1:]
        syn = _new_sequence(drive, n_steps + 1)
        mem = _new_sequence(drive, n_steps + 1)
        spk = _new_sequence(drive, n_steps)
        syn[0].copy_(syn0)
        mem[0].copy_(mem0)
        w_rec_t = None
        if w_rec is not None:
            # 2-d: the transposed view, exactly the reference's ``spk @ w_rec.T``; 3-d (a batch of
            # networks): contiguous once, or bmm would copy the transposed batch at every step.
            w_rec_t = w_rec.T if w_rec.ndim == 2 else w_rec.transpose(-1, -2).contiguous()
        current = drive.new_empty(shape)
        zero_reset = cfg.reset == "zero"
        for t in range(n_steps):
            torch.gt(mem[t], cfg.threshold, out=spk[t])  # (1.1): U - theta > 0  <=>  U > theta
            if w_rec_t is not None:  # (2.1), same order as the reference: (W x + V S) + b
                torch.matmul(spk[t], w_rec_t, out=current)
                current.add_(drive[t])
            else:
                current.copy_(drive[t])
            if bias is not None:
                current.add_(bias)
            torch.mul(syn[t], cfg.alpha, out=syn[t + 1])  # (1.2)
            syn[t + 1].add_(current)
            torch.mul(mem[t], cfg.beta, out=mem[t + 1])
            mem[t + 1].add_(syn[t])
            if zero_reset:  # (1.3): x (1 - S) = x - x S, exact for S in {0, 1}
                mem[t + 1].addcmul_(mem[t + 1], spk[t], value=-1.0)
            else:  # (1.4)
                mem[t + 1].sub_(spk[t], alpha=cfg.threshold)
        ctx.cfg = cfg
        ctx.has_bias = bias is not None
        ctx.bias_shape = None if bias is None else bias.shape
        ctx.save_for_backward(w_rec if w_rec is not None else drive.new_empty(0))
        ctx.buffers = (syn, mem, spk)
        ctx.has_rec = w_rec is not None
        ctx.set_materialize_grads(False)
        return spk, mem[:n_steps]

    @staticmethod
    def backward(ctx, g_spk, g_mem):
        cfg = ctx.cfg
        (w_rec,) = ctx.saved_tensors
        syn, mem, spk = ctx.buffers
        n_steps = spk.shape[0]
        sg = _surrogate_derivative_inplace(mem[:n_steps] - cfg.threshold, cfg.surrogate, cfg.steepness)
        a_syn = torch.empty_like(syn)  # a_syn[t] = dL/dI[t]; the gradient of current[t] is a_syn[t+1]
        a_syn[n_steps].zero_()
        a_mem = torch.zeros_like(syn[0])
        g_s = torch.empty_like(syn[0])
        zero_reset = cfg.reset == "zero"
        attached = not cfg.detach_reset
        if zero_reset:
            fired = spk.bool()
            if attached:
                pre_reset = cfg.beta * mem[:n_steps] + syn[:n_steps]
        for t in range(n_steps - 1, -1, -1):
            a_next = a_syn[t + 1]
            if ctx.has_rec:  # (F.1)
                if g_spk is not None:
                    _addmm(g_spk[t], a_next, w_rec, out=g_s)
                else:
                    torch.matmul(a_next, w_rec, out=g_s)
            elif g_spk is not None:
                g_s.copy_(g_spk[t])
            else:
                g_s.zero_()
            if attached:
                if zero_reset:
                    g_s.addcmul_(a_mem, pre_reset[t], value=-1.0)
                else:
                    g_s.add_(a_mem, alpha=-cfg.threshold)
            if zero_reset:
                a_mem.masked_fill_(fired[t], 0.0)
            torch.add(a_mem, a_next, alpha=cfg.alpha, out=a_syn[t])  # (F.2)
            a_mem.mul_(cfg.beta)  # (F.3)
            a_mem.addcmul_(g_s, sg[t])
            if g_mem is not None:
                a_mem.add_(g_mem[t])
        grad_current = a_syn[1:]
        need = ctx.needs_input_grad
        grad_drive = grad_current if need[0] else None
        grad_rec = _weight_grad(grad_current, spk) if (ctx.has_rec and need[1]) else None  # (F.4)
        grad_bias = None
        if ctx.has_bias and need[2]:
            grad_bias = grad_current.sum(0).sum_to_size(ctx.bias_shape)
        grad_syn0 = a_syn[0] if need[3] else None
        grad_mem0 = a_mem if need[4] else None
        ctx.buffers = None
        return grad_drive, grad_rec, grad_bias, grad_syn0, grad_mem0, None


class LeakyReadoutFunction(torch.autograd.Function):
    """The readout scan y[t] = kappa y[t-1] + z[t], y[-1] = 0 (eq. 2.2), time-major z (T, ..., n_out)."""

    @staticmethod
    def forward(ctx, z, kappa):
        y = torch.empty_like(z)
        y[0].copy_(z[0])
        for t in range(1, z.shape[0]):
            torch.add(z[t], y[t - 1], alpha=kappa, out=y[t])
        ctx.kappa = kappa
        return y

    @staticmethod
    def backward(ctx, g_y):
        g_z = torch.empty_like(g_y)
        g_z[-1].copy_(g_y[-1])
        for t in range(g_y.shape[0] - 2, -1, -1):
            torch.add(g_y[t], g_z[t + 1], alpha=ctx.kappa, out=g_z[t])
        return g_z, None


def _layer_config(model: MultiLayerSNN) -> _LayerConfig:
    return _LayerConfig.from_params(model.params)


def _bias_or_none(bias: torch.Tensor) -> torch.Tensor | None:
    """The reference always adds the bias; adding an exact 0 changes nothing, so skip a frozen zero bias."""
    if bias.requires_grad or bool((bias != 0).any()):
        return bias
    return None


def fast_forward(
    model: MultiLayerSNN,
    x: torch.Tensor,
    h0: torch.Tensor | None = None,
    return_states: bool = False,
) -> SNNOutput:
    """The forward pass of ``model`` (a :class:`~helpers.models.MultiLayerSNN` or ``RecurrentSNN``), fast.

    Same result as ``model(x, h0)`` (spikes bit-identical; gradients equal to
    rounding), computed layer by layer with :class:`LIFLayerFunction`.

    Args:
        model: the network whose parameters are used (gradients flow into them).
        x: input (batch, T, n_in), same dtype and device as the model.
        h0: optional initial hidden state (batch, state_dim) (gradients flow into it too).
        return_states: if True, falls back to the reference ``model(x, h0, return_states=True)``.

    Returns an :class:`~helpers.models.SNNOutput`: ``output`` (batch, T, n_out) contiguous; ``spikes``
    and ``mem`` per layer (batch, T, N) as transposed views of time-major buffers.
    """
    if not isinstance(model, MultiLayerSNN):
        raise TypeError(f"model must be a helpers.models.MultiLayerSNN (or RecurrentSNN), got {type(model).__name__}")
    if return_states:
        return model(x, h0, return_states=True)
    check_tensor("x", x, shape=(None, None, model.n_in), finite=False)
    if not bool(torch.isfinite(x.sum())):  # one cheap pass; the full check only to name the problem
        check_tensor("x", x, shape=(None, None, model.n_in))
    ref = model.w_out
    if x.dtype != ref.dtype or x.device != ref.device:
        raise ValueError(
            f"x must have the model's dtype and device ({ref.dtype}, {ref.device}), got ({x.dtype}, {x.device})"
        )
    batch = x.shape[0]
    if h0 is not None:
        check_tensor("h0", h0, shape=(batch, model.state_dim), finite=False)
        init = model.split_state(h0)
    else:
        zeros = x.new_zeros(batch, 1).expand(batch, max(model.hidden))
        init = [(zeros[:, :n], zeros[:, :n]) for n in model.hidden]
    cfg = _layer_config(model)
    drive = (x @ model.w_ff[0].T).transpose(0, 1).contiguous()  # (2.1), layer 1, all steps
    spikes, mems = [], []
    for layer in range(len(model.hidden)):
        if layer > 0:
            drive = spikes[-1] @ model.w_ff[layer].T  # (2.1): W_l S_{l-1}[t] for all t at once
        w_rec = model.w_rec[layer] if model.recurrent[layer] else None
        syn0, mem0 = init[layer]
        spk, mem = LIFLayerFunction.apply(drive, w_rec, _bias_or_none(model.biases[layer]), syn0, mem0, cfg)
        spikes.append(spk)
        mems.append(mem)
    z = spikes[-1] @ model.w_out.T + model.b_out
    y = LeakyReadoutFunction.apply(z, model.kappa)  # (2.2)
    return SNNOutput(
        output=y.transpose(0, 1).contiguous(),
        spikes=[s.transpose(0, 1) for s in spikes],
        mem=[m.transpose(0, 1) for m in mems],
    )


class FastSNN(nn.Module):
    """A wrapper that runs ``model`` through :func:`fast_forward`; it *shares* the model's parameters.

    ``FastSNN(model).parameters()`` are ``model.parameters()``, so an optimiser built on either trains
    both; attributes not defined here (``step``, ``tangent``, ``dynamics_parameters``, ...) are those of
    the wrapped model, so the Lyapunov tools work on the wrapper as on the model.
    """

    def __init__(self, model: MultiLayerSNN):
        super().__init__()
        if not isinstance(model, MultiLayerSNN):
            raise TypeError(f"model must be a helpers.models.MultiLayerSNN, got {type(model).__name__}")
        self.model = model

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, return_states: bool = False) -> SNNOutput:
        return fast_forward(self.model, x, h0, return_states)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["model"], name)
