# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.16.0
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Spiking spoken digits
#
# Notebooks 05-07 measured surrogate Lyapunov spectra, flossed them and tested flossing on synthetic
# delayed tasks. Here the networks meet real speech: spoken digits turned into spike trains by a cochlea
# model, the setting of the **Spiking Heidelberg Digits** benchmark (SHD, Cramer et al. 2020). We train one
# recurrent LIF layer and a stack of recurrent layers, each with and without flossing, select every model on a
# validation set, test it once, and ask what it costs in spikes and synaptic operations.
#
# **Learning goals.** After this notebook you can
# 1. explain what the audio-to-spike encoder does (filterbank, envelope, integrate-and-fire) and read a
#    spike raster of a spoken digit;
# 2. train recurrent and multi-layer SNNs on spike data with the course's training loop, with and without
#    flossing, and select the model on validation data only;
# 3. read the BPTT signal and the surrogate spectrum before and after training;
# 4. compute the NeuroBench efficiency metrics (spikes per neuron, activation sparsity, synaptic operations)
#    and say what they count;
# 5. run the full study from the command line, and set up SHD on a GPU.
#
# **Data in each run mode.** `quick` (CI): a tiny synthetic file in the exact SHD layout, read through the same
# tonic code path (sanity-level only). `standard`: the Free Spoken Digit Dataset (FSDD; Jackson et al.,
# CC BY-SA 4.0; 3,000 recordings of 6 speakers) turned into spikes, or your own SHD download.
# `full`: SHD with the recommended GPU settings. The measured multi-seed study is loaded from
# `figures/fsdd_study.json` in every mode.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers import digits
from helpers.config import FIGURES_DIR, by_mode, get_device, run_mode
from helpers.data import (cochlea_view, default_root, list_fsdd, load_shd, make_synthetic_shd, normalise_level,
                          read_wav, shd_path)
from helpers.demos import n08_digits
from helpers.widgets import show

MODE = run_mode()
device = get_device()
print(f"run mode: {MODE}, device: {device}")
if MODE == "quick":
    print("quick mode: tiny network on a tiny synthetic SHD-layout file, sanity-level only; "
          "SGF_MODE=standard trains on FSDD spikes")

# %% [markdown]
# ## 1. From sound to spikes
#
# SHD was made by a model of the inner ear: a bank of band-pass filters (the basilar membrane), a hair-cell
# stage and a population of spiking "bushy cells" per channel, 700 channels in all (Cramer et al. 2020). The
# course's encoder (`helpers.data.encode_audio`) follows the same plan with simpler stages:
#
# $$ e_c(t) = \mathrm{LP}\!\left[\,\big(\max(0,\ (g_c * s)(t))\big)^{1/3}\right], \qquad
#    r_c(t) = r_\text{max}\,\frac{e_c(t)}{e_\text{full}} \ \text{above a threshold}, \qquad
#    \text{spike when } \textstyle\int r_c\,dt \text{ crosses an integer} \tag{8.0}$$
#
# with $g_c$ a gammatone filter centred on the $c$-th of 700 frequencies spaced evenly on the ERB scale,
# cube-root compression (loudness), a low-pass envelope and one integrate-and-fire unit per channel. Below: a
# recording's spectrogram beside the spikes it becomes. Low channels carry the voice's pitch and first
# formant; the vowel's formant tracks show up as sweeping bands of spikes.

# %%
FSDD_DIR = digits.fsdd_dir()
have_fsdd = (FSDD_DIR / "recordings").is_dir()
if have_fsdd:
    rec = [r for r in list_fsdd(FSDD_DIR) if r.digit == 7 and r.index == 0][0]
    waveform, fs = read_wav(rec.path)
    label = f"'{rec.path.name}' (FSDD)"
else:  # no FSDD here: a synthetic vowel-like sound (a gliding harmonic complex) shows the same stages
    fs = 8000
    t = np.arange(int(0.6 * fs)) / fs
    f0 = 140 - 40 * t
    waveform = sum(np.sin(2 * np.pi * h * np.cumsum(f0) / fs) / h for h in range(1, 15)).astype(np.float32)
    waveform *= np.hanning(len(t)).astype(np.float32)
    label = "(synthetic gliding harmonic complex; FSDD not found)"
view = cochlea_view(normalise_level(waveform, -20.0), fs)
print(f"{label}: {len(waveform) / fs:.2f} s at {fs} Hz -> {len(view.times)} spikes in {len(view.centre_f)} units "
      f"({view.centre_f[0]:.0f}-{view.centre_f[-1]:.0f} Hz)")
digits.plot_cochlea(view, label)
plt.show()

# %% [markdown]
# ## 2. The data
#
# Every source is stored in the SHD layout (`spikes/times`, `spikes/units`, `labels`, `extra/speaker`) and read
# through `tonic.datasets.SHD`. For training, spikes are binned on one fixed time axis and adjacent channels are
# pooled:
#
# $$ x[b, c] = \#\{k : b\,\Delta t \le t_k < (b+1)\,\Delta t,\ \lfloor u_k / p \rfloor = c\},\qquad b < T \tag{8.4}$$
#
# (`helpers.data.load_shd`, bin width $\Delta t$, pool $p$). A validation set (10% per class) is carved out of
# the training set: SHD has none, and model selection must never look at the test set.

# %%
def find_data():
    """(dataset name, root) for this run mode, with a clear message when falling back."""
    if MODE == "quick":
        root = Path(tempfile.mkdtemp(prefix="sgf_n08_"))
        make_synthetic_shd(root, n_train=300, n_test=100, n_classes=10, seed=0)
        return "synthetic", root
    if MODE == "full" and shd_path(default_root(), "train").exists():
        return "shd", default_root()
    if MODE == "full":
        print(f"full mode: no SHD at {default_root() / 'SHD'} (set SGF_DATA, or see helpers.data for where to put "
              "shd_train.h5 / shd_test.h5); falling back to FSDD")
    spikes = digits.fsdd_spikes_root()
    if shd_path(spikes, "train").exists():
        return "fsdd", spikes
    if have_fsdd:  # convert a subset once (about half a minute): repetitions 0-4 are test, 5-19 training
        subset = Path(str(spikes) + "_subset")
        if not shd_path(subset, "train").exists():
            names = [r.path.name for r in list_fsdd(FSDD_DIR) if r.index < 20]
            print(f"converting {len(names)} FSDD recordings into {subset} (once; the full set: "
                  "python scripts/convert_fsdd.py)")
            digits.ensure_fsdd_spikes(subset, FSDD_DIR, recordings=names)
        return "fsdd", subset
    print(f"no FSDD recordings at {FSDD_DIR} (set FSDD_DIR) and no SHD at {default_root()}: falling back to a "
          "synthetic SHD-layout file (sanity-level only)")
    root = Path(tempfile.mkdtemp(prefix="sgf_n08_"))
    make_synthetic_shd(root, n_train=300, n_test=100, n_classes=10, seed=0)
    return "synthetic", root


DATASET, ROOT = find_data()
S = digits.settings_for(
    DATASET,
    **by_mode(quick=dict(hidden=24, multilayer_hidden=(16, 16)),
              standard=dict(dt=20e-3, pool=20, hidden=64, multilayer_hidden=(48, 48), floss_pre=10,
                            floss_episode_updates=5, floss_episode_epochs=(2,)) if DATASET == "fsdd" else {},
              full={}))
EPOCHS = by_mode(quick=3, standard=3, full=S["epochs"])
splits = digits.load_digits(DATASET, ROOT, settings=S)
print(f"dataset: {DATASET} at {ROOT}")
print(f"train {len(splits.train)}, validation {len(splits.val)}, test {len(splits.test)} samples; "
      f"T = {splits.train.n_bins} bins of {1e3 * splits.train.dt:.0f} ms, {splits.train.n_channels} channels "
      f"(pool {S['pool']}); {int(splits.train.n_spikes.float().mean())} input spikes per sample on average")
digits.plot_class_rasters(splits.train)
plt.show()

# %% [markdown]
# ## 3. Networks, readout and model selection
#
# The hidden layers are the LIF layers of notebook 02 (eq. 2.1): layer $l$ receives $W_l S_{l-1}[t] + V_l S_l[t]$
# with $S_0 = x$, and a leaky readout $y[t]$ (eq. 2.2) integrates the last layer. A digit is one label per
# sequence; the logits are the readout's maximum over time (eq. 7.6) and the loss the cross-entropy,
#
# $$ \text{logits}_c = \max_t y_c[t], \qquad L = \mathrm{CE}(\text{logits}, \text{label}). \tag{8.6}$$
#
# We train with the course's loop (`helpers.training.train`), one epoch at a time, and after every epoch read
# the accuracy on the validation set. The model we report is
#
# $$ \theta^\ast = \theta_{e^\ast},\qquad e^\ast = \arg\max_e \ \mathrm{acc}_\text{val}(\theta_e), \tag{8.7}$$
#
# and only $\theta^\ast$ sees the test set, once. (Several public SHD codebases report the best test epoch,
# which inflates the number.) `helpers.digits.train_with_selection` is not even given the test set.
#
# Flossing (notebook 06, eq. 6.1) uses the course's **recommended schedule** from notebook 09
# (`helpers.schedules.recommended_schedule`): the flossing loss of the k = 4 leading exponents, measured on a
# real input sequence, is added to the task loss with weight 10 on every 20th training step (eq. 7.7). Its
# gradient goes into the dynamics' weights only. The first FSDD study used the reference method instead
# (pre-flossing and flossing episodes at the start of epochs 2 and 4; `schedule="reference"`); section 6 shows
# both. A two-layer network is flossed on its *joint* spectrum: the tangent space covers the states of both
# layers.

# %%
records = []
for model in ("recurrent", "multilayer"):
    for flossing in (False, True):
        rec = digits.run_digits(DATASET, ROOT, splits=splits, model=model, flossing=flossing, seed=0,
                                epochs=EPOCHS, device=device, **{k: v for k, v in S.items()
                                                                  if v != digits.DIGITS_SETTINGS[DATASET][k]})
        records.append(rec)
        print(f"{model:<10} ({'x'.join(map(str, rec['hidden']))}) flossing {'on ' if flossing else 'off'}: "
              f"best validation {100 * rec['validation_accuracy']:.1f}% (epoch {rec['best_epoch']}/{EPOCHS}) -> "
              f"test {100 * rec['test_accuracy']:.1f}%  [{rec['wall_time_s']:.0f} s, flossing "
              f"{rec['flossing_time_s']:.0f} s]")
print(f"chance level: {100 / len(splits.train.classes):.0f}%")
if MODE == "quick":
    print(f"quick mode: {EPOCHS} epochs on a tiny synthetic set, sanity-level only")

# %% [markdown]
# ## 4. Training curves, gradients and spectra
#
# For each run: the training loss, the validation accuracy per epoch (dotted line: the selected epoch; epoch 0
# is the untrained network), the
# **BPTT signal** — the norm of the loss gradient with respect to the hidden state at each time step,
#
# $$ g_t = \Big\| \frac{\partial L}{\partial h_t} \Big\|, \qquad t = 0, \dots, T, \tag{8.5}$$
#
# (`helpers.gradients.bptt_signal` on validation samples; small $t$ = early states, far from the readout's
# maximum) — and the leading surrogate Lyapunov exponents on real inputs (`helpers.lyapunov`), before
# (dashed) and after (solid) training.

# %%
digits.plot_runs(records)
plt.show()
for r in records:
    g0, g1 = np.array(r["grad_init"]), np.array(r["grad_final"])
    print(f"{r['model']:<10} floss {'on ' if r['flossing'] else 'off'}: g_1 {g0[1]:.2e} -> {g1[1]:.2e}, "
          f"lambda_1 {r['spectrum_init'][0]:+.3f} -> {r['spectrum_final'][0]:+.3f} per step")

# %% [markdown]
# **Think.** In a network whose leading exponent is clearly negative, how should $g_t$ fall as $t$ moves away
# from the time steps that decide the loss? Compare the slope of $\log g_t$ in the plot with $\lambda_1$.
# Why does a digit task tolerate vanishing gradients better than the delayed XOR of notebook 07?
# (Hint: where in the recording is the information, and how long is a time constant in bins?)

# %% [markdown]
# ## 5. Efficiency (NeuroBench)
#
# NeuroBench (Yik et al. 2025) asks every neuromorphic result to report what it costs. Per sample of $T$ steps,
# over the hidden spiking neurons ($N = \sum_l N_l$):
#
# $$ \text{spikes per neuron} = \frac{1}{N}\sum_{l,t,j} S_{l,j}[t] \tag{8.1}$$
#
# $$ \text{activation sparsity} = 1 - \frac{\#\{(l,t,j): S_{l,j}[t] \ne 0\}}{T N} \tag{8.2}$$
#
# $$ \text{SynOps} = \sum_t \sum_j [a_j[t] \ne 0]\ \mathrm{fanout}_j \tag{8.3}$$
#
# where $a_j$ runs over every presynaptic unit — the input channels (into $W_1$), each hidden neuron (into its
# recurrent $V_l$ and into $W_{l+1}$, or the readout $W_\text{out}$) — and $\mathrm{fanout}_j$ counts the
# *nonzero* outgoing weights. A spike costs one accumulate (AC) per synapse; a binned input count above 1 is a
# graded value and costs a multiply-accumulate (MAC). Neuron updates are not synaptic operations.
# (`helpers.digits.synaptic_operations`, `measure_efficiency`; tested on hand-made spike trains.)

# %%
print(digits.efficiency_table(records))

# %% [markdown]
# ### Exercise 1
# Compute eq. (8.1) and eq. (8.2) yourself for the first record's network on 16 test samples, directly from
# the spike tensors of a forward pass, and compare with `digits.measure_efficiency` on the same samples.
#
# <details><summary>Solution</summary>
#
# ```python
# net = digits.build_model(...)  # or reuse a trained one; here we rebuild the untrained recurrent network
# x, y = splits.test[np.arange(16)]
# out = net(x)
# spikes = torch.cat(out.spikes, -1)                      # (16, T, N)
# per_neuron = spikes.sum() / (16 * spikes.shape[-1])     # (8.1)
# sparsity = 1 - (spikes != 0).float().mean()             # (8.2)
# ```
# </details>

# %%
net = digits.build_model("recurrent", splits.train.n_channels, len(splits.train.classes), S, seed=0,
                         input_var=digits.input_variance(splits.train))
x16, y16 = splits.test[np.arange(min(16, len(splits.test)))]
with torch.no_grad():
    spk = torch.cat(net(x16).spikes, -1)
mine = (float(spk.sum() / (len(x16) * spk.shape[-1])), float(1 - (spk != 0).float().mean()))
ref = digits.measure_efficiency(net, [(x16, y16)])
print(f"by hand: {mine[0]:.3f} spikes per neuron, sparsity {mine[1]:.4f}; "
      f"measure_efficiency: {ref['spikes_per_neuron_per_sample']:.3f}, {ref['activation_sparsity']:.4f}")

# %% [markdown]
# **Think.** The input layer's synaptic operations scale with the number of input spikes, which the network
# cannot change; the recurrent and readout operations scale with the hidden spikes. Which of the two dominates
# in the table above? What would pooling fewer channels (a smaller $p$ in eq. 8.4) do to each?

# %% [markdown]
# ## 6. The measured study
#
# A 12-epoch run takes about half a minute on one CPU core (the fast path of `helpers.fast`), and several
# seeds and both splits take longer than a notebook should, so the multi-seed study runs from the command line,
# resumably, and writes `figures/fsdd_study.json` and a figure (`--schedule` picks the flossing schedule;
# `recommended` is the default):
#
# ```bash
# python scripts/spoken_digits_study.py --dataset fsdd --data-root /tmp/fsdd_spikes --seeds 5 --resume
# python scripts/spoken_digits_study.py --dataset fsdd --data-root /tmp/fsdd_spikes --split speaker_out \
#        --held-out-speaker theo --model recurrent --seeds 5 --resume
# python scripts/spoken_digits_study.py --dataset fsdd --data-root /tmp/fsdd_spikes --model recurrent \
#        --seeds 5 --epochs 24 --out figures/fsdd_study_24epochs.json --resume
# ```
#
# Each run is selected on validation and tested once (eq. 8.7). The *official* split tests on repetitions 0-4 of
# every speaker; *speaker_out* tests on one speaker never heard in training, the harder and more honest
# question (SHD's test set also holds two unseen speakers).

# %%
study = digits.load_study(FIGURES_DIR / "fsdd_study.json")
if study is None:
    print("no stored study at figures/fsdd_study.json: run scripts/spoken_digits_study.py (see above)")
else:
    print(digits.describe_study(study))
    for split in ("official", "speaker_out"):
        rows = digits.study_table(study, split)
        if rows:
            held = {r.get("held_out_speaker") for r in study["runs"] if r["split"] == split} - {None}
            print(f"\n{split}{' (held-out speaker: ' + ', '.join(held) + ')' if held else ''}: mean ± std over seeds")
            print(digits.format_table(rows))
    digits.plot_study(study)
    plt.show()

# %% [markdown]
# The first study flossed with the reference schedule (3 seeds, run before the schedule study of notebook 09;
# `figures/fsdd_study_reference_schedule.json` and its 24-epoch companion). Its numbers, for comparison:

# %%
for name in ("fsdd_study_reference_schedule.json", "fsdd_study_24epochs_reference_schedule.json",
             "fsdd_study_24epochs.json"):
    other = digits.load_study(FIGURES_DIR / name)
    if other is None:
        print(f"figures/{name}: not found")
        continue
    print(f"figures/{name}: {digits.describe_study(other).splitlines()[0]}")
    print(digits.format_table(digits.study_table(other, "official")))
    print()

# %% [markdown]
# ### Exercise 2
# From the stored study, compute for the recurrent network without flossing the gap (percentage points)
# between the official-split test accuracy and the held-out-speaker test accuracy, and the mean best epoch.
# What does the gap say about what the network learned?
#
# <details><summary>Solution</summary>
#
# ```python
# runs = study["runs"]
# acc = lambda split: np.mean([r["test_accuracy"] for r in runs
#                              if r["split"] == split and r["model"] == "recurrent" and not r["flossing"]])
# gap = 100 * (acc("official") - acc("speaker_out"))
# ```
# A large gap means much of what was learned is speaker-specific (voice, recording level and room), not the
# digit: the official split has every test speaker in training.
# </details>

# %%
if study is not None:
    runs = study["runs"]

    def mean_acc(split):
        vals = [r["test_accuracy"] for r in runs if r["split"] == split and r["model"] == "recurrent" and not r["flossing"]]
        return float(np.mean(vals)) if vals else float("nan")

    print(f"official {100 * mean_acc('official'):.1f}%, speaker-out {100 * mean_acc('speaker_out'):.1f}%: "
          f"gap {100 * (mean_acc('official') - mean_acc('speaker_out')):.1f} points; mean best epoch "
          f"{np.mean([r['best_epoch'] for r in runs]):.1f}")

# %% [markdown]
# ## 7. Live: flossing strength and depth
#
# Flossing strength (the flossing learning rate, scaled) and the number of recurrent layers on a small live
# network driven by real spike inputs: the leading surrogate exponents and the BPTT signal (eq. 8.5) before
# and after a few flossing updates. With more layers, the error has more steps to travel between the input
# layer and the readout, and the joint spectrum has more directions near the leak-only values.

# %%
show(n08_digits.flossing_layers_demo)

# %% [markdown]
# **Think.** Flossing pulls the leading $k$ exponents towards 0. Which weights can the frozen gradient path of
# notebook 06 change in a single-layer network, and which in a two-layer one? (Look at eq. 2.4: where do
# $W_2$ and $V_l$ enter the tangent map?)

# %% [markdown]
# ## 8. SHD on a GPU (full mode)
#
# This machine cannot download SHD, so nothing below is measured here. A configuration a learner with a GPU can
# run (`helpers.digits.DIGITS_SETTINGS["shd"]`, `SGF_MODE=full` or the command line):

# %%
shd = digits.settings_for("shd")
print("recommended SHD configuration (UNMEASURED here):")
print(f"  data: 700 channels pooled by {shd['pool']} -> {700 // shd['pool']}, bins of {1e3 * shd['dt']:.0f} ms over "
      f"{shd['duration']} s (T = {round(shd['duration'] / shd['dt'])}); validation {shd['val_fraction']:.0%} of training")
print(f"  networks: one recurrent layer of {shd['hidden']} or two of {shd['multilayer_hidden'][0]}; tau_mem "
      f"{1e3 * shd['tau_mem']:.0f} ms, tau_syn {1e3 * shd['tau_syn']:.0f} ms, {shd['reset']} reset, "
      f"{shd['surrogate']} surrogate (steepness {shd['steepness']})")
print(f"  training: Adam lr {shd['lr']}, batch {shd['batch_size']}, {shd['epochs']} epochs, clip {shd['clip']}, "
      f"best-validation epoch, test once; flossing k={shd['floss_k']} with the recommended schedule "
      f"(or --schedule reference: {shd['floss_pre']} pre-updates, episodes at epochs {shd['floss_episode_epochs']})")
print("  command: python scripts/spoken_digits_study.py --dataset shd --data-root <folder with SHD/> "
      "--device cuda --seeds 3 --out figures/shd_study.json --resume")

# %% [markdown]
# The goal is at least 85% test accuracy without test-set selection. For reference (COURSE.md section 5), a
# recurrent LIF tutorial reaches 69.2%, heterogeneous time constants 82.7% (Perez-Nieves et al. 2021), LIF
# RSNNs with augmentation 83.2%, adaptive RSNNs 90-96%. The course's networks have neither heterogeneous time
# constants nor adaptation nor augmentation; those are the first things to add if 85% is not reached.

# %% [markdown]
# ## Summary
#
# - An audio-to-spike encoder (filterbank, compression, envelope, integrate-and-fire) turns speech into the SHD
#   format; the same tonic path reads SHD, FSDD spikes and a synthetic file.
# - Recurrent and multi-layer LIF networks learn spoken digits with the course's training loop. Model
#   selection uses a validation set; the test set is touched once.
# - The BPTT signal and the surrogate spectrum can be measured on real inputs before and after training;
#   flossing acts on the joint spectrum of all layers.
# - Efficiency is part of the result: spikes per neuron, activation sparsity and synaptic operations
#   (NeuroBench), counted from the nonzero weights each spike drives.
#
# **Next:** notebook 09 compares flossing schedules (pre-only, periodic, continuous, adaptive) on convergence,
# stability and cost.
#
# ## References
# - Cramer, Stradmann, Schemmel & Zenke (2020). The Heidelberg spiking data sets for the systematic evaluation
#   of spiking neural networks. *IEEE TNNLS*.
# - Zenke & Vogels (2021). The remarkable robustness of surrogate gradient learning for instilling complex
#   function in spiking neural networks. *Neural Computation*.
# - Perez-Nieves, Leung, Dragotti & Goodman (2021). Neural heterogeneity promotes robust learning.
#   *Nature Communications*.
# - Yik et al. (2025). The neurobench framework for benchmarking neuromorphic computing algorithms and systems.
#   *Nature Communications*.
# - Jackson et al. Free Spoken Digit Dataset (FSDD), https://github.com/Jakobovski/free-spoken-digit-dataset,
#   CC BY-SA 4.0.
# - Engelken (2023). Gradient flossing: improving gradient descent through dynamic control of Jacobians.
#   *NeurIPS*.
