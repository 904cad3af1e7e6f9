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
# # 03 · Surrogate gradients
#
# A spiking network computes with an all-or-nothing nonlinearity. Gradient descent needs derivatives, and the
# derivative of a step is zero everywhere except at the step. This notebook shows that problem numerically, introduces
# the fix that made deep SNN training practical, the **surrogate gradient** (keep the spike in the forward pass, use a
# smooth pseudo-derivative in the backward pass), trains a small network with it, and then asks what the surrogate
# gradient actually *is*, with the answers of recent theory checked number by number.
#
# **Learning goals.** After this notebook you can
# 1. explain why the true gradient of a spiking network's loss with respect to any weight before a spike is zero almost
#    everywhere, and see it as a piecewise-constant loss (eqs. 3.1-3.2);
# 2. name the six surrogate shapes of `helpers.surrogate`, their peak and area, and say why the normalisation (peak 1
#    or area 1) changes the gradient scale by orders of magnitude (eqs. 3.3-3.5);
# 3. train a small recurrent SNN with surrogate gradients and compare shapes and steepness values;
# 4. state and check numerically three results of Gygax & Zenke (2025): for one stochastic neuron the surrogate gradient
#    *is* the gradient of the expected output (with the matching surrogate, whose exact scale you will derive); in a
#    two-layer network it is not, and can even have the wrong sign; and it is not the gradient of any function, because
#    its integral around a closed loop in weight space does not vanish. Yet it gives descent directions where the true
#    gradient is zero.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers import theory as th
from helpers.config import by_mode, get_device, run_mode, seed_generator
from helpers.demos import n03_surrogate as n03
from helpers.plotting import raster
from helpers.surrogate import SURROGATE_KINDS, spike, surrogate_area
from helpers.widgets import show

device = get_device()
print(f"run mode: {run_mode()}, device: {device}")
if run_mode() == "quick":
    print("quick mode: tiny network, few training steps: the training curves are sanity-level only "
          "(the theory checks in section 4 are exact or Monte Carlo at every mode)")

# %% [markdown]
# ## 1. The true gradient of a spiking network is zero
#
# A LIF neuron (notebook 01) emits a spike when its membrane potential $U$ is above the threshold $\vartheta$:
#
# $$S[t] = H\big(U[t] - \vartheta\big), \qquad H(v) = \begin{cases} 1 & v > 0 \\ 0 & v \le 0 \end{cases} \tag{3.1}$$
#
# Any weight $W$ that acts *before* a spike (input and recurrent weights) reaches the loss $L$ only through spikes, so by
# the chain rule
#
# $$\frac{\partial L}{\partial W} = \sum_t \frac{\partial L}{\partial S[t]}\, H'\big(U[t]-\vartheta\big)\, \frac{\partial U[t]}{\partial W},
# \qquad H'(v) = 0 \text{ for } v \neq 0. \tag{3.2}$$
#
# $H'$ is zero everywhere except at $v = 0$, where it is undefined (a Dirac delta). Geometrically: the loss is
# **piecewise constant** in $W$. Moving $W$ a little changes the membrane potentials a little, but no spike appears or
# disappears, so the output and the loss do not change at all. Only when some membrane crosses the threshold does the
# loss jump. Gradient descent with the true gradient therefore cannot change these weights; only the readout, which
# acts after the last spike, has a useful true gradient.
#
# Let us see it. The task used throughout this notebook (section 3 explains it) classifies Poisson spike patterns; the
# network is a recurrent LIF layer (`helpers.models.RecurrentSNN`) with a leaky-integrator readout. We scan one input
# weight over a range and record the loss (eq. 3.6 below) on a fixed batch.

# %%
task = n03.OrderTask(n_classes=4, n_in=20, n_steps=40, n_segments=4)
n_hidden = by_mode(quick=16, standard=32)
model = n03.make_model(task, n_hidden, "fast_sigmoid", 10.0, seed=0, device=device)
x_scan, y_scan = task.sample(16, seed_generator(7))
x_scan, y_scan = x_scan.to(device), y_scan.to(device)
w0 = float(model.w_ff[0][0, 0])
grid = w0 + np.linspace(-3.0, 3.0, by_mode(quick=81, standard=241))
scan = n03.scan_weight(model, x_scan, y_scan, grid, neuron=0, channel=0, grad_every=by_mode(quick=5, standard=8))
print(f"{len(grid)} values of W_in[0, 0]: {scan['levels']} distinct loss values; "
      f"{100 * scan['flat_fraction']:.1f}% of neighbouring grid points have exactly the same loss")
n03.plot_scan(scan)
plt.show()

# %% [markdown]
# The loss is a staircase (left): flat almost everywhere, with jumps where a spike of neuron 0 appears or vanishes.
# Between jumps the finite-difference slope is exactly zero (grey dots, right), and so is the true derivative. The red
# curve is the **surrogate gradient**, the quantity the rest of this notebook is about: a smooth, nonzero signal that
# says in which direction the loss tends to go.
#
# ## 2. The surrogate family
#
# The surrogate-gradient method (Neftci, Mostafa & Zenke 2019; Zenke & Ganguli 2018) keeps $H$ in the forward pass and
# replaces its derivative in the backward pass by a smooth bump $\sigma'$ centred on the threshold:
#
# $$\frac{\partial S}{\partial U} := \sigma'(U - \vartheta), \qquad \text{e.g. } \sigma'(v) = \frac{1}{(1 + \beta_s |v|)^2} \text{ (fast sigmoid).} \tag{3.3}$$
#
# `helpers.surrogate` has six shapes, all normalised to **peak 1** at $v = 0$, with steepness $\beta_s$ (inverse width,
# 1 / membrane units): fast sigmoid $1/(1+\beta_s|v|)^2$, sigmoid $4 s(\beta_s v)(1 - s(\beta_s v))$ with $s$ the logistic
# function, arctan $1/(1 + (\beta_s v)^2)$, triangle $\max(0, 1 - \beta_s|v|)$, exponential $e^{-\beta_s|v|}$ and
# Gaussian $e^{-(\beta_s v)^2/2}$. Their area is a constant over the steepness,
#
# $$A = \int_{-\infty}^{\infty} \sigma'(v)\, dv = \frac{c_\text{kind}}{\beta_s}, \qquad c_\text{kind} \in \{2, 4, \pi, 1, 2, \sqrt{2\pi}\}. \tag{3.4}$$
#
# The other common convention normalises to **unit area**, $\sigma'_\text{unit} = \sigma'/A$, so that $\sigma'$ becomes a
# probability density that tends to the Dirac delta $H'$ as $\beta_s \to \infty$. Tutorial code (e.g. SpyTorch) mostly
# uses peak 1, as this course does; theory prefers unit area, and section 4 shows why it is the natural one. The two
# differ by the factor $1/A = \beta_s/c_\text{kind}$ *per spike* on a path of the chain rule: a path that passes through
# $k$ spikes (layers, or time steps of a recurrent network) is scaled by
#
# $$\left(\frac{1}{A}\right)^{k} = \left(\frac{\beta_s}{c_\text{kind}}\right)^{k}. \tag{3.5}$$
#
# First the numbers: peak and area measured on a fine grid against the formula (3.4).

# %%
table = n03.surrogate_table(steepness_values=(10.0, 100.0))
print(f"{'kind':>13} {'steepness':>9} {'peak':>6} {'area (grid)':>12} {'area (3.4)':>11} {'unit-area peak = 1/A':>21}")
for row in table:
    print(f"{row['kind']:>13} {row['steepness']:9g} {row['peak']:6.3f} {row['area_numerical']:12.5f} {row['area']:11.5f} "
          f"{row['unit_area_peak']:21.2f}")
n03.plot_family((10.0, 100.0))
plt.show()

# %% [markdown]
# At steepness 100 the peak-1 fast sigmoid has area $2/100$ and the unit-area one has peak $100/2$ (table). How much that matters
# depends on how many surrogate factors a gradient passes through (3.5). In a two-layer network of binary neurons the
# gradient of the first layer's weights passes through two spikes; compare the surrogate gradients with the two
# normalisations (this network, `helpers.theory.TwoLayerNet`, reappears in section 4):

# %%
net = th.random_two_layer_net(n_in=4, n_hidden=6, n_out=3, batch=4, generator=seed_generator(1))
print(f"{'kind':>13} {'steepness':>9} {'|grad W1| peak':>15} {'|grad W1| area':>15} {'ratio':>10} {'(1/A)^2 (3.5)':>14}"
      f" {'ratio W2':>9} {'1/A':>7}")
for steepness in (10.0, 100.0):
    for kind in ("fast_sigmoid", "arctan", "gaussian"):
        grads = {}
        for norm in ("peak", "area"):
            params = [p.clone().requires_grad_(True) for p in net.parameters()]
            grads[norm] = torch.autograd.grad(th.surrogate_objective(kind, norm)(net, params, steepness), params)
        n1 = [float(grads[norm][0].norm()) for norm in ("peak", "area")]
        n2 = [float(grads[norm][2].norm()) for norm in ("peak", "area")]
        r1 = f"{n1[1] / n1[0]:10.1f}" if n1[0] > 0 else f"{'0/0':>10}"
        r2 = f"{n2[1] / n2[0]:9.1f}" if n2[0] > 0 else f"{'0/0':>9}"
        inv_area = 1 / surrogate_area(kind, steepness)
        print(f"{kind:>13} {steepness:9g} {n1[0]:15.3e} {n1[1]:15.3e} {r1} {inv_area**2:14.1f} {r2} {inv_area:7.1f}")

# %% [markdown]
# The first-layer gradient changes by $(1/A)^2$, the second-layer gradient by $1/A$: three orders of magnitude apart at
# steepness 100, and *different* factors for different layers, so the normalisation is not just a learning-rate change.
# (A Gaussian surrogate at steepness 100 may give no gradient at all, `0/0`: its tails vanish faster than any membrane
# here is close to threshold. Heavy-tailed shapes, fast sigmoid and arctan, always give some.)
# In a recurrent network the error signal passes through one surrogate factor per time step it travels back, so the
# same factor enters the products of Jacobians of notebook 04 once per step, where it decides between exploding and
# vanishing gradients.
#
# ## 3. Training a small SNN with surrogate gradients
#
# **The task.** Each of 4 classes is a Poisson spike pattern on 20 input channels. A common template sets every channel
# to a low or a high spike probability in each of 4 time segments; each class presents the *same* segments in its own
# order. So every class has the same expected spike count in every channel: counting spikes is useless, and the
# network has to use timing. The readout $y_c[t]$ (a leaky integrator of the hidden spikes, eq. 2.2) is turned into
# class scores by its maximum over time (as in the SpyTorch tutorials), and the loss is the cross-entropy
#
# $$L = -\log \frac{e^{z_{\ell}}}{\sum_c e^{z_c}}, \qquad z_c = \max_t y_c[t], \quad \ell \text{ the label.} \tag{3.6}$$

# %%
x_show, y_show = task.sample(64, seed_generator(11))
fig, axes = plt.subplots(1, task.n_classes, figsize=(12, 2.4), layout="constrained", sharey=True)
for c, ax in enumerate(axes):
    raster(x_show[int((y_show == c).nonzero()[0])], dt=1e-3, ax=ax, title=f"class {c}")
plt.show()

# %% [markdown]
# **The runs.** The network starts with fluctuation-driven weights (notebook 02); Adam trains all weights. As a
# baseline we train *only the readout*: that is exactly what gradient descent with the true gradient does, since by
# (3.2) the true gradient of every other weight is zero. Then six surrogate shapes at steepness 10, and the fast sigmoid
# at three steepness values. Every run uses the same initial weights, the same training batches and the same test set
# (`n03.train_snn`, a deliberately minimal loop; the course's full one is `helpers.training`).

# %%
settings = dict(n_hidden=n_hidden, n_train_steps=by_mode(quick=20, standard=150), batch=by_mode(quick=8, standard=16),
                lr=3e-3, seed=0, n_test=by_mode(quick=64, standard=256), device=device)
runs_kind = {"readout only (true gradient)": n03.train_snn(task, readout_only=True, **settings)}
for kind in SURROGATE_KINDS:
    runs_kind[kind] = n03.train_snn(task, kind=kind, steepness=10.0, **settings)
runs_steep = {"readout only (true gradient)": runs_kind["readout only (true gradient)"]}
for steepness in (1.0, 10.0, 100.0):
    runs_steep[f"fast_sigmoid, steepness {steepness:g}"] = (
        runs_kind["fast_sigmoid"] if steepness == 10.0
        else n03.train_snn(task, kind="fast_sigmoid", steepness=steepness, **settings))

fig, axes = plt.subplots(2, 2, figsize=(11, 6), layout="constrained")
n03.plot_training(runs_kind, title="six shapes, steepness 10", width=by_mode(quick=3, standard=10), axes=axes[0])
n03.plot_training(runs_steep, title="fast sigmoid, three steepness values", width=by_mode(quick=3, standard=10),
                  axes=axes[1])
plt.show()
print(f"hidden firing at the start: {runs_kind['fast_sigmoid']['rate']:.3f} spikes per neuron and step")
print(f"{'run':>34} {'area':>7} {'|grad| hidden at step 0':>24} {'final loss':>11} {'test accuracy':>14}")
for label, hist in {**runs_kind, **runs_steep}.items():
    area = "" if hist["kind"] is None else f"{surrogate_area(hist['kind'], hist['steepness']):.3f}"
    grad = f"{'0 (true gradient)':>24}" if hist["kind"] is None else f"{hist['grad_norm_hidden']:24.3e}"
    final = np.mean(hist["loss"][-5:])
    print(f"{label:>34} {area:>7} {grad} {final:11.3f} {hist['test_accuracy']:14.2f}")
if run_mode() == "quick":
    print("quick mode: a few training steps on a tiny network, sanity-level only; run in standard mode for the real effect")

# %% [markdown]
# What to look for (in standard mode): the readout-only baseline learns little, because the random recurrent layer does
# not turn the order of the segments into something a readout of its spikes can separate well; every surrogate learns
# the task far better. The *shape* of the surrogate matters little, as Zenke & Vogels (2021) found across many tasks; the
# *steepness* matters more. A steep surrogate (100) is nonzero only for membranes within about 1/100 of the threshold,
# so few neurons carry gradient at any time and learning is slower. Note the gradient norms at step 0: across steepness
# values they differ by orders of magnitude, yet Adam divides each parameter's gradient by its own running scale and so hides most of that
# difference. Plain gradient descent does not (the live demo in section 5 shows it).
#
# ## 4. What theory says
#
# Surrogate gradients work, but what are they? Not the gradient of the network's loss, which is zero. Gygax & Zenke
# (2025) answered the question by relating them to *stochastic* spiking neurons. Everything below is exact (enumeration
# or closed form) or a Monte Carlo estimate with its standard error, in float64.
#
# ### 4a. One stochastic neuron: the surrogate gradient is the gradient of the expected output
#
# An **escape-noise** neuron spikes at random, more likely the closer it is to (or the further above) threshold:
#
# $$P(S = 1 \mid v) = F(\beta_s v), \qquad F(z) = \frac{1}{1 + e^{-z}}, \qquad v = U - \vartheta. \tag{3.7}$$
#
# Its expected output is $\mathbb E[S] = F(\beta_s v)$, a smooth function of the weights, with gradient
#
# $$\frac{\partial\, \mathbb E[S]}{\partial w} = \beta_s F'(\beta_s v)\, \frac{\partial v}{\partial w}. \tag{3.8}$$
#
# Compare the surrogate gradient of the *deterministic* neuron, $\sigma'(v)\, \partial v/\partial w$. They are equal when
# $\sigma'(v) = \beta_s F'(\beta_s v)$. The course's sigmoid surrogate is
# $\sigma'_\text{sigmoid}(v) = 4 F(\beta_s v)(1 - F(\beta_s v)) = 4F'(\beta_s v)$ (peak 1, area $4/\beta_s$), so the exact
# relation is
#
# $$\beta_s F'(\beta_s v) = \frac{\beta_s}{4}\, \sigma'_\text{sigmoid}(v) = \frac{\sigma'_\text{sigmoid}(v)}{A_\text{sigmoid}}. \tag{3.9}$$
#
# The surrogate that matches the escape noise is the sigmoid of the **same steepness, normalised to unit area**: the
# peak-1 version times $\beta_s/4$. This is no accident: $\beta_s F'(\beta_s v)$ is the density of the threshold noise
# (F is a cumulative distribution function), and densities have unit area. The steepness of the surrogate is the
# inverse noise level.
#
# We check (3.8)-(3.9) for a neuron with 5 inputs seeing 8 binary input patterns, with an objective that weighs each
# pattern's output by $c_b = \pm 1$ (for binary targets $y_b$, $\mathbb E[(S_b - y_b)^2] = (1 - 2y_b)\,\mathbb E[S_b] + y_b^2$, so
# this is an expected squared error). The Monte Carlo estimate uses the score function,
# $\nabla\, \mathbb E[J] = \mathbb E\big[J\, \nabla \log P(S)\big]$, and knows nothing about surrogates.

# %%
gen = seed_generator(0)
x_a = (torch.rand(8, 5, generator=gen, dtype=torch.float64) < 0.5).double()
w_a = 0.3 + 0.6 * torch.randn(5, generator=gen, dtype=torch.float64)
c_a = torch.where(torch.rand(8, generator=gen) < 0.5, -1.0, 1.0).double()
steepness_a = 5.0
check_a = th.single_neuron_check(w_a, x_a, c_a, steepness_a, n_samples=by_mode(quick=100_000, standard=400_000),
                                 generator=gen)
print(f"steepness {steepness_a:g}: matched scale beta_s/4 = {th.matched_scale(steepness_a):.3f} "
      f"= 1/area(sigmoid) = {1 / surrogate_area('sigmoid', steepness_a):.3f}")
print(f"{'weight':>6} {'exact (3.8)':>12} {'Monte Carlo':>12} {'± s.e.':>9} {'matched SG (3.9)':>17} "
      f"{'peak-1 SG x beta/4':>19} {'fast-sigmoid SG':>16}")
for i in range(len(w_a)):
    print(f"{i:6d} {check_a.exact[i]:12.5f} {check_a.monte_carlo[i]:12.5f} {check_a.monte_carlo_stderr[i]:9.5f} "
          f"{check_a.surrogate_matched[i]:17.5f} {check_a.surrogate_peak1[i] * th.matched_scale(steepness_a):19.5f} "
          f"{check_a.surrogate_mismatched[i]:16.5f}")
z = (check_a.monte_carlo - check_a.exact).abs() / check_a.monte_carlo_stderr.clamp_min(1e-300)
print(f"max |matched SG - exact| = {float((check_a.surrogate_matched - check_a.exact).abs().max()):.1e}; "
      f"max |Monte Carlo - exact| = {float(z.max()):.2f} standard errors")
n03.plot_single_neuron(steepness_a, n_samples=by_mode(quick=20_000, standard=100_000), generator=gen)
plt.show()

# %% [markdown]
# The matched surrogate gradient and the exact gradient of the expected output agree to round-off, and the Monte
# Carlo estimate agrees with both within its standard error. The peak-1 sigmoid gives the same *direction*, scaled by
# $4/\beta_s$; the fast sigmoid (a different shape) gives a different vector, because it matches a different escape
# noise (Exercise 1).
#
# ### 4b. Two layers: the equivalence breaks, and the sign can flip
#
# Now put a layer of stochastic neurons in front of a stochastic output layer (one time step, $N_h$ hidden neurons):
# $h_j \sim \text{Bernoulli}(F(\beta_s v_{h,j}))$ with $v_h = W_1 x + b_1 - \vartheta$, and
# $o_i \sim \text{Bernoulli}(F(\beta_s v_{o,i}))$ with $v_o = W_2 h + b_2 - \vartheta$. The objective $J = c \cdot o$ is linear
# in the outputs. Its expectation is an explicit sum over the $2^{N_h}$ hidden spike patterns,
#
# $$\mathbb E[J] = \sum_{h \in \{0,1\}^{N_h}} P(h \mid x)\; c \cdot F\big(\beta_s (W_2 h + b_2 - \vartheta)\big),
# \qquad P(h \mid x) = \prod_j p_j^{h_j}(1 - p_j)^{1 - h_j}, \tag{3.10}$$
#
# a smooth function whose gradient autograd computes exactly. Differentiating (3.10) with respect to $W_1$ gives
# *finite differences* $F(\cdot \mid h_j = 1) - F(\cdot \mid h_j = 0)$ averaged over the other hidden neurons' noise,
# while the surrogate gradient multiplies *derivatives* $\beta_s F'$ at one operating point. We compare the exact
# gradient with two surrogate gradients (both with the matched surrogate of 4a): that of the deterministic network
# ($h = H(v_h)$, $o = H(v_o)$), and the mean surrogate gradient of the stochastic network, which samples $h$ forward and
# passes $\partial h_j/\partial v_j \to \beta_s F'(\beta_s v_j)$ backward (stochastic automatic differentiation), averaged over
# hidden patterns by enumeration:
#
# $$\bar g = \sum_h P(h \mid x)\, \nabla \Big[c \cdot F\big(\beta_s(W_2 \tilde h + b_2 - \vartheta)\big)\Big], \qquad
# \tilde h = h + p - \mathrm{sg}(p) \quad (\mathrm{sg}: \text{stop gradient}). \tag{3.11}$$
#
# A minimal network shows a **sign flip** (`th.sign_flip_network`): one input, one hidden neuron just below threshold,
# two outputs with $c = (+1, -1)$. Output 1 sits near its threshold and depends weakly on the hidden neuron (large
# derivative, small effect of a hidden spike); output 2 sits far below threshold and depends strongly on it (tiny
# derivative, but a hidden spike switches it on).

# %%
flip = th.sign_flip_network()
steepness_grid = np.geomspace(0.5, 30, by_mode(quick=25, standard=60))
g_flip = [th.two_layer_gradients(flip, float(s)) for s in steepness_grid]
exact_w1 = np.array([float(g.exact[0][0, 0]) for g in g_flip])
surr_w1 = np.array([float(g.surrogate[0][0, 0]) for g in g_flip])
stoch_w1 = np.array([float(g.stochastic_surrogate[0][0, 0]) for g in g_flip])
flipped = (exact_w1 * surr_w1) < 0
print(f"dE[J]/dW1 and the surrogate gradient have opposite signs for steepness in "
      f"[{steepness_grid[flipped].min():.2f}, {steepness_grid[flipped].max():.2f}] (of the scanned [0.5, 30])"
      if flipped.any() else "no sign flip in the scanned range")
g5 = th.two_layer_gradients(flip, 5.0)
names = ("W1", "b1", "W2[0]", "W2[1]", "b2[0]", "b2[1]")
flat = {k: th.TwoLayerGradients.flat(getattr(g5, k)) for k in ("exact", "surrogate", "stochastic_surrogate")}
print(f"steepness 5: {'':>6} {'exact (3.10)':>13} {'SG determ.':>11} {'mean SG stoch. (3.11)':>22}")
for i, name in enumerate(names):
    print(f"{'':>20}{name:>6} {flat['exact'][i]:13.4f} {flat['surrogate'][i]:11.4f} {flat['stochastic_surrogate'][i]:22.4f}")

# Random networks: cosine similarity between the exact gradient and the surrogate gradients
n_nets = by_mode(quick=8, standard=30)
cosines, disagreement = {}, {}
for s in (1.0, 3.0, 10.0, 30.0):
    nets = [th.random_two_layer_net(n_in=4, n_hidden=6, n_out=3, batch=4, generator=seed_generator(100 + k))
            for k in range(n_nets)]
    grads = [th.two_layer_gradients(n, s) for n in nets]
    cosines[f"SG, steep. {s:g}"] = [g.cosine("surrogate") for g in grads]
    cosines[f"stoch. SG, {s:g}"] = [g.cosine("stochastic_surrogate") for g in grads]
    disagreement[s] = np.mean([g.sign_disagreement("surrogate") for g in grads])
for s in (1.0, 3.0, 10.0, 30.0):
    c_det, c_sto = np.array(cosines[f"SG, steep. {s:g}"]), np.array(cosines[f"stoch. SG, {s:g}"])
    print(f"steepness {s:4g}, {n_nets} random networks: cosine(exact, SG) median {np.median(c_det):.3f} "
          f"(min {c_det.min():.3f}); cosine(exact, stochastic SG) median {np.median(c_sto):.3f}; "
          f"components of opposite sign (SG): {100 * disagreement[s]:.1f}%")
n03.plot_two_layer(steepness_grid, exact_w1, surr_w1, stoch_w1, cosines)
plt.show()

# %% [markdown]
# In the sign-flip network the surrogate gradient says "raise $W_1$" (it helps output 1, whose derivative is large), the
# expected objective says "lower it" (a hidden spike would switch output 2 on). The mean surrogate gradient of the
# stochastic network follows the deterministic one here: (3.11) still uses derivatives where (3.10) has differences.
# Look at the output layer's rows ($W_2$, $b_2$) of the table: there the stochastic surrogate gradient equals the exact
# gradient. Given the hidden spikes, an output neuron *is* a single escape-noise neuron, so check (a) applies to it; the
# equivalence breaks only one layer down, where derivatives replace differences.
# In random networks the surrogate gradient is usually *aligned* with the exact gradient (positive cosine), but not
# equal to it, and a fraction of the individual components have the wrong sign. The Monte Carlo check below confirms the
# enumeration (3.10) independently, with the score-function estimator for the $W_1$ gradient.

# %%
mc_net = th.random_two_layer_net(n_in=4, n_hidden=6, n_out=3, batch=4, generator=seed_generator(100))
mc_mean, mc_se = th.monte_carlo_objective_gradient(mc_net, 3.0, by_mode(quick=50_000, standard=200_000),
                                                   generator=seed_generator(5))
exact_mc = th.two_layer_gradients(mc_net, 3.0).exact[0]
z = ((mc_mean - exact_mc).abs() / mc_se.clamp_min(1e-300))[mc_se > 0]
print(f"W1 gradient ({exact_mc.numel()} entries): max |Monte Carlo - enumeration| = {float(z.max()):.2f} standard errors")

# %% [markdown]
# ### 4c. The surrogate gradient is not the gradient of any function
#
# If a vector field $g(w)$ is the gradient of some function $\Phi$, its integral around any closed loop vanishes:
# $\oint g \cdot dl = \Phi(\text{end}) - \Phi(\text{start}) = 0$. We integrate around a circle in the plane of two weights
# $(W_1, W_2)$,
#
# $$\oint g \cdot dl = \int_0^{2\pi} g\big(w(\varphi)\big) \cdot w'(\varphi)\, d\varphi, \qquad w(\varphi) = w_0 + r(\cos\varphi, \sin\varphi), \tag{3.12}$$
#
# with the periodic trapezoidal rule, which converges exponentially fast for smooth periodic integrands (so for a true
# gradient the result is zero to round-off). The network is the smallest possible chain, one input → one hidden → one
# output, $J = o$ (`th.chain_network`), with the circle inside the region where the hidden neuron spikes. There
# $g = (\sigma'_o W_2 \sigma'_h,\ \sigma'_o)$: the second component does not depend on $W_1$ (the forward pass sees only
# $H(v_h) = 1$), but the first depends on $W_2$, so the curl $\partial_{W_1} g_2 - \partial_{W_2} g_1$ is not zero. For
# comparison: the gradient of the network with $H$ replaced by $F$ in the forward pass (a smooth function), and the exact
# gradient of the expected output of the stochastic network (3.10).

# %%
chain = th.chain_network(w1=1.1, w2=0.9)
center, radius, steepness_c = th.plane_point(chain), 0.05, 5.0
fields = {"surrogate gradient": th.plane_field(chain, steepness_c, th.deterministic_objective),
          "smooth network": th.plane_field(chain, steepness_c, th.smooth_objective),
          "expected output (3.10)": th.plane_field(chain, steepness_c, th.expected_objective)}
n_points = by_mode(quick=(32, 64), standard=(64, 128, 256))
integrals = {}
for name, field in fields.items():
    values = [th.loop_integral(field, center, radius, n) for n in n_points]
    integrals[name] = values[-1]
    print(f"{name:>24}: loop integral " + ", ".join(f"{v: .3e} ({n} points)" for v, n in zip(values, n_points)))
curl = th.curl_at(fields["surrogate gradient"], center)
print(f"Stokes check: pi r^2 x curl at the centre = {math.pi * radius**2 * curl:.3e} (a small-circle approximation)")
n03.plot_loop(fields, center, radius, integrals, half_width=0.2, n_grid=9)
plt.show()

# %% [markdown]
# The surrogate field's loop integral is stable under refinement of the quadrature and matches Stokes' estimate, while
# the two true gradients give zero to round-off. So there is no "surrogate loss" whose gradient the surrogate gradient
# is: following it around a loop in weight space can bring you back to the start with a net "descent". This is why
# surrogate-gradient training is not gradient descent on anything, and why convergence guarantees of gradient descent
# do not carry over directly.
#
# ### 4d. Descent directions where the true gradient is zero
#
# And yet surrogate gradients train networks (section 3). Back to the SNN of section 1: at its initial weights the true
# gradient of every hidden weight is zero. We step all input and recurrent weights along minus the normalised surrogate
# gradient, first by a tiny amount, then by finite amounts.

# %%
steps = np.array(by_mode(quick=[0.03, 0.1, 0.3, 1.0], standard=[0.01, 0.03, 0.1, 0.3, 1.0, 3.0]))
descent = n03.surrogate_descent(model, x_scan, y_scan, steps)
print(f"loss at the start {descent['loss0']:.4f}; after a step of 1e-6 along the surrogate direction "
      f"{descent['loss_tiny_step']:.4f} (change {descent['loss_tiny_step'] - descent['loss0']:.1e}: the true "
      "directional derivative is 0)")
for eta, loss in zip(descent["step_sizes"], descent["losses"]):
    print(f"  step {eta:5g}: loss {loss:.4f} (change {loss - descent['loss0']:+.4f})")
all_cos = np.concatenate([np.array(v) for k, v in cosines.items() if k.startswith("SG")])
print(f"two-layer stochastic networks of 4b: the surrogate gradient has a positive inner product with the exact "
      f"gradient in {100 * np.mean(all_cos > 0):.0f}% of {len(all_cos)} cases")

# %% [markdown]
# An infinitesimal step changes nothing (the true gradient is zero), but finite steps along the surrogate direction
# change the loss, typically downhill for small enough steps. The surrogate gradient "sees" the threshold crossings
# that a finite step will cause; in the stochastic view it is an approximation of the gradient of a smoothed
# (expected) loss, which is mostly aligned with it.
#
# ## 5. Live: surrogate shape and steepness
#
# Pick a shape and a steepness. Panel 1: the peak-1 surrogate, its area and the peak it would have with unit area.
# Panel 2: plain gradient descent (no Adam) with surrogate gradients on a tiny two-layer binary network learning from a
# teacher network, with both normalisations. Panel 3-4: the surrogate gradient field of the chain network of 4c around a
# circle at distance $1/\beta_s$ from both thresholds, and its loop integral, next to the smooth network's.
# Try: steepness 100 with the triangle (no gradient at all outside $|v| < 1/\beta_s$); steepness 0.5 (every neuron gets
# gradient, but it is far from the true local behaviour); the two normalisations at steepness 10 and 100.

# %%
show(n03.surrogate_demo)

# %% [markdown]
# ## 6. Exercises
#
# **Exercise 1 (pen and paper, then code).** Which escape-noise function $F$ does the fast-sigmoid surrogate match, in
# the sense of (3.9)? Find $F$ with $\beta_s F'(\beta_s v) = \sigma'_\text{fast}(v)/A_\text{fast}$, check that it is a
# cumulative distribution function, and verify numerically that the gradient of the expected output of a neuron with
# this escape noise equals the unit-area fast-sigmoid surrogate gradient.
#
# <details><summary>Solution</summary>
#
# $A_\text{fast} = 2/\beta_s$, so we need $F'(z) = \tfrac12 (1 + |z|)^{-2}$, whose antiderivative with $F(-\infty) = 0$ is
# $F(z) = \tfrac12\big(1 + z/(1 + |z|)\big)$: increasing from 0 to 1, so a CDF (of a heavy-tailed noise, tails
# $\sim 1/z^2$). The gradient of $\mathbb E[S] = F(\beta_s v)$ is $\beta_s F'(\beta_s v)\, x = \tfrac{\beta_s}{2}\sigma'_\text{fast}(v)\, x$.
# The cell below checks it with `spike` and autograd.
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
def fast_escape(z):
    return 0.5 * (1 + z / (1 + z.abs()))


beta_e = 5.0
w_e = torch.linspace(0.2, 1.8, 9, dtype=torch.float64, requires_grad=True)
(grad_expected,) = torch.autograd.grad(fast_escape(beta_e * (w_e - 1.0)).sum(), w_e)
(grad_surrogate,) = torch.autograd.grad(spike(w_e - 1.0, "fast_sigmoid", beta_e).sum(), w_e)
grad_surrogate = grad_surrogate / surrogate_area("fast_sigmoid", beta_e)
print(f"max |dE[S]/dw - unit-area fast-sigmoid SG| = {float((grad_expected - grad_surrogate).abs().max()):.1e}")

# %% [markdown]
# **Exercise 2 (code).** For the sign-flip network, find (by scanning) the steepness values at which the deterministic
# surrogate gradient and the exact gradient of $W_1$ have opposite signs. Then change the second output weight
# `flip.w2[1, 0]` from 3 to 1 and scan again. Explain the difference with the finite difference vs derivative picture.
# The cell runs as it is; fill in the scan.

# %%
def opposite_sign_range(network, steepness_values):
    """Return the steepness values at which exact and surrogate W1-gradients have opposite signs."""
    return None  # your code here: use th.two_layer_gradients(network, s)


print(opposite_sign_range(th.sign_flip_network(), np.geomspace(0.5, 30, 30)))

# %% [markdown]
# <details><summary>Solution</summary>
#
# With $W_{2,2} = 3$ the hidden spike moves output 2 from $v = -2$ to $v = +1$: a large finite difference of $F$, while
# $F'$ at $v = -2$ is tiny once $\beta_s$ is more than about 1, so the flip appears above a small steepness. With
# $W_{2,2} = 1$ a hidden spike only moves output 2 from $-2$ to $-1$, still below threshold: the finite difference is
# small too, output 1 dominates both gradients, and the flip disappears (or shrinks to a narrow range). The cell below
# runs both scans.
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
def opposite_sign_range_solution(network, steepness_values):
    out = []
    for s in steepness_values:
        g = th.two_layer_gradients(network, float(s))
        if float(g.exact[0][0, 0]) * float(g.surrogate[0][0, 0]) < 0:
            out.append(round(float(s), 2))
    return out


scan_values = np.geomspace(0.5, 30, by_mode(quick=15, standard=40))
print("W2[1] = 3:", opposite_sign_range_solution(th.sign_flip_network(), scan_values))
weak = th.sign_flip_network()
weak.w2[1, 0] = 1.0
print("W2[1] = 1:", opposite_sign_range_solution(weak, scan_values))

# %% [markdown]
# **Exercise 3 (code).** By Stokes' theorem the loop integral (3.12) of a smooth field around a small circle is about
# $\pi r^2$ times the curl at the centre. Check that the surrogate field's loop integral in the chain network scales
# like $r^2$ for small $r$ (halve the radius three times).
#
# <details><summary>Solution</summary>
#
# The ratio of the loop integral to $\pi r^2\, \mathrm{curl}$ tends to 1 as $r \to 0$ (the cell below): the surrogate field is
# smooth inside the region where the hidden neuron spikes, and its curl there is
# $-\sigma'_h(\sigma'_o + W_2 \sigma''_o) \neq 0$.
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
for r in (0.08, 0.04, 0.02, 0.01):
    value = th.loop_integral(fields["surrogate gradient"], center, r, 64)
    print(f"r = {r:5.2f}: loop integral {value: .4e}, ratio to pi r^2 curl = {value / (math.pi * r**2 * curl):.4f}")

# %% [markdown]
# ## 7. Think
#
# 1. The matched surrogate is the unit-area sigmoid. What happens to the stochastic neuron, and to the matched
#    surrogate, as $\beta_s \to \infty$? Why does training with a very steep surrogate struggle even though it is "closer
#    to the truth"?
# 2. Adam is (almost) invariant to a constant rescaling of each parameter's gradient. Is the switch from peak-1 to
#    unit-area surrogates such a rescaling in a recurrent network trained through time? (Hint: 3.5.)
# 3. Surrogate gradients are not conservative, so surrogate-gradient descent can in principle cycle. What would you
#    measure in a training run to detect it?
# 4. The readout-only baseline is "gradient descent with the true gradient". What other learning rules would get
#    nonzero updates for hidden weights without surrogates (think of the stochastic neuron)?
# 5. Every surrogate factor multiplies the backpropagated error once per time step it travels through. Predict how the
#    gradient reaching a state 50 steps back depends on the steepness (notebook 04 measures it).
#
# ## 8. Summary and what comes next
#
# * The true gradient of the loss with respect to every weight before a spike is zero almost everywhere; the loss is a
#   staircase in those weights (3.1-3.2), and true-gradient training can only train the readout.
# * A surrogate gradient keeps the spike forward and uses a smooth $\sigma'$ backward (3.3). The course's six shapes
#   all have peak 1 and area $c_\text{kind}/\beta_s$ (3.4); unit-area normalisation multiplies every path through $k$
#   spikes by $(\beta_s/c_\text{kind})^k$ (3.5): orders of magnitude, different per layer and per time lag.
# * On a timing task the surrogate shape matters little and the steepness more; the true-gradient baseline fails.
# * Theory (Gygax & Zenke 2025): for one escape-noise neuron the surrogate gradient equals the gradient of the expected
#   output when $\sigma'$ is the unit-area derivative of the escape function, i.e. the peak-1 sigmoid times $\beta_s/4$
#   (3.7-3.9); in multi-layer networks it differs from the gradient of the expected loss and can have the opposite sign
#   (3.10-3.11); it is not the gradient of any function (3.12); yet it points downhill where the true gradient is zero.
#
# Notebook 04 follows the surrogate gradient back through time: the backpropagated error is a product of surrogate
# Jacobians, and we measure how it explodes or vanishes with the leak, the weight gain, the reset and the steepness.
#
# ## References
#
# * E. O. Neftci, H. Mostafa, F. Zenke, "Surrogate gradient learning in spiking neural networks", *IEEE Signal Processing
#   Magazine* 36(6), 51-63 (2019).
# * F. Zenke, S. Ganguli, "SuperSpike: supervised learning in multilayer spiking neural networks", *Neural Computation*
#   30(6), 1514-1541 (2018).
# * F. Zenke, T. P. Vogels, "The remarkable robustness of surrogate gradient learning for instilling complex function in
#   spiking neural networks", *Neural Computation* 33(4), 899-925 (2021).
# * J. Gygax, F. Zenke, "Elucidating the theoretical underpinnings of surrogate gradient learning in spiking neural
#   networks", *Neural Computation* 37(5), 886-925 (2025); arXiv:2404.14964.
# * G. Bellec, D. Salaj, A. Subramoney, R. Legenstein, W. Maass, "Long short-term memory and learning-to-learn in
#   networks of spiking neurons", *NeurIPS* 31 (2018) (pseudo-derivatives for recurrent SNNs).
# * F. Zenke, "SpyTorch" tutorials (2019), https://github.com/fzenke/spytorch (the max-over-time readout of eq. 3.6).
