"""The study scripts end to end at toy size: delayed_xor_study.py (batched and one run per process, resume)
and summarise_results.py (the README's tables from the stored results)."""

import importlib.util
import json

import pytest

from helpers.config import REPO_ROOT


def _script(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOY = ["--delays", "2", "--seeds", "2", "--steps", "3", "--set", "n_hidden=8", "--set", "extra_bits=2",
       "--set", "floss_seq_len=20", "--set", "floss_transient=5", "--set", "test_batches=1",
       "--set", "test_batch_size=16", "--set", "eval_batches=1", "--set", "eval_batch_size=8"]


def test_delayed_xor_study_batched_equals_one_run_per_process(tmp_path):
    study = _script("delayed_xor_study")
    batched, single = tmp_path / "batched.json", tmp_path / "single.json"
    study.main(TOY + ["--out", str(batched)])
    study.main(TOY + ["--no-batched", "--out", str(single), "--checkpoint-dir", str(tmp_path / "ckpt")])
    a, b = json.loads(batched.read_text()), json.loads(single.read_text())
    assert a["config"]["batched"] is True and b["config"]["batched"] is False
    assert a["config"]["schedule"] == "recommended"
    key = lambda r: (r["delay"], r["flossing"], r["seed"])  # noqa: E731
    runs_a, runs_b = {key(r): r for r in a["runs"]}, {key(r): r for r in b["runs"]}
    assert set(runs_a) == set(runs_b) == {(2, f, s) for f in (False, True) for s in (0, 1)}
    for k, r in runs_a.items():  # the same networks, data and updates: equal to float32 rounding
        assert r["schedule"] == ("recommended" if k[1] else "none")
        assert r["test_accuracy"] == pytest.approx(runs_b[k]["test_accuracy"], abs=0.05)
    assert (tmp_path / "batched.png").exists()


def test_delayed_xor_study_resume_skips_finished_runs_and_refuses_another_schedule(tmp_path):
    study = _script("delayed_xor_study")
    out = tmp_path / "study.json"
    study.main(TOY + ["--flossing", "off", "--out", str(out)])
    first = json.loads(out.read_text())["runs"]
    study.main(TOY + ["--resume", "--out", str(out)])  # adds the flossing runs only
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 4 and [r for r in runs if not r["flossing"]] == first
    with pytest.raises(SystemExit, match="schedule"):
        study.main(TOY + ["--resume", "--schedule", "reference", "--out", str(out)])


def test_summarise_results_prints_every_table_from_the_stored_files(capsys):
    summarise = _script("summarise_results")
    summarise.main([])
    text = capsys.readouterr().out
    for key in summarise.TABLES:
        assert f"### {key}" in text
    assert "(no results file yet)" not in text, "every table of the README has its results file in figures/"
    assert "with flossing (recommended schedule)" in text and "with flossing (reference schedule)" in text
    with pytest.raises(SystemExit, match="unknown table"):
        summarise.main(["nope"])
