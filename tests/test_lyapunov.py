"""Validation of helpers.lyapunov (the QR method, eq. 5.1) and helpers.systems against known answers.

Every tolerance is justified next to it. Three kinds occur:
- exact algebra (sum rule, reorth_every, transient bookkeeping): only rounding separates the two sides,
  so the tolerance is a small multiple of float64 rounding accumulated over the steps (1e-9 .. 1e-12);
- a deterministic finite-T error: for a constant (or eventually constant) map the QR estimate differs from
  the limit by (log of the initial basis' overlap with the Oseledets subspaces + log of the eigenvector
  conditioning) / T, i.e. O(1/T); the tolerance is C/T with C stated;
- a statistical error: standard errors from theory (Gaussian products) or from the spread over independent
  trajectories (Henon, tanh network), and the test allows 4 standard errors.
"""

from __future__ import annotations

import math

import pytest
import torch

from helpers.inputs import poisson_spikes
from helpers.lyapunov import default_floor, floored_qr, lyapunov_spectrum, random_basis
from helpers.models import MultiLayerSNN, RecurrentSNN
from helpers.neurons import LIFParams
from helpers.systems import (
    HenonMap,
    LinearMap,
    RandomMatrixProduct,
    RandomTanhNetwork,
    RateNetwork,
    tanh_mean_field_lambda1,
)

DT = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


def dense_jacobians(system, inputs, h0=None):
    """The Jacobians J_t (batch, n, n) along the trajectory, from the tangent of the identity."""
    n_steps = inputs if isinstance(inputs, int) else inputs.shape[1]
    batch = (1 if h0 is None else h0.shape[0]) if isinstance(inputs, int) else inputs.shape[0]
    h = system.initial_state(batch) if h0 is None else h0
    eye = torch.eye(system.state_dim, dtype=h.dtype)
    out = []
    with torch.no_grad():
        for t in range(n_steps):
            x = None if isinstance(inputs, int) else inputs[:, t]
            out.append(system.tangent(h, x, eye))
            h = system.step(h, x)
    return out


def small_snn(reset="subtract", detach=True, n_hidden=6, gain=1.5, seed=0, steepness=3.0, dtype=DT):
    params = LIFParams(reset=reset, detach_reset=detach, steepness=steepness)
    return RecurrentSNN(5, n_hidden, 2, params=params, gain=gain, input_gain=3.0, generator=gen(seed), dtype=dtype)


# ----------------------------------------------------------------------------------------------- known answers
def test_constant_linear_map_gives_log_abs_eigenvalues_with_1_over_T_error():
    # A non-normal A = S diag(mu) S^-1 with |mu| = 1.5, 1.0, 0.6, 0.3: the exponents are log|mu|, not the
    # log singular values of A (which differ by O(1) here).
    mu = torch.tensor([1.5, -1.0, 0.6, 0.3], dtype=DT)
    s = torch.eye(4, dtype=DT) + 0.8 * torch.randn(4, 4, generator=gen(0), dtype=DT)
    a = s @ torch.diag(mu) @ torch.linalg.inv(s)
    system = LinearMap(a)
    exact = system.exact_exponents()
    assert torch.allclose(exact, torch.log(mu.abs()).sort(descending=True).values)
    log_sv = torch.log(torch.linalg.svdvals(a))
    assert (log_sv - exact).abs().max() > 0.1  # the distinction matters for this A
    errors = {}
    for n_steps in (100, 1000):
        res = lyapunov_spectrum(system, n_steps, 4, generator=gen(1))
        errors[n_steps] = (res.exponents[0] - exact).abs().max().item()
        # Finite-T error = O(1)/T: the O(1) constant is |log overlap of q0 with the eigenvectors| +
        # log cond(S) (here cond(S) ~ 10, overlap ~ 0.1), so C = 10 is a generous bound.
        assert errors[n_steps] <= 10.0 / n_steps
    # ... and the error does shrink with T (1/T: ten times the steps, about a tenth of the error).
    assert errors[1000] < 0.2 * errors[100]


@pytest.mark.parametrize("name", ["henon", "tanh", "snn_subtract"])
def test_sum_rule_full_spectrum_equals_mean_log_abs_det(name):
    """k = state_dim: sum_i lambda_i = (1/T) sum_t log|det J_t| (exact algebra: |det R_t| = |det J_t| since
    J_t Q_t = Q_{t+1} R_t with Q orthogonal). Only rounding separates the sides: tolerance 1e-9."""
    if name == "henon":
        system, inputs, h0 = HenonMap(), 500, torch.tensor([[0.1, 0.1], [0.3, -0.1]], dtype=DT)
    elif name == "tanh":
        system, inputs, h0 = RandomTanhNetwork(8, 2.0, generator=gen(2)), 300, None
    else:
        system = small_snn(reset="subtract", detach=True)
        inputs, h0 = poisson_spikes(2, 300, 5, 0.2, generator=gen(3), dtype=DT), None
    n = system.state_dim
    res = lyapunov_spectrum(system, inputs, n, h0=h0, generator=gen(4))
    jacs = dense_jacobians(system, inputs, h0)
    mean_logdet = torch.stack([torch.linalg.slogdet(j).logabsdet for j in jacs], 1).mean(1)
    assert torch.isfinite(mean_logdet).all()
    assert (res.exponents.sum(-1) - mean_logdet).abs().max().item() <= 1e-9
    if name == "henon":  # det J = -b at every point: the sum is log b exactly
        assert (res.exponents.sum(-1) - math.log(0.3)).abs().max().item() <= 1e-12


def test_gaussian_matrix_products_match_digamma_formula():
    """Newman (1986): lambda_i = (log(2 s^2) + psi((N-i+1)/2)) / 2 exactly at finite N. Each step's
    log|R_ii| is independent (rotation invariance), with variance psi'((N-i+1)/2)/4, hence the standard
    error of the mean over batch * T steps; allow 4 standard errors per exponent."""
    n, s, batch, n_steps = 5, 0.7, 4, 1500
    system = RandomMatrixProduct(n, s)
    inputs = system.sample(batch, n_steps, generator=gen(5))
    res = lyapunov_spectrum(system, inputs, n, generator=gen(6))
    estimate = res.exponents.mean(0)
    se = system.standard_errors(n_steps * batch)
    z = (estimate - system.exact_exponents()) / se
    assert z.abs().max().item() < 4.0, z


def test_henon_map():
    """lambda_1 = 0.41922 (Henon a = 1.4, b = 0.3; e.g. Sprott 2003). 16 trajectories from nearby points,
    200 transient steps then 2500 averaged each: the spread over trajectories gives the standard error;
    allow 4 of them plus 5e-4 for the reference value's last digit and residual correlations.
    lambda_1 + lambda_2 = log 0.3 exactly (|det J| = b everywhere)."""
    batch = 16
    h0 = torch.tensor([0.1, 0.1], dtype=DT) + 0.05 * torch.rand(batch, 2, generator=gen(7), dtype=DT)
    res = lyapunov_spectrum(HenonMap(), 2700, 2, h0=h0, transient=200, generator=gen(8))
    lam1 = res.exponents[:, 0]
    se = lam1.std() / math.sqrt(batch)
    assert abs(lam1.mean().item() - 0.41922) < 4 * se.item() + 5e-4, (lam1.mean(), se)
    assert (res.exponents.sum(-1) - math.log(0.3)).abs().max().item() < 1e-12


def test_random_tanh_network_below_one_is_log_spectral_radius():
    """g < 1: the state decays to the fixed point 0 where J = W, so lambda_1 = log rho(W). After the
    transient (h ~ 1e-40, tanh' = 1 to rounding) the map is the constant W: error O(1/T) (C = 5 bound)."""
    system = RandomTanhNetwork(60, 0.6, generator=gen(9))
    res = lyapunov_spectrum(system, 1200, 1, transient=200, generator=gen(10))
    rho = torch.linalg.eigvals(system.weight.detach()).abs().max()
    assert abs(res.exponents[0, 0].item() - math.log(rho.item())) < 5.0 / 1000


def test_mean_field_values():
    # COURSE.md 5 quotes 0.155, 0.310 and (about) 0.52-0.53 for g = 2, 3, 5.
    assert tanh_mean_field_lambda1(2.0) == pytest.approx(0.155, abs=2e-3)
    assert tanh_mean_field_lambda1(3.0) == pytest.approx(0.310, abs=2e-3)
    assert tanh_mean_field_lambda1(5.0) == pytest.approx(0.532, abs=3e-3)


@pytest.mark.parametrize("g", [2.0, 3.0, 5.0])
def test_random_tanh_network_above_one_matches_mean_field(g):
    """g > 1: lambda_1 = 0.5 log(g^2 <phi'^2>) in the large-N limit (Sompolinsky et al. 1988; the discrete map:
    Molgedey, Schuchhardt & Schuster 1992). Finite N biases it down: measured over 6 networks of N = 400 at
    T = 4000 (4 trajectories each), -1.6% to -4.9% (mean -2.1% to -2.9% for g = 2, 3, 5). The spread over the
    4 trajectories of one network at T = 1000 averaged steps is about 1% of lambda_1, so the standard error of
    their mean is about 0.5%. Tolerance: from -8% (largest bias seen, 5%, plus 4 standard errors and margin)
    to +3% (4 standard errors and margin: finite N does not push it up)."""
    system = RandomTanhNetwork(400, g, generator=gen(11))
    h0 = torch.randn(4, 400, generator=gen(12), dtype=DT)
    res = lyapunov_spectrum(system, 1100, 1, h0=h0, transient=100, generator=gen(13))
    mf = tanh_mean_field_lambda1(g)
    rel = (res.exponents[:, 0].mean().item() - mf) / mf
    assert -0.08 < rel < 0.03, rel


def test_silent_lif_population_exponents_are_log_alpha_and_log_beta():
    """Without input and without recurrent weights the membranes stay at 0 < threshold, and J is the
    constant [[alpha I, 0], [I, beta I]]: exponents log(beta) = -0.1 (N times) and log(alpha) = -0.2 (N times)
    per step for tau_mem 10 ms, tau_syn 5 ms, dt 1 ms. J is constant but not normal: O(1/T) error, C = 5."""
    n = 4
    model = RecurrentSNN(3, n, 2, gain=0.0, generator=gen(14), dtype=DT)
    assert model.params.alpha == pytest.approx(math.exp(-0.2))
    n_steps = 800
    inputs = torch.zeros(2, n_steps, 3, dtype=DT)
    res = lyapunov_spectrum(model, inputs, 2 * n, generator=gen(15))
    expected = torch.tensor([-0.1] * n + [-0.2] * n, dtype=DT)
    assert (res.exponents - expected).abs().max().item() < 5.0 / n_steps


# ----------------------------------------------------------------------------------------------- bookkeeping
@pytest.mark.parametrize("name", ["tanh", "snn"])
def test_reorth_every_gives_same_exponents(name):
    """QR every r steps: J_r..J_1 Q = Q_r (R_r..R_1) and the diagonal of a product of triangular matrices is
    the product of the diagonals, so the exponents are the same in exact arithmetic. Rounding grows with the
    conditioning of the unnormalised block, ~ eps * exp(r (lambda_1 - lambda_k)) ~ 1e-14 here: tolerance 1e-9."""
    if name == "tanh":
        system, inputs, k = RandomTanhNetwork(30, 3.0, generator=gen(16)), 400, 8
    else:
        system, k = small_snn(reset="subtract"), 8
        inputs = poisson_spikes(2, 400, 5, 0.2, generator=gen(17), dtype=DT)
    q0 = random_basis(system.state_dim, k, generator=gen(18))
    ref = lyapunov_spectrum(system, inputs, k, q0=q0, transient=13)
    for r in (2, 5, 7):
        res = lyapunov_spectrum(system, inputs, k, q0=q0, transient=13, reorth_every=r)
        assert (res.exponents - ref.exponents).abs().max().item() < 1e-9, r


def test_transient_is_discarded_and_basis_carried_over():
    """Averaging after a transient T0 is exactly: run T0 steps, keep the state and the (re-orthonormalised)
    basis, then average over the remaining T - T0 steps from there."""
    system = small_snn(reset="subtract", gain=2.0)
    inputs = poisson_spikes(2, 120, 5, 0.2, generator=gen(19), dtype=DT)
    q0 = random_basis(system.state_dim, 5, generator=gen(20))
    for r in (1, 3):
        full = lyapunov_spectrum(system, inputs, 5, q0=q0, transient=31, reorth_every=r)
        assert full.n_steps == 120 - 31
        head = lyapunov_spectrum(system, inputs[:, :31], 5, q0=q0, reorth_every=r)
        tail = lyapunov_spectrum(system, inputs[:, 31:], 5, h0=head.final_state, q0=head.basis, reorth_every=r)
        assert (full.exponents - tail.exponents).abs().max().item() < 1e-12
        assert torch.allclose(full.final_state, tail.final_state, atol=1e-12)
    # and the transient does change the estimate (it is really discarded)
    none = lyapunov_spectrum(system, inputs, 5, q0=q0)
    assert none.n_steps == 120 and (none.exponents - full.exponents).abs().max() > 1e-6


def test_return_local_shapes_and_weighted_mean():
    """local is (batch, n_qr, k), log|R_ii| / block length, in column order (unsorted). The mean of the
    local exponents weighted by block length is log_sum / (T - T0): after sorting, the exponents
    (exact algebra, tolerance 1e-12)."""
    system = small_snn(reset="zero", gain=2.0)
    n_steps, transient, r, k = 103, 10, 5, 6
    inputs = poisson_spikes(3, n_steps, 5, 0.2, generator=gen(21), dtype=DT)
    res = lyapunov_spectrum(system, inputs, k, transient=transient, reorth_every=r, return_local=True)
    n_avg = n_steps - transient
    n_qr = math.ceil(n_avg / r)
    assert res.local.shape == (3, n_qr, k)
    lengths = torch.full((n_qr,), float(r), dtype=DT)
    lengths[-1] = n_avg - r * (n_qr - 1)  # the last block is shorter (93 = 18 * 5 + 3)
    weighted = (res.local * lengths[None, :, None]).sum(1) / n_avg
    assert (weighted.sort(-1, descending=True).values - res.exponents).abs().max().item() < 1e-12
    # the exponents are sorted; the columns of local are not necessarily in that order
    assert (res.exponents[:, :-1] >= res.exponents[:, 1:]).all()
    assert lyapunov_spectrum(system, inputs, k).local is None


def test_int_inputs_and_batch_from_h0():
    h0 = torch.tensor([[0.1, 0.1], [0.2, 0.0], [0.0, 0.3]], dtype=DT)
    res = lyapunov_spectrum(HenonMap(), 50, 2, h0=h0)
    assert res.exponents.shape == (3, 2) and res.final_state.shape == (3, 2) and res.basis.shape == (3, 2, 2)
    res = lyapunov_spectrum(HenonMap(), 50, 1)
    assert res.exponents.shape == (1, 1)


# ----------------------------------------------------------------------------------------------- differentiability
class _LeadingExponent(torch.nn.Module):
    """lambda_1 of ``model`` as a module, so that torch.func.functional_call can swap in a weight."""

    def __init__(self, model, inputs, n_steps_transient=5):
        super().__init__()
        self.model, self.inputs, self.transient = model, inputs, n_steps_transient

    def forward(self):
        res = lyapunov_spectrum(self.model, self.inputs, 2, transient=self.transient, generator=gen(0))
        return res.exponents[:, 0]


def test_gradcheck_leading_exponent_tanh_network():
    system = RandomTanhNetwork(4, 2.0, generator=gen(22))
    wrapper = _LeadingExponent(system, 25)
    w = system.weight.detach().clone().requires_grad_(True)
    fn = lambda w: torch.func.functional_call(wrapper, {"model.weight": w}, ())  # noqa: E731
    assert torch.autograd.gradcheck(fn, (w,), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_gradcheck_leading_exponent_snn_recurrent_weight(reset):
    """A sub-threshold SNN (membranes stay below 0.8 < threshold 1): no spike can appear under the
    1e-6 perturbation of gradcheck, so the exponent is a smooth function of V (through V D_t in eq. 2.4),
    and the surrogate gradient equals the true one. (With spikes the two differ by construction: autograd
    sends the surrogate derivative through the trajectory, finite differences see a fixed spike train.)"""
    params = LIFParams(reset=reset, steepness=1.0)
    model = RecurrentSNN(3, 3, 1, params=params, gain=3.0, generator=gen(23), dtype=DT)
    inputs = 0.015 * torch.rand(2, 30, 3, generator=gen(24), dtype=DT)
    with torch.no_grad():
        out = model(inputs)
    assert out.mem[0].abs().max() < 0.8 * params.threshold and out.spikes[0].sum() == 0
    wrapper = _LeadingExponent(model, inputs)
    v = model.w_rec[0].detach().clone().requires_grad_(True)
    fn = lambda v: torch.func.functional_call(wrapper, {"model.w_rec.0": v}, ())  # noqa: E731
    assert torch.autograd.gradcheck(fn, (v,), eps=1e-6, atol=1e-6, rtol=1e-4)
    # the gradient is not trivially zero
    grad = torch.autograd.grad(fn(v).sum(), v)[0]
    assert grad.abs().max() > 1e-4


@pytest.mark.parametrize("shape", [(3, 6, 4), (2, 5, 5), (7, 2)])
def test_floored_qr_backward_equals_torch_on_full_rank(shape):
    """On full-rank inputs the written-out backward (Walter & Lehmann 2018) is PyTorch's own: same formula,
    different operation order; tolerance 1e-10 on O(1) gradients."""
    a = torch.randn(*shape, generator=gen(25), dtype=DT, requires_grad=True)
    gq = torch.randn(*shape, generator=gen(26), dtype=DT)
    gr = torch.randn(*shape[:-2], shape[-1], shape[-1], generator=gen(27), dtype=DT)
    q1, r1 = floored_qr(a)
    q2, r2 = torch.linalg.qr(a, mode="reduced")
    assert torch.allclose(q1, q2) and torch.allclose(r1, r2)
    g1 = torch.autograd.grad((q1 * gq).sum() + (r1 * gr).sum(), a)[0]
    g2 = torch.autograd.grad((q2 * gq).sum() + (r2 * gr).sum(), a)[0]
    assert (g1 - g2).abs().max().item() < 1e-10
    # the log-pivot loss that lyapunov_spectrum uses, alone (grad_q None path)
    g1 = torch.autograd.grad(floored_qr(a)[1].diagonal(dim1=-2, dim2=-1).abs().log().sum(), a)[0]
    g2 = torch.autograd.grad(torch.linalg.qr(a)[1].diagonal(dim1=-2, dim2=-1).abs().log().sum(), a)[0]
    assert (g1 - g2).abs().max().item() < 1e-10
    assert torch.autograd.gradcheck(lambda a: floored_qr(a), (a,))


def test_floored_qr_rank_deficient_is_finite():
    """An exactly zero column (pivot 0) and a column that is a combination of earlier ones (pivot at rounding
    level, ~1e-16, in the middle: later columns must not see 1/R_pp): finite gradients, none into those columns."""
    g = gen(28)
    for dead_col, make in ((1, lambda a: torch.zeros(6)), (2, lambda a: a[:, 0] - 2.0 * a[:, 1])):
        a = torch.randn(6, 4, generator=g, dtype=DT)
        a[:, dead_col] = make(a)
        a.requires_grad_(True)
        q, r = floored_qr(a)
        assert r[dead_col, dead_col].abs() < 1e-12
        weights = torch.randn(6, 4, generator=g, dtype=DT)
        loss = torch.log(r.diagonal().abs().clamp_min(default_floor(DT))).sum() + (q * weights).sum()
        (grad,) = torch.autograd.grad(loss, a)
        assert torch.isfinite(grad).all() and grad.abs().max() < 1e3
        assert (grad[:, dead_col] == 0).all()


# ----------------------------------------------------------------------------------------------- finiteness
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_zero_reset_annihilation_finite_exponents_and_gradients(dtype):
    """Zero reset, detached: each spiking neuron's membrane row of J is zero, so with k = state_dim the
    tangent vectors span a lower-rank space and as many pivots of R as there are spikes are zero, exactly or
    up to rounding (about 1e-16 of the column norms in float64). Exponents stay finite (a zero pivot is
    floored at sqrt(tiny): log floor = -354 in float64, -43.7 in float32) and so does every gradient (the
    exact derivative would divide by the rounding-level pivots; this network gave NaN before the
    rounding-level mask of _FlooredQR)."""
    params = LIFParams(reset="zero", detach_reset=True, steepness=10.0)
    model = RecurrentSNN(100, 32, 2, params=params, gain=2.0, input_gain=0.5, generator=gen(1), dtype=dtype)
    inputs = poisson_spikes(2, 200, 100, 0.05, generator=gen(30), dtype=dtype)
    with torch.no_grad():
        spikes = model(inputs).spikes[0]
    assert spikes.mean() > 0.05
    res = lyapunov_spectrum(model, inputs, model.state_dim, return_local=True)
    assert torch.isfinite(res.exponents).all() and torch.isfinite(res.local).all()
    if dtype == torch.float64:
        # one annihilated direction per spike: at each step exactly as many local exponents below -20 as
        # neurons spiking (annihilated pivots are rounding noise, here at most e^-28 ~ 1e-12; the genuine
        # local exponents of this network are above -12.4: a gap of 8 e-folds on either side of -20).
        assert torch.equal((res.local < -20).sum(-1), spikes.sum(-1).to(torch.int64))
    for loss in (res.exponents.sum(), res.exponents[:, -1].sum(), (res.exponents[:, :4] ** 2).mean()):
        grads = torch.autograd.grad(loss, model.dynamics_parameters(), retain_graph=True)
        assert all(torch.isfinite(g).all() for g in grads)


# ----------------------------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    model = small_snn()
    n = model.state_dim
    x = poisson_spikes(2, 20, 5, 0.2, generator=gen(31), dtype=DT)
    with pytest.raises(ValueError, match="k must be"):
        lyapunov_spectrum(model, x, 0)
    with pytest.raises(ValueError, match="k must be"):
        lyapunov_spectrum(model, x, n + 1)
    with pytest.raises(ValueError, match="reorth_every"):
        lyapunov_spectrum(model, x, 2, reorth_every=0)
    with pytest.raises(ValueError, match="transient"):
        lyapunov_spectrum(model, x, 2, transient=20)
    with pytest.raises(ValueError, match="transient"):
        lyapunov_spectrum(model, x, 2, transient=-1)
    with pytest.raises(ValueError, match="x must have shape"):
        lyapunov_spectrum(model, torch.zeros(2, 20, 4, dtype=DT), 2)  # 4 input channels, the model has 5
    with pytest.raises(ValueError, match="inputs must have 3 dimensions"):
        lyapunov_spectrum(model, torch.zeros(20, 5, dtype=DT), 2)
    with pytest.raises(ValueError, match="h0 has batch size 3"):
        lyapunov_spectrum(model, x, 2, h0=torch.zeros(3, n, dtype=DT))
    with pytest.raises(ValueError, match="h0 must have shape"):
        lyapunov_spectrum(model, x, 2, h0=torch.zeros(2, n + 1, dtype=DT))
    with pytest.raises(ValueError, match="q0 must have shape"):
        lyapunov_spectrum(model, x, 2, q0=torch.zeros(n, 3, dtype=DT))
    with pytest.raises(ValueError, match="x must be a tensor"):
        lyapunov_spectrum(model, 20, 2)  # an SNN needs inputs
    with pytest.raises(TypeError, match="protocol"):
        lyapunov_spectrum(object(), 10, 1)
    with pytest.raises(TypeError, match="inputs must be"):
        lyapunov_spectrum(HenonMap(), 10.0, 1)
    with pytest.raises(TypeError, match="integer"):
        lyapunov_spectrum(HenonMap(), 10, 1.0)
    with pytest.raises(ValueError, match="number of steps"):
        lyapunov_spectrum(HenonMap(), 0, 1)


def test_multilayer_snn_spectrum_runs():
    model = MultiLayerSNN(4, (5, 4), 2, recurrent=(True, False), params=LIFParams(reset="subtract"),
                          generator=gen(32), dtype=DT)
    x = poisson_spikes(2, 60, 4, 0.3, generator=gen(33), dtype=DT)
    res = lyapunov_spectrum(model, x, model.state_dim, transient=10)
    assert res.exponents.shape == (2, 18) and torch.isfinite(res.exponents).all()


def test_rate_network_transition_to_chaos():
    """RateNetwork (dt/tau = 0.5): for g well below 1 lambda_1 < 0, well above 1 lambda_1 > 0."""
    lam = {}
    for g in (0.5, 2.5):
        system = RateNetwork(100, g, dt_over_tau=0.5, generator=gen(34))
        lam[g] = lyapunov_spectrum(system, 600, 1, transient=200, generator=gen(35)).exponents[0, 0].item()
    assert lam[0.5] < -0.1 and lam[2.5] > 0.02, lam
