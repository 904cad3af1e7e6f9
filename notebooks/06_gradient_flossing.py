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
# # 06 · Gradient flossing
#
# Notebook 05 measured the surrogate Lyapunov exponents of a recurrent spiking network and showed that the
# leading one, $\lambda_1$, predicts how fast the backpropagated error decays with the lag. Here we turn the
# measurement into a **control**: a loss on the exponents whose gradient pushes the leading $k$ of them towards
# a target, so that $k$ tangent directions neither explode nor vanish. This is *gradient flossing*
# (Engelken 2023), here for spiking networks with surrogate derivatives.
#
# Flossing a spiking network is not plug-and-play. This notebook shows why, measures what makes it work, and
# then uses it.
#
# **Learning goals.** After this notebook you can
# 1. write the flossing loss and say how autograd differentiates through the QR steps of the spectrum;
# 2. name the two paths by which a weight changes a surrogate exponent (through the tangent map, through the
#    spiking trajectory) and say, with numbers, which one carries a usable gradient;
# 3. explain why flossing spiking networks towards 0 fails in a high-rate regime with a narrow surrogate, and
#    which settings make it work;
# 4. pre-floss a recurrent SNN with k = 1, 8, 32 and read the result in the spectrum, in the gradient norm
#    against lag and in the condition number of the long-term Jacobian.

# %%
import math
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.config import by_mode, run_mode
from helpers.demos import n06_flossing as n06
from helpers.flossing import FlossingConfig, floss, flossing_exponents, flossing_loss, poisson_sampler
from helpers.lyapunov import floored_qr, lyapunov_spectrum
from helpers.neurons import LIFParams
from helpers.widgets import show

MODE = run_mode()
print(f"run mode: {MODE}")
if MODE == "quick":
    print("quick mode: tiny networks and few updates, sanity-level only; run with SGF_MODE=standard for the real effect")

# %% [markdown]
# ## 1. The flossing loss
#
# The QR method (eq. 5.1) gives the leading exponents $\lambda_1 \ge \dots \ge \lambda_k$ of the tangent dynamics
# $\delta h_{t+1} = J_t\, \delta h_t$. Flossing minimises their squared distance to a target $\lambda_\ast$,
#
# $$\mathcal L_\mathrm{floss}(\theta) = \frac{1}{k} \sum_{i=1}^{k} \big(\lambda_i(\theta) - \lambda_\ast\big)^2 \qquad (6.1)$$
#
# (also averaged over the input sequences of a batch), with respect to the parameters $\theta$ of the
# *dynamics*: input weights, recurrent weights and biases. The readout does not enter the tangent map, so it is
# never flossed. With $\lambda_\ast = 0$ the $k$ leading directions are marginally stable: an error signal along
# them is carried back through time neither exploding nor vanishing. A slightly negative target keeps a margin
# from chaos.

# %%
lam = torch.tensor([[0.05, -0.02, -0.07, -0.10]])
for k, target in [(1, 0.0), (2, 0.0), (4, 0.0), (4, -0.02)]:
    print(f"k = {k}, target {target:+.2f}: L_floss = {float(flossing_loss(lam, k, target)):.5f}")  # (6.1)

# %% [markdown]
# ## 2. Differentiating through QR
#
# Every step of the spectrum is differentiable: the tangent map $\tilde Q_{t+1} = J_t Q_t$ is a product of
# matrices, the factorisation $\tilde Q = QR$ has a derivative, and $\lambda_i$ is an average of
# $\log|R_{ii}|$. Autograd needs the backward pass of QR: given the gradients $\bar Q, \bar R$ of the loss with
# respect to the factors, the gradient with respect to the factorised matrix $A = QR$ ($n \times k$, $n \ge k$) is
# (Walter & Lehmann 2018)
#
# $$M = R\,\bar R^\top - \bar Q^\top Q, \qquad \bar A = \big(\bar Q + Q\, \mathrm{copyltu}(M)\big)\, R^{-\top} \qquad (6.3)$$
#
# with $\mathrm{copyltu}(M)$ the symmetric matrix built from the lower triangle of $M$. The only danger is
# $R^{-\top}$: a direction that the map annihilates (a zero pivot $R_{ii}$, which the zero reset produces,
# notebook 05) makes it infinite. `helpers.lyapunov.floored_qr` floors such pivots and sends no gradient through
# an annihilated column. For full-rank inputs it is PyTorch's own backward; a finite-difference check confirms it:

# %%
a = torch.randn(8, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
ok = torch.autograd.gradcheck(lambda m: floored_qr(m)[1].diagonal().abs().log().sum(), (a,))
print(f"gradcheck of sum log|R_ii| through floored_qr (eq. 6.3): {ok}")
dead = torch.cat([a.detach()[:, :2], torch.zeros(8, 1, dtype=torch.float64)], 1).requires_grad_(True)
q, r = floored_qr(dead)
r.diagonal().abs().clamp_min(1e-150).log().sum().backward()
print(f"an annihilated third column: |R_33| = {float(r[2, 2].abs()):.1e}, gradient finite: "
      f"{bool(torch.isfinite(dead.grad).all())}, gradient on that column: {float(dead.grad[:, 2].abs().sum()):.1f}")

# %% [markdown]
# ## 3. Two gradient paths
#
# For the LIF network of notebook 02 (state $h = (I, U)$, surrogate derivatives $D_t = \mathrm{diag}\,
# \sigma'(U_t - \vartheta)$) the tangent map is (eqs. 2.3-2.5)
#
# $$\delta I_{t+1} = \alpha\, \delta I_t + V D_t\, \delta U_t, \qquad \delta U_{t+1} = (1 - S_t) \odot (\beta\, \delta U_t + \delta I_t).$$
#
# Two things follow. If every $D_t$ is tiny (neurons far below threshold, or firing at every step), the tangent
# map is leak only and its exponents are $\log\beta = -0.1$ and $\log\alpha = -0.2$ per step *whatever the
# weights*: a plateau where the flossing gradient vanishes. And the only handle on the exponents is the
# recurrent term $V D_t$. A weight reaches it in two ways,
#
# $$\frac{d\lambda_i}{d\theta} = \underbrace{\frac{\partial \lambda_i}{\partial \theta}\Big|_{h_{0..T}}}_{\text{frozen path}}
#   \; + \; \underbrace{\sum_t \frac{\partial \lambda_i}{\partial h_t}\, \frac{d h_t}{d\theta}}_{\text{through the trajectory}} \qquad (6.2)$$
#
# - **frozen** (`path="frozen"`): the trajectory runs without gradient; only $V$ inside $V D_t$ carries it
#   (`helpers.flossing.FrozenTrajectory`). The input weights do not appear in the tangent map, so they get none.
# - **trajectory** (`path="trajectory"`): autograd through everything, i.e. also through the surrogate
#   derivatives $D_t$ and the states, with surrogate gradients for the spikes of the trajectory.
#
# Two variants help the trajectory path see what the tangent map depends on. The zero reset's mask $1 - S_t$ is
# a hard step: its derivative is zero, so the trajectory path does not see that pushing a neuron over threshold
# *annihilates* its membrane direction. Treating the mask like the spike itself,
#
# $$1 - S_t \;\to\; 1 - \mathrm{spike}(U_t - \vartheta): \quad \text{same value, derivative } -\sigma'(U_t - \vartheta) \qquad (6.4)$$
#
# (`mask_grad=True`) fixes that. And a firing-rate penalty holds the trajectory's statistics while flossing,
#
# $$\mathcal L = \mathcal L_\mathrm{floss} + w_r\, (\bar r - r_\ast)^2 \qquad (6.5)$$
#
# with $\bar r$ the mean firing rate (spikes per neuron per step) and its surrogate gradient through the
# trajectory (`rate_weight`, `rate_target`).
#
# ### Does each path's gradient predict anything?
#
# A direct test: take the gradient $g$ of $\bar\lambda = \mathrm{mean}(\lambda_1..\lambda_k)$ by each path, move
# the dynamics parameters a distance $\varepsilon$ along $g/|g|$, and measure how much $\bar\lambda$ really
# changes (same inputs, same initial basis). A path whose gradient is right predicts a change
# $\varepsilon |g|$. We also measure the change with the trajectory frozen at the old weights (only the tangent
# map's weights moved): that is exactly what the frozen path differentiates.

# %%
gc_hidden, gc_len = by_mode(quick=(16, 80), standard=(32, 200))
gc_model = n06.default_network(gc_hidden, seed=0).double()
gc_x = poisson_sampler(20, 0.05, dtype=torch.float64)(by_mode(quick=2, standard=4), gc_len, torch.Generator().manual_seed(1))
gc_rows = n06.gradient_check(gc_model, gc_x, FlossingConfig(k=4, seq_len=gc_len, transient=gc_len // 4))
print(f"{gc_hidden} LIF neurons, zero reset, steepness {gc_model.params.steepness:g}, T = {gc_len}, float64:")
n06.print_gradient_check(gc_rows)

# %% [markdown]
# Read the table in columns. The frozen path's prediction matches the "trajectory frozen" change: it is the exact
# derivative of what it claims to differentiate. But the real change ("actual") is of another size: moving the
# weights moves spike times, which changes the surrogate derivatives along the whole trajectory. The
# trajectory path's gradient is far larger (the surrogate gradient of a long spiking trajectory explodes) and
# predicts neither the size nor reliably the sign of the change: the exponent, as a function of the weights,
# is rough at the scale of single spike-time changes. This is the core difficulty of flossing spiking
# networks; the sweep below measures what it does to flossing.
#
# ### The sweep: path, reset, steepness, learning rate, rate penalty, target
#
# `scripts/flossing_sweep.py` flosses a 64-neuron recurrent SNN (20 Poisson inputs at 5 % per step,
# Gaussian weights with gain 1, $k = 4$, Adam, batch 4, sequences of 200 steps) under each condition and
# measures $\lambda_1..\lambda_k$, the firing rate and $|V|$ before and after on held-out inputs. The notebook
# loads its results (`figures/flossing_sweep.json`) if present and otherwise runs a small version live.

# %%
sweep = n06.load_sweep()
if sweep is None:
    print("figures/flossing_sweep.json not found: running a small live version (a few conditions, few updates)")
    sweep = n06.live_sweep(n_updates=by_mode(quick=4, standard=30))
else:
    prov = sweep["provenance"]
    print(f"loaded figures/flossing_sweep.json: written by {sweep['script']} on {prov['date']} at commit "
          f"{prov['commit'][:10]} (torch {prov['torch']}), {sweep['base_config']['n_updates']} updates per condition")
print(n06.sweep_table(sweep))
fig = n06.plot_sweep(sweep)
plt.show()

# %% [markdown]
# The same results as verdicts: did flossing bring $\lambda_1..\lambda_k$ closer to the target (by more than
# 10 %), leave them ("held") or push them away, and what happened to the operating point, the firing rate and
# the mean surrogate derivative $\overline{D}$ (how close the membranes sit to threshold)?

# %%
n06.summarise_sweep(sweep)

# %% [markdown]
# What the sweep shows (read the numbers above; the conclusions are those of the run that wrote the file):
#
# 1. **The trajectory path fails.** In every condition it drove the leading exponents *down*, towards the
#    leak-only value $\log\beta = -0.1$, while the firing rate rose: its surrogate gradient wants membranes
#    nearer threshold ($D$ larger), pushes the drive up, and cannot see that more spikes annihilate more tangent
#    directions (zero reset) or carry the membranes past the threshold region. Giving the reset mask a
#    surrogate derivative (eq. 6.4), a rate penalty or a smaller learning rate slows the damage but does not
#    reverse it; the gradient check above says why: this gradient does not predict the change.
# 2. **The frozen path moves the exponents the wrong way.** Its gradient is exact at a fixed trajectory, but
#    following it reshapes $V$ so that the membranes move away from threshold: the mean surrogate derivative
#    $\overline{D}$ falls (it halved at steepness 10), and the exponents with it, the opposite of what the
#    gradient promised. The flossing loss on the training batches *rose*. Holding the firing rate, the norm
#    of $V$ or $\overline{D}$ with a penalty (eq. 6.5) did not remove this reversal. The **placebo** rows are
#    the control: steps of the same size with random signs left the exponents where they were or raised
#    them slightly, so the drift is the gradient's doing, not noise.
# 3. **The surrogate width sets where the exponents are.** With the course's default fast sigmoid of
#    steepness 10 and the zero reset, $\lambda_1 \approx -0.06$, and no setting measured brought it to 0 by
#    changing weights. With steepness 3 (a wider surrogate: larger $D$ everywhere) the leading exponents sit
#    within about 0.02 of 0 *before* flossing, and the frozen path keeps them there, while the trajectory path
#    pulls them down. The subtract reset (no annihilation) sits near 0 at steepness 10 and above 0 at 3.
#
# So in these spiking networks the surrogate exponents are set mainly by the operating point (how close the
# membranes sit to threshold, how often the reset annihilates a direction) and by the surrogate's width, and
# only weakly, and with the wrong sign under the frozen gradient, by the structure of $V$. The defaults of
# `FlossingConfig` follow the measurements: frozen path, Adam with lr 3e-3, k = 4, target 0, batch 4 sequences
# of 200 steps, no penalty; and flossing is used on a network whose surrogate is wide enough (steepness 3,
# `n06.FLOSS_PARAMS`) for its leading exponents to be near the target in the first place. What flossing does
# there is the subject of the rest of this notebook and of notebooks 07-09.

# %% [markdown]
# ### Why the weights have so little grip: the gain invariance of surrogate exponents
#
# A direct experiment explains the sweep. Scale the recurrent weights $V$ by a gain $g$ over a factor of 32 and
# measure the leading exponent together with what sets the size of the recurrent term $V D_t$ of the tangent
# map: its scale is roughly $g\,\overline D$. In a fluctuation-driven network the membrane potential wanders
# with standard deviation $\sigma_U$, and a surrogate of width $1/\beta_s$ (area $A$) sees
#
# $$\overline D = \langle \sigma'(U - \vartheta)\rangle \approx A\, p_U(\vartheta) \propto \frac{A}{\sigma_U}, \qquad
#   \sigma_U \text{ grows with } g \;\Rightarrow\; g\,\overline D \text{ (and } \lambda_1\text{) barely moves.} \qquad (6.6)$$
#
# Raising the recurrent weights spreads the membranes, so fewer of them sit inside the surrogate's window; the
# two effects nearly cancel. The surrogate's area $A$, which no weight changes, is what sets the level.

# %%
gi_rows = n06.gain_invariance(
    gains=by_mode(quick=(0.5, 2.0, 8.0), standard=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0)),
    n_hidden=by_mode(quick=32, standard=64), seq_len=by_mode(quick=150, standard=300),
)
n06.print_gain_invariance(gi_rows)
for st in sorted({r["steepness"] for r in gi_rows}, reverse=True):
    lams = [r["lambda_1"] for r in gi_rows if r["steepness"] == st]
    gains = [r["gain"] for r in gi_rows if r["steepness"] == st]
    print(f"steepness {st:g}: over gains {min(gains):g}..{max(gains):g} (x{max(gains) / min(gains):.0f}), "
          f"lambda_1 spans {min(lams):+.4f}..{max(lams):+.4f}")
if by_mode(quick=True, standard=False):
    print("quick mode: small network and short sequences, sanity-level only")

# %% [markdown]
# Read the last two lines: across the whole range of gains $\lambda_1$ moves far less than the gap to 0 at
# steepness 10, while changing the steepness to 3 (a wider surrogate, larger area) shifts it by more than any
# gain does. This is the mechanism behind finding 3 above, and it tells us where flossing can act: where the
# surrogate is wide enough that the exponents are near the target to begin with.

# %% [markdown]
# ## 4. Pre-flossing a recurrent SNN with k = 1, 8 and 32
#
# Pre-flossing runs flossing updates before any task training, each on a fresh input sequence with its own
# Adam optimiser (`helpers.flossing.floss`). We floss three copies of one network, with $k = 1$, 8 and 32, using
# the defaults of `FlossingConfig` chosen from the sweep, and look at three things before and after:
# the leading exponents; the norm of the backpropagated error against the lag (notebook 04,
# `state_gradient_norms`), whose slope estimates $\lambda_1$; and the singular values of the long-term Jacobian
# $J_{t_1 \leftarrow t_0}$ over a window (`long_term_jacobian`), which grow like $e^{\lambda_i (t_1 - t_0)}$, so
# that the condition number of its leading $k$ block is about $e^{(\lambda_1 - \lambda_k)(t_1 - t_0)}$.

# %%
config = FlossingConfig()
print(config)
pf_params = n06.FLOSS_PARAMS
ks = (1, 8, 32)
pre = n06.preflossing_experiment(
    ks=ks,
    n_hidden=by_mode(quick=20, standard=64),
    n_updates=by_mode(quick=4, standard=30, full=200),
    config=replace(config, seq_len=by_mode(quick=80, standard=150, full=config.seq_len),
                   transient=by_mode(quick=20, standard=40, full=config.transient),
                   batch_size=by_mode(quick=1, standard=2, full=config.batch_size)),
    params=pf_params,
    n_exponents=by_mode(quick=24, standard=64),
    eval_len=by_mode(quick=100, standard=300),
    eval_batch=by_mode(quick=2, standard=4),
)
fig = n06.plot_preflossing(pre, ks, config.target)
plt.show()

# %%
print(f"condition number of the long-term Jacobian over steps {pre['window'][0]}..{pre['window'][1]} "
      f"(ratio of the 1st to the k-th singular value):")
print("            " + "".join(f"{'k=' + str(kk):>11s}" for kk in pre["before"]["cond"]))
for key in ("before",) + ks:
    label = "before" if key == "before" else f"floss k={key}"
    print(f"{label:12s}" + "".join(f"{v:11.3g}" for v in pre[key]["cond"].values()))
for key in ("before",) + ks:
    m = pre[key]
    label = "before" if key == "before" else f"floss k={key}"
    print(f"{label:12s} slope of log gradient norm {m['slope']:+.4f}/step, lambda_1 {m['exponents'][0]:+.4f}, "
          f"rate {m['rate']:.3f}")
for k in ks:
    d_before = np.abs(pre["before"]["exponents"][:k] - config.target).mean()
    d_after = np.abs(pre[k]["exponents"][:k] - config.target).mean()
    print(f"k = {k:2d}: mean |lambda_i - target| over i <= k: {d_before:.4f} before -> {d_after:.4f} after flossing")

# %% [markdown]
# **Flossing the leading k exponents creates k slow tangent directions** in rate networks (Engelken 2023):
# the first $k$ exponents gather at the target while the rest of the spectrum stays where it was, so $k$
# directions of the long-term Jacobian decay at about the same slow rate, its condition number over the
# leading $k$ singular values shrinks, and an error signal with a component along these directions survives
# long lags. Read the printed tables against that picture: which of the three runs moved its leading $k$
# exponents closer together and nearer the target, and did the condition number for that $k$ fall? On this
# network, whose leading exponents already sit near 0, and with the few updates a CPU notebook affords, the
# changes are small, and section 3 told us not to expect the weights to move the exponents much: compare the
# size of the changes with the spread between the runs before trusting any one of them.
#
# ## 5. Live: flossing strength, k and target
#
# The **flossing strength** is $s = \eta \times n_\mathrm{updates}$, the Adam learning rate times the number of
# updates: Adam moves each weight by at most about $\eta$ per update, so $s$ bounds how far flossing can move any
# single weight. The demo flosses a small network (sizes by run mode) at the default learning rate with
# $n_\mathrm{updates} = s/\eta$ and shows the spectrum before and after and the exponents during flossing.

# %%
show(n06.flossing_demo)

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Using `flossing_loss`, compute the gradient of eq. (6.1) with respect to the exponents
# `lam` above for $k = 2$, target $-0.02$. Check it against the formula $2(\lambda_i - \lambda_\ast)/(k\,B)$ for
# $i \le k$ and 0 otherwise ($B$ the batch size).

# %%
lam_ex = lam.clone().requires_grad_(True)
# your code here: compute the loss, call backward, compare lam_ex.grad with the formula

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# lam_ex = lam.clone().requires_grad_(True)
# flossing_loss(lam_ex, k=2, target=-0.02).backward()
# expected = torch.zeros_like(lam)
# expected[:, :2] = 2 * (lam[:, :2] + 0.02) / (2 * lam.shape[0])
# print(lam_ex.grad, torch.allclose(lam_ex.grad, expected))
# ```
# </details>
#
# **Exercise 2.** The leak-only tangent map. Take a small network, set all recurrent weights to zero, and measure
# its leading exponents with `lyapunov_spectrum`. Predict them before you run it. Then compute the frozen-path
# gradient of $\lambda_1$ with respect to the recurrent weights: what is it, and why?

# %%
ex_model = n06.default_network(8, seed=0)
# your code here

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# with torch.no_grad():
#     ex_model.w_rec[0].zero_()
# x = poisson_sampler(20, 0.05)(2, 200, torch.Generator().manual_seed(0))
# e = flossing_exponents(ex_model, x, FlossingConfig(k=4, seq_len=200, transient=50, path="frozen"))
# print(e.mean(0))   # log(beta) = -0.1 (membrane rows) and log(alpha) = -0.2, or lower for annihilated rows
# g, = torch.autograd.grad(e[:, 0].mean(), [ex_model.w_rec[0]])
# print(g.abs().max())
# ```
# With V = 0 the tangent map is block diagonal: each neuron's (I, U) pair decays with alpha and beta, and the
# membrane row is zeroed when the neuron spikes (zero reset), so exponents are log(beta) = -0.1 or below. The
# gradient with respect to V is not zero: it is the first-order effect of switching on a coupling V D_t, and it
# is large only where D_t is large (membranes near threshold).
# </details>
#
# **Exercise 3.** In the live demo, set the target to $-0.05$ and then to $+0.02$. Which is easier to reach,
# and what happens to the exponents beyond $k$?
#
# ## Think
#
# - The frozen path's gradient is the exact derivative of the exponents at a fixed trajectory, but the real
#   exponents respond to the weights mostly *through* the trajectory (section 3). When is the frozen path
#   nevertheless a good descent direction? (Hint: what stays fixed when the firing rate is held?)
# - With the zero reset, each spike zeroes a membrane direction. Why does raising the recurrent gain, which
#   should strengthen $V D_t$, lower $\lambda_1$ in the sweep?
# - A wider surrogate (smaller steepness) makes every $D_t$ larger. It changes the exponents without changing a
#   single spike. Is a surrogate exponent then a property of the network or of the training algorithm?
# - Flossing $k = 32$ exponents towards 0 in a 64-neuron network: what does it cost (compute per update), and
#   what might it do to the network's ability to forget irrelevant input?
#
# ## Summary
#
# - Flossing minimises $\frac1k\sum_{i\le k}(\lambda_i - \lambda_\ast)^2$ (6.1) by backpropagating through the QR
#   method; the floored QR keeps the backward pass finite where the zero reset annihilates directions (6.3).
# - A weight changes a surrogate exponent through the tangent map (frozen path) and through the spiking
#   trajectory (6.2). In spiking networks the first is exact but blind to how the operating point moves; the
#   second is large and does not predict the change. Measured (section 3): the trajectory path drives the
#   exponents to the leak value; following the frozen path shifts the operating point and moves them away
#   from the target, and penalties holding rate, weight norm or mean surrogate derivative did not fix it; the
#   surrogate's width decides where the exponents sit, and with a wide surrogate (steepness 3) they start near
#   0 and the frozen path keeps them there.
# - In rate networks, flossing the leading $k$ exponents creates $k$ slow tangent directions (flatter
#   gradient-norm decay, a smaller condition number over the leading $k$ directions). In the spiking network of
#   section 4 the measured changes were small and mixed: compare them with the spread between runs.
#
# **Next:** notebook 07 puts flossing to work on temporal credit assignment (delayed XOR and copy with spike-coded
# inputs), with and without flossing over seeds.
#
# ## References
#
# - R. Engelken (2023). Gradient flossing: improving gradient descent through dynamic control of Jacobians.
#   *NeurIPS 36*.
# - R. Engelken & L. F. Abbott (2024). Surrogate gradient flossing for spiking networks (surrogate Lyapunov
#   exponents of spiking networks; work presented as a preprint/conference contribution).
# - R. Engelken, F. Wolf & L. F. Abbott (2023). Lyapunov spectra of chaotic recurrent neural networks.
#   *Physical Review Research* 5, 043044.
# - R. Pascanu, T. Mikolov & Y. Bengio (2013). On the difficulty of training recurrent neural networks. *ICML*.
# - S. F. Walter & L. Lehmann (2018). Algorithmic differentiation of linear algebra functions with application
#   in optimum experimental design (extended version). arXiv:1001.1654.
# - F. Zenke & T. P. Vogels (2021). The remarkable robustness of surrogate gradient learning for instilling
#   complex function in spiking neural networks. *Neural Computation* 33, 899-925.
