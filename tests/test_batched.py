"""Batched independent networks (helpers.batched) equal the same networks run one after the other."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from helpers.batched import BatchedSNN, seed_losses
from helpers.models import MultiLayerSNN, RecurrentSNN
from helpers.neurons import LIFParams

SEEDS = [3, 5, 11]
N_IN, N_OUT, T, BATCH = 10, 3, 25, 4
KW = dict(params=LIFParams(reset="subtract", detach_reset=False), gain=2.0, input_gain=3.0, dtype=torch.float64)


def sequential(hidden=(20, 12), recurrent=(True, False), **extra):
    return [MultiLayerSNN(N_IN, hidden, N_OUT, recurrent=recurrent, generator=torch.Generator().manual_seed(s),
                          **KW, **extra) for s in SEEDS]


def inputs(seed=0, shape=(BATCH, T, N_IN)):
    return (torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) < 0.3).double()


def test_from_seeds_initialises_like_the_sequential_models():
    batched = BatchedSNN.from_seeds(SEEDS, N_IN, (20, 12), N_OUT, recurrent=(True, False), **KW)
    for s, model in enumerate(sequential()):
        for p_batched, p_model in zip(batched.parameters(), model.parameters()):
            assert torch.equal(p_batched[s], p_model)


@pytest.mark.parametrize("per_seed_input", [False, True], ids=["shared-x", "per-seed-x"])
def test_forward_equals_sequential(per_seed_input):
    models = sequential(bias=True)
    with torch.no_grad():
        for i, m in enumerate(models):
            for b in m.biases:
                b.normal_(0.0, 0.1, generator=torch.Generator().manual_seed(i))
    batched = BatchedSNN.from_models(models)
    x = inputs(1, (len(SEEDS), BATCH, T, N_IN)) if per_seed_input else inputs(1)
    out = batched(x)
    assert out.output.shape == (len(SEEDS), BATCH, T, N_OUT)
    for s, model in enumerate(models):
        ref = model(x[s] if per_seed_input else x)
        for layer in range(2):
            assert torch.equal(out.spikes[layer][s], ref.spikes[layer])
            torch.testing.assert_close(out.mem[layer][s], ref.mem[layer], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(out.output[s], ref.output, rtol=1e-12, atol=1e-12)


def test_training_equals_sequential_training():
    """Adam over the stacked parameters, the sum of per-seed losses and per-seed clipping = S independent runs."""
    models = sequential()
    batched = BatchedSNN.from_models(models)
    opt = torch.optim.Adam(batched.parameters(), lr=1e-2)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-2) for m in models]
    labels = torch.randint(0, N_OUT, (BATCH,), generator=torch.Generator().manual_seed(2))

    def loss_fn(output, target):
        return F.cross_entropy(output.mean(-2), target)

    clipped = False
    for step in range(3):
        x = inputs(10 + step)
        opt.zero_grad()
        seed_losses(loss_fn, batched(x).output, labels, shared_target=True).sum().backward()
        norms = batched.clip_grad_norm_(0.5)
        opt.step()
        for s, (m, o) in enumerate(zip(models, opts)):
            o.zero_grad()
            loss_fn(m(x).output, labels).backward()
            norm = torch.nn.utils.clip_grad_norm_(m.parameters(), 0.5)
            torch.testing.assert_close(norms[s], norm, rtol=1e-10, atol=0)
            clipped |= bool(norm > 0.5)
            o.step()
    assert clipped, "the test should exercise clipping"
    for s, m in enumerate(models):
        extracted = batched.extract(s)
        for a, b in zip(extracted.parameters(), m.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_extract_gives_an_ordinary_model():
    batched = BatchedSNN.recurrent_from_seeds(SEEDS, N_IN, 16, N_OUT, **KW)
    model = batched.extract(1)
    assert type(model) is RecurrentSNN
    reference = RecurrentSNN(N_IN, 16, N_OUT, generator=torch.Generator().manual_seed(SEEDS[1]), **KW)
    for a, b in zip(model.parameters(), reference.parameters()):
        assert torch.equal(a, b)
    h = model.initial_state(2)
    assert model.step(h, torch.zeros(2, N_IN, dtype=torch.float64)).shape == (2, model.state_dim)
    with torch.no_grad():  # a copy: changing it leaves the batch alone
        model.w_in.add_(1.0)
    assert torch.equal(batched.w_ff[0][1], reference.w_in)
    assert len(batched.to_models()) == len(SEEDS)


def test_initial_state_per_seed():
    models = sequential(hidden=(16,), recurrent=True)
    batched = BatchedSNN.from_models(models)
    h0 = torch.rand(len(SEEDS), BATCH, batched.state_dim, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    x = inputs(5)
    out = batched(x, h0)
    for s, m in enumerate(models):
        assert torch.equal(out.spikes[0][s], m(x, h0[s]).spikes[0])


def test_bad_inputs_give_clear_errors():
    models = sequential()
    with pytest.raises(ValueError, match="at least one"):
        BatchedSNN([])
    with pytest.raises(ValueError, match="hidden differs"):
        BatchedSNN([models[0], MultiLayerSNN(N_IN, (20, 13), N_OUT, recurrent=(True, False), **KW)])
    with pytest.raises(ValueError, match="params differs"):
        BatchedSNN([models[0], MultiLayerSNN(N_IN, (20, 12), N_OUT, recurrent=(True, False), dtype=torch.float64)])
    with pytest.raises(TypeError, match="MultiLayerSNN"):
        BatchedSNN([torch.nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="generator"):
        BatchedSNN.from_seeds(SEEDS, N_IN, (4,), N_OUT, generator=torch.Generator())
    batched = BatchedSNN(models)
    with pytest.raises(ValueError, match="shape"):
        batched(torch.zeros(2, 5, N_IN + 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="shape"):
        batched(torch.zeros(len(SEEDS) + 1, 2, 5, N_IN, dtype=torch.float64))
    with pytest.raises(ValueError, match="dtype"):
        batched(torch.zeros(2, 5, N_IN))
    with pytest.raises(ValueError, match=r"\(batch, T"):
        batched(torch.zeros(5, N_IN, dtype=torch.float64))
    with pytest.raises(ValueError, match="in \\[0, 2\\]"):
        batched.extract(3)
    with pytest.raises(ValueError, match="seed axis"):
        seed_losses(F.mse_loss, torch.zeros(3, 4), torch.zeros(4))
