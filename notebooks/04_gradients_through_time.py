# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Gradients through time
#
# Notebook 03 gave the spike a derivative. To train a *recurrent* spiking network we also need the error to
# travel backwards through time, from the step where the loss is measured to the steps whose inputs caused it.
# This notebook takes that journey apart. The error that reaches an earlier state is a **product of
# (surrogate) Jacobians**, one per step, and such products grow or shrink exponentially with the number of
# factors. We measure how fast, and how that rate depends on the leak, the recurrent gain, the surrogate
# steepness and the reset convention.
#
# **Learning goals.** After this notebook you can
#
# 1. unroll a recurrent SNN in time and write backpropagation through time (BPTT) as a product of transposed
#    Jacobians (eqs. 4.1-4.3);
# 2. write the Jacobian of one LIF network step in block form and read off what a spike does to it, including
#    the rows that the zero reset annihilates (eq. 4.4);
# 3. measure exploding and vanishing gradients as the slope of the log gradient norm against lag, and predict
#    it for a silent network (eqs. 4.5-4.6);
# 4. say how the slope moves with leak, recurrent gain, surrogate steepness and reset convention;
# 5. compute the singular values and condition number of the long-term Jacobian (eq. 4.7) and the BPTT signal
#    of a real loss, and recognise the slope as a *rate*: the leading Lyapunov exponent of notebook 05.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.config import by_mode, get_device, run_mode, seed_generator
from helpers.demos.n04_gradients import (
    RESET_VARIANTS,
    Setting,
    cue_task,
    dense_jacobian,
    gradient_demo,
    last_step_loss,
    long_term_figure,
    long_term_spectrum,
    make_network,
    measure,
    poisson_input,
    silent_slope,
    sweep,
    sweep_figure,
    with_reset,
)
from helpers.gradients import bptt_signal, condition_number, log_slope, singular_values, state_gradient_norms
from helpers.models import MultiLayerSNN
from helpers.neurons import LIFParams
from helpers.plotting import gradient_norms_vs_lag, jacobian_image, unrolled_graph
from helpers.widgets import show

device = get_device()
MODE = run_mode()
N_HIDDEN = by_mode(quick=32, standard=128)  # LIF neurons in the recurrent layer
N_STEPS = by_mode(quick=150, standard=300)  # sequence length T (steps of dt = 1 ms)
BATCH = by_mode(quick=2, standard=8)  # input sequences per network (the norms are averaged in the log domain)
SEEDS = by_mode(quick=(1,), standard=(1, 2, 3))  # network seeds per setting
SIZES = dict(n_hidden=N_HIDDEN, n_steps=N_STEPS, batch=BATCH, device=device)
print(f"mode {MODE}, device {device}: {N_HIDDEN} neurons, T = {N_STEPS} steps, {BATCH} inputs, {len(SEEDS)} seed(s)")
if MODE == "quick":
    print("quick mode: tiny networks, short sequences, one seed: the numbers below are sanity-level only")

# %% [markdown]
# ## 1. Backpropagation through time
#
# A recurrent SNN is one map applied over and over. With the hidden state $h_t = (I_t, U_t)$ (synaptic
# currents and membranes of all neurons), eqs. (1.1)-(1.4) and (2.1) of notebooks 01-02 define
# $h_{t+1} = F(h_t, x_t; \theta)$ with the weights $\theta$ shared by every step. *Unrolled* over T steps the
# network is a deep feed-forward network, one layer per time step, all layers with the same weights.
#
# Write $J_t = \partial h_{t+1} / \partial h_t$ for the Jacobian of one step, with the surrogate derivative in
# place of the Heaviside's. If the loss depends on the last state only, the chain rule gives the error that
# reaches state $h_t$:
#
# $$\frac{\partial L}{\partial h_t} = J_t^\top J_{t+1}^\top \cdots J_{T-1}^\top \frac{\partial L}{\partial h_T}
# \qquad (4.1)$$
#
# a product of $T - t$ transposed Jacobians: the **lag** $T - t$ is the number of factors. With a loss
# $L = \sum_t \ell_t(h_t)$ spread over time, the same product appears inside the recursion that BPTT computes,
#
# $$\frac{\partial L}{\partial h_t} = \frac{\partial \ell_t}{\partial h_t} + J_t^\top \frac{\partial L}{\partial h_{t+1}}
# \qquad (4.2)$$
#
# and the weights collect one contribution per step,
#
# $$\frac{dL}{d\theta} = \sum_{t=0}^{T-1} \Big(\frac{\partial L}{\partial h_{t+1}}\Big)^\top
# \frac{\partial F(h_t, x_t; \theta)}{\partial \theta} \qquad (4.3)$$
#
# so an input at step t can only be credited with the part of the error that survived the trip back to
# $h_{t+1}$. Forward arrows below are the steps $F$; backward arrows are the factors of (4.1).

# %%
unrolled_graph(n_steps=4)
plt.show()

# %% [markdown]
# Autograd does all of this for us. To see that it computes nothing more mysterious than (4.1), take a small
# network (8 neurons, 60 steps), inject a random error $e$ at the last state ($L = \langle e, h_T\rangle$) and
# compare autograd's $\|\partial L/\partial h_t\|$ (`state_gradient_norms`) with the explicit product of
# transposed Jacobians. Each $J_t$ is formed here from the structured tangent map of `helpers.models`
# (eqs. 2.3-2.6), without autograd.

# %%
small = make_network(Setting(gain=3.0), n_hidden=8, seed=4, device=device)
x_small = poisson_input(1, 60, small.n_in, rate=0.1, seed=5, device=device)
error = torch.randn(1, small.state_dim, generator=seed_generator(6), dtype=torch.float64).to(device)

norms_autograd = state_gradient_norms(small, x_small, error=error)[0]  # autograd through the unrolled steps

states = [small.initial_state(1)]
with torch.no_grad():
    for t in range(x_small.shape[1]):
        states.append(small.step(states[-1], x_small[:, t]))
g = error[0]
norms_product = [g.norm()]
for t in reversed(range(x_small.shape[1])):
    J_t = dense_jacobian(small, states[t], x_small[:, t])  # eqs. (2.3)-(2.6)
    g = J_t.T @ g  # one more factor of (4.1)
    norms_product.append(g.norm())
norms_product = torch.stack(norms_product[::-1])
rel = ((norms_product - norms_autograd).abs() / norms_autograd).max()
print(f"largest relative difference between autograd and the product (4.1): {rel:.1e}")

# %% [markdown]
# ## 2. The Jacobian of one LIF network step
#
# For one recurrent layer with recurrent weights $V$, spikes $S = H(U - \vartheta)$ and surrogate derivatives
# $D = \operatorname{diag} \sigma'(U - \vartheta)$, eqs. (2.3)-(2.6) of `helpers.models` assemble into a
# $2N \times 2N$ matrix in blocks (rows: $I', U'$; columns: $\partial/\partial I$, $\partial/\partial U$):
#
# $$J^{\text{zero}} = \begin{pmatrix} \alpha \mathbb 1 & V D \\ \operatorname{diag}(1 - S) &
# \beta \operatorname{diag}(1 - S) \;\big[-\operatorname{diag}(\beta U + I)\, D\big] \end{pmatrix}, \qquad
# J^{\text{subtract}} = \begin{pmatrix} \alpha \mathbb 1 & V D \\ \mathbb 1 & \beta \mathbb 1 \;\big[-\vartheta D\big]
# \end{pmatrix} \qquad (4.4)$$
#
# The bracketed terms exist only when the reset is *attached* (`detach_reset=False`); the input $x_t$ does not
# enter J. Read (4.4) row by row:
#
# * the top-left block is the synaptic leak $\alpha$; the top-right block $VD$ is the only place where the
#   recurrent weights and the surrogate enter: a neuron near threshold ($D_{ii}$ large) passes error on to the
#   neurons it projects to;
# * the bottom blocks are the membrane leak $\beta$ and the synaptic current flowing into the membrane;
# * with the **zero reset and a detached reset**, the membrane row of a neuron that spikes is exactly zero:
#   its membrane is set to 0 whatever it was before, so no error flows back through it. That tangent direction is
#   annihilated, and the rank of $J_t$ drops by the number of spiking neurons;
# * attaching the zero reset leaves a single entry $-(\beta U_i + I_i) D_{ii}$ in that row; the subtract reset
#   keeps every row.
#
# Below: one state of the small network, a step at which several neurons spike, and the Jacobian (4.4) in the
# four conventions (same weights, same state). Red triangles mark the membrane rows of the spiking neurons;
# the colour scale is symmetric-logarithmic so that the small entries of $VD$ show next to the leak.

# %%
spikes_small = torch.stack([(h[0, 8:] > small.params.threshold) for h in states[:-1]])
t_show = int(spikes_small.sum(1).argmax())
spiking = spikes_small[t_show].cpu()
fig, axes = plt.subplots(1, 4, figsize=(13, 3.6), layout="constrained")
for ax, (name, (reset, detach)) in zip(axes, RESET_VARIANTS.items()):
    J = dense_jacobian(with_reset(small, reset, detach), states[t_show], x_small[:, t_show])
    image = jacobian_image(J, n=8, spiking=spiking, ax=ax, title=name, vmax=1.5)
    zero_rows = int((J.abs().sum(1) == 0).sum())
    print(f"{name:20s} all-zero rows: {zero_rows}   rank {int(torch.linalg.matrix_rank(J))} of {J.shape[0]}")
fig.colorbar(image, ax=axes, shrink=0.8)
plt.show()
print(f"step t = {t_show}: {int(spiking.sum())} of 8 neurons spike")

# %% [markdown]
# ## 3. Exploding and vanishing
#
# Taking norms in (4.1), $\|\partial L/\partial h_t\| \le \|J_t\| \cdots \|J_{T-1}\| \, \|\partial L/\partial h_T\|$:
# a product of $T - t$ numbers. Typically the norm behaves like
#
# $$\Big\|\frac{\partial L}{\partial h_t}\Big\| \approx C\, e^{\hat\lambda\, (T - t)} \qquad (4.5)$$
#
# with a **slope** $\hat\lambda$ per step: $\hat\lambda > 0$ explodes, $\hat\lambda < 0$ vanishes (Bengio, Simard &
# Frasconi 1994; Pascanu, Mikolov & Bengio 2013). We estimate $\hat\lambda$ by a least-squares fit of
# $\log\|\partial L/\partial h_t\|$ against the lag (`log_slope`), leaving out the first and last 10% of the lags
# (the error's own transient and the network's start from rest).
#
# The simplest case has an exact answer. In a **silent** population (no spikes, no recurrence) each neuron's
# Jacobian is $\begin{pmatrix}\alpha & 0 \\ 1 & \beta\end{pmatrix}$, and the error decays at the slower of the
# two leaks:
#
# $$\hat\lambda_\text{silent} = \log \max(\alpha, \beta) = -\frac{\Delta t}{\max(\tau_\text{syn}, \tau_\text{mem})} \qquad (4.6)$$
#
# (Exercise 2 asks you to derive it.) For the course's constants that is $\log\beta$. Here it is measured on a
# silent population, then on three spiking networks that differ only in the steepness of the surrogate.

# %%
params = LIFParams()
silent = MultiLayerSNN(20, (16,), 1, params=params, recurrent=False, generator=seed_generator(0),
                       dtype=torch.float64, device=device)
x_zero = torch.zeros(2, N_STEPS, 20, dtype=torch.float64, device=device)
slope_silent = log_slope(state_gradient_norms(silent, x_zero, generator=seed_generator(1)),
                         fit_range=(N_STEPS // 2, N_STEPS))
print(f"silent population: measured slope {slope_silent:+.4f} / step, log(beta) = {math.log(params.beta):+.4f}")

fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
examples = {}
for steepness, color in ((1.0, "C3"), (10.0, "C0"), (100.0, "C2")):
    examples[steepness] = measure(Setting(steepness=steepness), seed=SEEDS[0], **SIZES)
    gradient_norms_vs_lag(examples[steepness]["norms"], ax=ax, color=color,
                          label=f"steepness {steepness:g}: slope {examples[steepness]['slope']:+.3f} / step")
ax.legend(fontsize=8)
ax.set_title("error reaching state h_t, gain 1, zero reset (detached)", fontsize=9)
plt.show()
for steepness, result in examples.items():
    factor = math.exp(result["slope"] * 100)
    print(f"steepness {steepness:5g}: slope {result['slope']:+.4f} / step -> over 100 steps the error changes "
          f"by a factor {factor:.2g} (firing rate {result['rate']:.3f} per step)")

# %% [markdown]
# A peak-1 surrogate makes every factor $VD$ of (4.4) smaller the steeper it is. With a very steep surrogate,
# $D \approx 0$ for every neuron not sitting right at threshold, and the Jacobian is the leak alone: the slope
# approaches the silent value (4.6). With a very flat one, $D \approx 1$ for all neurons and the recurrent
# weights act at full strength at every step, spiking or not. The same network, with the same spikes, can have
# vanishing or exploding gradients depending on a choice made only for the backward pass.
#
# ## 4. What sets the slope: four sweeps
#
# Each sweep changes one thing, starting from the defaults (gain 1, steepness 10, $\tau_\text{mem}$ = 10 ms,
# $\tau_\text{syn}$ = 5 ms, zero reset, detached), and measures the slope (mean and range over the seeds) and the
# firing rate. The gain g multiplies the recurrent weights of the fluctuation-driven initialisation of
# notebook 02 (g = 0: no recurrence).
#
# **Leak.** A longer membrane time constant forgets more slowly; the dashed line is the silent prediction (4.6).

# %%
TAU_MEMS = [2e-3, 5e-3, 10e-3, 20e-3, 50e-3]
leak = sweep("tau_mem", TAU_MEMS, seeds=SEEDS, **SIZES)
sweep_figure(leak, "tau_mem (ms)", log_x=True, scale=1e3,
             reference=lambda taus: np.array([silent_slope(tau, 5e-3) for tau in taus]))
plt.show()
for tau, slopes, rates in zip(leak["values"], leak["slopes"], leak["rates"]):
    print(f"tau_mem {tau * 1e3:4.0f} ms: slope {slopes.mean():+.4f}, silent prediction {silent_slope(tau, 5e-3):+.4f},"
          f" rate {rates.mean():.3f}")
above = all(s.min() > silent_slope(tau, 5e-3) for tau, s in zip(leak["values"], leak["slopes"]))
print(f"every measured slope above the silent prediction: {above}")

# %% [markdown]
# The leak sets the scale of the slope. Expect the recurrent network to forget more slowly than the silent
# prediction (the last line above checks it): error also travels through the recurrent weights. The gap is
# largest for short $\tau_\text{mem}$, where the network fires most.
#
# **Recurrent gain.** More recurrence gives the error more paths back, so the slope rises with g. But stronger
# recurrence also means more spikes, and with the zero reset each spike annihilates a direction (section 2):
# watch whether the slope keeps rising.

# %%
GAINS = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]
gain = sweep("gain", GAINS, seeds=SEEDS, **SIZES)
sweep_figure(gain, "recurrent gain g")
plt.show()
best = int(gain["slopes"].mean(1).argmax())
for g_value, slopes, rates in zip(gain["values"], gain["slopes"], gain["rates"]):
    print(f"g = {g_value:3g}: slope {slopes.mean():+.4f} (seeds {slopes.min():+.4f} .. {slopes.max():+.4f}), rate {rates.mean():.3f}")
print(f"largest slope at g = {gain['values'][best]:g}; g = 0 is the leak with resets: {gain['slopes'][0].mean():+.4f}")

# %% [markdown]
# **Surrogate steepness.** The sweep of section 3, in full. Between the exploding and the vanishing side there is
# a steepness at which the slope crosses zero.

# %%
STEEPNESSES = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
steep = sweep("steepness", STEEPNESSES, seeds=SEEDS, **SIZES)
sweep_figure(steep, "surrogate steepness", log_x=True)
plt.show()
mean_slopes = steep["slopes"].mean(1)
for s_value, slope in zip(steep["values"], mean_slopes):
    print(f"steepness {s_value:5g}: slope {slope:+.4f}")
sign_change = np.nonzero(np.diff(np.sign(mean_slopes)))[0]
if len(sign_change):
    i = sign_change[0]  # interpolate the zero crossing in log steepness
    log_s = np.log(STEEPNESSES[i]) + (np.log(STEEPNESSES[i + 1]) - np.log(STEEPNESSES[i])) * mean_slopes[i] / (mean_slopes[i] - mean_slopes[i + 1])
    print(f"the slope crosses zero near steepness {math.exp(log_s):.2g}")
else:
    print("the slope does not change sign over this range")

# %% [markdown]
# **Reset convention.** Same weights, four conventions, at a gain (g = 2) where the network fires enough for the
# reset to matter. The forward pass is the same for the two zero-reset variants and for the two subtract
# variants; only the backward pass differs between detached and attached.

# %%
resets = sweep("reset", list(RESET_VARIANTS), base=Setting(gain=2.0), seeds=SEEDS, **SIZES)
sweep_figure(resets, "reset")
plt.show()
for name, slopes, rates in zip(resets["values"], resets["slopes"], resets["rates"]):
    print(f"{name:20s}: slope {slopes.mean():+.4f}, rate {rates.mean():.3f}")

# %% [markdown]
# Mind the firing rates: the subtract reset leaves the membrane just below threshold after a spike, so the same
# weights fire more than with the zero reset. Two effects compete in the backward pass. The zero reset with a detached reset removes the membrane direction of every spiking
# neuron (section 2); the subtract reset keeps it, so error survives longer. Attaching the reset adds the
# bracketed terms of (4.4), which subtract from the membrane's own coupling exactly for the neurons near
# threshold, where $D$ is large.
# Which convention you train with changes how far back the error reaches; notebooks 05-06 return to this when
# they try to control the slope.
#
# ## 5. The long-term Jacobian
#
# The error at lag w is one vector; the full story is the matrix that maps it, the **long-term Jacobian**
#
# $$J_{t_0 + w \leftarrow t_0} = J_{t_0 + w - 1} \cdots J_{t_0 + 1} J_{t_0}, \qquad
# \sigma_i(J_{t_0 + w \leftarrow t_0}) \approx c_i\, e^{\lambda_i w}, \qquad
# \kappa_k = \frac{\sigma_1}{\sigma_k} \approx c\, e^{(\lambda_1 - \lambda_k) w} \qquad (4.7)$$
#
# Its singular values $\sigma_i$ say how much each direction of the error is amplified over the window, and the
# condition number $\kappa_k$ (of the leading k directions) how unevenly: a large $\kappa_k$ means that a gradient
# step is dominated by a few directions and the rest of the past is invisible. `long_term_jacobian` builds the
# product from the structured tangent map; we fit the growth rates over the longer windows. With the detached
# zero reset the product is exactly singular (every spike removes a direction), so the full condition number
# $\sigma_1/\sigma_{2N}$ is infinite; we look at the leading k instead.

# %%
WINDOWS = by_mode(quick=[5, 10, 20, 40, 80], standard=[5, 10, 20, 40, 80, 120, 160])
K = N_HIDDEN // 4
spectrum = long_term_spectrum(Setting(), N_HIDDEN, WINDOWS, start=50, batch=BATCH, device=device)
fig, rates_lt = long_term_figure(spectrum, k=K, show_windows=WINDOWS[::2], fit_from=40)
plt.show()
svals = spectrum["svals"]
for w, s1 in zip(WINDOWS, np.log(svals[..., 0]).mean(1)):
    print(f"w = {w:3d}: log sigma_1 = {s1:+6.2f} (mean over inputs)")
# Over short windows no leak can push a singular value below 1e-12 sigma_1 (alpha^w >= e^-4 for w <= 20):
# what falls below is an exactly annihilated direction. Compare with the subtract reset on the same input.
subtract = long_term_spectrum(Setting(reset="subtract"), N_HIDDEN, [10, 20], start=50, batch=BATCH, device=device)
for w in (10, 20):
    zero_count = (svals[WINDOWS.index(w)] < 1e-12 * svals[WINDOWS.index(w)][:, :1]).sum(-1).mean()
    s = subtract["svals"][[10, 20].index(w)]
    print(f"w = {w}: singular values below 1e-12 sigma_1 (of {spectrum['state_dim']}): zero reset {zero_count:.1f}, "
          f"subtract reset {(s < 1e-12 * s[:, :1]).sum(-1).mean():.1f}")
print(f"growth rates (windows >= 40): log sigma_1 {rates_lt['sigma_1']:+.4f}, log sigma_{K} {rates_lt['sigma_k']:+.4f},"
      f" log kappa_{K} {rates_lt['kappa_k']:+.4f} per step")
kappa = condition_number(spectrum["jacobian"], k=K)  # one per input sequence
print(f"condition number kappa_{K} at w = {WINDOWS[-1]}: " + ", ".join(f"{float(c):.2g}" for c in kappa))

# %% [markdown]
# For short windows $\sigma_1 > 1$ even when the error eventually vanishes: the Jacobian (4.4) is not normal (the
# current feeds the membrane, never the other way round), so a product of a few factors can amplify before the
# decay wins. This is why (4.7) has prefactors $c_i$ and why we fit *slopes* over long windows rather than read
# $\frac1w\log\sigma_i$ at one w. The condition number grows exponentially with the window: the longer the memory
# a task needs, the worse conditioned its gradient.
#
# ## 6. The BPTT signal of a real loss
#
# So far the error was injected by hand. In training it comes from a loss. A small memory task: during the first
# 10 steps one half of the 20 input channels fires strongly (which half is the class), then all channels fire
# at the 5% background; the readout must report the class at the last step. `bptt_signal` records
# $\|\partial L/\partial h_t\|$ of the cross-entropy at the last step, for an untrained network: this is the
# signal that has to carry the cue's credit back at the start of training. (The readout at step $T-1$ reads the
# spikes computed from $h_{T-1}$, so $h_T$ itself receives no gradient; that point is left out of the plot.)

# %%
T_TASK = by_mode(quick=100, standard=200)
x_task, labels = cue_task(BATCH, T_TASK, seed=7, device=device)
fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
task_slopes = {}
for steepness, color in ((10.0, "C0"), (3.0, "C3")):
    net = make_network(Setting(steepness=steepness), N_HIDDEN, seed=SEEDS[0], device=device)
    signal = bptt_signal(net, x_task, last_step_loss(labels))
    task_slopes[steepness] = log_slope(signal, fit_range=(10, T_TASK - 15))
    gradient_norms_vs_lag(signal, ax=ax, color=color,
                          label=f"steepness {steepness:g}: slope {task_slopes[steepness]:+.3f} / step")
    cue_end, last = signal[:, 10].log().mean(), signal[:, -2].log().mean()
    print(f"steepness {steepness:g}: error at the end of the cue / error at the last step = {float((cue_end - last).exp()):.2g}")
ax.axvspan(T_TASK - 10, T_TASK, color="0.85", label="cue")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Two paths carry this error back: the recurrent network (eq. 4.1) and the leaky readout (eq. 2.2), whose own
# memory decays like $\kappa^{\text{lag}}$ with $\kappa = e^{-\Delta t/\tau_\text{out}}$. The slower of the two sets the
# slope at long lags. With the steeper surrogate, the credit that reaches the cue is small, and a gradient step
# mostly adjusts the weights to the recent past; with the flatter one, the error grows on its way back, the
# other failure mode. Neither is what a task with a long delay needs.
#
# ## 7. The slope is a rate
#
# Every curve in this notebook is, after a transient, a straight line on a log scale. Its slope is a *rate*
# per step that belongs to the network, not to the error vector we injected or the loss we chose: three different
# measurements of the default network give numbers close to one another, and far from the silent value.

# %%
default = measure(Setting(), seed=SEEDS[0], **SIZES)
print(f"slope of log ||dL/dh_t|| (random error at h_T, eq. 4.1):      {default['slope']:+.4f} / step")
print(f"growth rate of log sigma_1 of the long-term Jacobian (4.7):  {rates_lt['sigma_1']:+.4f} / step")
print(f"slope of the BPTT signal of the cue task (steepness 10):     {task_slopes[10.0]:+.4f} / step")
print(f"for comparison, the silent network (4.6): log(beta) =        {math.log(LIFParams().beta):+.4f} / step")

# %% [markdown]
# The log-norm decays *linearly* in the lag because the error is multiplied by a long product of random-looking
# matrices, and the log of such a product grows at a fixed rate for almost every starting vector: its leading
# **Lyapunov exponent** $\lambda_1$. Notebook 05 computes $\lambda_1$ (and the next ones) directly from the
# tangent dynamics with the QR algorithm, checks it on systems with known answers, and compares it with the
# slopes measured here. Notebook 06 then makes it a training objective.
#
# ## 8. Live control
#
# Move the recurrent gain, the surrogate steepness and the membrane time constant (and the reset convention) and
# watch the gradient norm against lag. The orange dashed line is the fitted slope, the dotted line the silent
# prediction (4.6). Try: can you find settings where the error neither explodes nor vanishes over 150 steps? What
# happens to the firing rate there?

# %%
show(gradient_demo)

# %% [markdown]
# ## Exercises
#
# **Exercise 1: the Jacobian by autograd.** The structured tangent map never forms J. Build the Jacobian of one
# step of `small` at the state `states[t_show]` with `torch.autograd.functional.jacobian` applied to
# `small.step`, and compare it with `dense_jacobian(small, ...)` for all four reset conventions (use
# `with_reset`). Where would they disagree if `tangent` had left the reset out of the Jacobian?

# %%
# Exercise 1: replace None by the autograd Jacobian (state_dim x state_dim) of small.step at states[t_show].
J_autograd = None
if J_autograd is not None:
    J_tangent = dense_jacobian(small, states[t_show], x_small[:, t_show])
    print(f"max |J_autograd - J_tangent| = {float((J_autograd - J_tangent).abs().max()):.1e}")

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# from torch.autograd.functional import jacobian
#
# h, x_t = states[t_show], x_small[:, t_show]
# for name, (reset, detach) in RESET_VARIANTS.items():
#     variant = with_reset(small, reset, detach)
#     J_autograd = jacobian(lambda state: variant.step(state, x_t), h)[0, :, 0]   # (state_dim, state_dim)
#     J_tangent = dense_jacobian(variant, h, x_t)
#     print(f"{name:20s} max difference {float((J_autograd - J_tangent).abs().max()):.1e}")
# ```
#
# All four agree to rounding: `tangent` implements (4.4) including the reset terms, exactly as autograd treats
# the reset (detached or not). Had the reset terms been left out, the attached variants would differ in the
# diagonal of the membrane block at the spiking neurons: $-(\beta U_i + I_i) D_{ii}$ (zero reset) or
# $-\vartheta D_{ii}$ (subtract reset). `tests/test_gradients.py` runs the same comparison over whole trajectories.
# </details>
#
# **Exercise 2: the silent network.** Derive (4.6). For one silent neuron $J = \begin{pmatrix}\alpha & 0\\ 1 & \beta\end{pmatrix}$.
# Compute $(J^\top)^k$ and predict the slope for (a) $\tau_\text{mem}$ = 10 ms, $\tau_\text{syn}$ = 5 ms;
# (b) $\tau_\text{mem}$ = 10 ms, $\tau_\text{syn}$ = 20 ms. Write your predictions down, then run the cell. Why is
# the fit in case (c), $\tau_\text{syn} = \tau_\text{mem}$, a little off unless the fit range starts at long lags?

# %%
for tau_mem, tau_syn in ((10e-3, 5e-3), (10e-3, 20e-3), (10e-3, 10e-3)):
    p = LIFParams(tau_mem=tau_mem, tau_syn=tau_syn)
    net = MultiLayerSNN(20, (16,), 1, params=p, recurrent=False, generator=seed_generator(0),
                        dtype=torch.float64, device=device)
    norms = state_gradient_norms(net, x_zero, generator=seed_generator(1))
    print(f"tau_mem {tau_mem * 1e3:.0f} ms, tau_syn {tau_syn * 1e3:.0f} ms: measured slope "
          f"{log_slope(norms, fit_range=(N_STEPS // 2, N_STEPS)):+.4f} / step")

# %% [markdown]
# <details><summary>Solution</summary>
#
# $J^k = \begin{pmatrix}\alpha^k & 0\\ c_k & \beta^k\end{pmatrix}$ with
# $c_k = \sum_{j=0}^{k-1}\beta^{k-1-j}\alpha^j = \frac{\beta^k - \alpha^k}{\beta - \alpha}$, so an error
# $e = (e_I, e_U)$ at lag k has become
# $g_I = \alpha^k e_I + c_k e_U$, $g_U = \beta^k e_U$. For large k every term decays like
# $\max(\alpha,\beta)^k$, hence a slope $\log\max(\alpha,\beta) = -\Delta t/\max(\tau_\text{syn}, \tau_\text{mem})$:
# (a) $\log\beta = -0.1$, (b) $\log\alpha = -0.05$ per step: the slower leak wins, whichever it is.
# (c) With $\alpha = \beta$, $c_k = k\beta^{k-1}$: the norm decays like $k\beta^k$, and the $\log k$ term bends the
# curve, so a straight-line fit overestimates the slope by about $1/k$ at the fitted lags.
# </details>
#
# **Exercise 3 (open).** Using `measure`, find a gain at which the *subtract* reset (detached) gives a slope near
# zero at steepness 10. Does a slope near zero mean that the error reaching the distant past is useful, or
# only that it has the right size? (Hint: the slope concerns $\sigma_1$ only; look at $\kappa_k$ in (4.7).)
#
# ## Think
#
# 1. The true derivative of the Heaviside is zero, so without a surrogate (4.4) would keep only the leak and the
#    reset rows. Which sweep of section 4 approaches that limit, and what would training see?
# 2. The zero reset with a detached reset annihilates directions. Is that a defect of the surrogate method or a
#    faithful description of what the zero reset does to the past?
# 3. Gradient clipping rescues exploding gradients. Why can no rescaling rescue vanishing ones?
# 4. The slope did not depend on the random error vector $e$. Under what condition on $e$ would it (think of
#    the singular vectors of (4.7))?
# 5. A steepness at which the slope is zero makes every lag count equally. Would you expect training to be easy
#    there? What else does $\kappa_k$ tell you?
#
# ## Summary
#
# * BPTT multiplies the error by one transposed Jacobian per step (4.1-4.3). For a LIF network the Jacobian has a
#   simple block form (4.4): leaks on the diagonal blocks, the recurrent weights times the surrogate derivatives
#   off the diagonal, and, with the detached zero reset, zero membrane rows for the neurons that spike.
# * The gradient norm against lag is, after a transient, an exponential (4.5): its slope is set by the leak
#   (a silent network has slope $\log\max(\alpha,\beta)$, 4.6), raised by recurrence, pushed towards explosion by a
#   flat surrogate and towards the leak by a steep one, and changed by the reset convention.
# * The long-term Jacobian's singular values grow at fixed rates and its condition number exponentially with the
#   window (4.7); the BPTT signal of a real loss decays at the same rate.
#
# **Next.** That rate is the leading Lyapunov exponent of the network's surrogate tangent dynamics. Notebook 05
# computes the whole spectrum with the QR algorithm and compares $\lambda_1$ with the slopes of this notebook;
# notebook 06 pushes the exponents towards zero while training (gradient flossing).
#
# ## References
#
# * Y. Bengio, P. Simard & P. Frasconi (1994). Learning long-term dependencies with gradient descent is difficult.
#   *IEEE Transactions on Neural Networks* 5(2), 157-166.
# * R. Pascanu, T. Mikolov & Y. Bengio (2013). On the difficulty of training recurrent neural networks. *ICML*,
#   PMLR 28(3), 1310-1318.
# * E. O. Neftci, H. Mostafa & F. Zenke (2019). Surrogate gradient learning in spiking neural networks.
#   *IEEE Signal Processing Magazine* 36(6), 51-63.
# * F. Zenke & T. P. Vogels (2021). The remarkable robustness of surrogate gradient learning for instilling
#   complex function in spiking neural networks. *Neural Computation* 33(4), 899-925.
# * R. Engelken (2023). Gradient flossing: improving gradient descent through dynamic control of Jacobians.
#   *NeurIPS* (the link to Lyapunov exponents made in notebooks 05-06).
