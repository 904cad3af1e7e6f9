"""Unit tests of helpers.neurons: the LIF update of COURSE.md 4.1 against traces computed by hand.

Defaults throughout: tau_mem = 10 ms, tau_syn = 5 ms, dt = 1 ms, threshold 1, so
alpha = exp(-0.2) = 0.8187307531 and beta = exp(-0.1) = 0.9048374180.
"""

from __future__ import annotations

import math

import pytest
import torch

from helpers.neurons import LIFParams, lif_step, simulate_lif, steady_state_rate

A = math.exp(-0.2)  # alpha for tau_syn = 5 ms, dt = 1 ms
B = math.exp(-0.1)  # beta for tau_mem = 10 ms, dt = 1 ms

# Constant current c = 0.5 per step, six steps (index t = value before the update at step t).
# Synaptic current (1.2): I[t] = c (1 + a + ... + a^(t-1)), identical for both resets.
C = 0.5
SYN = [0.0, C, C * (1 + A), C * (1 + A + A**2), C * (1 + A + A**2 + A**3), C * (1 + A + A**2 + A**3 + A**4)]
SYN_NUMBERS = [0.0, 0.5, 0.90936538, 1.24452540, 1.51893122, 1.74359570]
# Membrane, zero reset (1.3):
#   U0 = 0, U1 = b*0 + I0 = 0, U2 = b*0 + I1 = c = 0.5 (< 1, no spike),
#   U3 = b*U2 + I2 = c (1 + a + b) = 1.36178409 > 1 -> S3 = 1,
#   U4 = (b*U3 + I3) * (1 - S3) = 0 (the reset),
#   U5 = b*0 + I4 = 1.51893122 > 1 -> S5 = 1.
MEM_ZERO = [0.0, 0.0, C, C * (1 + A + B), 0.0, C * (1 + A + A**2 + A**3)]
MEM_ZERO_NUMBERS = [0.0, 0.0, 0.5, 1.36178409, 0.0, 1.51893122]
SPK_ZERO = [0, 0, 0, 1, 0, 1]
# Membrane, subtract reset (1.4): the same up to U3, then
#   U4 = b*U3 + I3 - 1 = 1.47671860 > 1 -> S4 = 1,
#   U5 = b*U4 + I4 - 1 = 1.85512146 > 1 -> S5 = 1.
_U4S = B * C * (1 + A + B) + C * (1 + A + A**2) - 1.0
MEM_SUB = [0.0, 0.0, C, C * (1 + A + B), _U4S, B * _U4S + C * (1 + A + A**2 + A**3) - 1.0]
MEM_SUB_NUMBERS = [0.0, 0.0, 0.5, 1.36178409, 1.47671860, 1.85512146]
SPK_SUB = [0, 0, 0, 1, 1, 1]


def test_hand_numbers_agree_with_hand_formulas():
    """The decimals written above are the formulas evaluated (guards the test against typos)."""
    for formulas, numbers in ((SYN, SYN_NUMBERS), (MEM_ZERO, MEM_ZERO_NUMBERS), (MEM_SUB, MEM_SUB_NUMBERS)):
        assert formulas == pytest.approx(numbers, abs=1e-8)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
@pytest.mark.parametrize("reset,mem_ref,spk_ref", [("zero", MEM_ZERO, SPK_ZERO), ("subtract", MEM_SUB, SPK_SUB)])
def test_simulate_lif_matches_hand_trace(dtype, tol, reset, mem_ref, spk_ref):
    current = torch.full((1, 6, 1), C, dtype=dtype)
    res = simulate_lif(current, LIFParams(reset=reset))
    for tensor in (res.spikes, res.mem, res.syn):
        assert tensor.shape == (1, 6, 1) and tensor.dtype == dtype
    assert res.syn[0, :, 0].tolist() == pytest.approx(SYN, abs=tol)
    assert res.mem[0, :, 0].tolist() == pytest.approx(mem_ref, abs=tol)
    assert res.spikes[0, :, 0].tolist() == spk_ref


def test_heaviside_at_threshold_is_zero_and_batch_neurons_are_independent():
    # A membrane exactly at threshold does not spike (H(0) = 0).
    spk, _, _ = lif_step(torch.zeros(1, 1), torch.ones(1, 1), torch.zeros(1, 1), LIFParams())
    assert spk.item() == 0.0
    # Neurons and batch elements do not interact: simulating them together equals simulating them one by one.
    gen = torch.Generator().manual_seed(0)
    current = 0.1 * torch.rand(3, 40, 4, generator=gen, dtype=torch.float64)
    together = simulate_lif(current, LIFParams())
    alone = simulate_lif(current[1:2, :, 2:3], LIFParams())
    assert torch.equal(together.mem[1:2, :, 2:3], alone.mem)
    assert torch.equal(together.spikes[1:2, :, 2:3], alone.spikes)


def test_lif_params_decay_factors():
    p = LIFParams()
    assert p.alpha == pytest.approx(0.8187307530779818, abs=1e-15)
    assert p.beta == pytest.approx(0.9048374180359595, abs=1e-15)
    q = LIFParams(tau_mem=20e-3, tau_syn=2e-3, dt=0.5e-3)
    assert q.alpha == pytest.approx(math.exp(-0.25), abs=1e-15)
    assert q.beta == pytest.approx(math.exp(-0.025), abs=1e-15)
    assert p.reset == "zero" and p.detach_reset is True and p.threshold == 1.0


# --------------------------------------------------------------------------- gradients and the detach flag
#
# A single input c = 1.5 at step 0 and nothing afterwards:
#   I1 = c, U2 = I1 = c > 1 -> S2 = 1 (v = U2 - 1 = 0.5), I2 = a c,
#   zero reset:     U3 = (b U2 + I2)(1 - S2) = 0
#       dU3/dc = (a + b)(1 - S2) - [(b + a) c] dS2/dc          (second term only if attached)
#              = 0 (detached)  or  -(a + b) c sigma'(0.5) (attached)
#   subtract reset: U3 = b U2 + I2 - S2
#       dU3/dc = a + b (detached)  or  a + b - sigma'(0.5) (attached)
# fast_sigmoid with steepness 10: sigma'(0.5) = 1 / (1 + 10 * 0.5)^2 = 1/36.
SIGMA_PRIME = 1.0 / 36.0
C_GRAD = 1.5


def _grad_of_u3(reset, detach):
    current = torch.zeros(1, 5, 1, dtype=torch.float64)
    current[0, 0, 0] = C_GRAD
    current.requires_grad_(True)
    res = simulate_lif(current, LIFParams(reset=reset, detach_reset=detach))
    assert res.spikes[0, :3, 0].tolist() == [0, 0, 1]  # the spike at step 2 whose reset acts on U3
    res.mem[0, 3, 0].backward()
    return current.grad[0, 0, 0].item()


@pytest.mark.parametrize(
    "reset,detach,expected",
    [
        ("zero", True, 0.0),
        ("zero", False, -(A + B) * C_GRAD * SIGMA_PRIME),
        ("subtract", True, A + B),
        ("subtract", False, A + B - SIGMA_PRIME),
    ],
)
def test_gradient_through_reset_matches_hand_computation(reset, detach, expected):
    assert _grad_of_u3(reset, detach) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_detach_flag_changes_gradient_when_a_spike_happens(reset):
    assert _grad_of_u3(reset, True) != pytest.approx(_grad_of_u3(reset, False), abs=1e-3)


def _grad_below_threshold(reset, detach, surrogate):
    """dU3/dc for input c = 0.5 at step 0: U2 = 0.5 < 1, no spike (v = U2 - 1 = -0.5)."""
    current = torch.zeros(1, 4, 1, dtype=torch.float64)
    current[0, 0, 0] = 0.5
    current.requires_grad_(True)
    res = simulate_lif(current, LIFParams(reset=reset, detach_reset=detach, surrogate=surrogate))
    assert res.spikes.sum() == 0 and res.mem.max() < 1.0
    res.mem[0, 3, 0].backward()
    return current.grad[0, 0, 0].item()


@pytest.mark.parametrize(
    "reset,attached_expected",
    [
        # zero:     U3 = (b U2 + I2)(1 - S2): attached adds -(b + a) c sigma'(-0.5), even though S2 = 0
        ("zero", (A + B) * (1 - 0.5 * SIGMA_PRIME)),
        # subtract: U3 = b U2 + I2 - S2:       attached adds -sigma'(-0.5)
        ("subtract", A + B - SIGMA_PRIME),
    ],
)
def test_attached_reset_carries_gradient_wherever_the_surrogate_is_nonzero(reset, attached_expected):
    # Without a spike the detached gradient is the plain linear one, a + b.
    assert _grad_below_threshold(reset, True, "fast_sigmoid") == pytest.approx(A + B, abs=1e-12)
    # The attached reset term is weighted by the surrogate derivative, which fast_sigmoid never sets to zero.
    assert _grad_below_threshold(reset, False, "fast_sigmoid") == pytest.approx(attached_expected, abs=1e-12)
    # A triangle surrogate of steepness 10 vanishes for |v| >= 0.1: then the flag makes no difference.
    assert _grad_below_threshold(reset, False, "triangle") == pytest.approx(A + B, abs=1e-12)


def test_forward_does_not_depend_on_detach_flag():
    current = 0.08 * torch.rand(2, 50, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    a = simulate_lif(current, LIFParams(detach_reset=True))
    b = simulate_lif(current, LIFParams(detach_reset=False))
    assert a.spikes.sum() > 0
    assert torch.equal(a.mem, b.mem) and torch.equal(a.spikes, b.spikes)


def test_spike_gradient_is_the_surrogate_derivative():
    current = torch.zeros(1, 4, 1, dtype=torch.float64)
    current[0, 0, 0] = C_GRAD
    current.requires_grad_(True)
    simulate_lif(current, LIFParams()).spikes[0, 2, 0].backward()  # S2 = H(U2 - 1), U2 = c
    assert current.grad[0, 0, 0].item() == pytest.approx(SIGMA_PRIME, abs=1e-12)


def test_steady_state_rate_respects_rheobase():
    p = LIFParams()
    rheobase = p.threshold * (1 - p.alpha) * (1 - p.beta)
    assert steady_state_rate(0.99 * rheobase, p) == 0.0
    assert steady_state_rate(1.5 * rheobase, p) > 0.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cuda_matches_cpu(dtype):
    current = 0.08 * torch.rand(2, 60, 5, generator=torch.Generator().manual_seed(2), dtype=dtype)
    cpu = simulate_lif(current, LIFParams(reset="subtract"))
    gpu = simulate_lif(current.cuda(), LIFParams(reset="subtract"))
    assert gpu.mem.device.type == "cuda"
    torch.testing.assert_close(gpu.mem.cpu(), cpu.mem)
    assert torch.equal(gpu.spikes.cpu(), cpu.spikes)


# --------------------------------------------------------------------------- bad input: the message names argument and value


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        (dict(tau_mem=0.0), ValueError, r"tau_mem .*got 0\.0"),
        (dict(tau_mem=-0.01), ValueError, r"tau_mem .*got -0\.01"),
        (dict(tau_mem=float("nan")), ValueError, r"tau_mem .*got nan"),
        (dict(tau_syn=-5e-3), ValueError, r"tau_syn .*got -0\.005"),
        (dict(dt=0.0), ValueError, r"dt .*got 0\.0"),
        (dict(dt=-1e-3), ValueError, r"dt .*got -0\.001"),
        (dict(tau_mem="10ms"), TypeError, r"tau_mem .*'10ms'"),
        (dict(threshold=0.0), ValueError, r"threshold .*got 0\.0"),
        (dict(reset="hard"), ValueError, r"reset .*'hard'"),
        (dict(surrogate="relu"), ValueError, r"surrogate .*'relu'"),
        (dict(steepness=-1.0), ValueError, r"steepness .*got -1\.0"),
        (dict(steepness=0.0), ValueError, r"steepness .*got 0\.0"),
        (dict(detach_reset="yes"), TypeError, r"detach_reset .*'yes'"),
    ],
)
def test_bad_parameters_raise_with_name_and_value(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        LIFParams(**kwargs)


@pytest.mark.parametrize(
    "current,error,pattern",
    [
        (torch.zeros(5, 3), ValueError, r"current must have 3 dimensions, got shape \(5, 3\)"),
        (torch.zeros(2, 5, 3, 1), ValueError, r"current must have 3 dimensions, got shape \(2, 5, 3, 1\)"),
        (torch.tensor([[[0.1], [float("nan")]]]), ValueError, r"current .*NaN"),
        (torch.tensor([[[0.1], [float("inf")]]]), ValueError, r"current .*inf"),
        (torch.zeros(1, 3, 2, dtype=torch.int64), TypeError, r"current .*floating.*int64"),
        ([[[0.1]]], TypeError, r"current must be a torch.Tensor, got list"),
    ],
)
def test_bad_current_raises_with_name_and_value(current, error, pattern):
    with pytest.raises(error, match=pattern):
        simulate_lif(current, LIFParams())
