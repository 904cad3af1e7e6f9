"""The models' structured tangent map (eqs. 2.3-2.6 of helpers.models) against autograd of ``step``.

COURSE.md 4.3: ``tangent(h, x, Q)`` must equal ``J(h, x) @ Q`` with J the derivative that autograd of ``step``
gives (surrogate derivative for the spike, the reset treated as ``step`` treats it). Everything here is
float64 and the comparison is exact algebra (the two paths compute the same sums in a different order), so
the tolerance is 1e-8 absolute on entries of order 1 (rounding is ~1e-15; 1e-8 is the brief's bound and
leaves seven orders of margin while still catching any missing term, which would be of order 1e-3 or more).
"""

from __future__ import annotations

import itertools

import pytest
import torch

from helpers.models import MultiLayerSNN, RecurrentSNN
from helpers.neurons import LIFParams
from helpers.surrogate import SURROGATE_KINDS

TOL = 1e-8
DT = torch.float64


def autograd_jacobian(model, h, x):
    """Per-sample Jacobian d step(h, x)_b / d h_b, (batch, state_dim, state_dim), by reverse-mode autograd.

    ``step`` treats the samples of a batch independently, so the per-sample Jacobians are the diagonal
    blocks of the Jacobian of the batched map.
    """
    full = torch.autograd.functional.jacobian(lambda hh: model.step(hh, x), h)  # (B, n, B, n)
    idx = torch.arange(h.shape[0])
    return full[idx, :, idx, :]


def random_state(model, batch, generator):
    """Random states whose membranes straddle the threshold: about a third of the neurons spike.

    Membranes uniform in [threshold - 1.5, threshold + 0.7] and synaptic currents N(0, 1); membranes
    are kept at least 1e-3 away from the threshold so that the spike decision is unambiguous.
    """
    h = torch.randn(batch, model.state_dim, generator=generator, dtype=DT)
    theta = model.params.threshold
    for syn, mem in model.split_state(h):
        u = theta - 1.5 + 2.2 * torch.rand(mem.shape, generator=generator, dtype=DT)
        u = torch.where((u - theta).abs() < 1e-3, u + 2e-3, u)
        mem.copy_(u)
    return h


def check_model(model, batch=3, m=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = random_state(model, batch, g)
    x = (torch.rand(batch, model.n_in, generator=g, dtype=DT) < 0.3).to(DT)
    spiking = torch.cat([mem > model.params.threshold for _, mem in model.split_state(h)], dim=-1)
    assert spiking.any() and (~spiking).any(), "the test states must contain spiking and silent neurons"
    jac = autograd_jacobian(model, h, x)
    assert torch.isfinite(jac).all()

    # Q with a batch dimension: each sample its own basis.
    q = torch.randn(batch, model.state_dim, m, generator=g, dtype=DT)
    got = model.tangent(h, x, q)
    assert got.shape == (batch, model.state_dim, m)
    assert (got - jac @ q).abs().max().item() <= TOL

    # Q without a batch dimension: shared by every sample.
    q2 = torch.randn(model.state_dim, m, generator=g, dtype=DT)
    got2 = model.tangent(h, x, q2)
    assert got2.shape == (batch, model.state_dim, m)
    assert (got2 - jac @ q2).abs().max().item() <= TOL

    # The full Jacobian from the tangent of the identity.
    eye = torch.eye(model.state_dim, dtype=DT)
    assert (model.tangent(h, x, eye) - jac).abs().max().item() <= TOL
    return jac, h


RESETS = ("zero", "subtract")
DETACH = (True, False)


@pytest.mark.parametrize("kind", SURROGATE_KINDS)
@pytest.mark.parametrize("reset,detach", list(itertools.product(RESETS, DETACH)))
def test_recurrent_snn_tangent_matches_autograd(kind, reset, detach):
    # steepness 3 keeps the surrogate derivative non-negligible over the whole range of membranes
    # (triangle's support is |v| < 1/3), so every term of eqs. 2.3-2.6 is exercised.
    params = LIFParams(reset=reset, detach_reset=detach, surrogate=kind, steepness=3.0)
    g = torch.Generator().manual_seed(1)
    model = RecurrentSNN(4, 6, 2, params=params, gain=1.5, generator=g, dtype=DT)
    check_model(model)


LAYOUTS = [
    ((5, 4), (True, False)),
    ((5, 4), (False, True)),
    ((4, 5, 3), (True, False, True)),
    ((3, 4, 5), (False, True, False)),
]


@pytest.mark.parametrize("kind", SURROGATE_KINDS)
@pytest.mark.parametrize("reset,detach", list(itertools.product(RESETS, DETACH)))
@pytest.mark.parametrize("hidden,recurrent", LAYOUTS)
def test_multilayer_snn_tangent_matches_autograd(hidden, recurrent, kind, reset, detach):
    params = LIFParams(reset=reset, detach_reset=detach, surrogate=kind, steepness=3.0)
    g = torch.Generator().manual_seed(2)
    model = MultiLayerSNN(3, hidden, 2, params=params, recurrent=recurrent, gain=1.5, input_gain=2.0,
                          bias=True, generator=g, dtype=DT)
    with torch.no_grad():
        for b in model.biases:
            b.normal_(0.0, 0.3, generator=g)
    check_model(model)


def test_zero_reset_detached_annihilates_spiking_rows():
    """COURSE.md 5: with the zero reset and a detached reset, the membrane row of J is exactly zero for a
    neuron that spikes (exact zero, not small); with an attached reset or the subtract reset it is not."""
    g = torch.Generator().manual_seed(3)
    for reset, detach, expect_zero in (("zero", True, True), ("zero", False, False), ("subtract", True, False)):
        params = LIFParams(reset=reset, detach_reset=detach, steepness=3.0)
        model = RecurrentSNN(4, 6, 2, params=params, gain=1.5, generator=g, dtype=DT)
        jac, h = check_model(model, seed=4)
        n = model.hidden[0]
        mem = h[:, n:]
        mem_rows = jac[:, n:, :]
        for b in range(h.shape[0]):
            for i in range(n):
                row_is_zero = bool((mem_rows[b, i] == 0).all())
                if mem[b, i] > params.threshold:
                    assert row_is_zero == expect_zero, (reset, detach)
                else:
                    assert not row_is_zero


def test_tangent_does_not_depend_on_x_and_is_linear_in_q():
    g = torch.Generator().manual_seed(5)
    model = RecurrentSNN(4, 6, 2, params=LIFParams(reset="subtract"), generator=g, dtype=DT)
    h = random_state(model, 2, g)
    q1 = torch.randn(2, model.state_dim, 3, generator=g, dtype=DT)
    q2 = torch.randn(2, model.state_dim, 3, generator=g, dtype=DT)
    x1 = torch.zeros(2, 4, dtype=DT)
    x2 = torch.ones(2, 4, dtype=DT)
    assert torch.equal(model.tangent(h, x1, q1), model.tangent(h, x2, q1))
    lin = model.tangent(h, x1, 2.0 * q1 - q2) - (2.0 * model.tangent(h, x1, q1) - model.tangent(h, x1, q2))
    assert lin.abs().max().item() <= TOL
