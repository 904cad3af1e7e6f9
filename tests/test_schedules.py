"""Tests of helpers.schedules: hand-checked sequences, the adaptive trigger, annealing, argument checks."""

import math

import pytest
import torch

from helpers.flossing import FlossingConfig, NoFlossing, PeriodicFlossing, PreFlossing
from helpers.schedules import (
    AdaptiveFlossing,
    AnnealedFlossing,
    RegularizerFlossing,
    lyapunov_probe,
    make_schedule,
    schedule_timeline,
)


def seq(schedule, n):
    return [schedule.updates_before(s) for s in range(n)], [schedule.loss_weight(s) for s in range(n)]


# ------------------------------------------------------------------------------------------ sequences
def test_existing_schedules_hand_checked():
    u, w = seq(NoFlossing(), 5)
    assert u == [0] * 5 and w == [0.0] * 5
    u, w = seq(PreFlossing(7), 4)
    assert u == [7, 0, 0, 0] and w == [0.0] * 4
    u, _ = seq(PeriodicFlossing(3, (2, 4), 5), 6)
    assert u == [3, 0, 5, 0, 5, 0]


def test_regularizer_sequence_and_cost():
    r = RegularizerFlossing(weight=2.5, every=3, pre_updates=4)
    u, w = seq(r, 7)
    assert u == [4, 0, 0, 0, 0, 0, 0]
    assert w == [2.5, 0.0, 0.0, 2.5, 0.0, 0.0, 2.5]
    assert r.cost(7) == {"flossing_updates": 4, "flossing_passes": 3, "total": 7}
    assert seq(RegularizerFlossing(0.1), 3)[1] == [0.1, 0.1, 0.1]


def test_annealed_decays_as_documented():
    a = AnnealedFlossing(initial_updates=16, every=10, half_life=10.0, pre_updates=3)
    u, w = seq(a, 41)
    # eq. (9.2): round(16 * 2^{-s/10}) at s = 10, 20, 30, 40 -> 8, 4, 2, 1; pre-flossing at 0
    expected = [0] * 41
    expected[0], expected[10], expected[20], expected[30], expected[40] = 3, 8, 4, 2, 1
    assert u == expected and w == [0.0] * 41
    assert a.total_updates(41) == 18
    b = AnnealedFlossing(initial_updates=0, every=5, half_life=4.0, initial_weight=2.0, weight_every=2)
    assert b.loss_weight(0) == 2.0 and b.loss_weight(1) == 0.0
    assert math.isclose(b.loss_weight(4), 1.0) and math.isclose(b.loss_weight(8), 0.5)
    weights = [b.loss_weight(s) for s in range(0, 40, 2)]
    assert all(x > y for x, y in zip(weights, weights[1:]))  # strictly decaying
    assert b.total_updates(40) == 0


def test_make_schedule_and_timeline():
    s = make_schedule("annealed", initial_updates=4, every=2, half_life=1000.0)
    assert isinstance(s, AnnealedFlossing)
    t = schedule_timeline(s, 5)
    assert t["updates"] == [0, 0, 4, 0, 4] and t["step"] == [0, 1, 2, 3, 4]
    assert isinstance(make_schedule("none"), NoFlossing)
    with pytest.raises(ValueError, match="name must be one of"):
        make_schedule("sometimes")


# ------------------------------------------------------------------------------------------ adaptive
def test_adaptive_triggers_only_outside_the_band():
    cfg = FlossingConfig(target=-0.01)
    a = AdaptiveFlossing(band=0.02, episode_updates=6, pre_updates=2, config=cfg)
    assert a.updates_before(0) == 2
    assert not a.observe(5, lambda_1=0.005)      # in [-0.03, 0.01]
    assert not a.observe(6, lambda_1=-0.029)
    assert a.updates_before(5) == 0 and a.updates_before(6) == 0
    assert a.observe(7, lambda_1=-0.05)           # below the band
    assert a.updates_before(7) == 6 and a.updates_before(8) == 0
    assert a.observe(9, lambda_1=0.02)            # above the band
    assert [t[0] for t in a.triggers] == [7, 9]
    assert a.total_updates(10) == 2 + 12
    # the observation is read from a training-loop history only if recorded at that step
    h = {"step": [0, 10], "lyap_step": [0, 10], "lambda_1": [0.0, -0.2], "grad_norm_early": [1.0, 1.0]}
    assert not a.observe(11, h)  # stale entries (recorded at step 10) are ignored
    assert a.observe(10, h) and a.updates_before(10) == 6
    b = AdaptiveFlossing(band=0.02, max_episodes=1)
    assert b.observe(1, lambda_1=-1.0) and not b.observe(2, lambda_1=-1.0)


def test_adaptive_gradient_trigger():
    a = AdaptiveFlossing(band=1.0, grad_ratio=0.5, episode_updates=3)
    assert not a.observe(1, grad_norm_early=0.04)  # the reference
    assert not a.observe(2, grad_norm_early=0.03)
    assert a.observe(3, grad_norm_early=0.01)
    assert a.updates_before(3) == 3


def test_adaptive_with_probe_on_a_real_model():
    from helpers.flossing import poisson_sampler
    from helpers.models import RecurrentSNN

    model = RecurrentSNN(6, 12, 2, generator=torch.Generator().manual_seed(0))
    probe = lyapunov_probe(model, poisson_sampler(6, 0.1), seq_len=30, transient=5, batch_size=1)
    lam = probe(0)["lambda_1"]
    assert math.isfinite(lam)
    far = AdaptiveFlossing(band=1e-6, check_every=2, episode_updates=4, probe=probe,
                           config=FlossingConfig(target=lam + 1.0))
    near = AdaptiveFlossing(band=10.0, check_every=2, episode_updates=4, probe=probe)
    assert [far.updates_before(s) for s in range(5)] == [0, 0, 4, 0, 4]
    assert [near.updates_before(s) for s in range(5)] == [0] * 5
    assert far.probe_time_s > 0 and far.cost(5)["probes"] == 2


# ------------------------------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize("factory, match", [
    (lambda: RegularizerFlossing(weight=0.0), r"weight must be a finite number > 0.*got 0\.0"),
    (lambda: RegularizerFlossing(weight=float("nan")), "weight must be"),
    (lambda: RegularizerFlossing(every=0), r"every must be an integer >= 1, got 0"),
    (lambda: AnnealedFlossing(half_life=-1.0), r"half_life must be a finite number > 0.*got -1\.0"),
    (lambda: AnnealedFlossing(initial_updates=-2), r"initial_updates must be an integer >= 0, got -2"),
    (lambda: AnnealedFlossing(initial_weight=-0.5), r"initial_weight must be a finite number >= 0"),
    (lambda: AdaptiveFlossing(band=0), r"band must be a finite number > 0 \(1/step\), got 0"),
    (lambda: AdaptiveFlossing(grad_ratio=1.5), r"grad_ratio must be None or a number in \(0, 1\], got 1\.5"),
    (lambda: AdaptiveFlossing(episode_updates=0), r"episode_updates must be an integer >= 1, got 0"),
    (lambda: AdaptiveFlossing(probe=3), "probe must be None or a callable"),
    (lambda: AdaptiveFlossing(check_every=2.5), r"check_every must be an integer >= 1, got 2\.5"),
])
def test_bad_parameters_raise_clear_errors(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_bad_step_and_config():
    with pytest.raises((ValueError, TypeError), match="step"):
        RegularizerFlossing().loss_weight(-1)
    with pytest.raises(TypeError, match="config must be a FlossingConfig"):
        AnnealedFlossing(config={"k": 2})


def test_adaptive_state_round_trip_and_fixed_schedules_keep_none():
    a = AdaptiveFlossing(band=0.02, episode_updates=3, grad_ratio=0.5)
    a.observe(10, lambda_1=0.1, grad_norm_early=2.0)
    b = AdaptiveFlossing(band=0.02, episode_updates=3, grad_ratio=0.5)
    b.load_state_dict(a.state_dict())
    assert b.triggers == a.triggers and b.episodes == {10: 3} and b.grad_reference == 2.0
    assert b.updates_before(10) == 3
    assert RegularizerFlossing(weight=1.0).state_dict() == {}
    with pytest.raises(ValueError, match="keeps no state"):
        RegularizerFlossing(weight=1.0).load_state_dict({"episodes": {}})
    with pytest.raises(ValueError, match="missing"):
        b.load_state_dict({"episodes": {}})


def test_recommended_schedule_is_the_studied_regulariser():
    from helpers.schedules import RECOMMENDED, recommended_schedule

    s = recommended_schedule()
    assert isinstance(s, RegularizerFlossing) and s.params() == {**RECOMMENDED, "pre_updates": 0}
    assert [s.loss_weight(i) for i in (0, 1, 19, 20, 40)] == [10.0, 0.0, 0.0, 10.0, 10.0]
    assert recommended_schedule(weight=3.0).weight == 3.0
    with pytest.raises(ValueError, match="unknown parameter"):
        recommended_schedule(band=1.0)
