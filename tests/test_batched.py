"""Batched independent networks (helpers.batched) equal the same networks run one after the other:
the forward pass, a hand-written training loop, train_batched against train and run_delayed_task_batched
against run_delayed_task (float64)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import helpers.batched as batched_module
from helpers import flossing, training
from helpers.batched import (BatchedSNN, SeedBatchedSystem, evaluate_batched, run_delayed_task_batched, seed_losses,
                             train_batched)
from helpers.flossing import FlossingConfig, PeriodicFlossing
from helpers.lyapunov import lyapunov_spectrum
from helpers.models import MultiLayerSNN, RecurrentSNN
from helpers.neurons import LIFParams
from helpers.schedules import AdaptiveFlossing, RegularizerFlossing

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


# ---------------------------------------------------------------------------------------------- training
class Float64Task:
    """A delayed task whose inputs are float64 (the course's tasks make float32 spikes)."""

    def __init__(self, task):
        self.task = task

    def __getattr__(self, name):
        return getattr(self.__dict__["task"], name)

    def sample(self, batch, generator=None):
        x, y, mask = self.task.sample(batch, generator)
        return x.double(), y, mask

    def input_sampler(self, batch, seq_len, generator=None):
        return self.task.input_sampler(batch, seq_len, generator).double()


TINY = dict(n_hidden=12, hold=2, extra_bits=2)
_delayed_task_setup = training.delayed_task_setup


def float64_setup(kind, delay, seed, device=None, **overrides):
    """helpers.training.delayed_task_setup in float64."""
    task, model, settings = _delayed_task_setup(kind, delay, seed, device, **overrides)
    return Float64Task(task), model.double(), settings


FLOSS_CFG = dict(k=2, seq_len=20, transient=5, batch_size=2, lr=1e-2)
SCHEDULES = {
    "none": lambda: None,
    "regularizer": lambda: RegularizerFlossing(weight=2.0, every=2, config=FlossingConfig(**FLOSS_CFG)),  # one pass
    "regularizer-trajectory": lambda: RegularizerFlossing(weight=2.0, every=2, config=FlossingConfig(  # seed views
        **FLOSS_CFG, path="trajectory")),
    "periodic": lambda: PeriodicFlossing(2, (2,), 1, config=FlossingConfig(**FLOSS_CFG)),  # one pass
    "periodic-keep-norm": lambda: PeriodicFlossing(2, (2,), 1, config=FlossingConfig(**FLOSS_CFG, keep_norm=True)),
    "periodic-options": lambda: PeriodicFlossing(1, (2,), 1, config=FlossingConfig(
        **FLOSS_CFG, path="trajectory", rate_weight=1.0, hold="rate", keep_norm=True)),
}
TRAIN_KW = dict(lr=1e-2, clip=0.5, batch_size=4, eval_every=2, eval_batches=1, eval_batch_size=8,
                lyap_every=4, lyap_len=20, lyap_transient=5)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_train_batched_equals_sequential_train(name, layers):
    """train_batched over 3 seeds = 3 runs of train(..., fast=True): histories and final weights, float64,
    for one recurrent layer and for two (flossed on their joint spectrum)."""
    seeds = [0, 1, 2]
    models = [float64_setup("xor", 2, seed, layers=layers, **TINY)[1] for seed in seeds]
    task = float64_setup("xor", 2, 0, layers=layers, **TINY)[0]
    batched = BatchedSNN.from_models(models)
    histories = train_batched(batched, task, seeds, 4, schedule=SCHEDULES[name](), **TRAIN_KW)
    keys = ("train_loss", "grad_norm", "loss", "accuracy", "grad_norm_early", "lambda_1")
    for s, (seed, model, hist) in enumerate(zip(seeds, models, histories)):
        assert set(hist) == set(training.HISTORY_KEYS)
        ref = training.train(model, task, 4, schedule=SCHEDULES[name](), seed=seed, fast=True, **TRAIN_KW)
        for key in keys:
            torch.testing.assert_close(torch.tensor(hist[key]), torch.tensor(ref[key]), rtol=1e-9, atol=1e-10,
                                       msg=lambda m, key=key: f"{name}, seed {seed}, {key}: {m}")
        assert hist["step"] == ref["step"] and hist["lyap_step"] == ref["lyap_step"]
        assert hist["flossing_updates"] == ref["flossing_updates"]
        for a, b in zip(batched.extract(s).parameters(), model.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)
    assert max(max(h["grad_norm"]) for h in histories) > TRAIN_KW["clip"], "the test should exercise clipping"
    assert len({h["wall_time_s"] for h in histories}) == 1  # shared


@pytest.mark.parametrize("flossing_on", [False, True], ids=["no-flossing", "recommended"])
def test_run_delayed_task_batched_matches_run_delayed_task(flossing_on, monkeypatch):
    """The records of run_delayed_task_batched = those of run_delayed_task, float64 (tasks patched to float64)."""
    monkeypatch.setattr(training, "delayed_task_setup", float64_setup)
    monkeypatch.setattr(batched_module, "delayed_task_setup", float64_setup)
    settings = dict(TINY, n_steps=3, batch_size=4, eval_batches=1, eval_batch_size=8, test_batches=1,
                    test_batch_size=16, floss_seq_len=20, floss_transient=5, floss_batch_size=2)
    seeds = [4, 7]
    records = run_delayed_task_batched("xor", 2, flossing_on, seeds, **settings)
    for seed, rec in zip(seeds, records):
        ref = training.run_delayed_task("xor", 2, flossing_on, seed, fast=True, **settings)
        assert set(rec) - set(ref) == {"batched", "batch_seeds", "batch_wall_time_s"} and set(ref) <= set(rec)
        assert rec["batched"] is True and rec["seed"] == seed and rec["schedule"] == ref["schedule"]
        assert rec["test_accuracy"] == ref["test_accuracy"]
        assert rec["val_accuracy_curve"] == ref["val_accuracy_curve"]
        assert rec["flossing_updates"] == ref["flossing_updates"]
        for key in ("final_loss", "final_train_loss", "grad_norm_early", "grad_norm_early_init", "lambda_1",
                    "lambda_1_init"):
            assert rec[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12), key
        assert rec["wall_time_s"] == pytest.approx(rec["batch_wall_time_s"] / len(seeds))


def test_seed_view_computes_and_differentiates_one_network():
    batched = BatchedSNN.recurrent_from_seeds(SEEDS, N_IN, 16, N_OUT, **KW)
    x = inputs(3)
    with batched.seed_view(1) as net:
        out = net(x)
        h = net.step(net.initial_state(BATCH), x[:, 0])
    ref = batched.extract(1)
    torch.testing.assert_close(out.output, ref(x).output, rtol=0, atol=0)
    (out.output.sum() + h.sum()).backward()
    assert batched.w_rec[0].grad[1].abs().sum() > 0
    assert batched.w_rec[0].grad[[0, 2]].abs().sum() == 0


def test_evaluate_batched_equals_evaluate_per_network():
    models = [float64_setup("copy", 1, seed, **TINY)[1] for seed in (0, 1)]
    task = float64_setup("copy", 1, 0, **TINY)[0]
    batched = BatchedSNN.from_models(models)
    for seed in (5, [5, 6]):
        results = evaluate_batched(batched, task, 2, 8, seed)
        for s, (model, res) in enumerate(zip(models, results)):
            ref = training.evaluate(model, task, 2, 8, seed if isinstance(seed, int) else seed[s])
            assert res["accuracy"] == ref["accuracy"]
            assert res["loss"] == pytest.approx(ref["loss"], rel=1e-12)


def test_training_bad_arguments_give_clear_errors():
    task, model, _ = float64_setup("xor", 2, 0, **TINY)
    batched = BatchedSNN.from_models([model, model])
    with pytest.raises(TypeError, match="BatchedSNN"):
        train_batched(model, task, [0], 2)
    with pytest.raises(TypeError, match="task"):
        train_batched(batched, object(), [0, 1], 2)
    with pytest.raises(ValueError, match=r"one seed per network \(model.n_models = 2\), got 1"):
        train_batched(batched, task, [0], 2)
    with pytest.raises(TypeError, match=r"seeds\[1\] must be an integer"):
        train_batched(batched, task, [0, 1.5], 2)
    with pytest.raises(ValueError, match="n_steps must be an integer in"):
        train_batched(batched, task, [0, 1], -1)
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got -1"):
        train_batched(batched, task, [0, 1], 2, lr=-1.0)
    with pytest.raises(ValueError, match="clip"):
        train_batched(batched, task, [0, 1], 2, clip=0.0)
    with pytest.raises(ValueError, match="eval_every"):
        train_batched(batched, task, [0, 1], 2, eval_every=0)
    with pytest.raises(TypeError, match="FlossingSchedule"):
        train_batched(batched, task, [0, 1], 2, schedule="recommended")
    with pytest.raises(ValueError, match="adapts to the observations"):
        train_batched(batched, task, [0, 1], 2, schedule=AdaptiveFlossing(config=FlossingConfig(**FLOSS_CFG)))
    with pytest.raises(ValueError, match="k must be an integer in"):
        train_batched(batched, task, [0, 1], 2,
                      schedule=RegularizerFlossing(config=FlossingConfig(k=25, seq_len=20, transient=5)))
    with pytest.raises(ValueError, match=r"one int per network \(2\), got 3"):
        evaluate_batched(batched, task, 1, 4, [1, 2, 3])
    with pytest.raises(ValueError, match="distinct"):
        run_delayed_task_batched("xor", 2, False, [1, 1], **TINY)
    with pytest.raises(ValueError, match="schedule must be one of"):
        run_delayed_task_batched("xor", 2, True, [1, 2], schedule="periodic", **TINY)
    with pytest.raises(ValueError, match="at least one seed"):
        run_delayed_task_batched("xor", 2, True, [], **TINY)


@pytest.mark.parametrize("reset", ["zero", "subtract"])
@pytest.mark.parametrize("detach", [True, False], ids=["detached", "attached"])
def test_seed_batched_system_spectra_equal_per_network_spectra(reset, detach):
    """One spectrum of the folded system = the spectra of the extracted networks (two layers, one feed-forward)."""
    params = LIFParams(reset=reset, detach_reset=detach, steepness=3.0)
    models = [
        MultiLayerSNN(N_IN, (14, 10), N_OUT, recurrent=(True, False), params=params, gain=2.0, input_gain=3.0,
                      bias=True, generator=torch.Generator().manual_seed(s), dtype=torch.float64) for s in SEEDS]
    with torch.no_grad():
        for i, m in enumerate(models):
            for b in m.biases:
                b.normal_(0.0, 0.2, generator=torch.Generator().manual_seed(i))
    batched = BatchedSNN.from_models(models)
    x = inputs(8, (2, 60, N_IN))
    h0 = 0.5 * torch.rand(len(SEEDS) * 2, batched.state_dim, generator=torch.Generator().manual_seed(1),
                          dtype=torch.float64)
    system = SeedBatchedSystem(batched)
    res = lyapunov_spectrum(system, x.repeat(len(SEEDS), 1, 1), 5, transient=10, h0=h0,
                            generator=torch.Generator().manual_seed(0))
    exps = res.exponents.reshape(len(SEEDS), 2, 5)
    for s, model in enumerate(models):
        ref = lyapunov_spectrum(model, x, 5, transient=10, h0=h0[2 * s: 2 * s + 2],
                                generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close(exps[s], ref.exponents, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(res.final_state[2 * s: 2 * s + 2], ref.final_state, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="multiple of the number of networks"):
        system.initial_state(4)
