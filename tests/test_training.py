"""Tests of helpers.training: the loss goes down, checkpoint/resume is exact, the flossing hooks are used."""

import pytest
import torch

from helpers.flossing import FlossingConfig, FlossingSchedule, NoFlossing
from helpers.models import RecurrentSNN
from helpers.neurons import LIFParams
from helpers.tasks import delayed_copy
from helpers.training import evaluate, reduce_readout, train


def _setup(seed=0, n_hidden=16):
    task = delayed_copy(1, n_bits=5, hold=3, n_per_group=6, rate=0.5, background=0.02)
    model = RecurrentSNN(task.n_in, n_hidden, task.n_out, params=LIFParams(reset="subtract"), init="fluctuation",
                         input_rate=0.26, hidden_rate=0.05, tau_out=5e-3,
                         generator=torch.Generator().manual_seed(seed))
    return task, model


def test_loss_decreases_on_short_delay_copy():
    task, model = _setup()
    before = evaluate(model, task, 1, 64, seed=99)["loss"]
    hist = train(model, task, 20, lr=2e-2, batch_size=8, eval_every=20, lyap_every=0, progress=False)
    after = evaluate(model, task, 1, 64, seed=99)["loss"]
    assert after < 0.8 * before
    assert len(hist["train_loss"]) == 20 and hist["step"] == [0, 20]
    assert all(g > 0 for g in hist["grad_norm_early"])


def test_checkpoint_resume_equals_uninterrupted(tmp_path):
    kwargs = dict(lr=5e-3, batch_size=8, eval_every=4, lyap_every=4, lyap_len=20, lyap_transient=5,
                  eval_batches=1, eval_batch_size=8, checkpoint_every=3, progress=False)
    task, m1 = _setup()
    h1 = train(m1, task, 8, **kwargs)
    task, m2 = _setup()
    ckpt = tmp_path / "run.pt"
    train(m2, task, 8, checkpoint=ckpt, stop_after=5, **kwargs)
    assert ckpt.exists() and torch.load(ckpt, weights_only=False)["step"] == 5
    task, m3 = _setup(seed=123)  # a different init: everything must come from the checkpoint
    h3 = train(m3, task, 8, checkpoint=ckpt, **kwargs)
    for p1, p3 in zip(m1.parameters(), m3.parameters()):
        assert torch.equal(p1, p3)
    assert h1["train_loss"] == h3["train_loss"] and h1["accuracy"] == h3["accuracy"]
    assert h1["lambda_1"] == h3["lambda_1"]


def test_resume_restores_the_adaptive_schedule_state(tmp_path):
    """An episode triggered by the observation at step 4 is still due after an interruption at step 4."""
    from helpers.schedules import AdaptiveFlossing

    config = FlossingConfig(k=1, seq_len=20, transient=5, batch_size=2, lr=1e-2)
    kwargs = dict(lr=5e-3, batch_size=8, eval_every=4, lyap_every=4, lyap_len=20, lyap_transient=5,
                  eval_batches=1, eval_batch_size=8, checkpoint_every=3, progress=False)

    def schedule():  # a band of 1e-9 triggers at every observation; at most two episodes
        return AdaptiveFlossing(band=1e-9, episode_updates=2, max_episodes=2, config=config)

    task, m1 = _setup()
    s1 = schedule()
    h1 = train(m1, task, 10, schedule=s1, **kwargs)
    assert [step for step, _ in s1.triggers] == [4, 8] and h1["flossing_updates"] == 4
    task, m2 = _setup()
    ckpt = tmp_path / "run.pt"
    train(m2, task, 10, schedule=schedule(), checkpoint=ckpt, stop_after=4, **kwargs)
    assert torch.load(ckpt, weights_only=False)["schedule"]["episodes"] == {4: 2}
    task, m3 = _setup()
    s3 = schedule()
    h3 = train(m3, task, 10, schedule=s3, checkpoint=ckpt, **kwargs)
    assert s3.triggers == s1.triggers and h3["flossing_updates"] == h1["flossing_updates"]
    for p1, p3 in zip(m1.parameters(), m3.parameters()):
        assert torch.equal(p1, p3)


class CountingSchedule(FlossingSchedule):
    def __init__(self, config):
        super().__init__(config)
        self.asked = []

    def updates_before(self, step):
        self.asked.append(step)
        return 2 if step == 0 else 0


def test_flossing_hook_is_called_and_touches_only_dynamics():
    task, model = _setup()
    config = FlossingConfig(k=2, seq_len=30, transient=5, batch_size=2, lr=1e-2)
    schedule = CountingSchedule(config)
    readout = [p.detach().clone() for p in model.readout_parameters()]
    dynamics = [p.detach().clone() for p in model.dynamics_parameters()]
    hist = train(model, task, 0, schedule=schedule, progress=False)  # no task step: nothing to see yet
    assert hist["flossing_updates"] == 0 and schedule.asked == []
    # one step with flossing but lr of the task step ~0 is not allowed; instead isolate the flossing part:
    from helpers.flossing import floss

    floss(model, task.input_sampler, 2, config)
    assert all(torch.equal(a, p) for a, p in zip(readout, model.readout_parameters()))
    assert any(not torch.equal(a, p) for a, p in zip(dynamics, model.dynamics_parameters()))
    task, model = _setup()
    hist = train(model, task, 3, lr=1e-3, schedule=schedule, batch_size=4, eval_every=3, lyap_every=0, progress=False)
    assert schedule.asked == [0, 1, 2]
    assert hist["flossing_updates"] == 2 and hist["flossing_time_s"] > 0


def test_no_flossing_schedule_runs_nothing():
    task, model = _setup()
    hist = train(model, task, 2, schedule=NoFlossing(), batch_size=4, eval_every=2, lyap_every=0, progress=False)
    assert hist["flossing_updates"] == 0


def test_loader_classification_with_readout_reduction():
    gen = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(4):
        y = torch.randint(0, 2, (8,), generator=gen)
        x = (torch.rand(8, 20, 4, generator=gen) < 0.05 + 0.4 * torch.nn.functional.one_hot(y * 2, 4)[:, None]).float()
        batches.append((x, y))
    model = RecurrentSNN(4, 12, 2, init="fluctuation", input_rate=0.15, generator=gen)
    for reduction in ("max", "mean"):
        hist = train(model, batches, 4, lr=1e-2, eval_every=2, eval_loader=batches, readout_reduction=reduction,
                     lyap_every=0, progress=False)
        assert len(hist["accuracy"]) == 3 and 0 <= hist["accuracy"][-1] <= 1
    assert reduce_readout(torch.ones(2, 3, 4), "mean").shape == (2, 4)
    with pytest.raises(ValueError, match="readout_reduction must be one of"):
        train(model, batches, 1, readout_reduction="sum", progress=False)


@pytest.mark.parametrize("kwargs,match", [(dict(n_steps=-1), "n_steps"), (dict(lr=0.0), "lr"), (dict(clip=-1.0), "clip"),
                                          (dict(eval_every=0), "eval_every must be an integer >= 1")])
def test_bad_arguments(kwargs, match):
    task, model = _setup()
    args = dict(n_steps=1, lr=1e-3) | kwargs
    with pytest.raises(ValueError, match=match):
        train(model, task, args.pop("n_steps"), **args)


def test_delayed_task_setup_builds_one_or_several_recurrent_layers():
    from helpers.models import MultiLayerSNN
    from helpers.training import delayed_task_setup

    _, one, _ = delayed_task_setup("xor", 2, 0, n_hidden=8)
    _, two, s = delayed_task_setup("xor", 2, 0, n_hidden=8, layers=2)
    assert isinstance(one, RecurrentSNN) and one.hidden == (8,)
    assert type(two) is MultiLayerSNN and two.hidden == (8, 8) and all(two.recurrent) and s["layers"] == 2
    with pytest.raises(ValueError, match=r"layers must be an integer in \[1, inf\], got 0"):
        delayed_task_setup("xor", 2, 0, layers=0)
