"""Tests of helpers.data: the SHD layout, the tonic path offline, binning, caching, the encoder, FSDD."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from helpers import data as D

FSDD_DIR = Path(os.environ.get("FSDD_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fsdd"))
needs_fsdd = pytest.mark.skipif(not (FSDD_DIR / "recordings").is_dir(), reason=f"FSDD not found at {FSDD_DIR}")


@pytest.fixture
def no_download(monkeypatch):
    """Make every way tonic could download raise, and record the attempts: a test using this fails on any."""
    import tonic.dataset
    import tonic.download_utils

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"a download was attempted: {args}")

    for module, name in [(tonic.download_utils, "download_and_extract_archive"), (tonic.download_utils, "download_url"),
                         (tonic.download_utils, "_urlretrieve"), (tonic.dataset, "download_and_extract_archive"),
                         (tonic.dataset.Dataset, "download"), (urllib.request, "urlopen")]:
        monkeypatch.setattr(module, name, refuse)
    yield attempts
    assert not attempts, "a download was attempted"


@pytest.fixture
def synthetic(tmp_path):
    """A small synthetic SHD: 40 train / 20 test samples, 70 channels, 4 classes."""
    return D.make_synthetic_shd(tmp_path / "syn", n_train=40, n_test=20, n_channels=70, n_classes=4, seed=1)


# --- the SHD layout and the tonic path ------------------------------------------------------------


def test_write_shd_file_has_the_shd_layout(tmp_path):
    path = D.write_shd_file(tmp_path / "x.h5", [[0.5, 0.1], []], [[3, 1], []], [1, 0], [0, 2],
                            keys=D.SHD_KEYS, speaker_meta={"age": [30, 40, 50]})
    with h5py.File(path) as f:
        assert h5py.check_vlen_dtype(f["spikes/times"].dtype) == np.float16
        assert h5py.check_vlen_dtype(f["spikes/units"].dtype) == np.uint16
        np.testing.assert_array_equal(f["spikes/times"][0], np.float16([0.1, 0.5]))  # sorted by time
        np.testing.assert_array_equal(f["spikes/units"][0], [1, 3])
        assert f["labels"].dtype == np.uint16 and list(f["labels"]) == [1, 0]
        assert list(f["extra/speaker"]) == [0, 2]
        assert f["extra/keys"][0] == b"english-zero" and f["extra/keys"][19] == b"german-neun"
        assert set(f["extra/meta_info"]) == {"gender", "age", "body_height"}
        assert list(f["extra/meta_info/age"]) == [30, 40, 50]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_tonic_reads_synthetic_offline(synthetic, no_download):
    import tonic.datasets

    dataset = tonic.datasets.SHD(save_to=str(synthetic), train=True)
    events, label = dataset[0]
    assert len(dataset) == 40 and events.dtype.names == ("t", "x", "p") and 0 <= label < 4
    data = D.load_shd(synthetic, "train", dt=10e-3)
    assert len(data) == 40 and data.classes == D.SHD_KEYS[:4]
    assert data[0][0].shape == (100, 70) and data[0][0].dtype == torch.float32
    # the bulk read gives exactly what tonic's __getitem__ gives, sample by sample
    binning = D.make_binning(dt=10e-3)
    for i in range(len(dataset)):
        events, label = dataset[i]
        _, flat = D.flat_bins(events["t"], events["x"], binning, 70)
        expected = np.bincount(flat, minlength=100 * 70).reshape(100, 70)
        np.testing.assert_array_equal(data[i][0].numpy(), expected)
        assert int(data.y[i]) == label
    np.testing.assert_array_equal(data.speaker.numpy(), dataset.speaker)
    assert D.load_shd(synthetic, "test", dt=10e-3).speaker.max() >= 10  # two speakers only in the test set


def test_file_placed_by_hand_gets_tonic_placeholder(synthetic, no_download):
    archive = synthetic / "SHD" / "shd_test.h5.zip"
    archive.unlink()
    assert len(D.load_shd(synthetic, "test", n_bins=10)) == 20
    assert archive.exists()


# --- binning --------------------------------------------------------------------------------------


def test_binning_conserves_spikes_inside_the_window_and_drops_the_rest():
    rng = np.random.default_rng(0)
    times = rng.uniform(0.0, 1.4, 5000).astype(np.float16)
    units = rng.integers(0, 700, 5000)
    counts = D.bin_spikes(times, units, dt=1e-3, duration=1.0)
    assert counts.shape == (1000, 700) and counts.dtype == np.float32
    assert counts.sum() == np.sum(times.astype(np.float64) < 1.0)
    edges = D.bin_spikes([0.0, 0.003, 0.0035, 0.999, 1.0, 1.2], [0, 1, 1, 2, 3, 3], dt=1e-3, n_channels=4)
    assert edges[0, 0] == 1 and edges[3, 1] == 2 and edges[999, 2] == 1 and edges.sum() == 4


def test_pooling_sums_adjacent_channels():
    rng = np.random.default_rng(1)
    times, units = rng.uniform(0, 1, 3000), rng.integers(0, 700, 3000)
    full = D.bin_spikes(times, units, n_bins=50)
    pooled = D.bin_spikes(times, units, n_bins=50, pool=7)
    assert pooled.shape == (50, 100)
    np.testing.assert_array_equal(pooled, full.reshape(50, 100, 7).sum(-1))
    assert D.bin_spikes([0.5], [699], n_bins=10, pool=700)[5, 0] == 1


def test_dataset_batches_subsets_and_stratified_split(synthetic):
    data = D.load_shd(synthetic, "train", dt=20e-3, pool=7)
    x, y = data[[3, 0]]
    assert x.shape == (2, 50, 10)
    assert torch.equal(x[1], data[0][0])
    assert torch.equal(data.x.sum(dim=(1, 2)), data.n_spikes.float())
    train, val = D.split_train_val(data, val_fraction=0.2, seed=3)
    assert (len(train), len(val)) == (32, 8) and torch.bincount(val.y).tolist() == [2, 2, 2, 2]
    assert not set(_rows(train)) & set(_rows(val))  # disjoint
    again, _ = D.split_train_val(data, val_fraction=0.2, seed=3)
    assert torch.equal(train.x, again.x)
    batches = list(D.make_loader(train, batch_size=10, shuffle=True, seed=0))
    assert [len(b[1]) for b in batches] == [10, 10, 10, 2]
    assert sorted(torch.cat([b[1] for b in batches]).tolist()) == sorted(train.y.tolist())
    splits = D.load_shd_splits(synthetic, val_fraction=0.2, dt=20e-3, pool=7)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (32, 8, 20)


def _rows(data):
    """Each sample's events as a hashable tuple (to check that two sets share no sample)."""
    return [tuple(data.events[a:b].tolist()) for a, b in zip(data.offsets[:-1], data.offsets[1:])]


# --- errors, atomic writes, cache -----------------------------------------------------------------


def test_truncated_and_corrupt_files_name_the_file(synthetic):
    h5 = synthetic / "SHD" / "shd_train.h5"
    h5.write_bytes(h5.read_bytes()[: h5.stat().st_size // 2])
    with pytest.raises(D.CorruptFileError, match=r"shd_train\.h5.*Delete it"):
        D.load_shd(synthetic, "train")
    h5.write_bytes(b"this is not HDF5")
    with pytest.raises(D.CorruptFileError, match=r"shd_train\.h5"):
        D.load_shd(synthetic, "train")
    with h5py.File(synthetic / "SHD" / "shd_test.h5", "a") as f:
        del f["extra/keys"]
    with pytest.raises(D.CorruptFileError, match=r"extra/keys"):
        D.load_shd(synthetic, "test")


def test_missing_file_without_download_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"zenkelab\.org/datasets") as err:
        D.load_shd(tmp_path, "train", download=False)
    assert str((tmp_path / "SHD" / "shd_train.h5").resolve()) in str(err.value)


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    import tonic.download_utils

    def broken_download(url, filename, chunk_size=1024):
        with open(filename, "wb") as f:
            f.write(b"PK\x03\x04 half an archive")
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tonic.download_utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(tonic.download_utils, "_urlretrieve", broken_download)
    with pytest.raises(FileNotFoundError, match=r"zenkelab\.org/datasets") as err:
        D.load_shd(tmp_path, "test")
    assert str((tmp_path / "SHD" / "shd_test.h5").resolve()) in str(err.value)
    assert list((tmp_path / "SHD").iterdir()) == []


def test_interrupted_writes_leave_no_file(synthetic, monkeypatch, tmp_path):
    def save_half(obj, path, *args, **kwargs):
        Path(path).write_bytes(b"half a cache")
        raise RuntimeError("interrupted")

    with monkeypatch.context() as patch:
        patch.setattr(torch, "save", save_half)
        with pytest.raises(RuntimeError, match="interrupted"):
            D.load_shd(synthetic, "train", n_bins=10)
    assert list((synthetic / "cache").iterdir()) == []
    D.load_shd(synthetic, "train", n_bins=10)
    assert len(list((synthetic / "cache").iterdir())) == 1

    def interrupt(values):
        raise KeyboardInterrupt

    monkeypatch.setattr(D, "_h5_values", interrupt)
    with pytest.raises(KeyboardInterrupt):
        D.write_shd_file(tmp_path / "out" / "shd_train.h5", [[0.1]], [[0]], [0], [0])
    assert list((tmp_path / "out").iterdir()) == []


def test_stale_cache_is_rebuilt(synthetic):
    first = D.load_shd(synthetic, "train", n_bins=25)
    (cache,) = (synthetic / "cache").iterdir()
    record = torch.load(cache, weights_only=True)
    record["cache_version"] = D.CACHE_VERSION - 1
    record["events"] = record["events"][:0]
    torch.save(record, cache)
    with pytest.warns(UserWarning, match=r"cache version .*rebuilding"):
        rebuilt = D.load_shd(synthetic, "train", n_bins=25)
    assert torch.equal(rebuilt.events, first.events)
    assert torch.load(cache, weights_only=True)["cache_version"] == D.CACHE_VERSION
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        D.load_shd(synthetic, "train", n_bins=25)  # a current cache is used silently


def test_changed_source_file_rebuilds_cache(synthetic):
    D.load_shd(synthetic, "train", n_bins=25)
    D.make_synthetic_shd(synthetic, n_train=12, n_test=20, n_channels=70, n_classes=4, seed=2)
    with pytest.warns(UserWarning, match="older version of its SHD file"):
        assert len(D.load_shd(synthetic, "train", n_bins=25)) == 12


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: D.make_binning(dt=-1e-3), r"dt must be .*> 0, got -0\.001"),
        (lambda: D.make_binning(dt=3e-3, duration=1.0), r"dt must divide duration=1\.0 s .*got dt=0\.003.*allowed"),
        (lambda: D.make_binning(dt=1e-3, n_bins=10), r"give dt or n_bins, not both"),
        (lambda: D.make_binning(duration=0.0), r"duration must be .*> 0, got 0\.0"),
        (lambda: D.check_pool(3, 700), r"pool must divide the 700 input channels .*got pool=3; allowed: \[1, 2, 4, 5, 7"),
        (lambda: D.bin_spikes([0.1], [0], pool=0), r"pool must be an integer in \[1, inf\], got 0"),
        (lambda: D.bin_spikes([0.1], [700]), r"units must be channels in \[0, 699\]"),
        (lambda: D.load_shd("/nonexistent", "validation"), r"split must be one of \('train', 'test'\), got 'validation'"),
        (lambda: D.convert_fsdd("/nonexistent", "/tmp/x", split="random"),
         r"split must be one of \('official', 'speaker_out'\), got 'random'"),
        (lambda: D.CochleaParams(f_max=5000.0).check(8000.0), r"f_max must lie in .*got 5000"),
    ],
)
def test_bad_arguments_name_parameter_value_and_allowed(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_split_fraction_must_be_a_fraction(synthetic):
    with pytest.raises(ValueError, match=r"val_fraction must be a fraction in \(0, 1\), got 1\.5"):
        D.split_train_val(D.load_shd(synthetic, "test", n_bins=5), val_fraction=1.5)


# --- the cochlea encoder --------------------------------------------------------------------------


def _vowel(fs=8000, seconds=0.3):
    """A harmonic complex (120 Hz fundamental, harmonics to 3.5 kHz) with a smooth onset and offset."""
    t = np.arange(int(seconds * fs)) / fs
    x = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 30))
    return (x * np.hanning(t.size) / np.abs(x).max()).astype(np.float32)


AMPLITUDES = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)


def test_encoder_rate_grows_with_loudness_and_silence_is_silent():
    params = D.CochleaParams(n_channels=64)
    x = _vowel()
    counts = [len(D.encode_audio(a * x, 8000, params, seed=0)[0]) for a in AMPLITUDES]
    assert counts[0] == 0 and counts[1] == 0  # silence, and a level below threshold_dbfs in every band
    assert all(b >= a for a, b in zip(counts, counts[1:])), counts  # monotone in loudness
    assert counts[-1] > counts[-3] > counts[-5] > 0
    assert counts[-1] / counts[-3] < 10  # +20 dB (x10 in amplitude) gives fewer than x10 spikes


def test_compression_makes_spike_count_grow_like_the_cube_root_well_above_threshold():
    params = D.CochleaParams(n_channels=64, threshold_dbfs=-150.0)
    x = _vowel()
    counts = np.array([len(D.encode_audio(a * x, 8000, params, seed=0)[0]) for a in (0.01, 0.1, 1.0)])
    np.testing.assert_allclose(counts[1:] / counts[:-1], 10 ** (1 / 3), rtol=0.03)  # x2.15 per +20 dB


def test_full_scale_tone_fires_its_unit_at_rate_full_scale():
    params = D.CochleaParams(n_channels=64)
    fc = D.centre_frequencies(8000, params)
    t = np.arange(8000) / 8000
    times, units = D.encode_audio(np.sin(2 * np.pi * fc[40] * t), 8000, params)
    assert abs(np.sum(units == 40) - params.rate_full_scale) < 0.05 * params.rate_full_scale
    assert np.all(np.diff(times) >= 0) and times.max() < 1.0


def test_encoder_is_deterministic_given_the_seed_and_view_is_plottable():
    params = D.CochleaParams(n_channels=32)
    x = 0.1 * _vowel()
    a, b, c = (D.encode_audio(x, 8000, params, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a[0], b[0])
    assert len(a[0]) != len(c[0]) or not np.array_equal(a[0], c[0])
    view = D.cochlea_view(x, 8000, params, seed=5)
    assert view.spec_db.shape == (view.spec_f.size, view.spec_t.size)
    assert view.envelope.shape == (32, view.envelope_t.size) and view.centre_f.size == 32
    np.testing.assert_array_equal(view.times, a[0])


# --- FSDD -----------------------------------------------------------------------------------------


def test_missing_fsdd_folder_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere" / "recordings")):
        D.convert_fsdd(tmp_path / "nowhere", tmp_path / "out")


@needs_fsdd
def test_fsdd_conversion_of_a_handful_reads_through_the_shd_path(tmp_path, no_download):
    speakers = sorted({r.speaker for r in D.list_fsdd(FSDD_DIR)})[:2]
    names = [f"{d}_{s}_{i}.wav" for d in (0, 7) for s in speakers for i in (0, 5)]
    out = D.convert_fsdd(FSDD_DIR, tmp_path / "fsdd", n_channels=64, recordings=names, n_workers=1)
    train = D.load_shd(out, "train", dt=5e-3, duration=1.0, pool=4)
    test = D.load_shd(out, "test", dt=5e-3, duration=1.0, pool=4)
    assert (len(train), len(test)) == (4, 4) and train.classes == D.FSDD_KEYS
    assert sorted(train.y.tolist()) == [0, 0, 7, 7] and train[0][0].shape == (200, 16)
    assert (train.n_spikes > 100).all()
    with h5py.File(out / "SHD" / "shd_test.h5") as f:
        names_in_file = [n.decode() for n in f["extra/meta_info/name"][()]]
        assert [names_in_file[s] for s in f["extra/speaker"][()]] == [speakers[0], speakers[1]] * 2
        assert f.attrs["n_channels"] == 64 and "_0.wav" in f.attrs["files"]
    assert "CC BY-SA 4.0" in (out / "README.txt").read_text()

    held_out = D.convert_fsdd(FSDD_DIR, tmp_path / "spk", split="speaker_out", held_out_speaker=speakers[1],
                              n_channels=64, recordings=names, n_workers=1)
    assert set(D.load_shd(held_out, "test", n_bins=10).speaker.tolist()) == {1}
    with pytest.raises(ValueError, match=r"held_out_speaker must be one of \[.*got 'nobody'"):
        D.convert_fsdd(FSDD_DIR, tmp_path / "x", split="speaker_out", held_out_speaker="nobody", recordings=names)
