"""Tests of helpers.gradients: the BPTT signal is a product of transposed Jacobians (eq. 4.1), the long-term
Jacobian is their product, and the slope of its log norm is a rate (log beta for a silent LIF population)."""

import math

import numpy as np
import pytest
import torch
from torch.autograd.functional import jacobian

from helpers.config import seed_generator
from helpers.gradients import (
    bptt_signal,
    condition_number,
    log_slope,
    long_term_jacobian,
    singular_values,
    state_gradient_norms,
)
from helpers.inputs import poisson_spikes
from helpers.models import MultiLayerSNN, RecurrentSNN
from helpers.neurons import LIFParams
from helpers.systems import LinearMap, RandomTanhNetwork

DTYPE = torch.float64


def tiny_snn(reset="zero", detach=True, seed=0, n_hidden=4, n_in=3):
    params = LIFParams(reset=reset, detach_reset=detach, steepness=3.0)
    return RecurrentSNN(n_in, n_hidden, 2, params=params, gain=2.0, input_gain=3.0,
                        generator=seed_generator(seed), dtype=DTYPE)


def tiny_input(batch, n_steps, n_in=3, seed=1):
    return poisson_spikes(batch, n_steps, n_in, 0.3, generator=seed_generator(seed), dtype=DTYPE)


def trajectory(system, x, h0=None):
    h = system.initial_state(x.shape[0]) if h0 is None else h0
    states = [h]
    with torch.no_grad():
        for t in range(x.shape[1]):
            h = system.step(h, x[:, t])
            states.append(h)
    return states


def autograd_jacobians(system, x, states):
    """J_t = d h_{t+1} / d h_t of sample 0 for every step, by torch.autograd.functional.jacobian."""
    return [jacobian(lambda h, t=t: system.step(h, x[:1, t]), states[t][:1])[0, :, 0]
            for t in range(x.shape[1])]


@pytest.mark.parametrize("reset,detach", [("zero", True), ("zero", False), ("subtract", True), ("subtract", False)])
def test_state_gradient_norms_is_product_of_transposed_jacobians(reset, detach):
    net = tiny_snn(reset, detach)
    x = tiny_input(1, 25)
    states = trajectory(net, x)
    with torch.no_grad():
        assert sum(float(s.sum()) for s in net(x).spikes) > 0, "the test needs spikes"
    jacs = autograd_jacobians(net, x, states)
    error = torch.randn(1, net.state_dim, generator=seed_generator(2), dtype=DTYPE)
    norms = state_gradient_norms(net, x, error=error)
    g = error[0]
    expected = [g.norm()]
    for jac in reversed(jacs):  # eq. (4.1): g_t = J_t^T g_{t+1}
        g = jac.T @ g
        expected.append(g.norm())
    expected = torch.stack(expected[::-1])
    assert norms.shape == (1, x.shape[1] + 1)
    torch.testing.assert_close(norms[0], expected, rtol=1e-10, atol=1e-14)


def test_state_gradient_norms_tanh_network_batch():
    system = RandomTanhNetwork(5, g=1.5, generator=seed_generator(3))
    n_steps = 12
    h0 = torch.randn(2, 5, generator=seed_generator(4), dtype=DTYPE)
    error = torch.randn(2, 5, generator=seed_generator(5), dtype=DTYPE)
    norms = state_gradient_norms(system, n_steps, h0=h0, error=error)
    assert norms.shape == (2, n_steps + 1)
    for b in range(2):
        states = [h0[b : b + 1]]
        for _ in range(n_steps):
            states.append(system.step(states[-1]).detach())
        g = error[b]
        for t in reversed(range(n_steps)):
            jac = jacobian(lambda h: system.step(h), states[t])[0, :, 0]
            g = jac.T @ g
            assert float(norms[b, t]) == pytest.approx(float(g.norm()), rel=1e-10)


def test_state_gradient_norms_linear_map():
    a = torch.tensor([[0.9, 0.5, 0.0], [-0.2, 0.7, 0.3], [0.1, 0.0, 0.6]], dtype=DTYPE)
    system = LinearMap(a)
    n_steps = 30
    error = torch.tensor([[0.6, 0.0, -0.8]], dtype=DTYPE)
    norms = state_gradient_norms(system, n_steps, error=error)
    for t in range(n_steps + 1):
        expected = torch.linalg.matrix_power(a.T, n_steps - t) @ error[0]  # ||(A^T)^(T-t) e||
        assert float(norms[0, t]) == pytest.approx(float(expected.norm()), rel=1e-10)
    # default error: a random unit vector per sample, so the lag-0 norm is 1
    norms = state_gradient_norms(system, n_steps, h0=torch.ones(3, 3, dtype=DTYPE), generator=seed_generator(0))
    torch.testing.assert_close(norms[:, -1], torch.ones(3, dtype=DTYPE))


@pytest.mark.parametrize("tau_mem,tau_syn", [(10e-3, 5e-3), (10e-3, 20e-3)])
def test_silent_lif_population_slope_is_log_of_slower_decay(tau_mem, tau_syn):
    """No input, no recurrence: J = [[alpha, 0], [1, beta]] per neuron; the slower mode dominates."""
    params = LIFParams(tau_mem=tau_mem, tau_syn=tau_syn)
    net = MultiLayerSNN(2, (16,), 1, params=params, recurrent=False, generator=seed_generator(0), dtype=DTYPE)
    n_steps = 200
    x = torch.zeros(3, n_steps, 2, dtype=DTYPE)
    norms = state_gradient_norms(net, x, generator=seed_generator(1))
    assert float(net(x).spikes[0].sum()) == 0.0
    slope = log_slope(norms, fit_range=(100, 200))
    expected = math.log(max(params.alpha, params.beta))
    assert slope == pytest.approx(expected, abs=1e-3)
    if tau_syn < tau_mem:
        assert slope == pytest.approx(-0.1, abs=1e-3)  # 10/5/1 ms: log beta = -0.1 per step


def test_long_term_jacobian_is_product_of_autograd_jacobians():
    net = tiny_snn("subtract", False, seed=3)
    x = tiny_input(2, 20, seed=4)
    states = trajectory(net, x)
    start, stop = 5, 17
    ltj = long_term_jacobian(net, x, start=start, stop=stop)
    assert ltj.shape == (2, net.state_dim, net.state_dim)
    product = torch.eye(net.state_dim, dtype=DTYPE)
    for jac in autograd_jacobians(net, x, states)[start:stop]:
        product = jac @ product
    torch.testing.assert_close(ltj[0], product, rtol=1e-10, atol=1e-12)
    # the whole sequence by default, and a linear map gives A^T
    a = torch.tensor([[0.5, 1.0], [0.0, -1.2]], dtype=DTYPE)
    torch.testing.assert_close(long_term_jacobian(LinearMap(a), 6)[0], torch.linalg.matrix_power(a, 6))


def test_singular_values_and_condition_number_of_known_matrix():
    q1, _ = torch.linalg.qr(torch.randn(3, 3, generator=seed_generator(0), dtype=DTYPE))
    q2, _ = torch.linalg.qr(torch.randn(3, 3, generator=seed_generator(1), dtype=DTYPE))
    m = q1 @ torch.diag(torch.tensor([0.5, 4.0, 2.0], dtype=DTYPE)) @ q2.T
    torch.testing.assert_close(singular_values(m), torch.tensor([4.0, 2.0, 0.5], dtype=DTYPE))
    assert float(condition_number(m)) == pytest.approx(8.0)
    assert float(condition_number(m, k=2)) == pytest.approx(2.0)
    batch = torch.stack([m, 3 * m])
    torch.testing.assert_close(condition_number(batch), torch.tensor([8.0, 8.0], dtype=DTYPE))
    with pytest.raises(ValueError, match="k"):
        condition_number(m, k=4)


def test_log_slope_recovers_rate_of_exact_exponentials():
    n_steps = 80
    lags = np.arange(n_steps, -1, -1)  # entry t has lag T - t
    for rate in (-0.1, -0.0371, 0.05):
        assert log_slope(2.5 * np.exp(rate * lags)) == pytest.approx(rate, abs=1e-10)
    # a batch is averaged in the log domain; a torch tensor works too
    norms = torch.tensor(np.stack([np.exp(-0.07 * lags), 10.0 * np.exp(-0.03 * lags)]))
    assert log_slope(norms) == pytest.approx(-0.05, abs=1e-10)
    # only the fit range counts: a transient at short lags is ignored
    bent = np.where(lags < 10, np.exp(0.3 * lags), np.exp(0.3 * 10 - 0.08 * (lags - 10)))
    assert log_slope(bent, fit_range=(10, n_steps)) == pytest.approx(-0.08, abs=1e-10)
    # explicit lags; zero norms are left out of the fit
    with_zero = np.exp(-0.2 * np.arange(5.0))
    with_zero[2] = 0.0
    assert log_slope(with_zero, lags=np.arange(5)) == pytest.approx(-0.2, abs=1e-10)


def test_bptt_signal_matches_autograd_on_recorded_states():
    net = tiny_snn("zero", True, seed=5, n_hidden=6)
    x = tiny_input(3, 30, seed=6)
    target = torch.tensor([0, 1, 1])

    def loss_fn(out):
        return torch.nn.functional.cross_entropy(out.output[:, -1], target)

    signal = bptt_signal(net, x, loss_fn)
    assert signal.shape == (3, 31)
    h0 = net.initial_state(3).requires_grad_(True)
    out = net(x, h0=h0, return_states=True)
    grads = torch.autograd.grad(loss_fn(out), out.states, allow_unused=True)
    # the readout at the last step reads S[T-1], computed from h_{T-1}: the last state h_T gets no gradient
    assert grads[-1] is None
    expected = torch.stack([torch.zeros(3, dtype=DTYPE) if g is None else g.norm(dim=-1) for g in grads], 1)
    torch.testing.assert_close(signal, expected)
    assert float(signal[:, -1].abs().max()) == 0.0
    assert bool((signal[:, -2] > 0).all())


def test_bad_inputs_raise_clear_errors():
    net = tiny_snn()
    x = tiny_input(1, 10)
    with pytest.raises(ValueError, match="start"):
        long_term_jacobian(net, x, start=10)
    with pytest.raises(ValueError, match="start"):
        long_term_jacobian(net, x, start=-1)
    with pytest.raises(ValueError, match="stop"):
        long_term_jacobian(net, x, start=4, stop=4)
    with pytest.raises(ValueError, match="stop"):
        long_term_jacobian(net, x, start=0, stop=11)
    with pytest.raises(ValueError, match="inputs"):
        long_term_jacobian(net, x[0], start=0)
    norms = np.exp(-0.1 * np.arange(20.0))[::-1]
    with pytest.raises(ValueError, match="fit_range"):
        log_slope(norms, fit_range=(5, 5))
    with pytest.raises(ValueError, match="fit_range"):
        log_slope(norms, fit_range=(50, 60))
    with pytest.raises(ValueError, match="lags"):
        log_slope(norms, lags=np.arange(5))
