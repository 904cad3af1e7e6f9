"""The three Gygax & Zenke (2025) checks of notebook 03 (helpers.theory), with tolerances from exact
algebra, Monte Carlo standard errors or quadrature error.

Monte Carlo tolerances: a component is accepted within 5 standard errors. For a Gaussian estimate the
chance of a larger deviation is 5.7e-7 per component, so the whole file's family of tested components
(under 40) fails by chance with probability below 3e-5; the seeds are fixed, so the outcome is deterministic.
"""

from __future__ import annotations

import math

import pytest
import torch

from helpers import theory as th
from helpers.config import seed_generator
from helpers.surrogate import surrogate_area

Z_MAX = 5.0


def _neuron_problem(seed=0):
    gen = seed_generator(seed)
    x = (torch.rand(8, 5, generator=gen, dtype=torch.float64) < 0.5).double()
    w = 0.3 + 0.6 * torch.randn(5, generator=gen, dtype=torch.float64)
    c = torch.where(torch.rand(8, generator=gen) < 0.5, -1.0, 1.0).double()
    return w, x, c, gen


# ------------------------------------------------------------------------------------------------ (a)
@pytest.mark.parametrize("steepness", [1.0, 5.0, 20.0])
def test_matched_scale_is_inverse_sigmoid_area(steepness):
    assert th.matched_scale(steepness) == pytest.approx(steepness / 4.0, rel=1e-15)
    assert th.matched_scale(steepness) == pytest.approx(1.0 / surrogate_area("sigmoid", steepness), rel=1e-15)
    # beta F'(beta v) = (beta / 4) * sigma'_sigmoid(v) pointwise (eq. 3.9)
    v = torch.linspace(-3, 3, 101, dtype=torch.float64).requires_grad_(True)
    (dF,) = torch.autograd.grad(th.escape_probability(v, steepness).sum(), v)
    (dS,) = torch.autograd.grad(th.matched_spike(v, steepness).sum(), v)
    torch.testing.assert_close(dS, dF, rtol=1e-13, atol=1e-15)
    assert torch.equal(th.matched_spike(v.detach(), steepness), (v.detach() > 0).double())


@pytest.mark.parametrize("steepness", [2.0, 5.0])
def test_single_neuron_surrogate_gradient_is_gradient_of_expected_output(steepness):
    w, x, c, gen = _neuron_problem()
    r = th.single_neuron_check(w, x, c, steepness, n_samples=200_000, generator=gen)
    # exact algebra (eq. 3.9): equal to round-off
    torch.testing.assert_close(r.surrogate_matched, r.exact, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(r.surrogate_peak1 * steepness / 4, r.exact, rtol=1e-12, atol=1e-15)
    # independent Monte Carlo (score function), knows nothing about surrogates: within 5 standard errors
    assert bool((r.monte_carlo_stderr > 0).all())
    z = (r.monte_carlo - r.exact).abs() / r.monte_carlo_stderr
    assert float(z.max()) < Z_MAX, f"Monte Carlo off by {float(z.max()):.1f} standard errors"
    # ... and the estimate is precise enough for the test to mean something
    assert float(r.monte_carlo_stderr.max()) < 0.05 * float(r.exact.abs().max())
    # a surrogate of another shape (fast sigmoid) is not the gradient of this expected output
    scale = (r.exact @ r.surrogate_mismatched) / (r.surrogate_mismatched @ r.surrogate_mismatched)
    residual = r.exact - scale * r.surrogate_mismatched  # best rescaling still leaves a difference
    assert float(residual.abs().max()) > 10 * float(r.monte_carlo_stderr.max())


# ------------------------------------------------------------------------------------------------ (b)
def test_enumeration_agrees_with_monte_carlo():
    net = th.random_two_layer_net(n_in=4, n_hidden=6, n_out=3, batch=4, generator=seed_generator(100))
    mean, se = th.monte_carlo_objective_gradient(net, 3.0, 200_000, generator=seed_generator(5))
    exact = th.two_layer_gradients(net, 3.0).exact[0]
    informative = se > 0  # an input that is 0 in every pattern gives an exactly zero column
    assert int(informative.sum()) >= 12
    torch.testing.assert_close(exact[~informative], torch.zeros_like(exact[~informative]), rtol=0, atol=1e-15)
    z = ((mean - exact).abs() / se)[informative]
    assert float(z.max()) < Z_MAX, f"enumeration and Monte Carlo differ by {float(z.max()):.1f} standard errors"


def test_last_layer_equivalence_holds_first_layer_breaks():
    """Conditioned on the hidden spikes the output neuron is a single neuron (check a), so the mean stochastic
    surrogate gradient (3.11) of W2 and b2 is exact; one layer down (W1, b1) it is not."""
    net = th.random_two_layer_net(n_in=4, n_hidden=6, n_out=3, batch=4, generator=seed_generator(101))
    g = th.two_layer_gradients(net, 3.0)
    for i in (2, 3):
        torch.testing.assert_close(g.stochastic_surrogate[i], g.exact[i], rtol=1e-12, atol=1e-15)
    diff = (g.stochastic_surrogate[0] - g.exact[0]).abs().max()
    assert float(diff) > 1e-3 * float(g.exact[0].abs().max())
    # the deterministic surrogate gradient differs from the exact one, but points the same way on the whole
    assert g.cosine("surrogate") < 0.999
    assert g.cosine("surrogate") > 0


@pytest.mark.parametrize("steepness", [5.0, 10.0])
def test_sign_flip(steepness):
    g = th.two_layer_gradients(th.sign_flip_network(), steepness)
    exact, surrogate, stochastic = (float(t[0][0, 0]) for t in (g.exact, g.surrogate, g.stochastic_surrogate))
    # exact enumeration: no statistical tolerance needed, but demand a clear margin
    assert exact < -0.1 and surrogate > 0.1 and stochastic > 0.1


def test_sign_flip_with_monte_carlo():
    """The exact gradient's sign is confirmed by the independent score-function estimate."""
    net = th.sign_flip_network()
    mean, se = th.monte_carlo_objective_gradient(net, 5.0, 200_000, generator=seed_generator(9))
    assert float(mean[0, 0] + Z_MAX * se[0, 0]) < 0
    assert float(th.two_layer_gradients(net, 5.0).surrogate[0][0, 0]) > 0


# ------------------------------------------------------------------------------------------------ (c)
def test_loop_integral_of_surrogate_gradient_is_not_zero():
    net = th.chain_network(w1=1.1, w2=0.9)
    center, steepness = th.plane_point(net), 5.0
    surrogate = th.plane_field(net, steepness, th.deterministic_objective)
    smooth = th.plane_field(net, steepness, th.smooth_objective)
    expected = th.plane_field(net, steepness, th.expected_objective)
    radius = 0.05
    i_32, i_64 = (th.loop_integral(surrogate, center, radius, n) for n in (32, 64))
    quadrature_error = abs(i_32 - i_64)  # the field is smooth on the circle: the trapezoid converges fast
    assert quadrature_error < 1e-10
    assert abs(i_64) > 1e-3
    assert abs(i_64) > 1e6 * quadrature_error
    # true gradients: zero to round-off (terms of size |g| r 2 pi / n ~ 1e-2, 64 of them)
    for field in (smooth, expected):
        assert abs(th.loop_integral(field, center, radius, 64)) < 1e-13
    # Stokes: for a small circle the integral is pi r^2 times the curl at the centre
    small = 0.01
    ratio = th.loop_integral(surrogate, center, small, 32) / (math.pi * small**2 * th.curl_at(surrogate, center))
    assert ratio == pytest.approx(1.0, abs=2e-3)


def test_chain_curl_matches_closed_form():
    """curl = -sigma'_h (sigma'_o + W2 sigma''_o), with the matched (unit-area sigmoid) surrogate."""
    steepness, w1, w2 = 5.0, 1.1, 0.9
    net = th.chain_network(w1=w1, w2=w2)
    curl = th.curl_at(th.plane_field(net, steepness, th.deterministic_objective), th.plane_point(net), h=1e-5)
    v_o = torch.tensor(w2 - 1.0, dtype=torch.float64, requires_grad=True)
    (d_o,) = torch.autograd.grad(th.matched_spike(v_o, steepness), v_o, create_graph=True)
    (dd_o,) = torch.autograd.grad(d_o, v_o)
    v_h = torch.tensor(w1 - 1.0, dtype=torch.float64, requires_grad=True)
    (d_h,) = torch.autograd.grad(th.matched_spike(v_h, steepness), v_h)
    assert curl == pytest.approx(float((-d_h * (d_o + w2 * dd_o)).detach()), rel=1e-6)


# -------------------------------------------------------------------------------------- descent directions
def test_surrogate_gradient_descends_where_true_gradient_is_zero():
    """Deterministic two-layer net: the objective is piecewise constant (a tiny step changes nothing), but a
    finite step along minus the surrogate gradient lowers it."""
    net = th.random_two_layer_net(n_in=6, n_hidden=8, n_out=3, batch=16, generator=seed_generator(4))
    params = [p.detach().clone().requires_grad_(True) for p in net.parameters()]
    hidden = [0, 1]  # W1, b1: their true gradient is zero almost everywhere
    objective = th.deterministic_objective
    grads = torch.autograd.grad(objective(net, params, 3.0), params)
    direction = [grads[i] / th.TwoLayerGradients.flat([grads[j] for j in hidden]).norm() for i in hidden]

    def value_after(eta):
        moved = [p.detach().clone() for p in params]
        for i, d in zip(hidden, direction):
            moved[i] -= eta * d
        with torch.no_grad():
            return float(objective(net, moved, 3.0))

    j0 = value_after(0.0)
    assert value_after(1e-7) == j0
    assert min(value_after(eta) for eta in (0.1, 0.3, 1.0)) < j0
