"""The spoken-digit experiment (helpers.digits) and its command line (scripts/spoken_digits_study.py)."""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys

import numpy as np
import pytest
import torch

from helpers import digits
from helpers.config import REPO_ROOT
from helpers.data import make_synthetic_shd
from helpers.models import RecurrentSNN

TINY = dict(hidden=16, multilayer_hidden=(8, 8), batch_size=32)


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic_shd")
    make_synthetic_shd(root, n_train=160, n_test=40, n_classes=4, seed=0)
    return root


@pytest.fixture(scope="module")
def synthetic_splits(synthetic_root):
    return digits.load_digits("synthetic", synthetic_root, settings=digits.settings_for("synthetic"))


# ---------------------------------------------------------------------------------------------- efficiency
def test_synaptic_operations_on_hand_made_activity():
    # input (1 sample, 3 steps, 2 channels): a spike, a count of 2, a spike
    x = torch.tensor([[[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]]])
    spikes = [torch.tensor([[[1.0, 1.0], [0.0, 0.0], [0.0, 1.0]]])]
    fan_out = [torch.tensor([3, 1]), torch.tensor([2, 5])]
    acs, macs = digits.synaptic_operations(x, fan_out[0])
    assert acs.tolist() == [3 + 1] and macs.tolist() == [3]  # count 2 in channel 0 -> 3 MACs
    sums = digits.efficiency_from_activity(x, spikes, fan_out)
    eff = digits.summarise_efficiency(sums)
    assert eff["acs_per_sample"] == 4 + (2 + 5 + 5)
    assert eff["macs_per_sample"] == 3
    assert eff["synaptic_ops_per_sample"] == 19
    assert eff["spikes_per_neuron_per_sample"] == pytest.approx(3 / 2)
    assert eff["activation_sparsity"] == pytest.approx(1 - 3 / 6)
    assert eff["input_events_per_sample"] == 3


def test_efficiency_averages_over_samples():
    x = torch.zeros(2, 4, 1)
    x[0, 0, 0] = 1.0
    spikes = [torch.zeros(2, 4, 3)]
    spikes[0][1, :, 0] = 1.0  # sample 1: neuron 0 fires at all 4 steps
    eff = digits.summarise_efficiency(digits.efficiency_from_activity(x, spikes, [torch.tensor([2]), torch.tensor([1, 1, 1])]))
    assert eff["spikes_per_neuron_per_sample"] == pytest.approx(4 / (2 * 3))
    assert eff["synaptic_ops_per_sample"] == pytest.approx((2 + 4) / 2)
    assert eff["activation_sparsity"] == pytest.approx(1 - 4 / 24)


def test_fan_outs_count_nonzero_outgoing_synapses():
    model = RecurrentSNN(2, 2, 1)
    with torch.no_grad():
        model.w_in.copy_(torch.tensor([[1.0, 0.0], [1.0, 0.0]]))  # channel 0 -> 2 synapses, channel 1 -> 0
        model.w_rec_matrix.copy_(torch.tensor([[0.0, 1.0], [0.0, 0.0]]))  # neuron 1 -> neuron 0
        model.w_out.copy_(torch.tensor([[1.0, 1.0]]))
    fo = digits.fan_outs(model)
    assert fo[0].tolist() == [2, 0]
    assert fo[1].tolist() == [1, 2]


# ---------------------------------------------------------------------------------------------- training
def test_short_run_on_synthetic_learns_above_chance(synthetic_root, synthetic_splits):
    torch.manual_seed(0)
    rec = digits.run_digits("synthetic", synthetic_root, splits=synthetic_splits, seed=0, epochs=4,
                            diagnostics=True, **TINY)
    chance = 1 / 4
    assert rec["test_accuracy"] > chance + 0.2
    assert 0 <= rec["validation_accuracy"] <= 1
    assert rec["spikes_per_neuron_per_sample"] > 0 and 0 < rec["activation_sparsity"] < 1
    assert np.all(np.isfinite(rec["spectrum_final"])) and np.all(np.isfinite(rec["grad_final"]))
    assert len(rec["grad_init"]) == synthetic_splits.train.n_bins + 1


@pytest.mark.parametrize("schedule", digits.DIGIT_SCHEDULES)
def test_multilayer_with_flossing_runs_on_the_shd_path(synthetic_root, schedule):
    """The SHD settings (scaled down) train on the synthetic SHD-layout file through the same tonic path, with
    every flossing schedule: the recommended one flosses in loss passes only, the others also in updates."""
    rec = digits.run_digits("shd", synthetic_root, model="multilayer", flossing=True, seed=1, epochs=1,
                            diagnostics=False, dt=20e-3, duration=1.0, pool=20, floss_pre=1, floss_episode_updates=1,
                            floss_transient=5, floss_batch=2, floss_k=2, schedule=schedule, **TINY)
    assert rec["layers"] == 2 and rec["flossing"] and rec["schedule"] == schedule
    assert rec["flossing_time_s"] > 0
    assert (rec["flossing_updates"] >= 1) == (schedule != "recommended")
    assert np.isfinite(rec["test_accuracy"])


def test_flossing_schedule_names_are_checked():
    settings = digits.settings_for("synthetic")
    assert type(digits.flossing_schedule(settings, 10, 50)).__name__ == "RegularizerFlossing"
    assert digits.flossing_schedule(settings, 10, 50, "reference").episode_steps == (20,)
    with pytest.raises(ValueError, match="schedule must be one of"):
        digits.flossing_schedule(settings, 10, 50, "periodic")


def test_model_selection_never_touches_the_test_set(synthetic_root, synthetic_splits, monkeypatch):
    params = inspect.signature(digits.train_with_selection).parameters
    assert "test" not in " ".join(params), "the selection function must not take a test set"
    test = synthetic_splits.test.subset(np.arange(len(synthetic_splits.test)))
    phase = {"selecting": False, "touched_during_selection": False, "touched_after": 0}
    real_dense = test.dense

    def spy(index):
        if phase["selecting"]:
            phase["touched_during_selection"] = True
        else:
            phase["touched_after"] += 1
        return real_dense(index)

    object.__setattr__(test, "dense", spy)
    real_select = digits.train_with_selection

    def selecting(*args, **kwargs):
        phase["selecting"] = True
        try:
            return real_select(*args, **kwargs)
        finally:
            phase["selecting"] = False

    monkeypatch.setattr(digits, "train_with_selection", selecting)
    splits = digits.Splits(train=synthetic_splits.train, val=synthetic_splits.val, test=test)
    rec = digits.run_digits("synthetic", synthetic_root, splits=splits, seed=0, epochs=2, diagnostics=False, **TINY)
    assert not phase["touched_during_selection"]
    assert phase["touched_after"] > 0  # tested once, afterwards
    assert 1 <= rec["best_epoch"] <= 2


def test_speaker_out_split_holds_out_one_speaker(synthetic_root):
    s = digits.settings_for("synthetic")
    splits = digits.load_digits("synthetic", synthetic_root, "speaker_out", "3", s)
    assert set(splits.test.speaker.tolist()) == {3}
    assert 3 not in set(splits.train.speaker.tolist()) | set(splits.val.speaker.tolist())


# ---------------------------------------------------------------------------------------------- CLI
def _cli():
    spec = importlib.util.spec_from_file_location("spoken_digits_study", REPO_ROOT / "scripts" / "spoken_digits_study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_resume_skips_finished_runs(tmp_path, synthetic_root, monkeypatch):
    cli = _cli()
    calls = []
    real = digits.run_digits

    def counting(*args, **kwargs):
        calls.append(kwargs["seed"])
        return real(*args, **kwargs)

    monkeypatch.setattr(digits, "run_digits", counting)
    out = tmp_path / "study.json"
    base = ["--dataset", "synthetic", "--data-root", str(synthetic_root), "--model", "recurrent", "--flossing", "off",
            "--epochs", "1", "--out", str(out), "--checkpoint-dir", str(tmp_path / "ckpt"), "--resume", "--no-progress",
            "--set", "hidden=8", "batch_size=32"]
    cli.main(base + ["--seeds", "1"])
    first = json.loads(out.read_text())
    assert calls == [0] and len(first["runs"]) == 1
    cli.main(base + ["--seeds", "2"])
    second = json.loads(out.read_text())
    assert calls == [0, 1], "the finished run (seed 0) must be skipped"
    assert [r["seed"] for r in second["runs"]] == [0, 1]
    assert second["runs"][0] == first["runs"][0]
    cfg = second["config"]
    assert {"git_commit", "versions", "settings", "command"} <= set(cfg)
    assert set(cfg["versions"]) == {"python", "torch", "numpy", "tonic"}
    run = second["runs"][1]
    for key in ("dataset", "split", "model", "layers", "flossing", "seed", "validation_accuracy", "test_accuracy",
                "spikes_per_neuron_per_sample", "synaptic_ops_per_sample", "wall_time_s"):
        assert key in run
    assert out.with_suffix(".png").exists()


def test_cli_errors_clearly_without_fsdd(tmp_path):
    cli = _cli()
    with pytest.raises(FileNotFoundError, match="FSDD"):
        cli.main(["--dataset", "fsdd", "--data-root", str(tmp_path / "none"), "--fsdd-dir", str(tmp_path / "absent"),
                  "--out", str(tmp_path / "x.json"), "--no-progress"])


@pytest.mark.parametrize("name", ["none", "reference", "regularizer_every20", "pre", "regularizer_pre"])
def test_schedule_study_digit_record(synthetic_root, name):
    """The schedule study's digit runs (scripts/schedule_study.py --task fsdd) on the synthetic SHD-layout set:
    every field of the results file, and the schedule each name stands for."""
    spec = importlib.util.spec_from_file_location("schedule_study", REPO_ROOT / "scripts" / "schedule_study.py")
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    job = {"task": "fsdd", "delay": None, "name": name, "schedule_params": None, "seed": 0, "phase": "fsdd",
           "epochs": 2, "success": 0.95, "dataset": "synthetic", "root": synthetic_root,
           "overrides": dict(TINY, floss_pre=2, floss_episode_updates=1)}
    rec = study.run_one_fsdd(job)
    for key in ("task", "schedule", "schedule_params", "seed", "final_accuracy", "steps_to_90pct", "succeeded",
                "flossing_time_fraction", "wall_time_s"):
        assert key in rec
    assert rec["schedule"] == name and rec["n_steps"] == 2 * rec["steps_per_epoch"]
    assert 0 <= rec["flossing_time_fraction"] < 1 and (rec["flossing_time_fraction"] > 0) == (name != "none")
    expected = {"none": {}, "reference": {"pre_updates": 2, "episode_steps": [2 * rec["steps_per_epoch"]],
                                          "episode_updates": 1},
                "regularizer_every20": {"weight": 10.0, "every": 20, "pre_updates": 0}, "pre": {"n_updates": 2},
                "regularizer_pre": {"weight": 10.0, "every": 20, "pre_updates": 2}}[name]
    assert rec["schedule_params"] == expected
