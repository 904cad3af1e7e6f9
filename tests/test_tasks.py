"""Tests of helpers.tasks: targets at the right lags, mask, spike code, seeding, argument checks."""

import pytest
import torch

from helpers.tasks import DelayedTask, delayed_copy, delayed_xor


def _bits_from_spikes(task, x):
    """Decode each slot's bit from the spike counts of the two groups."""
    b, t, _ = x.shape
    counts = x.reshape(b, t // task.hold, task.hold, 2, task.n_per_group).sum((2, 4))
    return counts.argmax(-1)


@pytest.mark.parametrize("kind,delay", [("xor", 2), ("xor", 6), ("copy", 1), ("copy", 5)])
def test_targets_at_the_right_lags_and_mask(kind, delay):
    task = DelayedTask(kind, delay, n_bits=delay + 7, hold=3, n_per_group=8, rate=0.9, background=0.0)
    gen = torch.Generator().manual_seed(1)
    bits = task.bits(16, task.n_bits, gen)
    y, mask = task.targets(bits)
    for b in range(task.n_bits):
        if b < delay:
            assert not mask[:, b].any()  # no target before the delay
        else:
            assert mask[:, b].all()
            want = bits[:, b - delay // 2] ^ bits[:, b - delay] if kind == "xor" else bits[:, b - delay]
            assert torch.equal(y[:, b], want)
    x, y_steps, m_steps = task.sample(16, torch.Generator().manual_seed(2))
    assert x.shape == (16, task.seq_len, task.n_in) and y_steps.shape == m_steps.shape == (16, task.seq_len)
    assert not m_steps[:, : task.delay_steps].any() and m_steps[:, task.delay_steps :].all()
    # targets from the decoded input bits at the right lags, constant over each slot
    decoded = _bits_from_spikes(task, x)
    y_decoded, _ = task.targets(decoded)
    assert torch.equal(y_steps, y_decoded.repeat_interleave(task.hold, 1))


def test_input_code_population_spikes_follow_the_bits():
    task = delayed_copy(2, n_bits=40, hold=5, n_per_group=20, rate=0.6, background=0.05)
    gen = torch.Generator().manual_seed(3)
    bits = task.bits(8, task.n_bits, gen)
    x = task.encode(bits, gen)
    steps = bits.repeat_interleave(task.hold, 1).unsqueeze(-1)
    group1 = torch.arange(task.n_in) >= task.n_per_group
    active = (steps == group1.long())
    assert abs(float(x[active.expand_as(x)].mean()) - 0.6) < 0.03
    assert abs(float(x[~active.expand_as(x)].mean()) - 0.05) < 0.01
    assert torch.equal(_bits_from_spikes(task, x), bits)


def test_seeded_generators_reproducible():
    task = delayed_xor(4)
    a = task.sample(4, torch.Generator().manual_seed(7))
    b = task.sample(4, torch.Generator().manual_seed(7))
    c = task.sample(4, torch.Generator().manual_seed(8))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[0], c[0])
    s1 = task.input_sampler(2, 33, torch.Generator().manual_seed(0))
    s2 = task.input_sampler(2, 33, torch.Generator().manual_seed(0))
    assert s1.shape == (2, 33, task.n_in) and torch.equal(s1, s2)


def test_loss_and_accuracy_of_a_perfect_readout():
    task = delayed_xor(2, hold=3)
    x, y, mask = task.sample(5, torch.Generator().manual_seed(0))
    logits = torch.nn.functional.one_hot(y, 2).float() * 10
    assert task.accuracy(logits, y, mask) == 1.0
    assert float(task.loss(logits, y, mask)) < 1e-3
    assert task.accuracy(-logits, y, mask) == 0.0


@pytest.mark.parametrize("kwargs,match", [
    (dict(kind="xor", delay=3), "delay must be an even integer"),
    (dict(kind="xor", delay=0), "delay"),
    (dict(kind="copy", delay=0), "delay must be an integer >= 1"),
    (dict(kind="copy", delay=5, n_bits=5), "n_bits must be an integer > delay = 5"),
    (dict(kind="copy", delay=2, hold=0), "hold must be a positive integer"),
    (dict(kind="copy", delay=2, n_per_group=0), "n_per_group"),
    (dict(kind="copy", delay=2, rate=1.5), "rate must be a spike probability"),
    (dict(kind="copy", delay=2, rate=0.2, background=0.3), r"background must be in \[0, rate\)"),
    (dict(kind="and", delay=2), "kind must be one of"),
])
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DelayedTask(**kwargs)


def test_non_integer_delay_is_a_type_error():
    with pytest.raises(TypeError, match="delay must be an integer"):
        DelayedTask("copy", 2.5)
