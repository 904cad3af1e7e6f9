r"""Lyapunov spectra of discrete-time systems by the QR method, differentiable end to end.

**The protocol.** A *system* is any object with

- ``state_dim: int``
- ``initial_state(batch_size) -> Tensor (batch, state_dim)``
- ``step(h, x) -> Tensor (batch, state_dim)``: one time step; ``x`` is (batch, n_in) or None
- ``tangent(h, x, Q) -> Tensor (batch, state_dim, m)``: :math:`J(h, x)\, Q` with :math:`J = \partial\,\mathrm{step}(h, x)/\partial h`

**The QR method.** Start from an orthonormal :math:`Q_0` (state_dim x k). Each step propagate the tangent
vectors, :math:`\tilde Q_{t+1} = J_t Q_t`; every ``reorth_every`` steps factor :math:`\tilde Q = Q R` and
keep :math:`Q`. The column norms that the factorisation removes are the growth factors of the nested
subspaces, so

.. math::  \lambda_i = \frac{1}{T - T_0} \sum_{\text{QR steps after } T_0} \log |R_{ii}|   \qquad (5.1)

in units of 1/step (divide by :math:`\Delta t` for 1/second), with :math:`T_0` the discarded transient.

**Annihilated directions.** A map of rank below k (e.g. the zero reset with a detached reset zeroes the
membrane row of every neuron that spikes) can leave a column of :math:`\tilde Q` at zero (exactly, or up
to rounding: its pivot :math:`|R_{ii}|` is then rounding noise, 1e-12 of the column norms or less in float64), and
:math:`\log 0 = -\infty` would poison the mean and the gradient. The course's choice: a pivot with
:math:`|R_{ii}|` below ``floor`` (default :math:`\sqrt{\text{smallest normal number}}` of the dtype,
about 1e-19 in float32 and 1e-154 in float64) counts as ``floor`` (so that direction's exponent is
large and negative but finite), and no gradient flows through an annihilated column, i.e. one whose
pivot is at or below ``floor`` or below the rounding level :math:`\sqrt{\epsilon}\, \max_j \|\tilde q_j\|`
(its new direction is arbitrary and has no derivative; the exact derivative would divide by a pivot that
is rounding noise). The backward pass of the QR factorisation is written out (:class:`_FlooredQR`) so that
both hold; for full-rank inputs it equals PyTorch's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .checks import check_int, check_tensor


@dataclass
class LyapunovResult:
    """Result of :func:`lyapunov_spectrum`.

    Attributes:
        exponents: (batch, k), sorted descending, 1/step.
        local: if requested, (batch, n_qr, k): :math:`\\log|R_{ii}|` / (steps since the previous QR)
            for each QR after the transient (in the order of the columns, not sorted): the local
            (finite-time) exponents.
        basis: the final orthonormal tangent basis Q, (batch, state_dim, k).
        final_state: the state after the last step, (batch, state_dim).
        n_steps: the number of steps averaged (T - transient).
    """

    exponents: torch.Tensor
    basis: torch.Tensor
    final_state: torch.Tensor
    n_steps: int
    local: torch.Tensor | None = None


def default_floor(dtype: torch.dtype) -> float:
    """The pivot floor of the QR step: the square root of the smallest normal number of ``dtype``."""
    return torch.finfo(dtype).tiny ** 0.5


def _copyltu(m: torch.Tensor) -> torch.Tensor:
    """Copy the lower triangle onto the upper: tril(m) + tril(m, -1)^T."""
    return m.tril() + m.tril(-1).transpose(-2, -1)


class _FlooredQR(torch.autograd.Function):
    r"""Reduced QR of a (..., n, k) matrix (n >= k) with a floored backward pass.

    Backward (Walter & Lehmann 2018; Liao et al. 2019), for :math:`A = QR`:
    :math:`M = R\, \bar R^T - \bar Q^T Q`, :math:`\bar A = (\bar Q + Q\, \mathrm{copyltu}(M))\, R^{-T}`.
    Annihilated columns get no gradient: those whose pivot :math:`|R_{pp}|` is at or below
    ``max(floor, sqrt(eps) * largest column norm of A)`` (zero, or zero up to rounding). For such a column
    p the incoming gradients of :math:`Q_{:,p}` and of the row :math:`R_{p,:}` (both depend on the arbitrary
    new direction) are dropped, the triangular solve uses the pivot floored at ``floor`` and ignores the
    row's off-diagonal entries (so that :math:`1/R_{pp}` never reaches the other columns), and
    :math:`\bar A_{:,p} = 0`. Everything stays finite; with no annihilated column this is the exact gradient.
    """

    @staticmethod
    def forward(ctx, a, floor):
        q, r = torch.linalg.qr(a, mode="reduced")
        ctx.save_for_backward(q, r)
        ctx.floor = floor
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        q, r = ctx.saved_tensors
        diag = r.diagonal(dim1=-2, dim2=-1)
        # the column norms of A are those of R (Q has orthonormal columns)
        rounding = torch.finfo(r.dtype).eps ** 0.5 * r.norm(dim=-2).amax(dim=-1, keepdim=True)
        dead = diag.abs() <= rounding.clamp_min(ctx.floor)
        sign = torch.where(diag < 0, -1.0, 1.0).to(r.dtype)
        safe_diag = torch.where(dead, sign * ctx.floor, diag)
        r_safe = torch.where(dead.unsqueeze(-1), 0.0, r)  # drop the dead rows' off-diagonal entries
        r_safe = r_safe - torch.diag_embed(r_safe.diagonal(dim1=-2, dim2=-1)) + torch.diag_embed(safe_diag)
        if grad_q is None:
            grad_q = torch.zeros_like(q)
        if grad_r is None:
            grad_r = torch.zeros_like(r)
        grad_q = grad_q.masked_fill(dead.unsqueeze(-2), 0.0)
        grad_r = grad_r.masked_fill(dead.unsqueeze(-1), 0.0)
        m = r_safe @ grad_r.transpose(-2, -1) - grad_q.transpose(-2, -1) @ q
        b = grad_q + q @ _copyltu(m)
        b = b.masked_fill(dead.unsqueeze(-2), 0.0)
        # Solve  grad_a @ R^T = b  for grad_a  (R^T lower triangular).
        grad_a = torch.linalg.solve_triangular(r_safe.transpose(-2, -1), b, upper=False, left=False)
        return grad_a, None


def floored_qr(a: torch.Tensor, floor: float | None = None):
    """Reduced QR ``(Q, R)`` of ``a`` (..., n, k), n >= k, with the finite backward pass of :class:`_FlooredQR`."""
    return _FlooredQR.apply(a, default_floor(a.dtype) if floor is None else floor)


def _check_system(system) -> None:
    for name in ("state_dim", "initial_state", "step", "tangent"):
        if not hasattr(system, name):
            raise TypeError(
                f"system must implement the protocol (state_dim, initial_state, step, tangent); "
                f"{type(system).__name__} has no {name!r}"
            )


def random_basis(state_dim: int, k: int, generator: torch.Generator | None = None, dtype=torch.float64, device=None):
    """A random orthonormal (state_dim, k) basis: Q of the QR of a Gaussian matrix."""
    g = torch.randn(state_dim, k, generator=generator, dtype=dtype, device=device)
    return torch.linalg.qr(g)[0]


def lyapunov_spectrum(
    system,
    inputs: torch.Tensor | int,
    k: int,
    *,
    reorth_every: int = 1,
    transient: int = 0,
    h0: torch.Tensor | None = None,
    q0: torch.Tensor | None = None,
    return_local: bool = False,
    floor: float | None = None,
    generator: torch.Generator | None = None,
) -> LyapunovResult:
    r"""The k leading Lyapunov exponents of ``system`` along the trajectory driven by ``inputs`` (eq. 5.1).

    Args:
        system: an object implementing the protocol of this module.
        inputs: a tensor (batch, T, n_in) of inputs, or an int T for an autonomous system (then
            ``x = None`` at every step and the batch size comes from ``h0``, else 1).
        k: number of exponents, 1 <= k <= state_dim.
        reorth_every: QR every this many steps (>= 1). Long intervals lose precision: the columns of
            :math:`\tilde Q` align with the leading direction and their norms can under/overflow.
        transient: steps discarded before averaging (0 <= transient < T); the basis is re-orthonormalised
            at its end so that the averaged part starts from an aligned basis.
        h0: initial state (batch, state_dim); default ``system.initial_state(batch)``.
        q0: initial tangent basis, (state_dim, k) or (batch, state_dim, k), orthonormal columns;
            default a random orthonormal basis drawn from ``generator`` (or a fixed seed 0).
        return_local: also return the local exponents of every QR (see :class:`LyapunovResult`).
        floor: pivot floor for annihilated directions (see module docstring).

    Returns a :class:`LyapunovResult`. Differentiable with respect to every parameter of the system,
    ``inputs``, ``h0`` and ``q0``; finite for finite inputs.
    """
    _check_system(system)
    n = system.state_dim
    check_int("k", k, 1, n)
    check_int("reorth_every", reorth_every, 1)
    if isinstance(inputs, bool) or not isinstance(inputs, (int, torch.Tensor)):
        raise TypeError(f"inputs must be a tensor (batch, T, n_in) or an int T, got {type(inputs).__name__}")
    if isinstance(inputs, int):
        n_steps = check_int("inputs (number of steps T)", inputs, 1)
        batch = 1 if h0 is None else h0.shape[0]
    else:
        check_tensor("inputs", inputs, ndim=3)
        batch, n_steps = inputs.shape[:2]
        if h0 is not None and h0.shape[0] != batch:
            raise ValueError(f"h0 has batch size {h0.shape[0]} but inputs has batch size {batch}")
    check_int("transient", transient, 0, n_steps - 1)

    h = system.initial_state(batch) if h0 is None else h0
    check_tensor("h0", h, shape=(batch, n), finite=True)
    if q0 is None:
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        q0 = random_basis(n, k, generator=generator, dtype=h.dtype).to(h.device)
    if q0.ndim == 2:
        check_tensor("q0", q0, shape=(n, k))
        q0 = q0.expand(batch, n, k)
    check_tensor("q0", q0, shape=(batch, n, k))
    q = q0
    floor = default_floor(h.dtype) if floor is None else floor

    log_sum = h.new_zeros(batch, k)
    local, last_qr = [], 0
    for t in range(n_steps):
        x = None if isinstance(inputs, int) else inputs[:, t]
        q = system.tangent(h, x, q)
        h = system.step(h, x)
        done = t + 1
        in_transient = done <= transient
        if in_transient:
            do_qr = done % reorth_every == 0 or done == transient
        else:
            do_qr = (done - transient) % reorth_every == 0 or done == n_steps
        if not do_qr:
            continue
        q, r = floored_qr(q, floor)
        if not in_transient:
            log_r = torch.log(r.diagonal(dim1=-2, dim2=-1).abs().clamp_min(floor))
            log_sum = log_sum + log_r
            if return_local:
                local.append(log_r / (done - last_qr))
        last_qr = done

    averaged = n_steps - transient
    exponents = torch.sort(log_sum / averaged, dim=-1, descending=True).values
    return LyapunovResult(
        exponents=exponents,
        basis=q,
        final_state=h,
        n_steps=averaged,
        local=torch.stack(local, 1) if return_local else None,
    )
