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
# # 05 · Lyapunov spectra
#
# Notebook 04 measured how fast the backpropagated error grows or shrinks with the lag: a product of
# Jacobians, one per step, changes its size exponentially. This notebook measures those rates *directly*, as
# properties of the network's dynamics, without any loss: the **Lyapunov exponents**. For a spiking network
# trained with surrogate gradients the relevant dynamics is the **surrogate tangent dynamics**, the linearised
# map with the surrogate derivative in place of the spike's derivative. Its exponents are the **surrogate
# Lyapunov spectrum**, and its leading exponent is the rate at which gradients explode or vanish.
#
# **Learning goals.** After this notebook you can
#
# 1. say why the naive product of Jacobians is useless numerically, and build the QR (Benettin) algorithm that
#    fixes it (eqs. 5.1-5.4);
# 2. validate a Lyapunov code on systems with known answers: a linear map, the sum rule, products of random
#    matrices, the Hénon map, random tanh networks (eqs. 5.5-5.7);
# 3. find the transition to chaos of a random rate network at g = 1 (eqs. 5.8-5.9);
# 4. compute surrogate Lyapunov spectra of LIF networks (eq. 5.10) and say how they depend on the recurrent gain,
#    the surrogate steepness and the reset convention, including the directions that the zero reset annihilates;
# 5. check that the leading exponent predicts the slope of the log gradient norm of notebook 04 (eq. 5.11).

# %%
import dataclasses
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers import spectra
from helpers.config import by_mode, get_device, run_mode, seed_generator
from helpers.demos.n05_lyapunov import spectrum_demo
from helpers.lyapunov import default_floor, lyapunov_spectrum, random_basis
from helpers.systems import (
    HenonMap,
    LinearMap,
    RandomMatrixProduct,
    RandomTanhNetwork,
    tanh_mean_field_lambda1,
)
from helpers.widgets import show

MODE = run_mode()
device = get_device()
print(f"run mode: {MODE}; SNN experiments on {device}; reference systems in float64 on the CPU")
if MODE == "quick":
    print("quick mode: tiny networks and short runs, sanity-level only "
          "(run with SGF_MODE=standard for the real effect)")

# %% [markdown]
# ## 1. Where we are going, and why the obvious route fails
#
# A discrete-time system $h_{t+1} = f(h_t, x_t)$ moves a small perturbation $\delta h$ of its state with the
# Jacobian $J_t = \partial f(h_t, x_t) / \partial h_t$ (the **tangent dynamics**):
#
# $$\delta h_{t+1} = J_t\, \delta h_t, \qquad \delta h_t = J_{t-1} \cdots J_1 J_0\, \delta h_0. \qquad (5.2)$$
#
# The Lyapunov exponents are the exponential rates of that product. The leading one is the rate of almost every
# perturbation, and the full spectrum $\lambda_1 \ge \lambda_2 \ge \dots$ describes how $k$-dimensional volumes
# of perturbations grow (Oseledets' theorem; Eckmann & Ruelle 1985):
#
# $$\lambda_1 = \lim_{t\to\infty} \frac1t \log \|J_{t-1}\cdots J_0\, u\|, \qquad
#   \lambda_1 + \dots + \lambda_k = \lim_{t\to\infty} \frac1t \log \mathrm{vol}_k\big(J_{t-1}\cdots J_0\, U\big)
#   \qquad (5.3)$$
#
# for a generic vector $u$ and a generic $k$-frame $U$. The destination of this section is the estimator that
# `helpers.lyapunov.lyapunov_spectrum` implements,
#
# $$\lambda_i = \frac{1}{T - T_0} \sum_{\text{QR steps after } T_0} \log |R_{ii}|, \qquad (5.1)$$
#
# the average log of the diagonal of the triangular factors of a QR decomposition repeated along the trajectory.
# To see why it takes that form, first try (5.3) literally on a chaotic system: a random tanh network
# $h_{t+1} = W \tanh(h_t)$ with gain $g = 3$ (section 3 computes its $\lambda_1$ from theory). We push two random
# unit vectors through (5.2), in float32 and in float64, and never normalise them.

# %%
n_naive = 100
net_g3 = RandomTanhNetwork(n_naive, 3.0, generator=seed_generator(0))
lam1_g3 = tanh_mean_field_lambda1(3.0)
naive = {name: spectra.naive_tangent_product(net_g3, n_steps=2600, dtype=dt)
         for name, dt in (("float32", torch.float32), ("float64", torch.float64))}
eps = {name: torch.finfo(getattr(torch, name)).eps for name in naive}
for name, res in naive.items():
    log_max = math.log(torch.finfo(getattr(torch, name)).max)
    aligned = np.nonzero(res["angle"] < 10 * eps[name])[0]
    print(f"{name}: the product overflows at step {res['overflow_step']} (log of the largest {name} "
          f"{log_max:.1f} / lambda_1 {lam1_g3:.3f} = {log_max / lam1_g3:.0f} steps); the angle between the two "
          f"vectors reaches the rounding level (10 eps = {10 * eps[name]:.1e} rad) "
          + (f"at step {aligned[0]}" if aligned.size else "not before the overflow"))
spectra.plot_naive_product(naive, lam1_g3, eps)
plt.show()

# %% [markdown]
# Two things go wrong, and both are visible above.
#
# * **Overflow.** The norm grows like $e^{\lambda_1 t}$; float32 holds numbers up to $e^{88.7}$, float64 up to
#   $e^{709.8}$. For a contracting system the same happens the other way (underflow to 0).
# * **Alignment.** Every vector is pulled towards the most expanding direction; the angle between two of them
#   shrinks like $e^{-(\lambda_1 - \lambda_2) t}$. Once it is at the rounding level, the second vector carries
#   no information beyond the first: $\lambda_2$ is lost (in float64 above, long before the overflow).
#
# ## 2. Gram–Schmidt and QR: the Benettin algorithm
#
# The cure (Benettin, Galgani, Giorgilli & Strelcyn 1980; Shimada & Nagashima 1979) is to keep the $k$ tangent
# vectors orthonormal and *book-keep* what the normalisation removes. Gram–Schmidt on the columns
# $\tilde q_1, \dots, \tilde q_k$ of $\tilde Q = J_t Q_t$ gives the orthonormal $q_1, \dots, q_k$ and the numbers
# $R_{11} = \|\tilde q_1\|$, $R_{22} = \|\tilde q_2 - (q_1^\top \tilde q_2) q_1\|$, ...: $R_{jj}$ is the growth of
# the $j$-th direction *orthogonal to the first $j-1$*. In matrix form this is the QR decomposition
# $\tilde Q = Q R$, and along the trajectory
#
# $$J_t Q_t = Q_{t+1} R_t \quad\Longrightarrow\quad J_{t-1}\cdots J_0\, Q_0 = Q_t\, R_{t-1} \cdots R_0.
#   \qquad (5.4)$$
#
# The product of upper-triangular matrices is upper triangular with the product of the diagonals on its
# diagonal, so $\sum_{j \le i} \sum_s \log|[R_s]_{jj}|$ is the log of the $i$-volume of (5.3): dividing by the
# number of steps gives (5.1). Nothing is ever large; the information is in the logs. Here is the whole algorithm
# in seven lines, next to the course's implementation, on the Hénon map
# $(x, y) \mapsto (1 - a x^2 + y,\ b x)$:

# %%
def qr_spectrum(system, n_steps, q, h):
    """Eqs. (5.2), (5.4) and (5.1) written out: no transient, a QR every step."""
    log_r = torch.zeros(h.shape[0], q.shape[-1], dtype=h.dtype)
    for t in range(n_steps):
        q = system.tangent(h, None, q)                  # (5.2): Q~ = J_t Q_t
        h = system.step(h, None)
        q, r = torch.linalg.qr(q)                       # (5.4): Q~ = Q_{t+1} R_t
        log_r += r.diagonal(dim1=-2, dim2=-1).abs().log()
    return log_r / n_steps                              # (5.1)


henon = HenonMap()
q0 = random_basis(2, 2, generator=seed_generator(1))
n_henon = by_mode(quick=2000, standard=20000)
by_hand = qr_spectrum(henon, n_henon, q0.expand(1, 2, 2), henon.initial_state(1))
course = lyapunov_spectrum(henon, n_henon, 2, q0=q0).exponents
print(f"Henon map, T = {n_henon}: by hand {by_hand[0].tolist()}")
print(f"                  helpers.lyapunov {course[0].tolist()}")
print(f"max difference: {(by_hand.sort(descending=True).values - course).abs().max().item():.1e}")

# %% [markdown]
# `lyapunov_spectrum(system, inputs, k, reorth_every=1, transient=0, ...)` adds what a practical code needs:
# a batch of trajectories; inputs $x_t$ (a tensor (batch, T, n_in), or an int T for an autonomous system); a
# **transient** $T_0$ whose steps are discarded (the basis first has to align with the Oseledets directions);
# QR only every `reorth_every` steps (exact in exact arithmetic, cheaper, but precision suffers if the columns
# align too much in between); sorted exponents; and a **floor** for pivots that are exactly zero (section 6).
# It is differentiable end to end, which notebook 06 needs.
#
# Every system here implements one small protocol: `state_dim`, `initial_state(batch)`, `step(h, x)` and
# `tangent(h, x, Q)`, the product $J(h, x)\,Q$. For the spiking networks `tangent` is computed from the structure
# of $J$ without ever forming it (eqs. 2.3-2.6 of `helpers.models`), and it is tested against autograd of `step`.
#
# ### Exercise 1: Gram–Schmidt by hand
#
# Write `gram_schmidt(a)` that orthonormalises the columns of an $n \times k$ matrix one after the other and
# returns $Q$ and the diagonal $R_{jj}$. Check that $|R_{jj}|$ agrees with `torch.linalg.qr` (the signs may
# differ: QR is unique only up to the sign of each column).

# %%
def gram_schmidt(a):
    """Your turn: return (q, r_diag) with q's columns orthonormal and r_diag[j] the norm of the part of column j
    orthogonal to the previous columns."""
    return None, None  # replace with your implementation


a = torch.randn(6, 3, dtype=torch.float64, generator=seed_generator(2))
q_gs, r_gs = gram_schmidt(a)
if r_gs is not None:
    print("Gram-Schmidt |R_jj|:", r_gs.abs().tolist())
    print("torch.linalg.qr     :", torch.linalg.qr(a)[1].diagonal().abs().tolist())

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# def gram_schmidt(a):
#     q = torch.zeros_like(a)
#     r_diag = torch.zeros(a.shape[1], dtype=a.dtype)
#     for j in range(a.shape[1]):
#         v = a[:, j] - q[:, :j] @ (q[:, :j].T @ a[:, j])   # remove the components along q_1..q_{j-1}
#         r_diag[j] = v.norm()
#         q[:, j] = v / r_diag[j]
#     return q, r_diag
# ```
#
# Classical Gram–Schmidt loses orthogonality when the columns are nearly parallel (which is exactly the situation
# of section 1); Householder QR, what `torch.linalg.qr` uses, does not. That is why the course calls a library
# QR rather than this loop.
# </details>
#
# ## 3. Validation: systems whose exponents are known
#
# A Lyapunov code is easy to get subtly wrong (public reference code has divided by the wrong number of steps,
# evaluated $\tanh'$ at the post-activation, or left the reset out of the Jacobian). Before trusting it on spiking
# networks we check it where theory gives the answer. The test suite (`tests/test_lyapunov.py`) asserts each of
# these with a justified tolerance; here we look at the numbers.
#
# **(a) A constant linear map** $h \mapsto A h$: the exponents are $\log|\mu_i|$ for the eigenvalues $\mu_i$
# of $A$, *not* the log singular values (those describe one step; the exponents describe many). The finite-T
# error is $O(1/T)$. **(b) The sum rule**: with $k$ equal to the state dimension, $|\det R_t| = |\det J_t|$
# at every step, so
#
# $$\sum_{i=1}^{n} \lambda_i = \frac{1}{T} \sum_t \log |\det J_t| \qquad (5.5)$$
#
# exactly; for the Hénon map $\det J = -b$ everywhere, so $\lambda_1 + \lambda_2 = \log b = \log 0.3$.

# %%
mu = torch.tensor([1.5, -1.0, 0.6, 0.3], dtype=torch.float64)
s = torch.eye(4, dtype=torch.float64) + 0.8 * torch.randn(4, 4, dtype=torch.float64, generator=seed_generator(3))
linear = LinearMap(s @ torch.diag(mu) @ torch.linalg.inv(s))
rows = []
for n_steps in by_mode(quick=(100, 1000), standard=(100, 1000, 10000)):
    est = lyapunov_spectrum(linear, n_steps, 4, generator=seed_generator(4)).exponents[0]
    err = (est - linear.exact_exponents()).abs().max().item()
    rows.append({"T": n_steps, "est": str([round(v, 4) for v in est.tolist()]), "err": err, "errT": err * n_steps})
print("log|eigenvalues|     :", [round(v, 4) for v in linear.exact_exponents().tolist()])
print("log singular values  :", [round(v, 4) for v in torch.log(torch.linalg.svdvals(linear.a.detach())).tolist()])
print(spectra.format_table(rows, [("T", "T", "{}"), ("est", "QR estimate", "{}"),
                                  ("err", "max error", "{:.2e}"), ("errT", "error x T", "{:.2f}")]))
h0_henon = torch.tensor([0.1, 0.1], dtype=torch.float64) + 0.05 * torch.rand(8, 2, dtype=torch.float64,
                                                                              generator=seed_generator(5))
henon_res = lyapunov_spectrum(henon, by_mode(quick=2000, standard=10000), 2, h0=h0_henon, transient=200)
print(f"\nHenon, 8 trajectories: lambda_1 + lambda_2 = {henon_res.exponents.sum(-1).mean().item():.12f}, "
      f"log 0.3 = {math.log(0.3):.12f}")

# %% [markdown]
# The error times T stays roughly constant: the $1/T$ law. (It comes from the first steps, before the basis has
# aligned with the eigenvectors: a fixed amount of log-growth spread over T steps.)
#
# **(c) Products of Gaussian random matrices.** If $J_t$ are i.i.d. $N \times N$ matrices with independent
# $\mathcal N(0, s^2)$ entries, each $\log |R_{ii}|$ is the log of a chi variable with $N - i + 1$ degrees of
# freedom, independently at each step (rotation invariance), which gives the exact finite-N result (Newman 1986)
#
# $$\lambda_i = \tfrac12 \Big(\log(2 s^2) + \psi\big(\tfrac{N-i+1}{2}\big)\Big), \qquad
#   \mathrm{SE}(\hat\lambda_i) = \sqrt{\psi'\big(\tfrac{N-i+1}{2}\big) / (4T)} \qquad (5.6)$$
#
# ($\psi$ the digamma function, $\psi'$ its derivative). Here the standard error is known, so the comparison is a
# proper statistical test.

# %%
products = RandomMatrixProduct(8, s=0.5)
n_prod = by_mode(quick=1000, standard=5000)
est = lyapunov_spectrum(products, products.sample(1, n_prod, generator=seed_generator(6)), 8).exponents[0]
exact, se = products.exact_exponents(), products.standard_errors(n_prod)
z = (est - exact) / se
print(f"N = 8, s = 0.5, T = {n_prod}: largest |estimate - theory| / SE = {z.abs().max().item():.2f} "
      f"(|z| < 2 expected for about 95% of the exponents)")
spectra.plot_gaussian_products(est.numpy(), exact.numpy(), se.numpy())
plt.show()

# %% [markdown]
# **(d) The Hénon map** ($a = 1.4$, $b = 0.3$) has no closed form, but its leading exponent is known numerically
# to many digits, $\lambda_1 \approx 0.41922$ per step. **(e) A random tanh network** $h_{t+1} = W \tanh(h_t)$
# with $W_{ij} \sim \mathcal N(0, g^2/N)$. Its Jacobian is $W \operatorname{diag}(1 - \tanh^2 h_t)$ (the derivative
# at the *pre*-activation). For $g < 1$ the state decays to 0, where $J = W$, so $\lambda_1 = \log \rho(W)$, the
# spectral radius. For $g > 1$ the dynamics is chaotic, and dynamic mean-field theory (Sompolinsky, Crisanti &
# Sommers 1988, for this discrete map Molgedey, Schuchhardt & Schuster 1992) gives, with the variance $\Delta$ of
# the pre-activations,
#
# $$\Delta = g^2 \langle \tanh^2(\sqrt\Delta z) \rangle_z, \qquad
#   \lambda_1 = \tfrac12 \log\big(g^2 \langle \tanh'(\sqrt\Delta z)^2 \rangle_z\big) \qquad (5.7)$$
#
# ($z$ standard normal). At finite N the measured value is biased down by a few percent.

# %%
n_tanh = by_mode(quick=200, standard=400)
t_tanh = by_mode(quick=800, standard=3000)
rows = [{"system": "Henon a=1.4 b=0.3", "measured": henon_res.exponents[:, 0].mean().item(), "theory": 0.41922,
         "se": henon_res.exponents[:, 0].std().item() / math.sqrt(8)}]
sub = RandomTanhNetwork(n_tanh, 0.6, generator=seed_generator(7))
lam_sub = lyapunov_spectrum(sub, t_tanh, 1, transient=200).exponents[0, 0].item()
rows.append({"system": f"tanh N={n_tanh} g=0.6", "measured": lam_sub,
             "theory": math.log(torch.linalg.eigvals(sub.weight.detach()).abs().max().item()), "se": None})
for g in (2.0, 3.0, 5.0):
    net = RandomTanhNetwork(n_tanh, g, generator=seed_generator(8))
    h0 = torch.randn(4, n_tanh, dtype=torch.float64, generator=seed_generator(9))
    lam = lyapunov_spectrum(net, t_tanh, 1, h0=h0, transient=200).exponents[:, 0]
    rows.append({"system": f"tanh N={n_tanh} g={g:g}", "measured": lam.mean().item(),
                 "theory": tanh_mean_field_lambda1(g), "se": lam.std().item() / 2})
for row in rows:
    row["rel"] = 100 * (row["measured"] - row["theory"]) / abs(row["theory"])
print(spectra.format_table(rows, [("system", "system", "{}"), ("measured", "lambda_1 (QR)", "{:.4f}"),
                                  ("se", "SE (spread)", "{:.4f}"), ("theory", "theory", "{:.4f}"),
                                  ("rel", "difference %", "{:+.1f}")]))
print("theory: Henon literature value; tanh g<1: log spectral radius of W; g>1: mean field (5.7)")

# %% [markdown]
# ## 4. The transition to chaos of a random rate network
#
# The continuous-time rate network of Sompolinsky, Crisanti & Sommers (1988), $\tau \dot h = -h + W\tanh(h)$,
# Euler-discretised with step $\epsilon = \Delta t / \tau$,
#
# $$h_{t+1} = h_t + \epsilon\,\big(-h_t + W \tanh(h_t)\big), \qquad
#   J_t = (1-\epsilon)\, I + \epsilon\, W \operatorname{diag}(\tanh'(h_t)), \qquad (5.8)$$
#
# is the textbook example of a **transition to chaos**: for $g < 1$ the origin is a stable fixed point, for
# $g > 1$ (and large N) the activity is chaotic. Below the transition $J = (1-\epsilon)I + \epsilon W$ at the fixed
# point, so
#
# $$\lambda_1 = \max_i \log|1 - \epsilon + \epsilon \mu_i| \approx \epsilon\, (g - 1) \quad (g < 1) \qquad (5.9)$$
#
# with $\mu_i$ the eigenvalues of $W$ (the circular law puts their largest real part near $g$). We divide the
# per-step exponents by $\epsilon$ to get units of $1/\tau$.

# %%
gains = by_mode(quick=[0.5, 0.8, 1.0, 1.5, 2.0, 3.0],
                standard=[0.4, 0.6, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0])
transition = spectra.rate_network_lambda1(gains, n=by_mode(quick=100, standard=400),
                                          n_steps=by_mode(quick=1000, standard=3000),
                                          transient=by_mode(quick=400, standard=1000), dt_over_tau=0.1)
for g, lam, pred in zip(transition["gains"], transition["lambda1"], transition["predicted"]):
    print(f"g = {g:4.2f}: lambda_1 = {lam:+.3f} / tau" + (f"   (fixed point, eq. 5.9: {pred:+.3f})" if g < 1 else ""))
positive = transition["gains"][transition["lambda1"] > 0.02]
print(f"smallest gain with lambda_1 > 0.02/tau: g = {positive.min() if positive.size else 'none'}")
spectra.plot_transition(transition)
plt.show()

# %% [markdown]
# Below $g = 1$ the measured exponent sits on the fixed-point prediction (5.9). Above it, $\lambda_1$ becomes
# positive and keeps growing with $g$. At finite N the transition is blurred: just above $g = 1$ small networks
# often settle on a limit cycle or a fixed point away from 0 first (a limit cycle has $\lambda_1 = 0$ exactly:
# the direction along the orbit neither grows nor shrinks), so the exponent stays near zero for a while before
# chaos takes over.
#
# ## 5. Surrogate Lyapunov spectra of LIF networks
#
# Now the spiking network of notebooks 02-04: $N$ recurrent LIF neurons with state $h = (I, U)$ (synaptic current
# and membrane, dimension $2N$), Poisson input, recurrent weights $V$ with gain $g$. With the surrogate
# derivatives $D_t = \operatorname{diag} \sigma'(U_t - \vartheta)$ and the spikes $S_t$, the tangent map of
# `helpers.models` (eqs. 2.3-2.6) is, for the zero reset with a detached reset and for the subtract reset,
#
# $$J_t^{\text{zero}} = \begin{pmatrix} \alpha I & V D_t \\ \operatorname{diag}(1 - S_t) & \beta \operatorname{diag}(1-S_t) \end{pmatrix},
#   \qquad
#   J_t^{\text{subtract}} = \begin{pmatrix} \alpha I & V D_t \\ I & \beta I \end{pmatrix}. \qquad (5.10)$$
#
# The Lyapunov exponents of this product are the **surrogate Lyapunov spectrum**. Two limits are easy: if every
# $D_t$ vanishes (no neuron near threshold) $J$ is block-triangular and the exponents are $\log\beta = -0.1$ and
# $\log\alpha = -0.2$ per step (for $\tau_\mathrm{mem} = 10$ ms, $\tau_\mathrm{syn} = 5$ ms, $\Delta t = 1$ ms):
# the leak. The recurrent term $V D_t$ is the only thing that can push exponents above the leak, and the
# surrogate steepness sets the size of $D_t$ (peak 1, width $\sim 1/\text{steepness}$).

# %%
n_hidden = by_mode(quick=32, standard=128)
k_snn = by_mode(quick=8, standard=32)
run = dict(k=k_snn, batch=by_mode(quick=1, standard=2), n_steps=by_mode(quick=300, standard=1000),
           transient=by_mode(quick=50, standard=200))
base = spectra.SNNSetup(n_hidden=n_hidden, device=device)
p = base.params()
print(f"{n_hidden} LIF neurons (state dim {2 * n_hidden}), k = {k_snn}, T = {run['n_steps']}; "
      f"log beta = {math.log(p.beta):.3f}, log alpha = {math.log(p.alpha):.3f} per step")
gain_values = by_mode(quick=[0.0, 1.0, 4.0], standard=[0.0, 0.5, 1.0, 2.0, 4.0])
by_gain = {f"{reset} reset, steepness {base.steepness:g}":
           spectra.spectrum_sweep(dataclasses.replace(base, reset=reset), "gain", gain_values, **run)
           for reset in ("zero", "subtract")}
for title, sweep in by_gain.items():
    print(title)
    for r in sweep:
        print(f"   g = {r['gain']:3g}: lambda_1 {r['lambda1']:+.3f}, rate {r['rate']:.2f}, mean surrogate derivative "
              f"<D> {r['mean_d']:.4f}, g <D> {r['gain'] * r['mean_d']:.4f}")
    top = max(sweep, key=lambda r: r["lambda1"])
    print(f"   -> largest lambda_1 at g = {top['gain']:g}")
spectra.plot_spectra(by_gain, "gain", p.beta, p.alpha)
plt.show()

# %%
steep_values = by_mode(quick=[3.0, 10.0, 30.0], standard=[2.0, 3.0, 5.0, 10.0, 30.0, 100.0])
by_steepness = {f"{reset} reset, gain {base.gain:g}":
                spectra.spectrum_sweep(dataclasses.replace(base, reset=reset), "steepness", steep_values, **run)
                for reset in ("zero", "subtract")}
for title, sweep in by_steepness.items():
    print(title + ": " + ", ".join(f"steepness {r['steepness']:g}: lambda_1 {r['lambda1']:+.3f}" for r in sweep))
spectra.plot_spectra(by_steepness, "steepness", p.beta, p.alpha)
plt.show()

# %% [markdown]
# Read the two figures with (5.10) in mind.
#
# * **Steepness** is the strongest knob. A steep surrogate makes $D_t$ tiny except in a thin band around
#   threshold, and the spectrum collapses onto the leak, $\log\beta$: vanishing gradients. A shallow surrogate
#   makes $V D_t$ large, and $\lambda_1$ can become positive: exploding gradients, although the *spiking*
#   network itself is the same (the firing rates in the legend do not change with the steepness: the forward
#   pass never sees the surrogate). The surrogate spectrum is a property of the network *and* of the choice of
#   pseudo-derivative.
# * **Gain** does not simply raise $\lambda_1$. Switching the recurrence on lifts the spectrum off the leak, but a
#   stronger recurrence also drives the membranes harder, away from the thin band around threshold where the
#   surrogate derivative is large: the mean $\langle D \rangle$ (printed) falls as $g$ grows, and the effective
#   coupling $g \langle D \rangle$ stops growing. More spikes also mean, for the zero reset, more annihilated
#   directions (section 6). Beyond a moderate gain $\lambda_1$ stays flat or falls.
# * **Reset.** For the same weights the subtract reset keeps the membrane's memory through a spike; the zero
#   reset erases it. With any recurrence their spectra differ, at every steepness.
#
# ## 6. Annihilated directions: the zero reset with a detached reset
#
# In (5.10) the membrane rows of $J^{\text{zero}}$ are multiplied by $1 - S_t$: at the step a neuron spikes,
# its row is **exactly zero**. Whatever perturbation its membrane carried is erased, and the tangent map loses
# rank. For the subtract reset the row is $(I, \beta I)$ regardless of spikes. Here is $|J_t|$ at a step where
# some neurons of a small network spike (cyan: their membrane rows).

# %%
small = spectra.SNNSetup(n_hidden=8, dtype=torch.float64, device=device)
jac = {reset: spectra.jacobian_at_spikes(dataclasses.replace(small, reset=reset))
       for reset in ("zero", "subtract")}
for reset, p_j in jac.items():
    rows_spk = p_j["jacobian"][small.n_hidden:][p_j["spiking"]]
    print(f"{reset:8s} reset, step {p_j['step']}: neurons {np.nonzero(p_j['spiking'])[0].tolist()} spike; "
          f"max |entry| of their membrane rows = {np.abs(rows_spk).max():.3g}; "
          f"rank of J = {np.linalg.matrix_rank(p_j['jacobian'])} of {2 * small.n_hidden}")
spectra.plot_jacobians({f"{r} reset": jac[r] for r in jac})
plt.show()

# %% [markdown]
# If we follow *all* $2N$ directions ($k$ = state dimension), every spike removes one of them for that step: in
# the QR step the corresponding pivot $R_{ii}$ is zero, exactly or up to rounding (about $10^{-16}$ of the
# column norms in float64), so the local exponent $\log|R_{ii}|$ is hugely negative. The engine keeps this finite:
# an exactly zero pivot counts as the floor $\sqrt{\text{smallest normal number}}$ (`default_floor`, about
# $10^{-154}$ in float64, $\log = -354$), and no gradient flows through an annihilated column (notebook 06 needs
# that). Below, each step's smallest local exponents are plotted against the number of spikes at that step.

# %%
full = {reset: spectra.local_exponents_full(dataclasses.replace(small, n_hidden=16, reset=reset),
                                            n_steps=by_mode(quick=120, standard=300))
        for reset in ("zero", "subtract")}
threshold = -20.0
for reset, f in full.items():
    n_low = (f["local"] < threshold).sum(1)
    print(f"{reset:8s} reset: {int(f['spikes'].sum())} spikes, {int(n_low.sum())} local exponents below "
          f"{threshold:g}; one per spike at every step: {bool(np.all(n_low == f['spikes']))}; smallest local "
          f"exponent {f['local'].min():.1f}; 3 smallest exponents of the full spectrum "
          f"{np.round(np.sort(f['exponents'])[:3], 2).tolist()}")
print(f"log of the floor in float64: {math.log(default_floor(torch.float64)):.1f}")
spectra.plot_local_exponents({f"{r} reset (16 neurons)": full[r] for r in full}, threshold)
plt.show()

# %% [markdown]
# With the zero reset the number of annihilated directions at each step equals the number of spikes, and the
# bottom of the full spectrum is set by how often that happens and by rounding (or the floor): those exponents
# are "$-\infty$ in practice" and their exact values mean nothing. With the subtract reset nothing is annihilated
# and the full spectrum stays finite and meaningful. For the *leading* exponents, which are what gradients feel,
# annihilation acts differently: every spike cuts the membrane's contribution to the error signal at that step.
# This is one reason why, for the same weights, the two resets give different $\lambda_1$ in section 5.
#
# ## 7. The leading exponent predicts the gradient decay of notebook 04
#
# Backpropagation through time multiplies the error by transposed Jacobians (eq. 4.1): the error that reaches the
# state $\ell$ steps before the loss is $J_{T-\ell}^\top \cdots J_{T-1}^\top\, e$. Its norm grows like the largest
# singular value of the long-term Jacobian, i.e. with rate $\lambda_1$:
#
# $$\log \Big\|\frac{\partial L}{\partial h_{T-\ell}}\Big\| \approx \text{const} + \lambda_1\, \ell. \qquad (5.11)$$
#
# We test (5.11) on four networks (two with vanishing, two with exploding gradients), computing on the *same*
# network and inputs (i) $\lambda_1$ by QR and (ii) the slope of the log gradient norm against the lag
# (`helpers.gradients.state_gradient_norms` with a random unit error at the last state, `log_slope` fitted over
# lags away from both ends). In float64, so that $e^{\lambda_1 \ell}$ stays far inside the number range at every lag
# (float32 ends at $e^{\pm 88}$, which a faster-exploding network or a longer run would reach).

# %%
link_steps = by_mode(quick=300, standard=1000)
fit_range = (by_mode(quick=30, standard=50), link_steps - by_mode(quick=30, standard=50))
common = dict(n_hidden=n_hidden, dtype=torch.float64, device=device)
settings = {
    "zero, g=1, steep 10": spectra.SNNSetup(gain=1.0, steepness=10.0, reset="zero", **common),
    "zero, g=2, steep 3": spectra.SNNSetup(gain=2.0, steepness=3.0, reset="zero", **common),
    "subtract, g=0.5, steep 10": spectra.SNNSetup(gain=0.5, steepness=10.0, reset="subtract", **common),
    "subtract, g=2, steep 30": spectra.SNNSetup(gain=2.0, steepness=30.0, reset="subtract", **common),
}
link = spectra.gradient_link(settings, batch=by_mode(quick=2, standard=4), n_steps=link_steps, k=1,
                             transient=by_mode(quick=50, standard=100), fit_range=fit_range)
print(spectra.format_table(link, [("name", "network", "{}"), ("rate", "rate", "{:.3f}"),
                                  ("lambda1", "lambda_1 (QR)", "{:+.4f}"), ("spread", "spread", "{:.4f}"),
                                  ("slope", "gradient slope", "{:+.4f}"), ("rel_diff", "rel. diff", "{:+.1%}")]))
within = [abs(r["rel_diff"]) <= 0.10 for r in link]
print(f"\n{sum(within)} of {len(link)} settings agree within 10%.")
for r, ok in zip(link, within):
    if not ok:
        print(f"'{r['name']}' differs by {100 * abs(r['rel_diff']):.0f}% ({abs(r['abs_diff']):.4f} per step): "
              f"lambda_1 = {r['lambda1']:+.4f} is only {abs(r['lambda1']) / max(r['spread'], 1e-12):.1f}x the "
              f"trajectory-to-trajectory spread {r['spread']:.4f} of the finite-time estimate; a relative "
              f"comparison is fragile when lambda_1 is this close to 0 or T this short.")
spectra.plot_gradient_link(link, fit_range)
plt.show()

# %% [markdown]
# The dashed lines have the slope that the QR algorithm predicts, without any backward pass. A positive
# $\lambda_1$ is an exploding gradient, a negative one a vanishing gradient, and its size is the rate. Since
# $\lambda_1$ is a property of the forward dynamics, we can compute it cheaply, in a few lines, for any network,
# and, notebook 06, *control* it.
#
# ## 8. Live: gain and steepness
#
# Move the recurrent gain and the surrogate steepness. The demo recomputes the leading exponents of a small
# network for both resets (same weights and inputs). Where does $\lambda_1$ cross zero? How close to $\log\beta$
# does a steep surrogate push the spectrum?

# %%
show(spectrum_demo)

# %% [markdown]
# ### Exercise 2: how often to re-orthonormalise?
#
# The QR step is exact in exact arithmetic whatever `reorth_every` is (eq. 5.4), but between two QR steps the
# columns align at rate $\lambda_1 - \lambda_k$ and grow at rate $\lambda_1$ (section 1). Compute the 8 leading
# exponents of the tanh network with $g = 5$ (below) in **float32** over 2000 steps with `reorth_every` = 1, 20, 50,
# 100 and 200. Where does the estimate of $\lambda_8$ go wrong, and where does everything break? Compare
# $(\lambda_1 - \lambda_8) \cdot r$ with $\log(1/\epsilon) \approx 16$ and $\lambda_1 \cdot r$ with 88.7, the log of the
# largest float32.

# %%
net_g5 = RandomTanhNetwork(100, 5.0, generator=seed_generator(10))
# your code here: lyapunov_spectrum(net32, 2000, 8, reorth_every=r, ...) for r in (1, 20, 50, 100, 200),
# with net32 a float32 copy of net_g5 (copy.deepcopy(net_g5).float()) and h0 = net_g5.initial_state(1).float()

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# import copy
# net32 = copy.deepcopy(net_g5).float()
# h0 = net_g5.initial_state(1).float()
# ref = None
# for r in (1, 20, 50, 100, 200):
#     lam = lyapunov_spectrum(net32, 2000, 8, reorth_every=r, h0=h0, transient=100).exponents[0]
#     ref = lam if ref is None else ref
#     print(f"r = {r:3d}: lambda_1 = {lam[0]:+.3f}, lambda_8 = {lam[7]:+.3f}, "
#           f"(lambda_1 - lambda_8) r = {(ref[0] - ref[7]) * r:.0f}, lambda_1 r = {ref[0] * r:.0f}")
# ```
#
# The printout answers it. As long as $(\lambda_1 - \lambda_8)\, r$ stays well below $\log(1/\epsilon) \approx 16$
# the eight exponents agree with those of $r = 1$ to many digits; as it approaches 16, $\lambda_8$ starts to drift;
# beyond it the eighth column is swamped by rounding and $\lambda_8$ is badly wrong; and once $\lambda_1 r$
# exceeds 88.7 the columns overflow float32 and the result is NaN.
# Re-orthonormalise at least every $\log(1/\epsilon) / (\lambda_1 - \lambda_k)$ steps, with a margin (and never let
# $\lambda_1 r$ approach the overflow).
# </details>
#
# ## Think
#
# 1. Why are the Lyapunov exponents of a constant map the log moduli of its eigenvalues and not the log singular
#    values? When do the two agree?
# 2. The surrogate spectrum depends on the steepness of the surrogate, but the spiking network's trajectory does
#    not. What, then, is a "chaotic" surrogate tangent dynamics a property of?
# 3. A zero-reset network with many spikes has many annihilated directions. Does that make its *leading*
#    exponent larger or smaller? What does it do to the credit that reaches a neuron's membrane before a spike?
# 4. Eq. (5.11) uses one random error vector. Why does almost every error vector give the same slope, and
#    which ones would not?
#
# ## Summary
#
# * Products of Jacobians overflow and align; the QR (Benettin) algorithm keeps an orthonormal basis and
#   averages $\log|R_{ii}|$ (eqs. 5.1-5.4).
# * The implementation reproduces known answers: $\log|\text{eigenvalues}|$ of a linear map with $O(1/T)$ error,
#   the sum rule to rounding, the digamma law of Gaussian products within their standard errors, the Hénon
#   exponent, $\log\rho(W)$ and mean-field theory for tanh networks, and the transition to chaos at $g \approx 1$.
# * Surrogate Lyapunov spectra of LIF networks lie near the leak ($\log\beta$) for steep surrogates and rise,
#   possibly above zero, for shallow surrogates and strong recurrence; the zero reset with a detached reset
#   annihilates one tangent direction per spike.
# * The leading exponent is the slope of the log gradient norm against lag: exploding and vanishing gradients
#   are measured by a forward computation.
#
# **Next: notebook 06** turns the spectrum into a loss. Gradient flossing backpropagates through the QR
# algorithm of this notebook to push the leading exponents towards zero, so that the error neither explodes nor
# vanishes.
#
# ## References
#
# * G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn (1980). Lyapunov characteristic exponents for smooth
#   dynamical systems and for Hamiltonian systems; a method for computing all of them. Part 1: Theory; Part 2:
#   Numerical application. *Meccanica* 15, 9-20 and 21-30.
# * I. Shimada, T. Nagashima (1979). A numerical approach to ergodic problem of dissipative dynamical systems.
#   *Progress of Theoretical Physics* 61, 1605-1616.
# * J.-P. Eckmann, D. Ruelle (1985). Ergodic theory of chaos and strange attractors. *Reviews of Modern
#   Physics* 57, 617-656.
# * H. Sompolinsky, A. Crisanti, H. J. Sommers (1988). Chaos in random neural networks. *Physical Review
#   Letters* 61, 259-262.
# * L. Molgedey, J. Schuchhardt, H. G. Schuster (1992). Suppressing chaos in neural networks by noise.
#   *Physical Review Letters* 69, 3717-3719.
# * C. M. Newman (1986). The distribution of Lyapunov exponents: exact results for random matrices.
#   *Communications in Mathematical Physics* 103, 121-126.
# * R. Engelken, F. Wolf, L. F. Abbott (2023). Lyapunov spectra of chaotic recurrent neural networks.
#   *Physical Review Research* 5, 043044.
# * R. Engelken (2023). Gradient flossing: improving gradient descent through dynamic control of Jacobians.
#   *Advances in Neural Information Processing Systems* 36.
# * M. Walter, A. Lehmann (2018). Algorithmic differentiation of linear algebra functions with application in
#   optimum experimental design. (The QR backward pass used by `helpers.lyapunov`.)
