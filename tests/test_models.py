"""Unit tests of helpers.models: the network update (eqs. 2.1-2.2) against a loop written out here, the
dynamical-system protocol (step, tangent), the fluctuation-driven initialisation and argument checks.

(The exhaustive tangent-versus-autograd checks live in another test file; the ones here are a small sample.)
"""

from __future__ import annotations

import math

import pytest
import torch

from helpers.inputs import poisson_spikes
from helpers.models import MultiLayerSNN, RecurrentSNN, fluctuation_driven_std
from helpers.neurons import LIFParams


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _inputs(batch=2, n_steps=40, n_in=6, rate=0.3, seed=1):
    return poisson_spikes(batch, n_steps, n_in, rate, generator=_gen(seed), dtype=torch.float64)


def reference_forward(model, x):
    """Eqs. (2.1)-(2.2) into (1.1)-(1.4), written out as a loop, with the model's weights.

    All layers update together from the state before the step: layer l at step t sees S_{l-1}[t].
    """
    p = model.params
    alpha, beta = math.exp(-p.dt / p.tau_syn), math.exp(-p.dt / p.tau_mem)
    kappa = math.exp(-p.dt / model.tau_out)
    batch, n_steps, _ = x.shape
    syn = [torch.zeros(batch, n, dtype=x.dtype) for n in model.hidden]
    mem = [torch.zeros(batch, n, dtype=x.dtype) for n in model.hidden]
    y = torch.zeros(batch, model.n_out, dtype=x.dtype)
    rec_spk = [[] for _ in model.hidden]
    rec_mem = [[] for _ in model.hidden]
    outputs = []
    for t in range(n_steps):
        spk = [(m > p.threshold).to(x.dtype) for m in mem]  # (1.1), H(0) = 0
        for layer in range(len(model.hidden)):
            rec_spk[layer].append(spk[layer])
            rec_mem[layer].append(mem[layer])
        new_syn, new_mem = [], []
        for layer in range(len(model.hidden)):
            source = x[:, t] if layer == 0 else spk[layer - 1]
            current = source @ model.w_ff[layer].detach().T  # (2.1) feed-forward part
            if model.recurrent[layer]:
                current = current + spk[layer] @ model.w_rec[layer].detach().T  # (2.1) recurrent part
            current = current + model.biases[layer].detach()
            new_syn.append(alpha * syn[layer] + current)  # (1.2)
            if p.reset == "zero":
                new_mem.append((beta * mem[layer] + syn[layer]) * (1 - spk[layer]))  # (1.3)
            else:
                new_mem.append(beta * mem[layer] + syn[layer] - p.threshold * spk[layer])  # (1.4)
        syn, mem = new_syn, new_mem
        y = kappa * y + spk[-1] @ model.w_out.detach().T + model.b_out.detach()  # (2.2)
        outputs.append(y)
    return (torch.stack(outputs, 1), [torch.stack(s, 1) for s in rec_spk], [torch.stack(m, 1) for m in rec_mem])


MODELS = {
    "recurrent-zero": lambda: RecurrentSNN(6, 8, 3, params=LIFParams(reset="zero"), input_gain=3.0, gain=1.5,
                                           generator=_gen(0), dtype=torch.float64),
    "recurrent-subtract": lambda: RecurrentSNN(6, 8, 3, params=LIFParams(reset="subtract"), input_gain=3.0, gain=1.5,
                                               generator=_gen(0), dtype=torch.float64),
    "two-layer-rec-ff-zero": lambda: MultiLayerSNN(6, (8, 5), 3, params=LIFParams(reset="zero"), recurrent=(True, False),
                                                   input_gain=3.0, gain=1.5, generator=_gen(0), dtype=torch.float64),
    "two-layer-ff-rec-subtract": lambda: MultiLayerSNN(6, (7, 5), 2, params=LIFParams(reset="subtract", tau_mem=20e-3),
                                                       recurrent=(False, True), input_gain=3.0, gain=1.5, tau_out=5e-3,
                                                       generator=_gen(3), dtype=torch.float64),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_forward_matches_loop_from_equations(name):
    model = MODELS[name]()
    x = _inputs()
    out = model(x)
    ref_out, ref_spk, ref_mem = reference_forward(model, x)
    for layer in range(len(model.hidden)):
        spikes = out.spikes[layer]
        assert 0 < spikes.sum() < spikes.numel(), f"layer {layer} should spike sometimes, not always"
        assert torch.equal(spikes, ref_spk[layer])
        torch.testing.assert_close(out.mem[layer], ref_mem[layer], rtol=0, atol=1e-12)
    torch.testing.assert_close(out.output, ref_out, rtol=0, atol=1e-12)
    assert torch.all(out.mem[0][:, 0] == 0)  # index t = before step t, starting from rest


def test_feedforward_layer_has_no_recurrent_weights():
    model = MODELS["two-layer-rec-ff-zero"]()
    assert model.w_rec[1].numel() == 0
    assert model.w_rec[0].shape == (8, 8)
    assert model.state_dim == 2 * (8 + 5)


@pytest.mark.parametrize("name", list(MODELS))
def test_step_reproduces_forward(name):
    model = MODELS[name]()
    x = _inputs(n_steps=30)
    out = model(x, return_states=True)
    h = model.initial_state(x.shape[0])
    for t in range(x.shape[1]):
        for layer, (_, mem) in enumerate(model.split_state(h)):
            torch.testing.assert_close(mem, out.mem[layer][:, t], rtol=0, atol=1e-12)
        h = model.step(h, x[:, t])
        torch.testing.assert_close(h, out.states[t + 1], rtol=0, atol=1e-12)


def _state_near_threshold(model, batch, seed):
    """A random state whose membranes straddle the threshold (surrogate derivatives clearly non-zero)."""
    gen = _gen(seed)
    h = torch.empty(batch, model.state_dim, dtype=torch.float64)
    for (syn, mem) in model.split_state(h):
        syn.copy_(0.5 * torch.randn(syn.shape, generator=gen, dtype=torch.float64))
        mem.copy_(model.params.threshold + 0.4 * torch.randn(mem.shape, generator=gen, dtype=torch.float64))
    return h


@pytest.mark.parametrize(
    "build",
    [
        lambda: RecurrentSNN(4, 6, 2, params=LIFParams(reset="zero", detach_reset=True), gain=1.5, generator=_gen(4),
                             dtype=torch.float64),
        lambda: RecurrentSNN(4, 6, 2, params=LIFParams(reset="subtract", detach_reset=False, surrogate="sigmoid"),
                             gain=1.5, generator=_gen(5), dtype=torch.float64),
        lambda: MultiLayerSNN(4, (5, 3), 2, params=LIFParams(reset="zero", detach_reset=False), recurrent=(True, False),
                              gain=1.5, generator=_gen(6), dtype=torch.float64),
    ],
    ids=["rec-zero-detached", "rec-subtract-attached-sigmoid", "two-layer-zero-attached"],
)
def test_tangent_equals_autograd_jacobian_of_step(build):
    model = build()
    batch = 2
    h = _state_near_threshold(model, batch, seed=7)
    x = _inputs(batch=batch, n_steps=1, n_in=4, rate=0.5, seed=8)[:, 0]
    full = torch.autograd.functional.jacobian(lambda state: model.step(state, x), h)  # (batch, D, batch, D)
    jac = torch.stack([full[b, :, b, :] for b in range(batch)])
    eye = torch.eye(model.state_dim, dtype=torch.float64)
    tangent = model.tangent(h, x, eye)
    assert tangent.shape == (batch, model.state_dim, model.state_dim)
    assert (jac != 0).sum() > model.state_dim  # not a trivial (diagonal) case
    torch.testing.assert_close(tangent, jac, rtol=0, atol=1e-8)
    # the tangent of a few vectors is the Jacobian times them
    q = torch.randn(batch, model.state_dim, 3, generator=_gen(9), dtype=torch.float64)
    torch.testing.assert_close(model.tangent(h, x, q), jac @ q, rtol=0, atol=1e-8)


# --------------------------------------------------------------------------- fluctuation-driven initialisation


def _free_membrane_std(model, n_in, rate, n_steps=1500, transient=100, seed=11):
    x = poisson_spikes(1, n_steps + transient, n_in, rate, generator=_gen(seed))
    with torch.no_grad():
        out = model(x)
    assert out.spikes[0].sum() == 0, "the threshold should be out of reach (free membrane)"
    mem = out.mem[0][0, transient:].double()
    return float(mem.var(0).mean().sqrt())  # rms over neurons of the temporal std


@pytest.mark.parametrize("sigma_u", [0.5, 2.0])
def test_fluctuation_init_gives_target_membrane_std_feedforward(sigma_u):
    n_in, rate = 100, 0.05
    model = MultiLayerSNN(n_in, (100,), 1, params=LIFParams(threshold=1e9), recurrent=False, init="fluctuation",
                          sigma_u=sigma_u, input_rate=rate, generator=_gen(12))
    measured = _free_membrane_std(model, n_in, rate)
    assert measured == pytest.approx(sigma_u, rel=0.15)
    expected_w_std = fluctuation_driven_std(n_in, rate, model.params, sigma_u)
    assert float(model.w_ff[0].detach().std()) == pytest.approx(expected_w_std, rel=0.05)


def test_fluctuation_init_recurrent_layer_with_all_variance_from_input():
    n_in, rate, sigma_u = 80, 0.1, 1.0
    model = RecurrentSNN(n_in, 100, 1, params=LIFParams(threshold=1e9), init="fluctuation", sigma_u=sigma_u,
                         ff_fraction=1.0, input_rate=rate, generator=_gen(13))
    with torch.no_grad():
        model.w_rec_matrix.zero_()
    assert _free_membrane_std(model, n_in, rate, seed=14) == pytest.approx(sigma_u, rel=0.15)


def test_initial_weights_are_reproducible_from_a_seeded_generator():
    for init in ("gaussian", "fluctuation"):
        a = MultiLayerSNN(5, (6, 4), 2, init=init, generator=_gen(21))
        b = MultiLayerSNN(5, (6, 4), 2, init=init, generator=_gen(21))
        c = MultiLayerSNN(5, (6, 4), 2, init=init, generator=_gen(22))
        for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
            assert torch.equal(pa, pb)
        assert not torch.equal(a.w_ff[0], c.w_ff[0])


def test_gaussian_init_scale():
    model = RecurrentSNN(400, 300, 2, gain=2.0, input_gain=0.5, generator=_gen(23), dtype=torch.float64)
    assert float(model.w_in.detach().std()) == pytest.approx(0.5 / math.sqrt(400), rel=0.03)
    assert float(model.w_rec_matrix.detach().std()) == pytest.approx(2.0 / math.sqrt(300), rel=0.03)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args,kwargs,error,pattern",
    [
        ((0, (4,), 2), {}, ValueError, r"n_in .*got 0"),
        ((3.5, (4,), 2), {}, TypeError, r"n_in must be an integer, got 3\.5"),
        ((3, (4,), 0), {}, ValueError, r"n_out .*got 0"),
        ((3, (), 2), {}, ValueError, r"hidden .*got \(\)"),
        ((3, (4, -2), 2), {}, ValueError, r"hidden layer size .*got -2"),
        ((3, (4, 5), 2), dict(recurrent=[True]), ValueError, r"recurrent .*\(True,\)"),
        ((3, (4,), 2), dict(init="xavier"), ValueError, r"init .*'xavier'"),
        ((3, (4,), 2), dict(gain=-1.0), ValueError, r"gain .*got -1\.0"),
        ((3, (4,), 2), dict(input_gain=float("nan")), ValueError, r"input_gain .*got nan"),
        ((3, (4,), 2), dict(ff_fraction=0.0), ValueError, r"ff_fraction .*got 0\.0"),
        ((3, (4,), 2), dict(tau_out=0.0), ValueError, r"tau_out .*got 0\.0"),
        ((3, (4,), 2), dict(init="fluctuation", input_rate=1.5), ValueError, r"rate .*got 1\.5"),
        ((3, (4,), 2), dict(init="fluctuation", sigma_u=-1.0), ValueError, r"sigma_u .*got -1\.0"),
    ],
)
def test_bad_constructor_arguments_raise_with_name_and_value(args, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        MultiLayerSNN(*args, **kwargs)


def test_bad_forward_and_step_inputs():
    model = RecurrentSNN(3, 4, 2, generator=_gen(0))
    with pytest.raises(ValueError, match=r"x must have shape \('any', 'any', 3\), got \(2, 5, 4\)"):
        model(torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match=r"x must have 3 dimensions, got shape \(5, 3\)"):
        model(torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"x .*NaN"):
        model(torch.full((1, 5, 3), float("nan")))
    with pytest.raises(ValueError, match=r"h must have shape .*got \(2, 7\)"):
        model.step(torch.zeros(2, 7), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"x must be a tensor .*got None"):
        model.step(model.initial_state(2), None)
