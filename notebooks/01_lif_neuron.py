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
# # 01 · The leaky integrate-and-fire neuron
#
# Every network in this course is built from one unit: a leaky integrate-and-fire (LIF) neuron with a
# current-based synapse, simulated in discrete time. This notebook takes that unit apart. Everything later
# (surrogate gradients, Jacobians, Lyapunov spectra, flossing) is a statement about the update rule written
# down here, so it pays to know it exactly.
#
# **Learning goals.** After this notebook you can
# 1. write down the course's LIF update (eqs. 1.1-1.4) and derive its decay factors
#    $\alpha = e^{-\Delta t/\tau_\mathrm{syn}}$ and $\beta = e^{-\Delta t/\tau_\mathrm{mem}}$ from the differential equations,
#    and explain why this update is *exact* where forward Euler is not;
# 2. describe the synaptic current, the postsynaptic potential (PSP) kernel and the one-step delays of the convention;
# 3. tell the two reset variants ("zero" and "subtract") apart, and say what the `detach_reset` flag does to gradients;
# 4. derive the rheobase and the interspike interval of a neuron under constant input, and check them against simulation.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.config import by_mode, run_mode
from helpers.demos import n01_lif as lif
from helpers.models import psp_integrals, psp_kernel
from helpers.neurons import LIFParams, simulate_lif
from helpers.plotting import membrane_traces
from helpers.widgets import show

print(f"run mode: {run_mode()}")
if run_mode() == "quick":
    print("quick mode: coarse grids and short runs (every result here is still exact, only less finely sampled)")

# %% [markdown]
# ## 1. The model in one box
#
# A population of $N$ neurons is driven by an input current $\mathrm{current}[t]$ (one number per neuron and
# time step, in membrane units per step). Each neuron has a synaptic current $I$ and a membrane potential $U$.
# Index $t$ holds the values *before* the update at step $t$:
#
# $$U[0] = I[0] = 0, \qquad S[t] = H\big(U[t] - \vartheta\big) \tag{1.1}$$
# $$I[t+1] = \alpha\, I[t] + \mathrm{current}[t] \tag{1.2}$$
# $$U[t+1] = \big(\beta\, U[t] + I[t]\big)\big(1 - S[t]\big) \qquad \text{reset = "zero"} \tag{1.3}$$
# $$U[t+1] = \beta\, U[t] + I[t] - \vartheta\, S[t] \qquad \text{reset = "subtract"} \tag{1.4}$$
#
# $H$ is the Heaviside step with $H(0) = 0$: a neuron spikes when its membrane is strictly above the threshold
# $\vartheta$. These four lines are `helpers.neurons.lif_step`, and `simulate_lif` loops them over time.
#
# Three things to notice already:
# * an input at step $t$ reaches $I$ at $t+1$ and $U$ at $t+2$: every connection has two steps of delay;
# * the spike $S[t]$ is computed from $U[t]$ and acts through the reset on $U[t+1]$;
# * the synaptic current is never reset: charge that is on its way keeps arriving after a spike.
#
# The defaults of the course are $\tau_\mathrm{mem} = 10$ ms, $\tau_\mathrm{syn} = 5$ ms, $\Delta t = 1$ ms, $\vartheta = 1$:

# %%
params = LIFParams()
print(params)
print(f"alpha = exp(-dt/tau_syn) = {params.alpha:.6f}    beta = exp(-dt/tau_mem) = {params.beta:.6f}")

# %% [markdown]
# ## 2. Where $\alpha$ and $\beta$ come from: the exact discretisation
#
# In continuous time, the synaptic current decays with $\tau_\mathrm{syn}$ and jumps when an input arrives, and
# the membrane leaks with $\tau_\mathrm{mem}$ and integrates the current:
#
# $$\frac{dI}{dt} = -\frac{I}{\tau_\mathrm{syn}} + \sum_k \mathrm{current}[k]\; \delta\big(t - (k+1)\Delta t\big) \tag{1.5}$$
# $$\frac{dU}{dt} = -\frac{U}{\tau_\mathrm{mem}} + c_0\, I \tag{1.6}$$
#
# ($c_0$, in 1/s, only fixes the units of $I$.) The input of step $k$ arrives at the end of that step. Between two
# grid points no input arrives, so both equations are linear with constant coefficients and can be solved
# *exactly* over one step of length $\Delta t$: $I(t+s) = e^{-s/\tau_\mathrm{syn}} I(t)$, and by variation of constants
#
# $$I(t+\Delta t) = \alpha\, I(t), \qquad U(t+\Delta t) = \beta\, U(t) + c_0\,\kappa(\Delta t)\, I(t), \qquad
#   \kappa(\Delta t) = \int_0^{\Delta t} e^{-(\Delta t-s)/\tau_\mathrm{mem}} e^{-s/\tau_\mathrm{syn}}\, ds
#   = \frac{\beta - \alpha}{1/\tau_\mathrm{syn} - 1/\tau_\mathrm{mem}} \tag{1.7}$$
#
# with $\alpha = e^{-\Delta t/\tau_\mathrm{syn}}$ and $\beta = e^{-\Delta t/\tau_\mathrm{mem}}$. Measuring $I$ in units in which
# $c_0 \kappa(\Delta t) = 1$ ("membrane units per step") and adding the input that arrives at the end of the step
# gives exactly eqs. (1.2)-(1.3) without the threshold. So below threshold the discrete model is not an approximation
# of the ODE: it *is* the ODE's solution sampled on the grid, for any $\Delta t$.
#
# The textbook alternative, forward Euler, replaces each exponential by its first-order Taylor expansion:
#
# $$I \leftarrow \Big(1 - \frac{\Delta t}{\tau_\mathrm{syn}}\Big) I + \mathrm{current}, \qquad
#   U \leftarrow \Big(1 - \frac{\Delta t}{\tau_\mathrm{mem}}\Big) U + c_0\,\Delta t\, I \tag{1.8}$$
#
# Its local error is $\tfrac12 (\Delta t/\tau)^2$ per step, so the global error grows like $\Delta t$; and for
# $\Delta t > 2\tau$ the factor $1 - \Delta t/\tau$ drops below $-1$ and the "leak" amplifies.
# Below, both schemes integrate the response to one input impulse (the PSP) and are compared with the closed-form
# solution of (1.5)-(1.6) (`lif.psp_schemes`, `lif.discretisation_errors`).

# %%
dts = np.geomspace(0.05e-3, 5e-3, by_mode(quick=8, standard=16))
fig = lif.plot_discretisation(params, dt_show=params.dt, dts=dts)
plt.show()
err_exact, err_euler = lif.discretisation_errors(params, [params.dt])
print(f"at dt = 1 ms: exact update (1.7) max error {err_exact[0]:.1e}, forward Euler (1.8) {err_euler[0]:.1%} of the PSP peak")
print(f"per-step factors at dt = 1 ms: beta = {params.beta:.5f} vs Euler 1 - dt/tau_mem = {1 - params.dt / params.tau_mem:.5f}; "
      f"alpha = {params.alpha:.5f} vs {1 - params.dt / params.tau_syn:.5f}")

# %% [markdown]
# The exact update agrees with the continuous solution to rounding error at every step size; Euler's error shrinks
# only in proportion to $\Delta t$. At the course's $\Delta t = 1$ ms it distorts the PSP by the percentage printed
# above. (The threshold and reset are a different matter: in continuous time the membrane crosses threshold between
# grid points. The discrete model fires at the first grid point above threshold; that is a modelling choice, not a
# numerical error we try to remove.)
#
# ## 3. The synaptic current and the PSP kernel
#
# Because the subthreshold dynamics are linear, the membrane is a sum of responses to each input. A unit input at
# step 0 produces the PSP kernel (`helpers.models.psp_kernel`)
#
# $$\varepsilon_0 = \varepsilon_1 = 0, \qquad \varepsilon_k = \sum_{j=1}^{k-1} \beta^{k-1-j}\alpha^{j-1}
#   = \frac{\beta^{k-1} - \alpha^{k-1}}{\beta - \alpha}\quad (k \ge 2), \qquad
#   U[t] = \sum_{k\ge0} \varepsilon_k\, \mathrm{current}[t-k] \tag{1.11}$$
#
# — a difference of exponentials, rising with $\tau_\mathrm{syn}$ and decaying with $\tau_\mathrm{mem}$, and starting two
# steps late (the two delays of section 1). Its sum $\bar\varepsilon = \sum_k \varepsilon_k$ and the sum of its square
# $\hat\varepsilon = \sum_k\varepsilon_k^2$ (`psp_integrals`) will set the mean and the variance of the membrane under random
# input in notebook 02.

# %%
kernel = psp_kernel(params)
k = torch.arange(len(kernel), dtype=torch.float64)
closed_form = torch.where(k >= 2, (params.beta ** (k - 1) - params.alpha ** (k - 1)) / (params.beta - params.alpha), 0.0)
eps_bar, eps_hat = psp_integrals(params)
print(f"kernel (1.11) vs closed form: max difference {float((kernel - closed_form).abs().max()):.1e}")
print(f"first kernel values: {np.round(kernel[:6].numpy(), 4)}; peak {float(kernel.max()):.3f} at step {int(kernel.argmax())}")
print(f"eps_bar = {eps_bar:.3f} (closed form 1/((1-alpha)(1-beta)) = {1 / ((1 - params.alpha) * (1 - params.beta)):.3f}), eps_hat = {eps_hat:.3f}")

fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
for tau_syn in (1e-3, 5e-3, 10e-3):
    p = LIFParams(tau_syn=tau_syn)
    ax.plot(psp_kernel(p, 60).numpy(), label=f"tau_syn = {tau_syn * 1e3:g} ms")
ax.set_xlabel("steps after the input")
ax.set_ylabel(r"$\varepsilon_k$")
ax.set_title("PSP kernel (1.11), tau_mem = 10 ms")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Note the unit: one input of size 1 per step moves the membrane by up to about the peak printed above, i.e. by about
# three thresholds. Inputs to a LIF neuron are therefore small numbers (a few hundredths) when many of them act together.
#
# ## 4. Threshold and reset
#
# Drive one neuron with a constant input $c$ and watch the membrane. When $U[t]$ exceeds $\vartheta$, $S[t] = 1$ and the
# next membrane value is reset: to 0 for the zero reset (1.3), or lowered by $\vartheta$ for the subtract reset (1.4),
# which keeps the overshoot $U[t] - \vartheta$.

# %%
c = 0.04
drive = torch.full((1, 60, 1), c, dtype=torch.float64)
fig, axes = plt.subplots(1, 2, figsize=(11, 3), layout="constrained", sharey=True)
for ax, reset in zip(axes, ("zero", "subtract")):
    res = simulate_lif(drive, LIFParams(reset=reset))
    membrane_traces(res.mem[0], res.spikes[0], dt=params.dt, ax=ax, title=f"reset = {reset!r}, c = {c}")
    first = int(res.spikes[0, :, 0].argmax())
    print(f"{reset:>8}: first spike at step {first}: U[{first}] = {float(res.mem[0, first, 0]):.4f} > threshold, "
          f"U[{first + 1}] = {float(res.mem[0, first + 1, 0]):.4f}; {int(res.spikes.sum())} spikes in 60 steps")
plt.show()

# %% [markdown]
# With the zero reset the overshoot is lost; with the subtract reset it is carried over, so the subtract neuron fires a
# little more often at the same input, and its rate can reach one spike per step where the zero-reset neuron is limited to
# one every two steps (after a reset, $U$ needs one step to receive $I$ again).
#
# ## 5. The f-I curve: rheobase and interspike interval
#
# **Rheobase.** For a constant input $c$ and no threshold, the fixed points of (1.2) and (1.3) are
#
# $$I^* = \frac{c}{1-\alpha}, \qquad U^* = \frac{I^*}{1-\beta} = \frac{c}{(1-\alpha)(1-\beta)} = c\,\bar\varepsilon,
#   \qquad\text{so the neuron fires iff}\quad c > c_\mathrm{rh} = \vartheta\,(1-\alpha)(1-\beta). \tag{1.9}$$
#
# The membrane approaches $U^*$ from below and monotonically, so below $c_\mathrm{rh}$ it never reaches the threshold,
# however long we wait.
#
# **Interspike interval (zero reset).** Once $I$ has settled at $I^*$, a spike at step $s$ sets $U[s+1] = 0$; from there
# $U[s+1+k] = U^*(1 - \beta^k)$. The next spike is at the first $k$ with $U^*(1-\beta^k) > \vartheta$:
#
# $$\mathrm{ISI} = 1 + k_\mathrm{min}, \qquad k_\mathrm{min} = \Big\lfloor \frac{\ln(1 - \vartheta/U^*)}{\ln\beta}\Big\rfloor + 1,
#   \qquad \text{rate} = \frac{1}{\mathrm{ISI}\;\Delta t} \tag{1.10}$$
#
# (the continuous-time formula $T = \tau_\mathrm{mem}\ln\frac{U^*}{U^* - \vartheta}$, rounded up to the grid, plus one step for the
# reset). The firing is perfectly regular: every interval is the same. `lif.rheobase` and `lif.isi_theory` implement
# (1.9) and (1.10); `lif.fi_curve` measures the rate as one over the mean interval in the second half of a simulation.

# %%
c_rh = lif.rheobase(params)
n_fi = by_mode(quick=25, standard=80)
fig, ax = plt.subplots(figsize=(6.5, 3.6), layout="constrained")
lif.plot_fi_curve(params, max_factor=8.0, n=n_fi, n_steps=by_mode(quick=1000, standard=3000), ax=ax)
plt.show()

currents = np.linspace(1.05, 8.0, n_fi) * c_rh
simulated = lif.fi_curve(currents, params, n_steps=by_mode(quick=1000, standard=3000))
theory = np.array([1.0 / (lif.isi_theory(cc, params) * params.dt) for cc in currents])
print(f"rheobase c_rh = theta (1-alpha)(1-beta) = {c_rh:.5f} per step")
print(f"just below: c = 0.999 c_rh -> {lif.fi_curve([0.999 * c_rh], params, 3000)[0]:.1f} Hz; "
      f"just above: c = 1.05 c_rh -> {lif.fi_curve([1.05 * c_rh], params, 3000)[0]:.1f} Hz")
c_ceiling = params.threshold * (1 - params.alpha)
print(f"zero-reset ceiling 1/(2 dt) = {0.5 / params.dt:.0f} Hz from c > theta (1-alpha) = {c_ceiling:.4f} = {c_ceiling / c_rh:.1f} c_rh: "
      f"simulated {lif.fi_curve([1.01 * c_ceiling], params, 1000)[0]:.0f} Hz at 1.01 x that")
print(f"zero reset, {n_fi} inputs between 1.05 and 8 c_rh: largest |simulated - eq. (1.10)| = {np.abs(simulated - theory).max():.2e} Hz")

# %% [markdown]
# The steps in the curve are the grid: the interval is an integer number of steps, so the rate takes the values
# $1000/n$ Hz. Simulation and eq. (1.10) agree exactly. Above rheobase the rate rises steeply (the interval is
# logarithmic in $1 - \vartheta/U^*$); for the zero reset it reaches its ceiling $1/(2\Delta t)$ once $I^* > \vartheta$, i.e. for
# $c > \vartheta(1-\alpha)$ (printed above in units of the rheobase), while the subtract reset keeps rising towards $1/\Delta t$.
#
# **Regular firing.** Just above rheobase the first spike comes late (the membrane creeps towards $U^*$), and then
# the intervals are all equal:

# %%
c_reg = 1.5 * c_rh
res = simulate_lif(torch.full((1, 150, 1), c_reg, dtype=torch.float64), params)
spike_steps = torch.nonzero(res.spikes[0, :, 0]).flatten().tolist()
print(f"c = 1.5 c_rh: spikes at steps {spike_steps}")
print(f"intervals {np.diff(spike_steps).tolist()} steps; eq. (1.10) predicts {lif.isi_theory(c_reg, params):.0f} steps "
      f"(U* = {lif.free_membrane_fixed_point(c_reg, params):.3f})")
ax = membrane_traces(res.mem[0], res.spikes[0], dt=params.dt, title="regular firing at c = 1.5 rheobase")
plt.show()

# %% [markdown]
# The first interval is longer than the rest: it starts from rest, with $I$ still rising towards $I^*$, while eq. (1.10)
# assumes $I = I^*$. After that the spike train is periodic.
#
# ## 6. The `detach_reset` flag: what the reset does to gradients
#
# Training (notebook 03) differentiates through eqs. (1.1)-(1.4), with the spike's derivative $H'$ replaced by a
# surrogate $\sigma'$. The reset term contains $S[t]$, so it is a second path for the gradient. For the zero reset,
#
# $$\frac{\partial U[t+1]}{\partial U[t]} = \beta\,(1 - S[t]) \;-\; \underbrace{(\beta U[t] + I[t])\,\sigma'(U[t]-\vartheta)}_{\text{through the reset}}$$
#
# With `detach_reset=True` (the course default) $S[t]$ in the reset is treated as a constant: the second term is dropped
# and the reset acts as a gate. With `detach_reset=False` the term stays; it is large and negative near threshold ("a bit
# more voltage makes the neuron spike and lose all its charge"). Zenke & Vogels (2021) found that detaching the reset
# helps training. Here is the gradient of $\sum_t U[t]$ with respect to the input at each step, for a regularly firing neuron:

# %%
n_grad = 60
grad_detached, grad_attached, spk = lif.reset_gradients(params, current=2 * c_rh, n_steps=n_grad)
fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
ax.plot(grad_detached, "o-", ms=3, label="detach_reset=True")
ax.plot(grad_attached, "s-", ms=3, label="detach_reset=False")
for t in np.nonzero(spk)[0]:
    ax.axvline(t, color="0.8", lw=0.8, zorder=0)
ax.set_xlabel("input step s")
ax.set_ylabel(r"$\partial \sum_t U[t] / \partial\, \mathrm{current}[s]$")
ax.set_title("gradient through the reset (grey: spike steps)")
ax.legend(fontsize=8)
plt.show()
print(f"{int(spk.sum())} spikes; gradient w.r.t. current[0]: {grad_detached[0]:.2f} (detached) vs {grad_attached[0]:.2f} "
      f"(attached); largest difference over all input steps {np.abs(grad_detached - grad_attached).max():.2f}")

# %% [markdown]
# The attached reset term removes part of the gradient: it is weighted by the surrogate derivative $\sigma'(U[t]-\vartheta)$,
# which is largest when the membrane is near threshold, i.e. around the spikes. It acts even at steps *without* a spike:
# the fast-sigmoid surrogate is never exactly zero, so the backward pass "sees" resets that did not happen (a surrogate with
# finite support, such as `"triangle"`, would not). The forward pass is identical: the flag changes only the backward pass.
# Notebook 04 comes back to this when it multiplies such Jacobians over many steps, and notebook 05 shows that with the zero
# reset and a detached reset a spiking neuron's row of the Jacobian is exactly zero.
#
# ## 7. Live control
#
# Move the sliders: time constants, input, threshold and reset mode. The right panel shows where the input sits on the
# neuron's f-I curve (in units of its rheobase, eq. 1.9). Try: a longer $\tau_\mathrm{mem}$ lowers the rheobase; a
# threshold of 0.2 with the subtract reset at large input fires every step.

# %%
show(lif.lif_demo)

# %% [markdown]
# And the discretisation: the step size $\Delta t$ and $\tau_\mathrm{mem}$ ($\tau_\mathrm{syn}$ = 5 ms). As $\Delta t$ approaches
# $\tau$, Euler's PSP goes wrong while the exact update stays on the curve; with $\Delta t$ = 5 ms and $\tau_\mathrm{mem}$ = 2 ms,
# $\Delta t > 2\tau_\mathrm{mem}$ and Euler's "leak" amplifies.

# %%
show(lif.discretisation_demo)

# %% [markdown]
# ## 8. Exercises
#
# **Exercise 1 (pen and paper).** Derive the rheobase (1.9) for the subtract reset. Does it differ from the zero
# reset's? Then show that at the rheobase the zero-reset interval (1.10) diverges, and find the input that gives 100 Hz.
#
# <details><summary>Solution</summary>
#
# The rheobase is a statement about the membrane *before* the first spike, so the reset does not enter: the free membrane
# settles at $U^* = c/((1-\alpha)(1-\beta))$ for both variants and the neuron fires iff $U^* > \vartheta$, i.e.
# $c > \vartheta(1-\alpha)(1-\beta)$. As $c \downarrow c_\mathrm{rh}$, $\vartheta/U^* \to 1$, $\ln(1 - \vartheta/U^*) \to -\infty$
# and $k_\mathrm{min} \to \infty$. For 100 Hz at $\Delta t$ = 1 ms we need ISI = 10 steps, $k_\mathrm{min} = 9$: the smallest
# $U^*$ with $U^*(1-\beta^9) > \vartheta$, i.e. $c$ just above $\vartheta (1-\alpha)(1-\beta)/(1-\beta^9)$ (the cell below checks it).
# </details>

# %%
c_100 = params.threshold * (1 - params.alpha) * (1 - params.beta) / (1 - params.beta**9)
print(f"c for 100 Hz: just above {c_100:.5f} = {c_100 / c_rh:.3f} c_rh; "
      f"simulated rate at 1.001 x that: {lif.fi_curve([1.001 * c_100], params, 2000)[0]:.1f} Hz, "
      f"at 0.999 x: {lif.fi_curve([0.999 * c_100], params, 2000)[0]:.1f} Hz")

# %% [markdown]
# **Exercise 2 (code).** Implement eqs. (1.1)-(1.4) yourself, with a plain loop over time and the Heaviside
# `(mem > threshold)` (no surrogate needed in the forward pass), for both resets. Compare your `mem` and `spikes` with
# `simulate_lif` on random input. The cell runs as it is; replace the `NotImplementedError` with your code.

# %%
def my_lif(current, params):
    """Return (spikes, mem), each (batch, T, N), following eqs. (1.1)-(1.4)."""
    raise NotImplementedError  # your code here


def compare_with_simulate_lif(fn):
    gen = torch.Generator().manual_seed(0)
    current = 0.05 * torch.rand(2, 100, 3, generator=gen, dtype=torch.float64)
    for reset in ("zero", "subtract"):
        p = LIFParams(reset=reset)
        spikes, mem = fn(current, p)
        ref = simulate_lif(current, p)
        print(f"reset={reset}: max |mem - reference| = {float((mem - ref.mem).abs().max()):.1e}, "
              f"spike mismatches = {int((spikes != ref.spikes).sum())} of {int(ref.spikes.sum())} spikes")


try:
    compare_with_simulate_lif(my_lif)
except NotImplementedError:
    print("my_lif is not implemented yet: try it, then compare with the solution below")

# %% [markdown]
# <details><summary>Solution</summary>
#
# The next cell (its input is hidden in the rendered course; expand it) holds one solution. Note the order: the spike
# is computed from the *old* membrane, and the membrane update uses the *old* synaptic current.
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
def my_lif_solution(current, params):
    batch, n_steps, n = current.shape
    syn = current.new_zeros(batch, n)
    mem = current.new_zeros(batch, n)
    spikes, mems = [], []
    for t in range(n_steps):
        spk = (mem > params.threshold).to(current.dtype)  # (1.1)
        spikes.append(spk)
        mems.append(mem)
        if params.reset == "zero":
            mem_next = (params.beta * mem + syn) * (1 - spk)  # (1.3)
        else:
            mem_next = params.beta * mem + syn - params.threshold * spk  # (1.4)
        syn = params.alpha * syn + current[:, t]  # (1.2)
        mem = mem_next
    return torch.stack(spikes, 1), torch.stack(mems, 1)


compare_with_simulate_lif(my_lif_solution)

# %% [markdown]
# **Exercise 3 (code).** Use `lif.fi_curve` to find how the rheobase changes when $\tau_\mathrm{mem}$ goes from 10 ms to
# 20 ms, and compare with (1.9). Why does a longer membrane time constant make the neuron more excitable?
#
# <details><summary>Solution</summary>
#
# (1.9) gives $c_\mathrm{rh} \propto (1 - \beta)$, and $1 - \beta \approx \Delta t/\tau_\mathrm{mem}$ halves when $\tau_\mathrm{mem}$ doubles:
# a slower leak loses less charge per step, so a smaller input suffices to hold the membrane above threshold.
# The cell below scans inputs and reports the smallest one that fires.
# </details>

# %%
for tau_mem in (10e-3, 20e-3):
    p = LIFParams(tau_mem=tau_mem)
    scan = np.linspace(0.2, 1.5, by_mode(quick=41, standard=201)) * lif.rheobase(LIFParams())
    rates = lif.fi_curve(scan, p, n_steps=by_mode(quick=1500, standard=4000))
    first = scan[np.argmax(rates > 0)] if (rates > 0).any() else np.nan
    print(f"tau_mem = {tau_mem * 1e3:g} ms: eq. (1.9) c_rh = {lif.rheobase(p):.5f}; smallest scanned input that fires: {first:.5f}")

# %% [markdown]
# ## 9. Think
#
# 1. The discrete model fires at the first grid point above threshold. For a fixed continuous-time neuron, how does the
#    f-I curve change as $\Delta t \to 0$ (keep $c_0$ fixed)? What does the zero-reset ceiling of $1/(2\Delta t)$ become?
# 2. The synaptic current is not reset at a spike. What would change in the f-I curve if it were?
# 3. The subtract reset keeps the overshoot. Which reset preserves more information about the input in the spike times?
#    Which one do you expect to give larger gradients through long sequences?
# 4. With `detach_reset=False`, the Jacobian entry $\partial U[t+1]/\partial U[t]$ of a neuron near threshold can be large and
#    negative. What does a product of many such entries do?
#
# ## 10. Summary and what comes next
#
# * The course's LIF neuron (eqs. 1.1-1.4) integrates the leak exactly: $\alpha$ and $\beta$ are exponentials of $-\Delta t/\tau$,
#   and below threshold the update is the ODE's solution on the grid (1.7), while forward Euler (1.8) errs in proportion to $\Delta t$.
# * The PSP kernel (1.11) is a difference of exponentials that starts two steps after its input.
# * A constant input makes the neuron fire iff it exceeds the rheobase $\vartheta(1-\alpha)(1-\beta)$ (1.9); the zero-reset
#   interval is given exactly by (1.10), and the firing is regular.
# * The zero and subtract resets differ in what the membrane keeps; the `detach_reset` flag changes only the backward pass.
#
# Notebook 02 connects many such neurons into recurrent networks driven by Poisson input, finds their regimes (silent,
# irregular, saturated), and uses the PSP kernel's integrals to initialise the weights.
#
# ## References
#
# * W. Gerstner, W. M. Kistler, R. Naud, L. Paninski, *Neuronal Dynamics*, Cambridge University Press (2014), ch. 1 and 5
#   (LIF neuron, f-I curve). https://neuronaldynamics.epfl.ch
# * E. O. Neftci, H. Mostafa, F. Zenke, "Surrogate gradient learning in spiking neural networks", *IEEE Signal Processing
#   Magazine* 36(6), 51-63 (2019) (the discrete-time LIF model as a recurrent network).
# * F. Zenke, T. P. Vogels, "The remarkable robustness of surrogate gradient learning for instilling complex function in
#   spiking neural networks", *Neural Computation* 33(4), 899-925 (2021) (surrogate shapes, detaching the reset).
# * F. Zenke, SpyTorch tutorials, https://github.com/fzenke/spytorch (the same discretisation in code).
