"""Spoken-digit spike data: SHD through tonic, a synthetic SHD, and FSDD speech through a cochlea model.

Three sources, one layout, one loading path:

- **SHD** (Spiking Heidelberg Digits, Cramer et al. 2020): read through ``tonic.datasets.SHD``.
- **Synthetic SHD** (:func:`make_synthetic_shd`): class-dependent spike sweeps written in the exact SHD
  layout, for quick mode and tests.
- **FSDD** (Free Spoken Digit Dataset, CC BY-SA 4.0): recordings turned into spikes by
  :func:`encode_audio` (a gammatone filterbank, half-wave rectification, cube-root compression, a low-pass
  envelope and one integrate-and-fire unit per channel), written by :func:`convert_fsdd`.

All three live in a *dataset root* with the files where tonic looks for them::

    root/SHD/shd_train.h5       root/SHD/shd_test.h5          (the data, SHD layout)
    root/SHD/shd_train.h5.zip   root/SHD/shd_test.h5.zip      (the archives tonic checks for)
    root/cache/*.pt                                           (binned spike counts, see load_shd)

so :func:`load_shd` reads each of them through ``tonic.datasets.SHD(save_to=root)``. Before deciding
to download, tonic 1.7 only checks that ``root/SHD/shd_<split>.h5.zip`` exists and that the folder
holds at least one ``.h5`` file (no checksum). Where an ``.h5`` file exists without its archive
(synthetic or converted data, or a file placed by hand), this module writes a tiny placeholder archive
of that name, so tonic never tries to download. The real SHD root defaults to ``$SGF_DATA`` or else
``~/.cache/sgf/data``; offline, put ``shd_train.h5`` and ``shd_test.h5`` (unzipped, from
https://zenkelab.org/datasets/) into ``<root>/SHD/``.

Binning. Sample ``n`` with spike times ``t_k`` (s) in channels ``u_k`` becomes the count tensor

    x[n, b, c] = #{k : b*dt <= t_k < (b+1)*dt  and  floor(u_k / pool) = c},   b < n_bins,

on one fixed time axis for all samples (spikes after ``n_bins*dt`` are dropped); ``pool`` sums groups
of adjacent channels (700 -> 700/pool). The counts are cached sparsely (one int32 bin index per spike,
about 4 bytes per spike whatever ``dt``), so SHD at 1 ms x 700 channels, which would take 5.7 GB as a
dense uint8 array, takes about the size of its spikes. Dense float32 tensors are made per batch.
"""

from __future__ import annotations

import csv
import math
import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np
import scipy.fft
import scipy.io.wavfile
import scipy.signal
import scipy.special
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from .checks import check_choice, check_int, check_positive
from .provenance import atomic_write

CACHE_VERSION = 1
"""Version of the binned-count cache format; a cache written by another version is rebuilt."""

SHD_URL = "https://zenkelab.org/datasets/"
SHD_N_CHANNELS = 700
SPLITS = ("train", "test")
SHD_KEYS = tuple(
    [f"english-{w}" for w in ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")]
    + [f"german-{w}" for w in ("null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun")]
)
"""Class names of SHD's 20 labels: English digits 0-9 are labels 0-9, German digits are labels 10-19."""
FSDD_KEYS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FSDD_SPLITS = ("official", "speaker_out")
_FSDD_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)\.wav$")
_PLACEHOLDER_NOTE = "placeholder-for-tonic.txt"
_US = 1_000_000  # microseconds per second


class CorruptFileError(OSError):
    """A data or cache file exists but cannot be read (truncated, corrupt or of the wrong layout)."""


def default_root() -> Path:
    """The dataset root: ``$SGF_DATA`` if set, else ``~/.cache/sgf/data``."""
    return Path(os.environ.get("SGF_DATA", "~/.cache/sgf/data")).expanduser()


def shd_path(root: str | os.PathLike, split: str) -> Path:
    """Where tonic expects the SHD-layout file of ``split`` ('train' or 'test'): ``root/SHD/shd_<split>.h5``."""
    check_choice("split", split, SPLITS)
    return Path(root).expanduser() / "SHD" / f"shd_{split}.h5"


# ---------------------------------------------------------------------------------------------------
# The SHD layout


def write_shd_file(
    path: str | os.PathLike,
    times_list: Sequence[np.ndarray],
    units_list: Sequence[np.ndarray],
    labels: Sequence[int],
    speakers: Sequence[int],
    *,
    keys: Sequence[str] = SHD_KEYS,
    n_channels: int = SHD_N_CHANNELS,
    speaker_meta: dict[str, Sequence] | None = None,
    attrs: dict[str, object] | None = None,
) -> Path:
    """Write spike trains in the exact SHD HDF5 layout, atomically.

    Layout (as the published SHD files)::

        spikes/times   (N,) variable-length float16, spike times of each sample, seconds, sorted
        spikes/units   (N,) variable-length uint16, channel of each spike, 0 .. n_channels-1
        labels         (N,) uint16, class index into extra/keys
        extra/speaker  (N,) uint16, speaker id of each sample
        extra/keys     (n_classes,) bytes, class names
        extra/meta_info/gender, age, body_height   (n_speakers,) one entry per speaker id

    float16 times carry 11 significant bits: spacing 0.49 ms for 0.5-1 s and 0.98 ms for 1-2 s.

    Args:
        path: the ``.h5`` file to write (its folder is created).
        times_list, units_list: one array per sample, spike times (s, >= 0) and channels.
        labels: class index per sample, 0 .. len(keys)-1.
        speakers: speaker id per sample, >= 0.
        keys: class names.
        n_channels: number of input channels; stored as the root attribute ``n_channels``.
        speaker_meta: per-speaker arrays indexed by speaker id, written to ``extra/meta_info/<name>``;
            ``gender``, ``age`` and ``body_height`` default to 'unknown', -1 and NaN.
        attrs: extra root attributes (provenance, encoder settings).
    """
    check_int("n_channels", n_channels, 1, 65535)
    n = len(labels)
    if not (len(times_list) == len(units_list) == n == len(speakers)):
        raise ValueError(
            "times_list, units_list, labels and speakers must have one entry per sample, got lengths "
            f"{len(times_list)}, {len(units_list)}, {n}, {len(speakers)}"
        )
    labels = np.asarray(labels, dtype=np.int64)
    speakers = np.asarray(speakers, dtype=np.int64)
    if n and (labels.min() < 0 or labels.max() >= len(keys)):
        raise ValueError(f"labels must lie in [0, {len(keys) - 1}] (one per key), got range "
                         f"[{labels.min()}, {labels.max()}]")
    if n and speakers.min() < 0:
        raise ValueError(f"speakers must be ids >= 0, got {speakers.min()}")
    times_obj, units_obj = _spike_arrays(times_list, units_list, n_channels)
    n_speakers = int(speakers.max()) + 1 if n else 0
    meta = {"gender": ["unknown"] * n_speakers, "age": [-1] * n_speakers, "body_height": [math.nan] * n_speakers}
    meta.update(speaker_meta or {})
    for name, values in meta.items():
        if len(values) < n_speakers:
            raise ValueError(f"speaker_meta[{name!r}] needs one entry per speaker id (>= {n_speakers}), "
                             f"got {len(values)}")

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            _write_ragged(f, "spikes/times", times_obj, np.float16)
            _write_ragged(f, "spikes/units", units_obj, np.uint16)
            f.create_dataset("labels", data=labels.astype(np.uint16))
            f.create_dataset("extra/speaker", data=speakers.astype(np.uint16))
            f.create_dataset("extra/keys", data=np.array([k.encode() for k in keys]))
            for name, values in meta.items():
                f.create_dataset(f"extra/meta_info/{name}", data=_h5_values(values))
            f.attrs["n_channels"] = n_channels
            for name, value in (attrs or {}).items():
                f.attrs[name] = value

    return atomic_write(path, write)


def _spike_arrays(times_list, units_list, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Check each sample's spikes and return object arrays of time-sorted float16 times and uint16 units."""
    times_obj = np.empty(len(times_list), dtype=object)
    units_obj = np.empty(len(units_list), dtype=object)
    for i, (times, units) in enumerate(zip(times_list, units_list)):
        times = np.asarray(times, dtype=np.float64).ravel()
        units = np.asarray(units).ravel()
        if times.shape != units.shape:
            raise ValueError(f"sample {i}: times and units must have the same length, got {times.size} "
                             f"and {units.size}")
        if times.size and not (np.isfinite(times).all() and times.min() >= 0 and times.max() < 65504):
            raise ValueError(f"sample {i}: spike times must be finite seconds in [0, 65504) (float16), got "
                             f"range [{times.min()}, {times.max()}]")
        if units.size and (units.min() < 0 or units.max() >= n_channels):
            raise ValueError(f"sample {i}: units must be channels in [0, {n_channels - 1}], got range "
                             f"[{units.min()}, {units.max()}]")
        order = np.argsort(times, kind="stable")
        times_obj[i] = times[order].astype(np.float16)
        units_obj[i] = units[order].astype(np.uint16)
    return times_obj, units_obj


def _write_ragged(f: h5py.File, name: str, arrays: np.ndarray, dtype) -> None:
    """Write an object array of 1-D arrays as a variable-length dataset.

    One bulk write where the lengths differ; h5py would stack equal-length arrays into a 2-D array, so
    then it writes sample by sample.
    """
    dataset = f.create_dataset(name, (len(arrays),), dtype=h5py.vlen_dtype(dtype))
    if len({a.size for a in arrays}) > 1:
        dataset[...] = arrays
    else:
        for i, a in enumerate(arrays):
            dataset[i] = a


def _h5_values(values: Sequence) -> np.ndarray:
    """Strings as bytes (as in SHD), numbers as numbers."""
    if len(values) and isinstance(values[0], str):
        return np.array([v.encode() for v in values])
    return np.asarray(values)


def write_placeholder_archive(h5_file: str | os.PathLike) -> Path:
    """Write ``<h5_file>.zip``, the archive whose presence tells tonic the data is there (see module doc).

    A real, tiny zip holding one text note (no data); written only where no archive exists.
    """
    archive = Path(f"{h5_file}.zip")
    if not archive.exists():
        note = (f"Placeholder written by helpers.data so that tonic.datasets.SHD uses {Path(h5_file).name} "
                "beside it without downloading. It holds no data.\n")

        def write(tmp: Path) -> None:
            with zipfile.ZipFile(tmp, "w") as zf:
                zf.writestr(_PLACEHOLDER_NOTE, note)

        atomic_write(archive, write)
    return archive


def _is_placeholder(archive: Path) -> bool:
    try:
        with zipfile.ZipFile(archive) as zf:
            return zf.namelist() == [_PLACEHOLDER_NOTE]
    except (OSError, zipfile.BadZipFile):
        return False


def check_shd_file(path: str | os.PathLike) -> dict:
    """Open an SHD-layout file and check its layout; return ``n_samples``, ``n_channels`` and ``keys``.

    Raises ``CorruptFileError`` naming the file (and what to do) if it is truncated, not HDF5, or lacks
    a dataset of the SHD layout.
    """
    path = Path(path)
    required = ("spikes/times", "spikes/units", "labels", "extra/speaker", "extra/keys")
    advice = "Delete it and download it again (or regenerate it)."
    try:
        with h5py.File(path, "r") as f:
            missing = [name for name in required if name not in f]
            if missing:
                raise CorruptFileError(f"{path} lacks {missing} of the SHD layout {required}. {advice}")
            lengths = {name: len(f[name]) for name in required[:4]}
            if len(set(lengths.values())) != 1:
                raise CorruptFileError(f"{path}: datasets have different lengths {lengths}. {advice}")
            keys = tuple(k.decode() if isinstance(k, bytes) else str(k) for k in f["extra/keys"][()])
            n_channels = int(f.attrs.get("n_channels", SHD_N_CHANNELS))
            return {"n_samples": lengths["labels"], "n_channels": n_channels, "keys": keys}
    except CorruptFileError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise CorruptFileError(f"{path} cannot be read as HDF5 ({err}): it is probably truncated or "
                               f"corrupt. {advice}") from err


# ---------------------------------------------------------------------------------------------------
# A synthetic SHD


def make_synthetic_shd(
    root: str | os.PathLike,
    n_train: int = 400,
    n_test: int = 100,
    n_channels: int = SHD_N_CHANNELS,
    n_classes: int = 20,
    *,
    n_speakers: int = 12,
    rate: float = 2000.0,
    noise_rate: float = 300.0,
    seed: int = 0,
) -> Path:
    """Write a learnable synthetic SHD into ``root/SHD/`` (train and test files, plus tonic's archives).

    Class ``k`` of ``K`` is a sweep of activity across channels: over a sample of duration ``d``
    (0.5-0.9 s, times a speaker's tempo) the active channel moves linearly,

        c(s) = n_channels * (a_k + (1 - 2 a_k) s),   a_k = 0.15 + 0.7 k / (K - 1),   s = (t - t0) / d,

    so class 0 sweeps up, class K-1 sweeps down, and neighbouring classes start 0.7 n_channels/(K-1)
    channels apart. Sweep spikes arrive at ``rate`` (Hz, whole population) with a channel spread of 2%
    of the channels, a speaker-specific channel shift and 2 ms time jitter; background spikes at
    ``noise_rate`` (Hz) fall anywhere. As in SHD, the last two speakers appear only in the test set
    (when ``n_speakers`` > 2). ``tonic.datasets.SHD(save_to=root)`` then reads the files offline.

    Returns ``root`` as a Path.
    """
    check_int("n_train", n_train, 1)
    check_int("n_test", n_test, 1)
    check_int("n_channels", n_channels, 1, 65535)
    check_int("n_classes", n_classes, 1)
    check_int("n_speakers", n_speakers, 1)
    check_positive("rate", rate)
    if not (math.isfinite(noise_rate) and noise_rate >= 0):
        raise ValueError(f"noise_rate must be a finite rate >= 0 in Hz, got {noise_rate!r}")
    root = Path(root).expanduser()
    rng = np.random.default_rng(seed)
    shift = rng.normal(0.0, 0.01 * n_channels, n_speakers)
    tempo = rng.uniform(0.9, 1.1, n_speakers)
    keys = SHD_KEYS[:n_classes] if n_classes <= len(SHD_KEYS) else tuple(f"class-{k}" for k in range(n_classes))
    meta = {
        "gender": [("female", "male")[i % 2] for i in range(n_speakers)],
        "age": rng.integers(20, 60, n_speakers),
        "body_height": np.round(rng.uniform(155.0, 195.0, n_speakers), 1),
    }
    n_train_speakers = n_speakers - 2 if n_speakers > 2 else n_speakers
    for split, n, n_spk in (("train", n_train, n_train_speakers), ("test", n_test, n_speakers)):
        labels = np.arange(n) % n_classes
        speakers = rng.integers(0, n_spk, n)
        samples = [_synthetic_sample(k, n_classes, n_channels, shift[s], tempo[s], rate, noise_rate, rng)
                   for k, s in zip(labels, speakers)]
        h5 = shd_path(root, split)
        write_shd_file(h5, [t for t, _ in samples], [u for _, u in samples], labels, speakers, keys=keys,
                       n_channels=n_channels, speaker_meta=meta, attrs={"source": "helpers.data.make_synthetic_shd"})
        write_placeholder_archive(h5)
    return root


def _synthetic_sample(label, n_classes, n_channels, shift, tempo, rate, noise_rate, rng):
    """One synthetic sample: spike times (s) and channels of a class-specific sweep plus background."""
    start = 0.15 + 0.7 * label / max(n_classes - 1, 1)
    duration = rng.uniform(0.5, 0.9) * tempo
    onset = rng.uniform(0.0, 0.05)
    s = rng.uniform(0.0, 1.0, rng.poisson(rate * duration))
    sweep_t = onset + s * duration + rng.normal(0.0, 2e-3, s.size)
    sweep_c = n_channels * (start + (1 - 2 * start) * s) + shift + rng.normal(0.0, 0.02 * n_channels, s.size)
    n_noise = rng.poisson(noise_rate * (duration + 0.1))
    times = np.concatenate([sweep_t, rng.uniform(0.0, duration + 0.1, n_noise)])
    units = np.concatenate([sweep_c, rng.uniform(0, n_channels, n_noise)])
    return np.clip(times, 0.0, None), np.clip(np.floor(units), 0, n_channels - 1).astype(np.int64)


# ---------------------------------------------------------------------------------------------------
# Binning on a fixed time axis


@dataclass(frozen=True)
class Binning:
    """A fixed time axis and channel pooling.

    Attributes:
        n_bins: number of time bins; the window is [0, duration).
        duration_us: window length, whole microseconds (tonic's time unit).
        pool: number of adjacent input channels summed into one.
    """

    n_bins: int
    duration_us: int
    pool: int = 1

    @property
    def dt(self) -> float:
        """Bin width, seconds."""
        return self.duration_us / self.n_bins / _US

    @property
    def duration(self) -> float:
        """Window length, seconds."""
        return self.duration_us / _US

    def key(self) -> str:
        """A file-name-safe tag of the settings, used to name caches."""
        return f"T{self.n_bins}_{self.duration_us}us_pool{self.pool}"


def make_binning(dt: float | None = None, duration: float = 1.0, n_bins: int | None = None,
                 pool: int = 1) -> Binning:
    """The time axis from ``dt`` (s, default 1e-3) or ``n_bins``, over ``duration`` (s), with ``pool``.

    Give ``dt`` or ``n_bins``, not both: ``n_bins = duration / dt`` must then be a whole number.
    """
    check_positive("duration", duration)
    check_int("pool", pool, 1)
    duration_us = round(duration * _US)
    if duration_us < 1 or abs(duration * _US - duration_us) > 1e-6 * max(1, duration_us):
        raise ValueError(f"duration must be a whole number of microseconds >= 1 us, got {duration!r} s")
    if n_bins is not None:
        if dt is not None:
            raise ValueError(f"give dt or n_bins, not both (got dt={dt!r} s and n_bins={n_bins!r})")
        check_int("n_bins", n_bins, 1, duration_us)
        return Binning(n_bins, duration_us, pool)
    dt = 1e-3 if dt is None else dt
    check_positive("dt", dt)
    bins = duration / dt
    if round(bins) < 1 or abs(bins - round(bins)) > 1e-6 * bins:
        raise ValueError(f"dt must divide duration={duration!r} s into a whole number of bins, got dt={dt!r} s "
                         f"({bins:.4g} bins); allowed: duration/n for an integer n >= 1")
    return Binning(round(bins), duration_us, pool)


def check_pool(pool: int, n_channels: int) -> int:
    """Return the pooled channel count ``n_channels // pool``; ``pool`` must divide ``n_channels``."""
    check_int("pool", pool, 1)
    if n_channels % pool:
        divisors = [d for d in range(1, n_channels + 1) if n_channels % d == 0]
        raise ValueError(f"pool must divide the {n_channels} input channels into equal groups, got pool={pool}; "
                         f"allowed: {divisors}")
    return n_channels // pool


def to_microseconds(times: np.ndarray) -> np.ndarray:
    """Spike times in seconds -> whole microseconds, truncated as tonic does (int64).

    float16 times are cast to float64 before scaling (numpy 2 would overflow float16). A margin of
    1e-3 us keeps round-off such as 0.003 * 1e6 = 2999.9999999999995 in the right microsecond.
    """
    return np.floor(np.asarray(times, dtype=np.float64) * _US + 1e-3).astype(np.int64)


def flat_bins(t_us: np.ndarray, units: np.ndarray, binning: Binning, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin spikes: return ``keep`` (mask of spikes inside [0, duration)) and their flat bin indices.

    With ``C = n_channels // pool``: bin ``b = floor(t_us * n_bins / duration_us)`` (exact integer
    arithmetic), channel ``c = floor(u / pool)``, flat index ``b * C + c``.
    """
    n_out = check_pool(binning.pool, n_channels)
    t_us = np.asarray(t_us, dtype=np.int64)
    units = np.asarray(units, dtype=np.int64)
    if units.size and (units.min() < 0 or units.max() >= n_channels):
        raise ValueError(f"units must be channels in [0, {n_channels - 1}], got range [{units.min()}, {units.max()}]")
    b = (t_us * binning.n_bins) // binning.duration_us
    keep = (t_us >= 0) & (b < binning.n_bins)
    return keep, b[keep] * n_out + units[keep] // binning.pool


def bin_spikes(times: np.ndarray, units: np.ndarray, *, dt: float | None = None, duration: float = 1.0,
               n_bins: int | None = None, n_channels: int = SHD_N_CHANNELS, pool: int = 1) -> np.ndarray:
    """Spike counts of one sample on a fixed time axis: a (n_bins, n_channels // pool) float32 array.

    Args:
        times: spike times, seconds (float16 is fine). Spikes outside [0, duration) are dropped.
        units: channel of each spike, 0 .. n_channels-1.
        dt / n_bins: bin width (s, default 1e-3) or number of bins; duration: window, s.
        pool: adjacent channels summed into one; must divide ``n_channels``.
    """
    binning = make_binning(dt, duration, n_bins, pool)
    n_out = check_pool(pool, n_channels)
    _, flat = flat_bins(to_microseconds(times), units, binning, n_channels)
    counts = np.bincount(flat, minlength=binning.n_bins * n_out)
    return counts.reshape(binning.n_bins, n_out).astype(np.float32)


# ---------------------------------------------------------------------------------------------------
# The dataset of binned counts


@dataclass(eq=False)
class SpikeCounts(Dataset):
    """Binned spike counts of N samples, stored sparsely, served as dense float32 tensors.

    ``data[i]`` is ``(x, y)`` with ``x`` of shape (n_bins, n_channels), float32 spike counts per bin,
    and ``y`` the label; ``data[[i, j, ...]]`` gives a batch (B, n_bins, n_channels). ``data.x`` makes
    the whole (N, n_bins, n_channels) tensor anew on each access: N * n_bins * n_channels * 4 bytes
    (23 GB for SHD's training set at 1 ms x 700 channels), so prefer :func:`make_loader` for large data.

    Attributes:
        events: (n_spikes,) int32, flat bin index ``b * n_channels + c`` of every spike inside the window,
            sample after sample; a count is the number of repeats of an index.
        offsets: (N + 1,) int64, sample ``i`` owns ``events[offsets[i]:offsets[i+1]]``.
        y: (N,) int64 labels. speaker: (N,) int64 speaker ids.
        n_bins, n_channels: shape of one sample. dt: bin width, seconds.
        classes: class names (``extra/keys``).
    """

    events: torch.Tensor
    offsets: torch.Tensor
    y: torch.Tensor
    speaker: torch.Tensor
    n_bins: int
    n_channels: int
    dt: float
    classes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self.dense([index])[0], self.y[index]
        index = _as_index(index, len(self))
        return self.dense(index), self.y[torch.from_numpy(index)]

    @property
    def x(self) -> torch.Tensor:
        """All samples as one dense (N, n_bins, n_channels) float32 tensor (see the memory note above)."""
        return self.dense(np.arange(len(self)))

    @property
    def n_spikes(self) -> torch.Tensor:
        """(N,) number of spikes of each sample inside the time window."""
        return self.offsets.diff()

    def _positions(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions in ``events`` of the chosen samples' spikes, and the number of spikes per sample.

        (Index arithmetic in numpy: single-threaded, so it stays fast on a busy machine.)
        """
        offsets = self.offsets.numpy()
        starts = offsets[index]
        lengths = offsets[index + 1] - starts
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        return np.arange(lengths.sum()) + shift, lengths

    def dense(self, index) -> torch.Tensor:
        """Dense float32 counts (B, n_bins, n_channels) of the samples ``index``."""
        index = _as_index(index, len(self))
        pos, lengths = self._positions(index)
        size = self.n_bins * self.n_channels
        flat = np.repeat(np.arange(len(index)) * size, lengths) + self.events.numpy()[pos]
        out = np.zeros(len(index) * size, dtype=np.float32)
        np.add.at(out, flat, 1.0)
        return torch.from_numpy(out).view(len(index), self.n_bins, self.n_channels)

    def subset(self, index) -> SpikeCounts:
        """A new ``SpikeCounts`` holding the samples ``index``, in that order."""
        index = _as_index(index, len(self))
        pos, lengths = self._positions(index)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        return replace(self, events=torch.from_numpy(self.events.numpy()[pos]), offsets=torch.from_numpy(offsets),
                       y=torch.from_numpy(self.y.numpy()[index]), speaker=torch.from_numpy(self.speaker.numpy()[index]))


def _as_index(index, n: int) -> np.ndarray:
    """Sample indices (int, sequence, tensor, slice) as a 1-D int64 array in [0, n)."""
    if isinstance(index, slice):
        return np.arange(n)[index]
    if isinstance(index, torch.Tensor):
        index = index.numpy()
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    if index.size and (index.min() < -n or index.max() >= n):
        raise IndexError(f"index out of range for {n} samples: [{index.min()}, {index.max()}]")
    return index % max(n, 1)


def split_train_val(data: SpikeCounts, val_fraction: float = 0.1, seed: int = 0) -> tuple[SpikeCounts, SpikeCounts]:
    """Split a training set into training and validation sets, stratified by label, reproducibly.

    From each class, ``round(val_fraction * n_class)`` samples (chosen by a generator seeded with ``seed``)
    go to validation. SHD has no validation split: select models on this one, never on the test set.
    """
    if not (isinstance(val_fraction, (int, float)) and 0 < val_fraction < 1):
        raise ValueError(f"val_fraction must be a fraction in (0, 1), got {val_fraction!r}")
    rng = np.random.default_rng(seed)
    labels = data.y.numpy()
    val = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        val.append(members[: round(val_fraction * len(members))])
    val = np.sort(np.concatenate(val))
    train = np.setdiff1d(np.arange(len(data)), val)
    return data.subset(train), data.subset(val)


def make_loader(data: SpikeCounts, batch_size: int = 64, shuffle: bool = False, seed: int = 0,
                drop_last: bool = False) -> DataLoader:
    """A DataLoader of batches ``(x, y)``: x (B, n_bins, n_channels) float32 counts, y (B,) int64 labels.

    Each batch is made in one vectorised step (no per-sample collation); ``shuffle`` draws the order
    from a ``torch.Generator`` seeded with ``seed``.
    """
    check_int("batch_size", batch_size, 1)
    sampler = RandomSampler(data, generator=torch.Generator().manual_seed(seed)) if shuffle else SequentialSampler(data)
    return DataLoader(data, batch_size=None, sampler=BatchSampler(sampler, batch_size, drop_last))


# ---------------------------------------------------------------------------------------------------
# SHD through tonic, with a cache


def ensure_shd_file(root: str | os.PathLike | None, split: str, download: bool = True) -> Path:
    """Make sure ``root/SHD/shd_<split>.h5`` is there and readable; download it through tonic if not.

    Where the file exists, a placeholder archive is written if needed so that tonic does not download
    (see the module doc). Where it is absent and ``download`` is False or the download fails, raises
    ``FileNotFoundError`` naming the exact path to put the file at by hand; nothing half-downloaded
    remains. A truncated or corrupt file raises ``CorruptFileError``.
    """
    root = default_root() if root is None else Path(root).expanduser()
    h5 = shd_path(root, split)
    if not h5.exists():
        if not download:
            raise FileNotFoundError(_missing_message(h5, "download=False"))
        _download_shd(h5)
    write_placeholder_archive(h5)
    check_shd_file(h5)
    return h5


def _missing_message(h5: Path, reason: str) -> str:
    return (f"SHD file {h5} is missing and could not be downloaded ({reason}). Download {h5.name}.zip from "
            f"{SHD_URL} (zenkelab.org/datasets) on a machine with network, unzip it and put {h5.name} at "
            f"{h5.resolve()}; the archive tonic checks for is then written automatically.")


def _download_shd(h5: Path) -> None:
    """Download and extract ``h5``'s archive with tonic's own downloader; clean up if that fails."""
    import tonic.datasets
    import tonic.download_utils

    archive = Path(f"{h5}.zip")
    if archive.exists() and _is_placeholder(archive):
        archive.unlink()  # a placeholder whose data file is gone: let tonic fetch the real archive
    split = h5.stem.split("_")[-1]
    md5 = getattr(tonic.datasets.SHD, f"{split}_md5")
    try:
        tonic.download_utils.download_and_extract_archive(SHD_URL + archive.name, str(h5.parent),
                                                          filename=archive.name, md5=md5)
        if not h5.exists():
            raise FileNotFoundError(f"{archive} did not contain {h5.name}")
    except (Exception, KeyboardInterrupt) as err:
        h5.unlink(missing_ok=True)
        if archive.exists() and not tonic.download_utils.check_integrity(str(archive), md5):
            archive.unlink()
        if isinstance(err, KeyboardInterrupt):
            raise
        raise FileNotFoundError(_missing_message(h5, f"{type(err).__name__}: {err}")) from err


def _read_with_tonic(root: Path, split: str) -> dict:
    """All spikes of one split, through ``tonic.datasets.SHD``: times (us), units, sample ids, labels, ...

    tonic locates (and if need be downloads) the file and reads its keys and speakers; the spikes are
    then read from the file tonic opened in one bulk read per dataset, converted exactly as tonic's
    ``__getitem__`` converts them (``t_us = int(float64(t) * 1e6)``): one read instead of 10,000 calls to
    ``__getitem__``, each of which reopens the file (~5 ms each). The tests check both give the same events.
    """
    import tonic.datasets

    h5 = shd_path(root, split)
    try:
        dataset = tonic.datasets.SHD(save_to=str(root), train=(split == "train"))
        with h5py.File(Path(dataset.location_on_system) / dataset.data_filename, "r") as f:
            times, units, labels = f["spikes/times"][()], f["spikes/units"][()], f["labels"][()]
        speaker = np.asarray(dataset.speaker, dtype=np.int64)
        classes = tuple(k.decode() if isinstance(k, bytes) else str(k) for k in dataset.classes)
    except (OSError, KeyError, ValueError) as err:
        raise CorruptFileError(f"{h5} could not be read through tonic ({type(err).__name__}: {err}): it is "
                               "probably truncated or corrupt. Delete it and download it again (or regenerate it).") from err
    lengths = np.array([len(t) for t in times], dtype=np.int64)
    empty = [np.zeros(0)]
    return {
        "t_us": (np.concatenate(list(times) + empty).astype(np.float64) * _US).astype(np.int64),
        "units": np.concatenate(list(units) + empty).astype(np.int64),
        "sample": np.repeat(np.arange(len(times)), lengths),
        "labels": labels.astype(np.int64),
        "speaker": speaker,
        "classes": classes,
    }


def _bin_dataset(raw: dict, binning: Binning, n_channels: int) -> dict:
    """Bin every sample's spikes at once (vectorised over all spikes of the split)."""
    keep, flat = flat_bins(raw["t_us"], raw["units"], binning, n_channels)
    n = len(raw["labels"])
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(np.bincount(raw["sample"][keep], minlength=n))
    return {
        "events": torch.from_numpy(flat.astype(np.int32)),
        "offsets": torch.from_numpy(offsets),
        "y": torch.from_numpy(raw["labels"]),
        "speaker": torch.from_numpy(raw["speaker"]),
        "classes": list(raw["classes"]),
    }


def _fingerprint(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _load_cache(path: Path, fingerprint: list[int]) -> dict | None:
    """The cached counts, or None (with a message) where the cache is stale, foreign or unreadable."""
    try:
        cached = torch.load(path, weights_only=True)
        version = cached.get("cache_version")
    except Exception as err:  # a truncated cache cannot be written by us (atomic), but a disk can fail
        warnings.warn(f"cache {path} is unreadable ({type(err).__name__}): rebuilding it", stacklevel=3)
        return None
    if version != CACHE_VERSION:
        warnings.warn(f"cache {path} was written by cache version {version}, this code writes version "
                      f"{CACHE_VERSION}: rebuilding it", stacklevel=3)
        return None
    if cached.get("source") != fingerprint:
        warnings.warn(f"cache {path} was built from an older version of its SHD file: rebuilding it", stacklevel=3)
        return None
    return cached


def load_shd(
    root: str | os.PathLike | None = None,
    split: str = "train",
    *,
    dt: float | None = None,
    duration: float = 1.0,
    n_bins: int | None = None,
    pool: int = 1,
    download: bool = True,
    cache: bool = True,
) -> SpikeCounts:
    """One split of an SHD-layout dataset (SHD, synthetic or converted FSDD), binned on a fixed time axis.

    The spikes are read through ``tonic.datasets.SHD(save_to=root, train=...)``, binned (see the module
    doc: bin width ``dt``, window [0, duration), ``pool`` adjacent channels summed) and cached in
    ``root/cache/<split>_<settings>.pt``. The cache records ``CACHE_VERSION`` and the source file's size
    and modification time; a cache of another version or of a changed file is rebuilt with a warning.

    Args:
        root: dataset root holding ``SHD/shd_<split>.h5`` (default :func:`default_root`).
        split: 'train' or 'test' (for a validation set use :func:`split_train_val` or :func:`load_shd_splits`).
        dt: bin width, seconds (default 1e-3 when ``n_bins`` is not given).
        duration: time window, seconds; later spikes are dropped (SHD recordings last up to ~1.4 s).
        n_bins: number of bins instead of ``dt`` (then ``dt = duration / n_bins``).
        pool: number of adjacent channels summed into one; must divide the file's channel count (700 for SHD).
        download: allow tonic to download a missing SHD file.
        cache: read and write the binned cache.
    """
    check_choice("split", split, SPLITS)
    binning = make_binning(dt, duration, n_bins, pool)
    root = default_root() if root is None else Path(root).expanduser()
    h5 = ensure_shd_file(root, split, download=download)
    n_channels = check_shd_file(h5)["n_channels"]
    n_out = check_pool(pool, n_channels)
    if binning.n_bins * n_out >= 2**31:
        raise ValueError(f"n_bins * channels must stay below 2**31 (int32 bin indices), got {binning.n_bins} bins x "
                         f"{n_out} channels: use a larger dt or pool")
    cache_file = root / "cache" / f"{split}_{binning.key()}.pt"
    fingerprint = _fingerprint(h5)
    binned = _load_cache(cache_file, fingerprint) if cache and cache_file.exists() else None
    if binned is None:
        binned = _bin_dataset(_read_with_tonic(root, split), binning, n_channels)
        if cache:
            record = {**binned, "cache_version": CACHE_VERSION, "source": fingerprint,
                      "n_bins": binning.n_bins, "duration_us": binning.duration_us, "pool": pool}
            atomic_write(cache_file, lambda tmp: torch.save(record, tmp))
    return SpikeCounts(events=binned["events"], offsets=binned["offsets"], y=binned["y"], speaker=binned["speaker"],
                       n_bins=binning.n_bins, n_channels=n_out, dt=binning.dt, classes=tuple(binned["classes"]))


@dataclass
class Splits:
    """Training, validation (carved from training) and test sets."""

    train: SpikeCounts
    val: SpikeCounts
    test: SpikeCounts


def load_shd_splits(root: str | os.PathLike | None = None, *, val_fraction: float = 0.1, seed: int = 0,
                    **binning) -> Splits:
    """:func:`load_shd` for both files, with a seeded, label-stratified validation set from training.

    ``binning`` takes :func:`load_shd`'s keywords (dt, duration, n_bins, pool, download, cache).
    """
    train, val = split_train_val(load_shd(root, "train", **binning), val_fraction, seed)
    return Splits(train=train, val=val, test=load_shd(root, "test", **binning))


# ---------------------------------------------------------------------------------------------------
# Audio to spikes: a cochlea-like encoder


@dataclass(frozen=True)
class CochleaParams:
    """Settings of the audio-to-spike encoder (see :func:`encode_audio`).

    Attributes:
        n_channels: number of filters / spiking units, one per characteristic frequency.
        f_min: lowest centre frequency, Hz.
        f_max: highest centre frequency, Hz (default 0.45 x sample rate, just under Nyquist).
        envelope_rate: sample rate of the envelope and of spike generation, Hz.
        envelope_cutoff: cutoff of the 2nd-order Butterworth envelope low-pass, Hz.
        rate_full_scale: firing rate of the unit tuned to a full-scale (amplitude 1) pure tone, Hz.
        threshold_dbfs: a tone below this level (dB re full scale) in a unit's band drives no spikes.
    """

    n_channels: int = SHD_N_CHANNELS
    f_min: float = 50.0
    f_max: float | None = None
    envelope_rate: float = 2000.0
    envelope_cutoff: float = 100.0
    rate_full_scale: float = 300.0
    threshold_dbfs: float = -50.0

    def check(self, fs: float) -> None:
        """Raise ``ValueError`` naming the parameter where a setting does not fit the sample rate ``fs`` (Hz)."""
        check_int("n_channels", self.n_channels, 1, 65535)
        check_positive("f_min", self.f_min)
        f_max = self.top_frequency(fs)
        if not self.f_min < f_max < fs / 2:
            raise ValueError(f"f_max must lie in (f_min, fs/2) = ({self.f_min}, {fs / 2}) Hz, got {f_max}")
        check_positive("envelope_rate", self.envelope_rate)
        check_positive("envelope_cutoff", self.envelope_cutoff)
        if not self.envelope_cutoff < min(self.envelope_rate, fs) / 2:
            raise ValueError(f"envelope_cutoff must be below half the envelope rate ({min(self.envelope_rate, fs) / 2}"
                             f" Hz), got {self.envelope_cutoff}")
        check_positive("rate_full_scale", self.rate_full_scale)
        if not self.threshold_dbfs < 0:
            raise ValueError(f"threshold_dbfs must be below 0 dB (full scale), got {self.threshold_dbfs}")

    def top_frequency(self, fs: float) -> float:
        """The highest centre frequency, Hz."""
        return 0.45 * fs if self.f_max is None else self.f_max


def erb_rate(f: np.ndarray) -> np.ndarray:
    """ERB-rate (number of ERBs below f, Glasberg & Moore 1990): E(f) = 21.4 log10(1 + 0.00437 f), f in Hz."""
    return 21.4 * np.log10(1.0 + 0.00437 * np.asarray(f, dtype=np.float64))


def erb_space(f_min: float, f_max: float, n: int) -> np.ndarray:
    """``n`` centre frequencies (Hz) equally spaced on the ERB-rate scale from ``f_min`` to ``f_max``."""
    e = np.linspace(erb_rate(f_min), erb_rate(f_max), n)
    return (10.0 ** (e / 21.4) - 1.0) / 0.00437


def centre_frequencies(fs: float, params: CochleaParams = CochleaParams()) -> np.ndarray:
    """The encoder's centre frequencies for sample rate ``fs`` (Hz), channel 0 lowest."""
    return erb_space(params.f_min, params.top_frequency(fs), params.n_channels)


@lru_cache(maxsize=32)
def _gammatone_response(n_fft: int, fs: float, params: CochleaParams) -> np.ndarray:
    """Frequency responses (n_channels, n_fft // 2 + 1), complex64, of 4th-order gammatone filters.

    The complex gammatone g(t) = t^3 exp(-2 pi b t) exp(2 pi i fc t), t >= 0, has the transform
    G(f) proportional to (1 + i (f - fc) / b)^-4, with b = 1.019 ERB(fc), ERB(f) = 24.7 (4.37 f / 1000 + 1) Hz.
    The real filter 2 Re g has H(f) = G(f) + conj(G(-f)), normalised to |H(fc)| = 1 (0 dB at the centre).
    """
    fc = centre_frequencies(fs, params)[:, None]
    b = 1.019 * 24.7 * (4.37 * fc / 1000.0 + 1.0)
    f = scipy.fft.rfftfreq(n_fft, 1.0 / fs)[None, :]

    def transfer(freq):
        return (1.0 + 1j * (freq - fc) / b) ** -4 + np.conj((1.0 + 1j * (-freq - fc) / b) ** -4)

    return (transfer(f) / np.abs(transfer(fc))).astype(np.complex64)


def _full_scale_envelope() -> float:
    """Envelope of a full-scale tone at a unit's centre frequency: the mean of cbrt(max(sin, 0)).

    (1 / 2 pi) integral_0^pi sin(x)^(1/3) dx = Gamma(2/3) / (2 sqrt(pi) Gamma(7/6)) = 0.4118.
    """
    return float(scipy.special.gamma(2 / 3) / (2 * math.sqrt(math.pi) * scipy.special.gamma(7 / 6)))


def cochleagram(waveform: np.ndarray, fs: float, params: CochleaParams = CochleaParams()) -> tuple[np.ndarray, float]:
    """Envelope of each channel: (n_channels, n_frames) float32 and its sample rate (Hz).

    Per channel c with gammatone filter h_c (see ``_gammatone_response``):

        e_c = LP * block_mean( cbrt( max(h_c * x, 0) ) )

    i.e. bandpass filtering (FFT-based, all channels at once, zero-padded by 0.1 s so the filter
    tails do not wrap around), half-wave rectification, cube-root compression, averaging over blocks of
    ``round(fs / envelope_rate)`` samples and a 2nd-order Butterworth low-pass at ``envelope_cutoff``;
    clipped at 0. Loudness: scaling x by a multiplies e by a^(1/3) exactly (the filters are linear,
    rectification is positively homogeneous). A full-scale tone at fc gives e_c = 0.4118.

    Args:
        waveform: mono signal, full-scale units (1.0 = the largest value; int16 audio / 32768).
        fs: sample rate of ``waveform``, Hz.
    """
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim != 1 or waveform.size == 0 or not np.isfinite(waveform).all():
        raise ValueError(f"waveform must be a non-empty 1-D array of finite samples, got shape {waveform.shape}")
    check_positive("fs", fs)
    params.check(fs)
    n = waveform.size
    block = max(1, round(fs / params.envelope_rate))
    n_frames = -(-n // block)
    n_fft = -(-max(n + int(0.1 * fs), n_frames * block) // 1024) * 1024  # few lengths: responses are cached
    spectrum = scipy.fft.rfft(waveform, n_fft)
    band = scipy.fft.irfft(_gammatone_response(n_fft, float(fs), params) * spectrum, n_fft, axis=-1)
    band = band[:, : n_frames * block]
    np.maximum(band, 0.0, out=band)
    np.cbrt(band, out=band)
    frames = sum(band[:, k::block] for k in range(block)) / block  # block means (faster than a strided mean)
    rate = fs / block
    sos = scipy.signal.butter(2, params.envelope_cutoff, fs=rate, output="sos")
    envelope = scipy.signal.sosfilt(sos, frames, axis=-1).astype(np.float32)
    return np.maximum(envelope, 0.0), rate


def envelope_to_rate(envelope: np.ndarray, params: CochleaParams = CochleaParams()) -> np.ndarray:
    """Firing rate (Hz) from the envelope: r = r_fs * max(e - e_th, 0) / (e_fs - e_th).

    e_fs = 0.4118 is the envelope of a full-scale tone and e_th = e_fs * 10^(threshold_dbfs / 60) that of a
    tone at the threshold level (the 1/3 power turns dB/20 into dB/60), so a full-scale tone drives its
    unit at ``rate_full_scale`` and a tone at or below ``threshold_dbfs`` drives it not at all.
    """
    e_fs = _full_scale_envelope()
    e_th = e_fs * 10.0 ** (params.threshold_dbfs / 60.0)
    return params.rate_full_scale * np.maximum(envelope.astype(np.float64) - e_th, 0.0) / (e_fs - e_th)


def integrate_and_fire(rate: np.ndarray, dt: float, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spike times (s) and units of non-leaky integrate-and-fire units driven by ``rate`` (Hz).

    Unit c integrates its rate, Phi_c(t) = phase_c + integral_0^t r_c dt', and fires whenever Phi_c
    crosses an integer (threshold 1, reset by subtraction): the spike count up to t is
    floor(Phi_c(t)), non-decreasing in the rate. Within a step of length ``dt`` (s) the rate is
    constant, so each crossing time is found exactly by linear interpolation; all units at once.

    Args:
        rate: (n_units, n_steps) firing rates >= 0, Hz.
        phase: (n_units,) initial phases in [0, 1).
    """
    end = np.cumsum(rate * dt, axis=1)
    end += phase[:, None]
    start = np.concatenate([phase[:, None], end[:, :-1]], axis=1)
    counts = np.diff(np.floor(end), axis=1, prepend=0.0).astype(np.int64)  # floor(phase) = 0
    unit, step = np.nonzero(counts)
    k = counts[unit, step]
    unit, step = np.repeat(unit, k), np.repeat(step, k)
    first = np.repeat(np.cumsum(k) - k, k)
    level = np.floor(start[unit, step]) + 1 + (np.arange(k.sum()) - first)
    fraction = (level - start[unit, step]) / (end[unit, step] - start[unit, step])
    times = (step + fraction) * dt
    order = np.argsort(times, kind="stable")
    return times[order], unit[order]


def encode_audio(waveform: np.ndarray, fs: float, params: CochleaParams = CochleaParams(),
                 seed: int | Sequence[int] = 0) -> tuple[np.ndarray, np.ndarray]:
    """Audio to spikes: spike times (s, float64) and units (int64), sorted by time.

    :func:`cochleagram` -> :func:`envelope_to_rate` -> :func:`integrate_and_fire`, with initial phases
    drawn uniformly in [0, 1) from ``np.random.default_rng(seed)``: deterministic given the seed.

    Loudness: multiplying the waveform by a >= 0 multiplies every envelope by a^(1/3), so each unit's
    spike count floor(phase + integral r dt) never decreases with a. Well above threshold it grows like
    a^(1/3) (x1.47 per +10 dB, x2.15 per +20 dB): compression makes it sublinear. Near threshold, where
    more units start to fire, it grows faster (still below x10 per +20 dB for speech-like sounds). A silent
    input, or one whose bands all stay below ``threshold_dbfs``, gives no spikes.
    """
    envelope, rate = cochleagram(waveform, fs, params)
    phase = np.random.default_rng(seed).uniform(0.0, 1.0, params.n_channels)
    return integrate_and_fire(envelope_to_rate(envelope, params), 1.0 / rate, phase)


@dataclass
class CochleaView:
    """Everything needed to plot a recording's spectrogram beside its cochleagram and spike raster.

    Attributes:
        waveform: the signal (full-scale units); fs: its sample rate, Hz.
        spec_f, spec_t, spec_db: spectrogram frequencies (Hz), frame times (s), power (dB re full scale).
        centre_f: (n_channels,) centre frequency of each unit, Hz (channel 0 lowest).
        envelope: (n_channels, n_frames) envelopes; envelope_t: (n_frames,) their times, s.
        times, units: spike times (s) and units.
    """

    waveform: np.ndarray
    fs: float
    spec_f: np.ndarray
    spec_t: np.ndarray
    spec_db: np.ndarray
    centre_f: np.ndarray
    envelope: np.ndarray
    envelope_t: np.ndarray
    times: np.ndarray
    units: np.ndarray = field(repr=False)


def cochlea_view(waveform: np.ndarray, fs: float, params: CochleaParams = CochleaParams(), seed: int = 0,
                 window: float = 0.032) -> CochleaView:
    """Spectrogram (Hann windows of ``window`` s, 75% overlap), cochleagram and spikes of one recording."""
    waveform = np.asarray(waveform, dtype=np.float64)
    nperseg = min(max(8, round(window * fs)), waveform.size)
    spec_f, spec_t, power = scipy.signal.spectrogram(waveform, fs, window="hann", nperseg=nperseg,
                                                     noverlap=nperseg * 3 // 4, scaling="spectrum")
    envelope, rate = cochleagram(waveform, fs, params)
    times, units = encode_audio(waveform, fs, params, seed)
    return CochleaView(waveform=waveform, fs=fs, spec_f=spec_f, spec_t=spec_t,
                       spec_db=10 * np.log10(power + 1e-12), centre_f=centre_frequencies(fs, params),
                       envelope=envelope, envelope_t=(np.arange(envelope.shape[1]) + 0.5) / rate,
                       times=times, units=units)


# ---------------------------------------------------------------------------------------------------
# FSDD to the SHD layout


@dataclass(frozen=True)
class FsddRecording:
    """One FSDD file ``recordings/{digit}_{speaker}_{index}.wav``."""

    path: Path
    digit: int
    speaker: str
    index: int


def list_fsdd(fsdd_dir: str | os.PathLike) -> list[FsddRecording]:
    """The recordings of an FSDD folder, sorted by (digit, speaker, index); clear error if it is missing."""
    folder = Path(fsdd_dir).expanduser() / "recordings"
    if not folder.is_dir():
        raise FileNotFoundError(f"FSDD folder not found: {folder} does not exist. Pass the folder holding "
                                "recordings/{digit}_{speaker}_{index}.wav (the course keeps it at ../shared/data/fsdd).")
    found = []
    for path in folder.iterdir():
        match = _FSDD_NAME.match(path.name)
        if match:
            found.append(FsddRecording(path, int(match[1]), match[2], int(match[3])))
    if not found:
        raise FileNotFoundError(f"no FSDD recordings named {{digit}}_{{speaker}}_{{index}}.wav in {folder}")
    return sorted(found, key=lambda r: (r.digit, r.speaker, r.index))


def fsdd_split(recording: FsddRecording, split: str = "official", held_out_speaker: str | None = None) -> str:
    """'train' or 'test': official split (repetitions 0-4 are test) or one speaker held out entirely."""
    if split == "official":
        return "test" if recording.index < 5 else "train"
    return "test" if recording.speaker == held_out_speaker else "train"


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """A mono WAV file as float32 full-scale units (int16 / 32768) and its sample rate, Hz."""
    fs, data = scipy.io.wavfile.read(path)
    if data.ndim > 1:
        data = data.mean(axis=1)
    if np.issubdtype(data.dtype, np.integer):
        data = data / float(np.iinfo(data.dtype).max + 1)
    return data.astype(np.float32), int(fs)


def normalise_level(waveform: np.ndarray, level_dbfs: float | None) -> np.ndarray:
    """Scale a waveform to an RMS of ``level_dbfs`` dB re full scale (None: unchanged; silence stays silent)."""
    if level_dbfs is None:
        return waveform
    rms = float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64)))) if waveform.size else 0.0
    return waveform if rms == 0 else waveform * np.float32(10 ** (level_dbfs / 20) / rms)


def _encode_file(job: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Worker: read, normalise and encode one recording (top level, so processes can run it)."""
    path, params, level_dbfs, seed = job
    waveform, fs = read_wav(path)
    times, units = encode_audio(normalise_level(waveform, level_dbfs), fs, params, seed)
    return times.astype(np.float16), units.astype(np.uint16)


def convert_fsdd(
    fsdd_dir: str | os.PathLike,
    out_root: str | os.PathLike,
    split: str = "official",
    held_out_speaker: str | None = None,
    n_channels: int = SHD_N_CHANNELS,
    *,
    params: CochleaParams | None = None,
    level_dbfs: float | None = -20.0,
    recordings: Iterable[str] | None = None,
    n_workers: int | None = None,
    seed: int = 0,
) -> Path:
    """Turn FSDD recordings into SHD-layout spike files readable by :func:`load_shd` (through tonic).

    Writes ``out_root/SHD/shd_train.h5`` and ``shd_test.h5`` (with tonic's placeholder archives) and
    ``out_root/README.txt`` (provenance; the spikes inherit FSDD's CC BY-SA 4.0 license). Labels are the
    digits 0-9 (keys 'zero'..'nine'); speakers are integer ids in alphabetical order of their names, which
    are stored with gender and accent in ``extra/meta_info`` (age and body height unknown: -1, NaN).

    Args:
        fsdd_dir: folder with ``recordings/`` (and optionally ``speakers.csv``); never copied.
        out_root: dataset root to write.
        split: 'official' (repetitions 0-4 test, 5-49 train) or 'speaker_out' (one speaker is the test set).
        held_out_speaker: the test speaker for 'speaker_out'.
        n_channels: number of cochlear channels (``params.n_channels`` is set to it).
        params: encoder settings (default ``CochleaParams()``).
        level_dbfs: each recording is scaled to this RMS level (dB re full scale) before encoding, so
            that speakers recorded at different gains drive similar rates; None keeps the recorded level.
        recordings: file names (e.g. '3_theo_7.wav') to convert instead of all.
        n_workers: processes (default: all CPU cores; 1 runs in this process).
        seed: base seed; recording (digit, speaker, index) gets its own seed, so results do not depend on
            the order or the number of workers.
    """
    check_choice("split", split, FSDD_SPLITS)
    check_int("n_channels", n_channels, 1, 65535)
    params = replace(params or CochleaParams(), n_channels=n_channels)
    params.check(8000.0)
    everything = list_fsdd(fsdd_dir)
    speakers = sorted({r.speaker for r in everything})
    if split == "speaker_out" and held_out_speaker not in speakers:
        raise ValueError(f"held_out_speaker must be one of {speakers} for split='speaker_out', got {held_out_speaker!r}")
    if split == "official" and held_out_speaker is not None:
        raise ValueError(f"held_out_speaker is only used with split='speaker_out', got {held_out_speaker!r} "
                         "with split='official'")
    chosen = everything
    if recordings is not None:
        wanted = set(recordings)
        chosen = [r for r in everything if r.path.name in wanted]
        unknown = wanted - {r.path.name for r in chosen}
        if unknown:
            raise ValueError(f"recordings not found in {Path(fsdd_dir) / 'recordings'}: {sorted(unknown)[:5]}")
    speaker_id = {name: i for i, name in enumerate(speakers)}
    jobs = [(r.path, params, level_dbfs, (seed, r.digit, speaker_id[r.speaker], r.index)) for r in chosen]
    spikes = _run_jobs(jobs, n_workers)
    meta = _fsdd_speaker_meta(Path(fsdd_dir).expanduser(), speakers)
    out_root = Path(out_root).expanduser()
    attrs = {"source": "Free Spoken Digit Dataset (CC BY-SA 4.0), converted by helpers.data.convert_fsdd",
             "encoder": repr(params), "level_dbfs": "none" if level_dbfs is None else level_dbfs,
             "split": split, "held_out_speaker": held_out_speaker or ""}
    for part in SPLITS:
        members = [i for i, r in enumerate(chosen) if fsdd_split(r, split, held_out_speaker) == part]
        h5 = shd_path(out_root, part)
        write_shd_file(h5, [spikes[i][0] for i in members], [spikes[i][1] for i in members],
                       [chosen[i].digit for i in members], [speaker_id[chosen[i].speaker] for i in members],
                       keys=FSDD_KEYS, n_channels=n_channels, speaker_meta=meta,
                       attrs={**attrs, "files": "\n".join(chosen[i].path.name for i in members)})
        write_placeholder_archive(h5)
    _write_fsdd_readme(out_root, params, level_dbfs, split, held_out_speaker)
    return out_root


def _run_jobs(jobs: list, n_workers: int | None) -> list:
    n_workers = (os.cpu_count() or 1) if n_workers is None else check_int("n_workers", n_workers, 1)
    if n_workers == 1 or len(jobs) < 2:
        return [_encode_file(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=n_workers) as pool:
        return list(pool.map(_encode_file, jobs, chunksize=max(1, len(jobs) // (8 * n_workers))))


def _fsdd_speaker_meta(fsdd_dir: Path, speakers: list[str]) -> dict[str, list]:
    """Per-speaker name, gender and accent (from speakers.csv where present), age -1, body height NaN."""
    info: dict[str, dict] = {}
    table = fsdd_dir / "speakers.csv"
    if table.exists():
        with open(table, newline="") as f:
            info = {row["speaker"]: row for row in csv.DictReader(f)}
    return {
        "name": list(speakers),
        "gender": [info.get(s, {}).get("gender", "unknown") for s in speakers],
        "accent": [info.get(s, {}).get("accent", "unknown") for s in speakers],
        "age": [-1] * len(speakers),
        "body_height": [math.nan] * len(speakers),
    }


def _write_fsdd_readme(out_root: Path, params: CochleaParams, level_dbfs, split, held_out_speaker) -> None:
    text = (
        "Spike trains derived from the Free Spoken Digit Dataset (Zohar Jackson and contributors),\n"
        "licensed CC BY-SA 4.0; these derived files fall under the same license.\n"
        f"Made by helpers.data.convert_fsdd: split={split!r}, held_out_speaker={held_out_speaker!r},\n"
        f"level_dbfs={level_dbfs!r}, {params!r}.\n"
        "Layout: SHD (spikes/times, spikes/units, labels, extra/...), in SHD/ where tonic.datasets.SHD looks.\n"
    )
    atomic_write(out_root / "README.txt", lambda tmp: tmp.write_text(text))
