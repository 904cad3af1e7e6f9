r"""Surrogate spikes: the Heaviside forward, a smooth pseudo-derivative backward.

A spike is emitted when the membrane crosses threshold, :math:`S = H(v)` with :math:`v = U - \vartheta`
and :math:`H(0) = 0`. Its derivative is zero almost everywhere, so backpropagation would carry no error
signal. The surrogate-gradient method keeps :math:`H` in the forward pass and replaces
:math:`H'(v)` by a smooth :math:`\sigma'(v)` in the backward pass (Neftci, Mostafa & Zenke 2019).

Every kind below is normalised to **peak 1** at :math:`v = 0`; its area then scales like
``1/steepness``. With steepness :math:`\beta_s` (written ``steepness`` in code):

=============  ===================================================  ====  ========================
kind           :math:`\sigma'(v)`                                     peak  area :math:`\int \sigma'`
=============  ===================================================  ====  ========================
fast_sigmoid   :math:`1 / (1 + \beta_s |v|)^2`                        1     :math:`2 / \beta_s`
sigmoid        :math:`4\, s(\beta_s v)\, (1 - s(\beta_s v))`, s logistic  1  :math:`4 / \beta_s`
arctan         :math:`1 / (1 + (\beta_s v)^2)`                        1     :math:`\pi / \beta_s`
triangle       :math:`\max(0, 1 - \beta_s |v|)`                       1     :math:`1 / \beta_s`
exponential    :math:`\exp(-\beta_s |v|)`                             1     :math:`2 / \beta_s`
gaussian       :math:`\exp(-(\beta_s v)^2 / 2)`                       1     :math:`\sqrt{2\pi} / \beta_s`
=============  ===================================================  ====  ========================

Why it matters: the surrogate derivative multiplies every entry of the network's Jacobian that passes
through a spike. A unit-area normalisation (common in theory) at steepness 100 has peak 100; the peak-1
normalisation used here has area 0.02. The two differ by four orders of magnitude at the same
steepness, and so do the gradients and the surrogate Lyapunov exponents. :func:`surrogate_area` and
:func:`surrogate_peak` return the numbers; multiply by ``1 / surrogate_area(...)`` to get unit area.
"""

from __future__ import annotations

import math

import torch

from .checks import check_choice, check_positive

SURROGATE_KINDS = ("fast_sigmoid", "sigmoid", "arctan", "triangle", "exponential", "gaussian")
DEFAULT_STEEPNESS = 10.0

_AREA_TIMES_STEEPNESS = {
    "fast_sigmoid": 2.0,
    "sigmoid": 4.0,
    "arctan": math.pi,
    "triangle": 1.0,
    "exponential": 2.0,
    "gaussian": math.sqrt(2.0 * math.pi),
}


def _check(kind: str, steepness: float) -> None:
    check_choice("kind", kind, SURROGATE_KINDS)
    check_positive("steepness", steepness)


def surrogate_derivative(v: torch.Tensor, kind: str = "fast_sigmoid", steepness: float = DEFAULT_STEEPNESS):
    r"""The surrogate derivative :math:`\sigma'(v)` of the spike nonlinearity (peak 1 at ``v = 0``).

    Args:
        v: distance to threshold, :math:`U - \vartheta` (units of the membrane potential).
        kind: one of :data:`SURROGATE_KINDS` (formulas in the module docstring).
        steepness: :math:`\beta_s > 0`, inverse width (1 / membrane units).

    Returns a tensor like ``v``. It is built from differentiable torch operations, so it can itself be
    differentiated (flossing through the trajectory needs this).
    """
    _check(kind, steepness)
    if not isinstance(v, torch.Tensor) or not v.is_floating_point():
        raise TypeError(f"v must be a floating-point torch.Tensor, got {type(v).__name__}")
    return _derivative(v, kind, steepness)


def _derivative(v: torch.Tensor, kind: str, steepness: float) -> torch.Tensor:
    """:func:`surrogate_derivative` without the argument checks (the inner loop calls it every step)."""
    x = steepness * v
    if kind == "fast_sigmoid":
        return 1.0 / (1.0 + x.abs()) ** 2
    if kind == "sigmoid":
        s = torch.sigmoid(x)
        return 4.0 * s * (1.0 - s)
    if kind == "arctan":
        return 1.0 / (1.0 + x * x)
    if kind == "triangle":
        return torch.clamp(1.0 - x.abs(), min=0.0)
    if kind == "exponential":
        return torch.exp(-x.abs())
    return torch.exp(-0.5 * x * x)  # gaussian


def surrogate_area(kind: str, steepness: float) -> float:
    r"""Area :math:`\int_{-\infty}^{\infty} \sigma'(v)\, dv` of the peak-1 surrogate of ``kind``."""
    _check(kind, steepness)
    return _AREA_TIMES_STEEPNESS[kind] / steepness


def surrogate_peak(kind: str, steepness: float) -> float:
    """Peak value of the surrogate derivative (1 for every kind: the course's normalisation)."""
    _check(kind, steepness)
    return 1.0


class SurrogateSpike(torch.autograd.Function):
    """Heaviside forward (``H(0) = 0``), surrogate derivative backward.

    The backward pass is written with differentiable torch operations, so second derivatives
    (needed when a loss depends on a gradient) are available.
    """

    generate_vmap_rule = True  # so that torch.func (vmap, jacrev) works through spikes

    @staticmethod
    def forward(v, kind, steepness):
        return (v > 0).to(v.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        v, kind, steepness = inputs
        ctx.save_for_backward(v)
        ctx.kind = kind
        ctx.steepness = steepness

    @staticmethod
    def backward(ctx, grad_output):
        (v,) = ctx.saved_tensors
        return grad_output * _derivative(v, ctx.kind, ctx.steepness), None, None


def spike(v: torch.Tensor, kind: str = "fast_sigmoid", steepness: float = DEFAULT_STEEPNESS) -> torch.Tensor:
    r"""Emit spikes :math:`S = H(v)` with :math:`H(0) = 0`; backward :math:`\partial S/\partial v = \sigma'(v)`.

    Args:
        v: distance to threshold :math:`U - \vartheta`, any shape, floating point.
        kind: surrogate shape, one of :data:`SURROGATE_KINDS`.
        steepness: :math:`\beta_s > 0` (1 / membrane units).

    Returns 0/1 spikes with the dtype of ``v``.
    """
    _check(kind, steepness)
    if not isinstance(v, torch.Tensor) or not v.is_floating_point():
        raise TypeError(f"v must be a floating-point torch.Tensor, got {type(v).__name__}")
    return SurrogateSpike.apply(v, kind, steepness)
