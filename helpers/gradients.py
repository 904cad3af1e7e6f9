r"""Gradients through time: the backpropagated error signal and the long-term Jacobian.

Backpropagation through time carries the error at the last step back to step t as

.. math::  \frac{\partial L}{\partial h_t} = J_t^\top J_{t+1}^\top \cdots J_{T-1}^\top \frac{\partial L}{\partial h_T}  \qquad (4.1)

a product of T - t transposed (surrogate) Jacobians :math:`J_s = \partial h_{s+1} / \partial h_s`. Its norm
grows or shrinks roughly like :math:`e^{\lambda_1 (T - t)}`, with :math:`\lambda_1` the leading Lyapunov
exponent (notebook 05): the *slope of log gradient norm against lag* is an estimate of :math:`\lambda_1`.
The long-term Jacobian :math:`J_{t_1 \leftarrow t_0} = J_{t_1-1} \cdots J_{t_0}` has singular values
:math:`\approx e^{\lambda_i (t_1 - t_0)}` and condition number :math:`\approx e^{(\lambda_1 - \lambda_k)(t_1 - t_0)}`.
"""

from __future__ import annotations

import numpy as np
import torch

from .checks import check_int, check_tensor


def _run_inputs(inputs):
    if isinstance(inputs, int):
        return inputs, (lambda t: None)
    check_tensor("inputs", inputs, ndim=3)
    return inputs.shape[1], (lambda t: inputs[:, t])


def state_gradient_norms(
    system,
    inputs: torch.Tensor | int,
    h0: torch.Tensor | None = None,
    error: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Norms :math:`\|\partial L / \partial h_t\|` for t = 0..T of an error injected at the last state (eq. 4.1).

    The loss is :math:`L = \langle e, h_T \rangle` with ``error`` e (batch, state_dim); default a random unit
    vector per sample (from ``generator``). Autograd through ``system.step`` computes the products of
    transposed Jacobians, exactly as BPTT does.

    Returns (batch, T + 1); entry t is the norm at lag T - t (entry T is :math:`\|e\| = 1`).
    """
    n_steps, x_at = _run_inputs(inputs)
    batch = (1 if h0 is None else h0.shape[0]) if isinstance(inputs, int) else inputs.shape[0]
    h = (system.initial_state(batch) if h0 is None else h0).detach().requires_grad_(True)
    states = [h]
    for t in range(n_steps):
        h = system.step(h, x_at(t))
        states.append(h)
    if error is None:
        error = torch.randn(batch, system.state_dim, generator=generator, dtype=torch.float64)
        error = (error / error.norm(dim=-1, keepdim=True)).to(h.dtype).to(h.device)
    grads = torch.autograd.grad((h * error).sum(), states, allow_unused=True)
    norms = [torch.zeros(batch, dtype=h.dtype, device=h.device) if g is None else g.norm(dim=-1) for g in grads]
    return torch.stack(norms, 1).detach()


def bptt_signal(model, x: torch.Tensor, loss_fn, h0: torch.Tensor | None = None) -> torch.Tensor:
    r"""The BPTT signal of a task: :math:`\|\partial L/\partial h_t\|` for t = 0..T with the model's real loss.

    Args:
        model: a model whose ``forward(x, return_states=True)`` records the states (e.g. the SNNs of
            :mod:`helpers.models`).
        x: inputs (batch, T, n_in).
        loss_fn: maps the model's :class:`~helpers.models.SNNOutput` to a scalar loss.
        h0: initial state (default ``model.initial_state(batch)``); a detached copy that requires grad
            is passed to the model, so that entry 0 (the error reaching the initial state) is defined.

    Returns (batch, T + 1): per sample, the norm of the gradient of the loss with respect to the hidden
    state at each step (both the direct and the propagated contributions, as autograd computes them).
    """
    h0 = (model.initial_state(x.shape[0]) if h0 is None else h0).detach().requires_grad_(True)
    out = model(x, h0=h0, return_states=True)
    loss = loss_fn(out)
    grads = torch.autograd.grad(loss, out.states, allow_unused=True)
    ref = out.states[0]
    norms = [torch.zeros(ref.shape[0], dtype=ref.dtype, device=ref.device) if g is None else g.norm(dim=-1)
             for g in grads]
    return torch.stack(norms, 1).detach()


def long_term_jacobian(system, inputs: torch.Tensor | int, start: int = 0, stop: int | None = None,
                       h0: torch.Tensor | None = None) -> torch.Tensor:
    r""":math:`J_{\text{stop} \leftarrow \text{start}} = J_{\text{stop}-1} \cdots J_{\text{start}}`, (batch, state_dim, state_dim).

    The trajectory runs from ``h0`` (default the initial state) through ``inputs``; the product is built
    by propagating the identity through ``system.tangent`` over steps [start, stop) (no dense Jacobian
    of ``step`` is formed).
    """
    n_steps, x_at = _run_inputs(inputs)
    stop = n_steps if stop is None else stop
    check_int("start", start, 0, n_steps - 1)
    check_int("stop", stop, start + 1, n_steps)
    batch = (1 if h0 is None else h0.shape[0]) if isinstance(inputs, int) else inputs.shape[0]
    with torch.no_grad():
        h = system.initial_state(batch) if h0 is None else h0
        for t in range(start):
            h = system.step(h, x_at(t))
        eye = torch.eye(system.state_dim, dtype=h.dtype, device=h.device)
        q = eye.expand(batch, -1, -1)
        for t in range(start, stop):
            q = system.tangent(h, x_at(t), q)
            h = system.step(h, x_at(t))
    return q


def singular_values(jacobian: torch.Tensor) -> torch.Tensor:
    """Singular values of a (batch of) Jacobian(s), descending, computed in float64."""
    return torch.linalg.svdvals(jacobian.double())


def condition_number(jacobian: torch.Tensor, k: int | None = None) -> torch.Tensor:
    """Ratio of the largest to the k-th singular value (default: the smallest), per batch element."""
    s = singular_values(jacobian)
    k = s.shape[-1] if k is None else check_int("k", k, 1, s.shape[-1])
    return s[..., 0] / s[..., k - 1]


def log_slope(norms, lags=None, fit_range: tuple[int, int] | None = None) -> float:
    r"""Least-squares slope of :math:`\log \|\cdot\|` against lag: an estimate of :math:`\lambda_1` (1/step).

    Args:
        norms: gradient norms (T+1,) or (batch, T+1) ordered by time t (lag T - t), as returned by
            :func:`state_gradient_norms`. A batch is averaged in the log domain (geometric mean).
        lags: the lag of each entry (default T - t).
        fit_range: (min_lag, max_lag) to fit; excludes the first steps where the transient dominates.
    """
    norms = np.asarray(norms.detach().cpu() if isinstance(norms, torch.Tensor) else norms, dtype=float)
    log_norms = np.log(np.clip(norms, 1e-300, None))
    if log_norms.ndim == 2:
        log_norms = log_norms.mean(0)
    n = log_norms.shape[0]
    lags = np.arange(n - 1, -1, -1) if lags is None else np.asarray(lags)
    if lags.shape != (n,):
        raise ValueError(f"lags must have one entry per norm ({n}), got shape {lags.shape}")
    mask = np.isfinite(log_norms) & (norms.reshape(-1, n).min(0) > 0)
    if fit_range is not None:
        mask &= (lags >= fit_range[0]) & (lags <= fit_range[1])
    if mask.sum() < 2:
        raise ValueError(f"log_slope needs at least 2 positive norms in fit_range={fit_range}, got {int(mask.sum())}")
    slope, _ = np.polyfit(lags[mask], log_norms[mask], 1)
    return float(slope)
