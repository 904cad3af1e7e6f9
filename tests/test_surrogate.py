"""The surrogate spike (helpers.surrogate, COURSE.md 4.2): Heaviside forward with H(0) = 0, the surrogate
derivative backward, peak 1, the documented areas, second derivatives, and clear errors for bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers.surrogate import SURROGATE_KINDS, spike, surrogate_area, surrogate_derivative, surrogate_peak

STEEPNESS = (2.0, 25.0)

# The formulas of the module docstring, written out independently (x = steepness * v), and the documented
# area times steepness.
FORMULAS = {
    "fast_sigmoid": (lambda x: 1.0 / (1.0 + np.abs(x)) ** 2, 2.0),
    "sigmoid": (lambda x: 4.0 / (1.0 + np.exp(-x)) * (1.0 - 1.0 / (1.0 + np.exp(-x))), 4.0),
    "arctan": (lambda x: 1.0 / (1.0 + x * x), math.pi),
    "triangle": (lambda x: np.maximum(0.0, 1.0 - np.abs(x)), 1.0),
    "exponential": (lambda x: np.exp(-np.abs(x)), 2.0),
    "gaussian": (lambda x: np.exp(-0.5 * x * x), math.sqrt(2.0 * math.pi)),
}


def test_every_kind_is_documented_here():
    assert set(SURROGATE_KINDS) == set(FORMULAS)
    assert len(SURROGATE_KINDS) >= 5


# ------------------------------------------------------------------------------------------------ forward
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", SURROGATE_KINDS)
def test_forward_is_heaviside_with_h0_zero(kind, dtype):
    tiny = torch.finfo(dtype).tiny  # smallest positive normal number
    v = torch.tensor([-1.0, -tiny, -0.0, 0.0, tiny, 1e-30, 1.0, 1e6], dtype=dtype)
    s = spike(v, kind, 10.0)
    assert s.dtype == dtype
    assert s.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    # exactly at threshold: no spike (H(0) = 0); the smallest subnormal above 0: a spike
    assert spike(torch.zeros(3, dtype=dtype), kind, 10.0).sum() == 0
    subnormal = torch.nextafter(torch.zeros(1, dtype=dtype), torch.ones(1, dtype=dtype))
    assert subnormal.item() > 0 and spike(subnormal, kind, 10.0).item() == 1.0


# ----------------------------------------------------------------------------------------------- backward
@pytest.mark.parametrize("steepness", STEEPNESS)
@pytest.mark.parametrize("kind", SURROGATE_KINDS)
def test_backward_equals_surrogate_derivative(kind, steepness):
    gen = torch.Generator().manual_seed(0)
    v = torch.cat([torch.randn(200, generator=gen, dtype=torch.float64) / steepness * 3,
                   torch.tensor([0.0, 1e-12, -1e-12], dtype=torch.float64)]).requires_grad_(True)
    upstream = torch.randn(v.shape, generator=gen, dtype=torch.float64)
    (grad,) = torch.autograd.grad(spike(v, kind, steepness), v, grad_outputs=upstream)
    expected = upstream * surrogate_derivative(v.detach(), kind, steepness)
    torch.testing.assert_close(grad, expected, rtol=0, atol=0)
    # and the derivative is the documented formula
    formula, _ = FORMULAS[kind]
    np.testing.assert_allclose(surrogate_derivative(v.detach(), kind, steepness).numpy(),
                               formula(steepness * v.detach().numpy()), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", SURROGATE_KINDS)
def test_backward_in_float32_and_shapes(kind):
    v = torch.linspace(-1, 1, 12).reshape(3, 4).requires_grad_(True)
    spike(v, kind, 5.0).sum().backward()
    assert v.grad.shape == v.shape and v.grad.dtype == torch.float32
    torch.testing.assert_close(v.grad, surrogate_derivative(v.detach(), kind, 5.0))


# ------------------------------------------------------------------------------------------- peak and area
@pytest.mark.parametrize("steepness", STEEPNESS)
@pytest.mark.parametrize("kind", SURROGATE_KINDS)
def test_peak_is_one_at_zero(kind, steepness):
    v = torch.arange(-100_000, 100_001, dtype=torch.float64) * (5e-5 / steepness)  # contains v = 0 exactly
    d = surrogate_derivative(v, kind, steepness)
    assert float(surrogate_derivative(torch.zeros(1, dtype=torch.float64), kind, steepness)) == 1.0
    assert float(d.max()) == 1.0
    assert float(v[d.argmax()]) == 0.0
    assert surrogate_peak(kind, steepness) == 1.0
    assert bool((d >= 0).all())
    # even in v
    torch.testing.assert_close(d, d.flip(0), rtol=1e-12, atol=0)


@pytest.mark.parametrize("steepness", STEEPNESS)
@pytest.mark.parametrize("kind", SURROGATE_KINDS)
def test_area_matches_surrogate_area_and_docstring(kind, steepness):
    """Trapezoid over |x| = steepness |v| up to 1e7 (fine grid near 0, logarithmic beyond).

    The slowest tails (fast sigmoid, arctan) decay like 1/x^2, so the truncated tail beyond X is 2/X = 2e-7
    of x-units; the trapezoid error on these grids is below 1e-6 relative (checked against the closed forms).
    """
    x = torch.cat([torch.linspace(0.0, 20.0, 400_001, dtype=torch.float64),
                   torch.logspace(math.log10(20.0), 7.0, 400_001, dtype=torch.float64)[1:]])
    v = x / steepness
    half = torch.trapezoid(surrogate_derivative(v, kind, steepness), v)
    area = 2.0 * float(half)
    _, area_times_steepness = FORMULAS[kind]
    assert surrogate_area(kind, steepness) == pytest.approx(area_times_steepness / steepness, rel=1e-12)
    assert area == pytest.approx(surrogate_area(kind, steepness), rel=2e-6)


def test_peak_and_unit_area_normalisations_differ_by_orders_of_magnitude():
    # COURSE.md: a steepness of 100 with peak normalisation gives area 0.02 (fast sigmoid)
    assert surrogate_area("fast_sigmoid", 100.0) == pytest.approx(0.02)
    assert min(1.0 / surrogate_area(kind, 100.0) for kind in SURROGATE_KINDS) >= 25


# ------------------------------------------------------------------------------------- second derivative
@pytest.mark.parametrize("kind", SURROGATE_KINDS)
def test_second_derivative_exists_and_matches_finite_differences(kind):
    steepness = 3.0
    # points away from the kinks (v = 0 for |v| kinds, |v| = 1/steepness for the triangle)
    v = torch.tensor([-0.9, -0.5, -0.21, 0.13, 0.29, 0.6, 1.1], dtype=torch.float64) / steepness * 1.7
    v = v.requires_grad_(True)

    def first_derivative(u):
        (g,) = torch.autograd.grad(spike(u, kind, steepness).sum(), u, create_graph=True)
        return g

    g = first_derivative(v)
    assert g.requires_grad, "the surrogate backward must itself be differentiable (create_graph=True)"
    (g2,) = torch.autograd.grad(g.sum(), v)
    assert bool(torch.isfinite(g2).all())
    h = 1e-6
    fd = (surrogate_derivative(v.detach() + h, kind, steepness) - surrogate_derivative(v.detach() - h, kind, steepness)) / (2 * h)
    torch.testing.assert_close(g2, fd, rtol=1e-6, atol=1e-8)
    assert torch.autograd.gradcheck(first_derivative, (v,), eps=1e-6, atol=1e-6)


def test_second_derivative_is_nonzero_for_smooth_kinds():
    v = torch.tensor([0.05], dtype=torch.float64, requires_grad=True)
    for kind in ("sigmoid", "arctan", "gaussian", "fast_sigmoid"):
        (g,) = torch.autograd.grad(spike(v, kind, 10.0).sum(), v, create_graph=True)
        (g2,) = torch.autograd.grad(g.sum(), v)
        assert float(g2) < 0, f"{kind}: sigma'' should be negative for v > 0"


# --------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [
    lambda **kw: spike(torch.zeros(3), **kw),
    lambda **kw: surrogate_derivative(torch.zeros(3), **kw),
    lambda **kw: surrogate_area(**kw),
])
def test_unknown_kind_names_argument_and_value(fn):
    with pytest.raises(ValueError, match=r"kind.*'tanh'"):
        fn(kind="tanh", steepness=10.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, -1e-9, float("nan"), float("inf")])
@pytest.mark.parametrize("fn", [
    lambda **kw: spike(torch.zeros(3), **kw),
    lambda **kw: surrogate_derivative(torch.zeros(3), **kw),
    lambda **kw: surrogate_area(**kw),
])
def test_nonpositive_steepness_names_argument_and_value(fn, bad):
    with pytest.raises(ValueError, match=rf"steepness.*{bad!r}"):
        fn(kind="sigmoid", steepness=bad)


@pytest.mark.parametrize("bad", ["10", None, True, [10.0]])
def test_non_numeric_steepness_is_a_type_error(bad):
    with pytest.raises(TypeError, match="steepness"):
        spike(torch.zeros(3), "sigmoid", bad)


@pytest.mark.parametrize("bad", [0.5, [0.5, -0.5], np.array([0.5]), torch.tensor([1, 0])])
def test_non_float_tensor_input_is_a_type_error(bad):
    with pytest.raises(TypeError, match=r"\bv\b.*(floating|tensor)"):
        spike(bad, "fast_sigmoid", 10.0)
