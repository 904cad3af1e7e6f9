r"""The spoken-digit experiment: SHD (or FSDD / synthetic spikes in the SHD layout) with recurrent and
multi-layer LIF networks, with and without surrogate gradient flossing.

One function, :func:`run_digits`, is used by notebook 08 and by ``scripts/spoken_digits_study.py``:
load the data (:mod:`helpers.data`), build the network, train it with the course's one training loop
(:func:`helpers.training.train`, epoch by epoch through its resumable checkpoints), keep the model with the
best **validation** accuracy (:func:`train_with_selection`, which is never given the test set), and only
then measure the test accuracy once, the efficiency, the BPTT signal and the surrogate spectrum.

**Efficiency (NeuroBench, Yik et al. 2025).** For one sample of T steps, with hidden spikes
:math:`S_l[t] \in \{0,1\}^{N_l}` and input counts :math:`x[t]`:

.. math::  \text{spikes per neuron} = \frac{1}{\sum_l N_l} \sum_{l,t,j} S_{l,j}[t]                         \qquad (8.1)

.. math::  \text{activation sparsity} = 1 - \frac{\#\{(l,t,j) : S_{l,j}[t] \neq 0\}}{T \sum_l N_l}       \qquad (8.2)

.. math::  \text{SynOps} = \sum_{t}\sum_{j} [a_j[t] \neq 0]\; \mathrm{fanout}_j,\qquad
           \mathrm{fanout}_j = \#\{i : W_{ij} \neq 0\} \text{ over every matrix unit } j \text{ feeds}   \qquad (8.3)

summed over the presynaptic populations: the input channels (into :math:`W_1`), every hidden layer
(into its recurrent :math:`V_l` and into :math:`W_{l+1}`, or the readout :math:`W_\mathrm{out}` for the
last layer). An activation of exactly 1 (a spike) costs one accumulate (AC) per nonzero synapse; a
graded nonzero activation (a binned input count of 2 or more) one multiply-accumulate (MAC) per synapse.
Neuron-state updates (leak, reset, the readout's leak) are not synaptic operations and are not counted;
there is no other non-spiking (dense) part in these networks. Activation sparsity counts the hidden
spiking neurons only (the readout is a non-spiking integrator).
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .config import REPO_ROOT
from .data import (SpikeCounts, Splits, convert_fsdd, default_root, load_shd, load_shd_splits, make_loader,
                   shd_path, split_train_val)
from .gradients import bptt_signal
from .lyapunov import lyapunov_spectrum
from .models import MultiLayerSNN, RecurrentSNN
from .neurons import LIFParams
from .provenance import atomic_torch_save
from .training import evaluate, reduce_readout, train

DATASETS = ("fsdd", "shd", "synthetic")
MODELS = ("recurrent", "multilayer")
SPLITS = ("official", "speaker_out")

#: Settings per dataset. ``fsdd``: measured here on 2 shared CPU cores (a run takes a few minutes);
#: ``shd``: the recommended GPU configuration (NOT measured here: this machine cannot download SHD);
#: ``synthetic``: a tiny sanity-level setting for quick mode and tests.
#: Times in seconds; rates are spike probabilities per step.
DIGITS_SETTINGS = {
    "fsdd": dict(
        dt=10e-3, duration=0.8, pool=10, val_fraction=0.1, hidden=128, multilayer_hidden=(96, 96),
        tau_mem=20e-3, tau_syn=10e-3, reset="subtract", surrogate="fast_sigmoid", steepness=10.0,
        init="fluctuation", input_rate=0.5, hidden_rate=0.05, sigma_u=1.0, tau_out=40e-3, readout="max",
        lr=2e-3, batch_size=64, epochs=12, clip=1.0,
        floss_k=4, floss_transient=20, floss_batch=4, floss_lr=3e-3, floss_path="frozen",
        floss_pre=20, floss_episode_updates=20, floss_episode_epochs=(2, 4),
        lyap_k=16, lyap_transient=20, eval_batch=64,
    ),
    "shd": dict(
        dt=4e-3, duration=1.4, pool=5, val_fraction=0.1, hidden=512, multilayer_hidden=(256, 256),
        tau_mem=20e-3, tau_syn=10e-3, reset="subtract", surrogate="fast_sigmoid", steepness=10.0,
        init="fluctuation", input_rate=0.5, hidden_rate=0.05, sigma_u=1.0, tau_out=40e-3, readout="max",
        lr=1e-3, batch_size=128, epochs=150, clip=1.0,
        floss_k=8, floss_transient=50, floss_batch=8, floss_lr=3e-3, floss_path="frozen",
        floss_pre=100, floss_episode_updates=100, floss_episode_epochs=(10, 20),
        lyap_k=16, lyap_transient=50, eval_batch=256,
    ),
    "synthetic": dict(
        dt=20e-3, duration=1.0, pool=20, val_fraction=0.2, hidden=32, multilayer_hidden=(24, 24),
        tau_mem=20e-3, tau_syn=10e-3, reset="subtract", surrogate="fast_sigmoid", steepness=10.0,
        init="fluctuation", input_rate=0.5, hidden_rate=0.05, sigma_u=1.0, tau_out=40e-3, readout="max",
        lr=1e-2, batch_size=32, epochs=6, clip=1.0,
        floss_k=2, floss_transient=10, floss_batch=2, floss_lr=3e-3, floss_path="frozen",
        floss_pre=3, floss_episode_updates=3, floss_episode_epochs=(2,),
        lyap_k=4, lyap_transient=10, eval_batch=64,
    ),
}

#: The FSDD speakers (alphabetical, as :func:`helpers.data.convert_fsdd` numbers them).
FSDD_SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
DEFAULT_HELD_OUT = "theo"


def settings_for(dataset: str, **overrides) -> dict:
    """The settings of ``dataset`` (:data:`DIGITS_SETTINGS`) with ``overrides`` (unknown keys are an error)."""
    if dataset not in DIGITS_SETTINGS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    base = DIGITS_SETTINGS[dataset]
    unknown = set(overrides) - set(base)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; allowed: {sorted(base)}")
    return {**base, **overrides}


# ---------------------------------------------------------------------------------------------- data
def fsdd_dir() -> Path:
    """The FSDD recordings folder: ``$FSDD_DIR`` or ``<repo>/../shared/data/fsdd``."""
    return Path(os.environ.get("FSDD_DIR", REPO_ROOT.parent / "shared" / "data" / "fsdd")).expanduser()


def fsdd_spikes_root() -> Path:
    """Where converted FSDD spikes live: ``$FSDD_SPIKES`` or ``<data root>/fsdd`` (see :func:`helpers.data.default_root`)."""
    return Path(os.environ.get("FSDD_SPIKES", default_root() / "fsdd")).expanduser()


def ensure_fsdd_spikes(root: str | os.PathLike | None = None, source: str | os.PathLike | None = None,
                       recordings=None, n_workers: int | None = None) -> Path:
    """Converted FSDD spikes (official split) at ``root``; converts from ``source`` if they are missing.

    Raises ``FileNotFoundError`` naming the folder if the FSDD recordings are absent.
    """
    root = fsdd_spikes_root() if root is None else Path(root).expanduser()
    if shd_path(root, "train").exists() and shd_path(root, "test").exists():
        return root
    source = fsdd_dir() if source is None else Path(source).expanduser()
    if not (source / "recordings").is_dir():
        raise FileNotFoundError(f"no converted FSDD spikes at {root} and no FSDD recordings at {source / 'recordings'}; "
                                "put the Free Spoken Digit Dataset there (or set FSDD_DIR) and run again")
    return convert_fsdd(source, root, "official", recordings=recordings, n_workers=n_workers)


def concat_counts(a: SpikeCounts, b: SpikeCounts) -> SpikeCounts:
    """Two binned datasets of the same binning as one (samples of ``a`` first)."""
    if (a.n_bins, a.n_channels) != (b.n_bins, b.n_channels):
        raise ValueError("datasets must share n_bins and n_channels")
    offsets = torch.cat([a.offsets, b.offsets[1:] + a.offsets[-1]])
    return replace(a, events=torch.cat([a.events, b.events]), offsets=offsets, y=torch.cat([a.y, b.y]),
                   speaker=torch.cat([a.speaker, b.speaker]))


def load_digits(dataset: str, root, split: str = "official", held_out_speaker: str | None = None,
                settings: dict | None = None, seed: int = 0) -> Splits:
    """Train / validation / test sets of ``dataset`` binned by ``settings`` (dt, duration, pool, val_fraction).

    ``split="speaker_out"`` (FSDD): the official files' recordings are pooled and ``held_out_speaker``'s
    are the test set (the spikes are identical to a ``convert_fsdd(split="speaker_out")`` conversion, since
    each recording's encoder seed depends only on the recording); validation comes from the other speakers.
    The validation set is label-stratified, seeded by ``seed``.
    """
    s = settings or settings_for(dataset)
    binning = dict(dt=s["dt"], duration=s["duration"], pool=s["pool"], download=dataset == "shd")
    if split == "official":
        return load_shd_splits(root, val_fraction=s["val_fraction"], seed=seed, **binning)
    if split != "speaker_out":
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    held = held_out_speaker or DEFAULT_HELD_OUT
    names = FSDD_SPEAKERS if dataset == "fsdd" else None
    everything = concat_counts(load_shd(root, "train", **binning), load_shd(root, "test", **binning))
    speaker_id = names.index(held) if names is not None and held in names else int(held)
    is_test = (everything.speaker == speaker_id).numpy()
    if not is_test.any():
        raise ValueError(f"held-out speaker {held!r} has no recordings")
    train, val = split_train_val(everything.subset(np.flatnonzero(~is_test)), s["val_fraction"], seed)
    return Splits(train=train, val=val, test=everything.subset(np.flatnonzero(is_test)))


def input_variance(data: SpikeCounts, max_samples: int = 512) -> float:
    """Mean over channels of the variance of the binned input count per step (counts^2)."""
    x = data.dense(np.arange(min(len(data), max_samples)))
    return float(x.reshape(-1, x.shape[-1]).var(0).mean())


# ---------------------------------------------------------------------------------------------- models
def build_model(kind: str, n_in: int, n_out: int, settings: dict, seed: int, input_var: float | None = None,
                n_layers: int | None = None, device=None) -> MultiLayerSNN:
    """A recurrent (one layer of ``hidden``) or multi-layer (``multilayer_hidden``) LIF network.

    Fluctuation-driven initialisation (eq. 2.8) assumes Bernoulli inputs of probability ``input_rate``
    (variance p(1-p)); binned counts have a variance ``input_var`` of their own, so the input weights are
    rescaled by :math:`\\sqrt{p(1-p)/\\mathrm{var}}` to keep the target membrane std ``sigma_u``.
    ``n_layers`` (multi-layer only) repeats the first multilayer size that many times.
    """
    s = settings
    if kind not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {kind!r}")
    params = LIFParams(tau_mem=s["tau_mem"], tau_syn=s["tau_syn"], dt=s["dt"], reset=s["reset"],
                       surrogate=s["surrogate"], steepness=s["steepness"])
    common = dict(params=params, init=s["init"], input_rate=s["input_rate"], hidden_rate=s["hidden_rate"],
                  sigma_u=s["sigma_u"], tau_out=s["tau_out"], generator=torch.Generator().manual_seed(int(seed)))
    if kind == "recurrent":
        model = RecurrentSNN(n_in, s["hidden"], n_out, **common)
    else:
        hidden = tuple(s["multilayer_hidden"])
        if n_layers is not None:
            hidden = (hidden[0],) * int(n_layers)
        model = MultiLayerSNN(n_in, hidden, n_out, recurrent=True, **common)
    if input_var is not None and input_var > 0:
        p = s["input_rate"]
        with torch.no_grad():
            model.w_ff[0].mul_(math.sqrt(p * (1 - p) / input_var))
    return model.to(device) if device is not None else model


def fast(model):
    """The fast simulation path (:mod:`helpers.fast`) if present, sharing the model's parameters."""
    try:
        from .fast import FastSNN
    except ImportError:  # pragma: no cover
        return model
    return FastSNN(model)


def reference(model):
    """The plain :mod:`helpers.models` network behind a :func:`fast` wrapper."""
    return getattr(model, "model", model) if not isinstance(model, MultiLayerSNN) else model


#: Flossing schedules of the digit runs: the course's default since notebook 09, the reference method, and the
#: two variants of notebook 09's FSDD comparison (pre-flossing alone; the default after pre-flossing).
DIGIT_SCHEDULES = ("recommended", "reference", "pre", "recommended_pre")


def flossing_schedule(settings: dict, steps_per_epoch: int, seq_len: int, schedule: str = "recommended"):
    """The flossing schedule of a digit run, with the flossing pass of ``settings`` (``floss_*``).

    - ``"recommended"``: :func:`helpers.schedules.recommended_schedule` (the flossing loss with weight 10 on every
      20th training step, notebook 09);
    - ``"reference"``: ``floss_pre`` pre-flossing updates plus episodes of ``floss_episode_updates`` at the start
      of the epochs ``floss_episode_epochs`` (Engelken 2023), the schedule of the first FSDD studies;
    - ``"pre"``: the reference's pre-flossing only; ``"recommended_pre"``: the recommended schedule after the
      reference's pre-flossing.
    """
    from .flossing import FlossingConfig, PeriodicFlossing, PreFlossing
    from .schedules import recommended_schedule

    if schedule not in DIGIT_SCHEDULES:
        raise ValueError(f"schedule must be one of {DIGIT_SCHEDULES}, got {schedule!r}")
    s = settings
    config = FlossingConfig(k=s["floss_k"], target=0.0, seq_len=seq_len, transient=s["floss_transient"],
                            batch_size=s["floss_batch"], lr=s["floss_lr"], path=s["floss_path"])
    if schedule == "recommended":
        return recommended_schedule(config)
    if schedule == "recommended_pre":
        return recommended_schedule(config, pre_updates=s["floss_pre"])
    if schedule == "pre":
        return PreFlossing(s["floss_pre"], config)
    episodes = tuple(int(e) * steps_per_epoch for e in s["floss_episode_epochs"])
    return PeriodicFlossing(s["floss_pre"], episodes, s["floss_episode_updates"], config)


# ---------------------------------------------------------------------------------------------- efficiency
def synaptic_operations(activity: torch.Tensor, fan_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Effective ACs and MACs per sample (eq. 8.3) of one presynaptic population.

    Args:
        activity: (batch, T, N) activations (spikes or binned counts).
        fan_out: (N,) number of nonzero outgoing synapses of each unit.

    Returns ``(acs, macs)``, each (batch,): sum of ``fan_out[j]`` over the entries equal to 1 (ACs) and over
    the other nonzero entries (MACs).
    """
    fan_out = fan_out.to(activity.dtype)
    ones = (activity == 1).to(activity.dtype)
    graded = ((activity != 0) & (activity != 1)).to(activity.dtype)
    return (ones.sum(1) @ fan_out), (graded.sum(1) @ fan_out)


def fan_outs(model: MultiLayerSNN) -> list[torch.Tensor]:
    """Nonzero outgoing synapses per unit: ``[input channels, layer 1, ..., layer L]`` (eq. 8.3)."""
    def nnz_cols(w):
        return (w != 0).sum(0) if w.numel() else 0

    out = [nnz_cols(model.w_ff[0].detach())]
    for layer in range(len(model.hidden)):
        nxt = model.w_ff[layer + 1] if layer + 1 < len(model.hidden) else model.w_out
        fo = nnz_cols(nxt.detach())
        if model.recurrent[layer]:
            fo = fo + nnz_cols(model.w_rec[layer].detach())
        out.append(fo)
    return out


def efficiency_from_activity(inputs: torch.Tensor, spikes: list[torch.Tensor], fan_out: list[torch.Tensor]) -> dict:
    """Sums over a batch for eqs. (8.1)-(8.3) from explicit activity (testable on hand-made spike trains).

    Returns sums (divide by ``n_samples``): ``n_samples``, ``n_neurons``, ``n_steps``, ``hidden_spikes``,
    ``nonzero_activations``, ``acs``, ``macs``, ``input_events`` (nonzero input entries).
    """
    batch, n_steps = inputs.shape[:2]
    acs = macs = 0.0
    for act, fo in zip([inputs] + list(spikes), fan_out):
        a, m = synaptic_operations(act.float(), torch.as_tensor(fo))
        acs, macs = acs + float(a.sum()), macs + float(m.sum())
    return {"n_samples": batch, "n_neurons": sum(s.shape[-1] for s in spikes), "n_steps": n_steps,
            "hidden_spikes": float(sum(s.sum() for s in spikes)),
            "nonzero_activations": float(sum((s != 0).sum() for s in spikes)),
            "acs": acs, "macs": macs, "input_events": float((inputs != 0).sum())}


def summarise_efficiency(sums: dict) -> dict:
    """Per-sample efficiency numbers (eqs. 8.1-8.3) from :func:`efficiency_from_activity` sums."""
    n = sums["n_samples"]
    return {
        "spikes_per_neuron_per_sample": sums["hidden_spikes"] / (n * sums["n_neurons"]),
        "activation_sparsity": 1.0 - sums["nonzero_activations"] / (n * sums["n_neurons"] * sums["n_steps"]),
        "synaptic_ops_per_sample": (sums["acs"] + sums["macs"]) / n,
        "acs_per_sample": sums["acs"] / n, "macs_per_sample": sums["macs"] / n,
        "input_events_per_sample": sums["input_events"] / n,
    }


@torch.no_grad()
def measure_efficiency(model, loader) -> dict:
    """Eqs. (8.1)-(8.3) averaged over every sample of ``loader``."""
    fo = fan_outs(reference(model))
    total = None
    for x, _ in loader:
        out = model(x)
        sums = efficiency_from_activity(x, out.spikes, fo)
        total = sums if total is None else {k: total[k] + v if k not in ("n_neurons", "n_steps") else v
                                            for k, v in sums.items()}
    return summarise_efficiency(total)


# ---------------------------------------------------------------------------------------------- diagnostics
def gradient_profile(model, x: torch.Tensor, y: torch.Tensor, reduction: str = "max") -> np.ndarray:
    """Mean over the batch of :math:`\\|\\partial L/\\partial h_t\\|`, t = 0..T (helpers.gradients.bptt_signal)."""
    net = reference(model)
    sig = bptt_signal(net, x, lambda out: F.cross_entropy(reduce_readout(out.output, reduction), y))
    return sig.mean(0).numpy()


@torch.no_grad()
def surrogate_spectrum(model, x: torch.Tensor, k: int, transient: int, seed: int = 0) -> np.ndarray:
    """The leading ``k`` surrogate Lyapunov exponents (1/step, batch mean) on real inputs ``x``."""
    net = reference(model)
    res = lyapunov_spectrum(net, x, min(k, net.state_dim), transient=transient,
                            generator=torch.Generator().manual_seed(seed))
    return res.exponents.mean(0).numpy()


# ---------------------------------------------------------------------------------------------- training
def train_with_selection(model, train_loader, val_loader, epochs: int, *, lr: float, schedule=None,
                         clip: float | None = 1.0, readout: str = "max", checkpoint_dir=None, seed: int = 0,
                         progress=None, early_step: int = 1) -> dict:
    """Train epoch by epoch with :func:`helpers.training.train`; keep the best-validation model.

    Sees only the training and validation loaders (never the test set). After every epoch the loop's own
    evaluation on ``val_loader`` is read; the state with the highest validation accuracy (earliest on ties)
    is kept. With ``checkpoint_dir``, the loop's checkpoint (``last.pt``) and the best state (``best.pt``)
    are written atomically, so an interrupted run resumes at the last finished epoch.

    Returns ``{"history", "best_state", "best_epoch", "best_val_accuracy", "steps_per_epoch"}``; the model
    is left holding the best state.
    """
    spe = len(train_loader)
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    tmp = None
    if ckpt_dir is None:
        import tempfile

        tmp = tempfile.TemporaryDirectory()
        ckpt_dir = Path(tmp.name)
    last, best_file = ckpt_dir / "last.pt", ckpt_dir / "best.pt"
    best = torch.load(best_file, weights_only=False) if best_file.exists() else {"val_accuracy": -1.0, "epoch": 0,
                                                                                "state": None}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc="epochs", leave=False)
    hist = None
    for epoch in range(1, epochs + 1):
        hist = train(model, train_loader, epoch * spe, lr=lr, schedule=schedule, clip=clip, seed=seed,
                     eval_every=spe, eval_loader=val_loader, readout_reduction=readout, early_step=early_step,
                     lyap_every=0, checkpoint=last, checkpoint_every=spe, progress=False)
        val = hist["accuracy"][-1]
        if hist["step"][-1] == epoch * spe and epoch > best["epoch"] and val > best["val_accuracy"]:
            best = {"val_accuracy": val, "epoch": epoch, "state": copy.deepcopy(reference(model).state_dict())}
            atomic_torch_save(best, best_file)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(val=f"{val:.3f}", best=f"{best['val_accuracy']:.3f}")
    if bar is not None:
        bar.close()
    if best["state"] is not None:
        reference(model).load_state_dict(best["state"])
    if tmp is not None:
        tmp.cleanup()
    return {"history": hist, "best_state": best["state"], "best_epoch": best["epoch"],
            "best_val_accuracy": best["val_accuracy"], "steps_per_epoch": spe}


def run_digits(dataset: str = "fsdd", root=None, *, split: str = "official", held_out_speaker: str | None = None,
               model: str = "recurrent", flossing: bool = False, seed: int = 0, epochs: int | None = None,
               device=None, checkpoint_dir=None, progress=None, splits: Splits | None = None,
               n_layers: int | None = None, diagnostics: bool = True, schedule: str = "recommended",
               **overrides) -> dict:
    """One run of the study: train with model selection on validation, then test once. Returns a record.

    Args:
        dataset: 'fsdd', 'shd' or 'synthetic' (settings :data:`DIGITS_SETTINGS`, ``overrides`` replace them).
        root: dataset root with ``SHD/shd_{train,test}.h5``.
        split: 'official' or 'speaker_out' (``held_out_speaker``).
        model: 'recurrent' or 'multilayer'; flossing: with flossing or not.
        schedule: the flossing schedule if ``flossing`` (:data:`DIGIT_SCHEDULES`, see :func:`flossing_schedule`).
        seed: seeds the weights, the validation split and the data order.
        epochs: overrides the settings' epochs. splits: pre-loaded data (skips loading).
        checkpoint_dir: folder for resumable checkpoints of this run.
        diagnostics: also record the BPTT signal and the surrogate spectrum before and after training.

    The record holds the study's fields (``validation_accuracy``, ``test_accuracy``, efficiency, wall time)
    plus the training curves and diagnostics.
    """
    s = settings_for(dataset, **overrides)
    if epochs is not None:
        s["epochs"] = int(epochs)
    device = torch.device(device) if device is not None else torch.device("cpu")
    t0 = time.perf_counter()
    if splits is None:
        splits = load_digits(dataset, root, split, held_out_speaker, s, seed=0)
    n_out = int(max(int(splits.train.y.max()), int(splits.test.y.max())) + 1)
    net = build_model(model, splits.train.n_channels, n_out, s, seed, input_variance(splits.train), n_layers)
    net = fast(net)
    train_loader = make_loader(splits.train, s["batch_size"], shuffle=True, seed=seed, drop_last=True)
    val_loader = make_loader(splits.val, s["eval_batch"])
    probe_x, probe_y = splits.val[np.arange(min(len(splits.val), 32))]
    diag = {}
    if diagnostics:
        diag["grad_init"] = gradient_profile(net, probe_x, probe_y, s["readout"]).tolist()
        diag["spectrum_init"] = surrogate_spectrum(net, probe_x[:8], s["lyap_k"], s["lyap_transient"]).tolist()
    schedule_name = schedule if flossing else "none"
    schedule = flossing_schedule(s, len(train_loader), splits.train.n_bins, schedule) if flossing else None
    sel = train_with_selection(net, train_loader, val_loader, s["epochs"], lr=s["lr"], schedule=schedule,
                               clip=s["clip"], readout=s["readout"], checkpoint_dir=checkpoint_dir, seed=seed,
                               progress=progress)
    hist = sel["history"]
    # ---- the single look at the test set, for the model selected on validation
    test = evaluate(net, make_loader(splits.test, s["eval_batch"]), readout_reduction=s["readout"])
    eff = measure_efficiency(net, make_loader(splits.test, s["eval_batch"]))
    if diagnostics:
        diag["grad_final"] = gradient_profile(net, probe_x, probe_y, s["readout"]).tolist()
        diag["spectrum_final"] = surrogate_spectrum(net, probe_x[:8], s["lyap_k"], s["lyap_transient"]).tolist()
    ref = reference(net)
    return {
        "dataset": dataset, "split": split,
        "held_out_speaker": (held_out_speaker or DEFAULT_HELD_OUT) if split == "speaker_out" else None,
        "model": model, "layers": len(ref.hidden), "hidden": list(ref.hidden), "flossing": bool(flossing),
        "schedule": schedule_name,
        "seed": int(seed), "validation_accuracy": sel["best_val_accuracy"], "test_accuracy": test["accuracy"],
        "test_loss": test["loss"], "best_epoch": sel["best_epoch"], "epochs": s["epochs"],
        **eff, "wall_time_s": time.perf_counter() - t0, "train_time_s": hist["wall_time_s"],
        "flossing_time_s": hist["flossing_time_s"], "flossing_updates": hist["flossing_updates"],
        "n_train": len(splits.train), "n_val": len(splits.val), "n_test": len(splits.test),
        "n_bins": splits.train.n_bins,
        "curves": {"step": hist["step"], "val_accuracy": hist["accuracy"], "val_loss": hist["loss"],
                   "train_loss": hist["train_loss"], "grad_norm": hist["grad_norm"],
                   "grad_norm_early": hist["grad_norm_early"],
                   "steps_per_epoch": sel["steps_per_epoch"]},
        **diag,
    }


# ---------------------------------------------------------------------------------------------- results
def load_study(path) -> dict | None:
    """A study results file (JSON) or None if it does not exist."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else None


def schedule_label(run: dict) -> str:
    """'off' without flossing, else the run's schedule (runs stored before the field existed: 'reference')."""
    return run.get("schedule", "reference") if run["flossing"] else "off"


def study_table(results: dict, split: str = "official") -> list[dict]:
    """Mean and std over seeds per (model, flossing schedule) of the study's key numbers."""
    rows = []
    runs = [r for r in results["runs"] if r["split"] == split]
    labels = sorted({schedule_label(r) for r in runs}, key=lambda s: (s != "off", s))
    for model in MODELS:
        for label in labels:
            group = [r for r in runs if r["model"] == model and schedule_label(r) == label]
            if not group:
                continue
            row = {"model": model, "flossing": label != "off", "schedule": label, "n_seeds": len(group)}
            for key in ("test_accuracy", "validation_accuracy", "spikes_per_neuron_per_sample",
                        "synaptic_ops_per_sample", "activation_sparsity", "wall_time_s"):
                vals = np.array([r[key] for r in group], dtype=float)
                row[key] = float(vals.mean())
                row[key + "_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
            rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    """The study table as text."""
    lines = [f"{'model':<11}{'flossing':<12}{'seeds':>5}  {'test acc (%)':>14}  {'val acc (%)':>12}  "
             f"{'spikes/neuron':>13}  {'SynOps/sample':>13}  {'wall (s)':>9}"]
    for r in rows:
        lines.append(f"{r['model']:<11}{r.get('schedule', 'on' if r['flossing'] else 'off'):<12}{r['n_seeds']:>5}  "
                     f"{100 * r['test_accuracy']:>7.1f} ± {100 * r['test_accuracy_std']:<4.1f}  "
                     f"{100 * r['validation_accuracy']:>12.1f}  {r['spikes_per_neuron_per_sample']:>13.2f}  "
                     f"{r['synaptic_ops_per_sample']:>13.3g}  {r['wall_time_s']:>9.0f}")
    return "\n".join(lines)


def plot_study(results: dict, path=None):
    """Test accuracy per model and flossing (seeds as dots, official-split mean as bar; held-out speaker as
    hollow markers) and accuracy against efficiency; saves a PNG if ``path`` is given."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    groups = [(m, f) for m in MODELS for f in (False, True)]
    markers = {"recurrent": "o", "multilayer": "s"}
    for split in ("official", "speaker_out"):
        for i, (m, f) in enumerate(groups):
            runs = [r for r in results["runs"] if r["split"] == split and r["model"] == m and r["flossing"] == f]
            if not runs:
                continue
            color = "C1" if f else "C0"
            style = dict(marker=markers[m], zorder=3)
            style.update(dict(facecolors="none", edgecolors=color) if split == "speaker_out" else dict(color=color))
            x = i + (0.22 if split == "speaker_out" else -0.08) + 0.05 * (np.arange(len(runs)) - (len(runs) - 1) / 2)
            acc = [100 * r["test_accuracy"] for r in runs]
            if split == "official":
                axes[0].bar(i - 0.08, np.mean(acc), width=0.3, color=color, alpha=0.3)
            axes[0].scatter(x, acc, **style)
            label = f"{m}, flossing {'on' if f else 'off'}" + (", held-out speaker" if split == "speaker_out" else "")
            axes[1].scatter([r["spikes_per_neuron_per_sample"] for r in runs], acc, label=label, **style)
            axes[2].scatter([r["synaptic_ops_per_sample"] for r in runs], acc, **style)
    axes[0].set_xticks(range(len(groups)), [f"{m}\nfloss {'on' if f else 'off'}" for m, f in groups], fontsize=8)
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].set_title("filled: official split (bar: mean); hollow: held-out speaker", fontsize=9)
    lo = min([100 * r["test_accuracy"] for r in results["runs"]] + [90.0])
    axes[0].set_ylim(max(0.0, lo - 5), 100)
    axes[1].set_xlabel("spikes per neuron per sample (eq. 8.1)")
    axes[2].set_xlabel("synaptic operations per sample (eq. 8.3)")
    for ax in axes[1:]:
        ax.set_ylabel("test accuracy (%)")
    axes[1].legend(fontsize=6)
    cfg = results.get("config", {})
    fig.suptitle(f"{cfg.get('dataset', '')} study: best-validation model tested once; commit "
                 f"{str(cfg.get('git_commit', '?'))[:10]}, {cfg.get('date', '')}", fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def nonzero_prefix(g) -> np.ndarray:
    """A BPTT signal without its trailing zeros (the last state h_T does not reach the loss), floored at 1e-30."""
    g = np.asarray(g, dtype=float)
    nz = np.flatnonzero(g > 0)
    return np.maximum(g[: nz[-1] + 1] if nz.size else g[:1], 1e-30)


def plot_run(record: dict, axes=None):
    """Training curves, BPTT signal before/after and the spectrum before/after of one run record."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 4, figsize=(15, 3.2), layout="constrained")
    c = record["curves"]
    label = f"{record['model']}, flossing {'on' if record['flossing'] else 'off'}"
    ep = np.array(c["step"]) / c["steps_per_epoch"]
    axes[0].plot(np.arange(1, len(c["train_loss"]) + 1) / c["steps_per_epoch"], c["train_loss"], lw=0.6, alpha=0.6)
    axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log")
    axes[1].plot(ep, 100 * np.array(c["val_accuracy"]), marker="o", ms=3, label=label)
    axes[1].axvline(record["best_epoch"], color=axes[1].lines[-1].get_color(), ls=":", lw=1)
    axes[1].set(xlabel="epoch", ylabel="validation accuracy (%)")
    axes[1].legend(fontsize=7)
    if "grad_init" in record:
        for key, ls in (("grad_init", "--"), ("grad_final", "-")):
            g = nonzero_prefix(record[key])
            axes[2].semilogy(g, ls=ls, label=f"{'before' if key == 'grad_init' else 'after'} training")
        axes[2].set(xlabel="time step t", ylabel=r"$\|\partial L/\partial h_t\|$")
        axes[2].legend(fontsize=7)
        for key, ls in (("spectrum_init", "--"), ("spectrum_final", "-")):
            axes[3].plot(np.arange(1, len(record[key]) + 1), record[key], ls=ls, marker=".",
                         label=f"{'before' if key == 'spectrum_init' else 'after'} training")
        axes[3].axhline(0, color="k", lw=0.5)
        axes[3].set(xlabel="index i", ylabel=r"$\lambda_i$ (1/step)")
        axes[3].legend(fontsize=7)
    return axes


# ---------------------------------------------------------------------------------------------- notebook figures
def plot_cochlea(view, title: str = ""):
    """Spectrogram beside the spike raster of one recording (a :class:`helpers.data.CochleaView`)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained")
    vmax = float(view.spec_db.max())
    axes[0].pcolormesh(view.spec_t, view.spec_f / 1e3, view.spec_db, vmin=vmax - 70, vmax=vmax, shading="auto",
                       cmap="magma")
    axes[0].set(xlabel="time (s)", ylabel="frequency (kHz)", title=f"spectrogram {title}")
    axes[1].scatter(view.times, view.units, s=0.3, c="k", marker=".")
    axes[1].set(xlabel="time (s)", ylabel="unit (low -> high frequency)",
                title=f"{len(view.times)} spikes from {len(view.centre_f)} cochlear units", xlim=axes[0].get_xlim())
    return fig


def plot_class_rasters(data: SpikeCounts, n_classes: int | None = None, seed: int = 0):
    """One binned sample per class (counts, time x channel), for a first look at the data."""
    import matplotlib.pyplot as plt

    labels = data.y.numpy()
    classes = sorted(set(labels.tolist()))[: n_classes or None]
    rng = np.random.default_rng(seed)
    cols = min(5, len(classes))
    rows = math.ceil(len(classes) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 2.0 * rows), layout="constrained", squeeze=False,
                             sharex=True, sharey=True)
    for ax in axes.flat[len(classes):]:
        ax.axis("off")
    for ax, c in zip(axes.flat, classes):
        i = int(rng.choice(np.flatnonzero(labels == c)))
        x = data.dense([i])[0].numpy()
        ax.imshow(np.log1p(x.T), aspect="auto", origin="lower", cmap="Greys",
                  extent=(0, data.n_bins * data.dt, 0, data.n_channels))
        name = data.classes[c] if c < len(data.classes) else str(c)
        ax.set_title(f"{c}: {name}", fontsize=8)
    fig.suptitle("one training sample per class: binned counts (eq. 8.4), grey level log(1 + count)", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    for ax in axes[:, 0]:
        ax.set_ylabel("channel")
    return fig


def plot_runs(records: list[dict]):
    """:func:`plot_run` for several records, one row each."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(records), 4, figsize=(15, 2.9 * len(records)), layout="constrained", squeeze=False)
    for rec, row in zip(records, axes):
        plot_run(rec, row)
    return fig


def efficiency_table(records: list[dict]) -> str:
    """Test accuracy and eqs. (8.1)-(8.3) of a few run records, as text."""
    lines = [f"{'run':<32}{'test acc':>9}{'spikes/neuron':>15}{'sparsity':>10}{'ACs':>11}{'MACs':>10}{'SynOps':>11}"]
    for r in records:
        name = f"{r['model']} ({'x'.join(map(str, r['hidden']))}), floss {'on' if r['flossing'] else 'off'}"
        lines.append(f"{name:<32}{100 * r['test_accuracy']:>8.1f}%{r['spikes_per_neuron_per_sample']:>15.2f}"
                     f"{r['activation_sparsity']:>10.3f}{r['acs_per_sample']:>11.3g}{r['macs_per_sample']:>10.3g}"
                     f"{r['synaptic_ops_per_sample']:>11.3g}")
    return "\n".join(lines)


def describe_study(results: dict) -> str:
    """One paragraph naming the run behind stored results: commit, date, command, settings."""
    c = results["config"]
    s = c.get("settings", {})
    lines = [f"stored study: {len(results['runs'])} runs; git commit {c.get('git_commit', '?')}; {c.get('date', '?')}; "
             f"{c.get('host', '')}; torch {c.get('versions', {}).get('torch', '?')}",
             f"  command: {c.get('command', '?')}"]
    lines += [f"  also: {inv['command']}" for inv in c.get("invocations", [])]
    if s:
        lines.append(f"  data: dt {1e3 * s['dt']:.0f} ms over {s['duration']} s, pool {s['pool']}; hidden {s['hidden']} "
                     f"(recurrent) or {tuple(s['multilayer_hidden'])} (multi-layer); {c.get('epochs')} epochs, "
                     f"lr {s['lr']}, batch {s['batch_size']}; flossing k={s['floss_k']}, "
                     + (f"{s['floss_pre']} pre-updates + {s['floss_episode_updates']} at epochs "
                        f"{tuple(s['floss_episode_epochs'])} (reference schedule)"
                        if c.get("schedule", "reference") == "reference" else
                        f"{c['schedule']} schedule (notebook 09)"))
    return "\n".join(lines)


__all__ = [
    "DATASETS", "MODELS", "SPLITS", "DIGITS_SETTINGS", "FSDD_SPEAKERS", "settings_for", "fsdd_dir", "fsdd_spikes_root",
    "ensure_fsdd_spikes", "concat_counts", "load_digits", "input_variance", "build_model", "fast", "reference",
    "DIGIT_SCHEDULES", "flossing_schedule", "schedule_label", "synaptic_operations", "fan_outs",
    "efficiency_from_activity", "summarise_efficiency",
    "measure_efficiency", "gradient_profile", "surrogate_spectrum", "train_with_selection", "run_digits",
    "load_study", "study_table", "format_table", "plot_study", "plot_run", "plot_cochlea", "plot_class_rasters",
    "plot_runs", "efficiency_table", "describe_study",
]
