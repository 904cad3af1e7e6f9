"""The fast path (helpers.fast) reproduces the readable reference (helpers.models) exactly:
identical spikes and membranes, gradients equal to rounding, for every option that matters in training."""

from __future__ import annotations

import pytest
import torch

from helpers.config import get_device
from helpers.fast import FastSNN, fast_forward
from helpers.models import MultiLayerSNN, RecurrentSNN
from helpers.neurons import LIFParams

N_IN, N_OUT, T, BATCH = 12, 3, 40, 4


def make_model(dtype, reset="zero", detach=True, kind="fast_sigmoid", hidden=(24,), recurrent=True, bias=False, seed=0):
    gen = torch.Generator().manual_seed(seed)
    params = LIFParams(reset=reset, detach_reset=detach, surrogate=kind)
    model = MultiLayerSNN(N_IN, hidden, N_OUT, params=params, recurrent=recurrent, gain=2.0, input_gain=3.0,
                          bias=bias, generator=gen, dtype=dtype)
    if bias:
        with torch.no_grad():
            for b in model.biases:
                b.normal_(0.0, 0.1, generator=gen)
    x = (torch.rand(BATCH, T, N_IN, generator=gen) < 0.25).to(dtype)
    return model, x


def loss_of(out, weights):
    """A loss that reaches the readout, every layer's spikes and every layer's membrane."""
    loss = (out.output * weights).sum()
    for i, (s, u) in enumerate(zip(out.spikes, out.mem)):
        loss = loss + 0.1 * (i + 1) * s.sum() + (u**2).mean()
    return loss


CASES = [
    # (reset, detach, surrogate, hidden, recurrent, bias)
    ("zero", True, "fast_sigmoid", (24,), True, False),
    ("zero", False, "fast_sigmoid", (24,), True, False),
    ("subtract", True, "sigmoid", (24,), True, True),
    ("subtract", False, "arctan", (24,), True, False),
    ("zero", True, "triangle", (24,), False, False),
    ("subtract", False, "gaussian", (24, 16), (True, False), True),
    ("zero", False, "exponential", (24, 16, 8), (False, True, True), False),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{'det' if c[1] else 'att'}-{c[2]}-{len(c[3])}L-{c[4]}" for c in CASES])
def test_fast_equals_reference(dtype, case):
    reset, detach, kind, hidden, recurrent, bias = case
    model, x = make_model(dtype, reset, detach, kind, hidden, recurrent, bias)
    ref, fast = model(x), fast_forward(model, x)
    for layer in range(len(hidden)):
        assert torch.equal(ref.spikes[layer], fast.spikes[layer]), f"spikes of layer {layer} differ"
        assert torch.equal(ref.mem[layer], fast.mem[layer]), f"membranes of layer {layer} differ"
        assert 0.02 < float(ref.spikes[layer].detach().mean()) < 0.8, "test regime should be neither silent nor saturated"
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(fast.output, ref.output, rtol=tol, atol=tol)

    weights = torch.randn(ref.output.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    params = [p for p in model.parameters() if p.requires_grad and p.numel() > 0]
    g_ref = torch.autograd.grad(loss_of(ref, weights), params)
    g_fast = torch.autograd.grad(loss_of(fast, weights), params)
    rel = 1e-10 if dtype == torch.float64 else 1e-4
    for p, a, b in zip(params, g_ref, g_fast):
        scale = float(a.abs().max()) + 1e-30
        assert float((a - b).abs().max()) <= rel * scale, f"gradient of a {tuple(p.shape)} parameter differs"


def test_detach_flag_changes_the_gradient():
    """Sanity: the attached reset really contributes (so the detach cases above test something)."""
    grads = []
    for detach in (True, False):
        model, x = make_model(torch.float64, "zero", detach)
        out = fast_forward(model, x)
        grads.append(torch.autograd.grad(out.output.sum(), model.w_rec[0])[0])
    assert float((grads[0] - grads[1]).abs().max()) > 1e-6


def test_initial_state_gradient_and_value():
    model, x = make_model(torch.float64, "subtract", False, hidden=(24, 16), recurrent=True)
    h0 = torch.rand(BATCH, model.state_dim, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    h_ref = h0.clone().requires_grad_(True)
    h_fast = h0.clone().requires_grad_(True)
    ref, fast = model(x, h_ref), fast_forward(model, x, h_fast)
    assert all(torch.equal(a, b) for a, b in zip(ref.spikes, fast.spikes))
    (g_ref,) = torch.autograd.grad(ref.output.square().sum(), h_ref)
    (g_fast,) = torch.autograd.grad(fast.output.square().sum(), h_fast)
    torch.testing.assert_close(g_fast, g_ref, rtol=1e-10, atol=1e-12)


def test_fast_snn_shares_parameters_and_protocol():
    model = RecurrentSNN(N_IN, 16, N_OUT, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    wrapper = FastSNN(model)
    assert [id(p) for p in wrapper.parameters()] == [id(p) for p in model.parameters()]
    assert wrapper.state_dim == model.state_dim and wrapper.w_in is model.w_in
    x = torch.rand(2, 10, N_IN, dtype=torch.float64)
    assert torch.equal(wrapper(x).spikes[0], model(x).spikes[0])
    states = wrapper(x, return_states=True).states  # falls back to the reference
    assert len(states) == 11 and states[0].shape == (2, model.state_dim)


def test_no_gradient_needed_and_backward_twice_is_an_error():
    model, x = make_model(torch.float32)
    with torch.no_grad():
        out = fast_forward(model, x)
    assert not out.output.requires_grad
    out = fast_forward(model, x)
    out.output.sum().backward()
    with pytest.raises(RuntimeError):
        out.output.sum().backward()


def test_bad_inputs_give_clear_errors():
    model, x = make_model(torch.float32)
    with pytest.raises(TypeError, match="MultiLayerSNN"):
        fast_forward(torch.nn.Linear(2, 2), x)
    with pytest.raises(ValueError, match="shape"):
        fast_forward(model, x[..., :5])
    with pytest.raises(ValueError, match="dimensions"):
        fast_forward(model, x[0])
    with pytest.raises(ValueError, match="dtype"):
        fast_forward(model, x.double())
    with pytest.raises(TypeError, match="floating"):
        fast_forward(model, x.long())
    bad = x.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        fast_forward(model, bad)
    with pytest.raises(ValueError, match="h0"):
        fast_forward(model, x, torch.zeros(BATCH, 3))


def test_device_selection_on_cpu(monkeypatch):
    monkeypatch.delenv("SGF_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    assert get_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA"):
        get_device("cuda")
    monkeypatch.setenv("SGF_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    device = get_device()
    model = RecurrentSNN(N_IN, 8, N_OUT, device=device, generator=torch.Generator().manual_seed(0))
    out = fast_forward(model, torch.zeros(1, 5, N_IN, device=device))
    assert out.output.device == device and out.spikes[0].device == device


@pytest.mark.parametrize("kind", ["fast_sigmoid", "sigmoid", "arctan", "triangle", "exponential", "gaussian"])
def test_inplace_surrogate_matches_the_reference_formula(kind):
    from helpers.fast import _surrogate_derivative_inplace
    from helpers.surrogate import surrogate_derivative

    v = torch.linspace(-2.0, 2.0, 401, dtype=torch.float64)
    expected = surrogate_derivative(v, kind, 7.0)
    torch.testing.assert_close(_surrogate_derivative_inplace(v.clone(), kind, 7.0), expected, rtol=1e-13, atol=1e-15)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_fast_and_batched_paths_on_cuda_match_cpu():
    """Where CUDA exists: the fused path and the batched seeds give the CPU's spikes, and gradients to rounding."""
    from helpers.batched import BatchedSNN

    gpu = torch.device("cuda")
    model = RecurrentSNN(N_IN, 32, N_OUT, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = (torch.rand(4, 30, N_IN, generator=torch.Generator().manual_seed(1), dtype=torch.float64) < 0.2).double()
    out_cpu = fast_forward(model, x)
    out_cpu.output.sum().backward()
    grads_cpu = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    model_gpu = RecurrentSNN(N_IN, 32, N_OUT, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).to(gpu)
    out_gpu = fast_forward(model_gpu, x.to(gpu))
    out_gpu.output.sum().backward()
    assert torch.equal(out_gpu.spikes[0].cpu(), out_cpu.spikes[0])
    for g_cpu, p in zip(grads_cpu, model_gpu.parameters()):
        if g_cpu is None:
            assert p.grad is None
        else:
            torch.testing.assert_close(p.grad.cpu(), g_cpu, rtol=1e-9, atol=1e-12)
    batched = BatchedSNN.from_models([model_gpu, model_gpu]).to(gpu)
    out_b = batched(x.to(gpu))
    assert out_b.output.device.type == "cuda"
    torch.testing.assert_close(out_b.output[1].cpu(), out_cpu.output.detach(), rtol=1e-9, atol=1e-12)
