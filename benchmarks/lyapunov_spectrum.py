"""Benchmark: the surrogate Lyapunov spectrum of a recurrent SNN, three ways, on the same network and inputs.

    python benchmarks/lyapunov_spectrum.py [--steps 1000] [--repeats 3] [--autograd-steps 100] [--threads 1]
                                           [--reorth-every 1]

Network: RecurrentSNN with 256 hidden LIF neurons (state dim 512: I and U), 100 Poisson input channels,
k = 32 exponents, batch 8, T = 1000 steps, float32, QR every step. All three paths run through the same
``helpers.lyapunov.lyapunov_spectrum`` (same trajectory, same QR, same bookkeeping); only the tangent map
differs:

1. structured: ``model.tangent`` (eqs. 2.3-2.6 of helpers.models: two N x N products per step, no J formed);
2. autograd:   the dense per-sample Jacobian of ``model.step`` from ``torch.func.vmap(torch.func.jacrev(...))``
               over the batch, multiplied into Q;
3. dense:      the 512 x 512 block Jacobian assembled explicitly from the weights and the surrogate
               derivatives (no autograd), multiplied into Q.

The autograd path is slow, so by default it is timed on ``--autograd-steps`` steps and its time is scaled
per step to T (the output says so); its exponents are compared with the structured path's on those steps.
Times are medians over ``--repeats`` runs after a 2-step warm-up of each path, under ``torch.no_grad()``, with
one torch thread by default (``--threads``). A breakdown per call (structured, dense and autograd tangent; the
QR and the step, which all three paths share) shows where the time goes. ``--reorth-every r`` amortises the
shared QR over r steps (exact in exact arithmetic; tests/test_lyapunov.py checks it).

``helpers.surrogate.SurrogateSpike`` is a ``setup_context``-style ``autograd.Function`` with a generated
vmap rule, so ``torch.func.jacrev`` and ``vmap`` differentiate ``model.step`` directly (path 2).

The last line printed is one JSON object:
{"structured_s": ..., "autograd_s": ..., "dense_s": ..., "ratio_autograd": ..., "ratio_dense": ...}
(times in seconds for T steps; ratios = baseline time / structured time).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from helpers.inputs import poisson_spikes
from helpers.lyapunov import floored_qr, lyapunov_spectrum, random_basis
from helpers.models import RecurrentSNN
from helpers.neurons import LIFParams
from helpers.surrogate import surrogate_derivative


class _Wrapped:
    """The model's protocol with a different tangent map (``tangent_fn(h, x, q)``)."""

    def __init__(self, model, tangent_fn):
        self.model, self.tangent = model, tangent_fn
        self.state_dim = model.state_dim
        self.initial_state = model.initial_state
        self.step = model.step


def autograd_system(model):
    """Path 2: J from torch.func.jacrev of ``model.step`` (one sample), vmapped over the batch."""

    def step_one(h, x):
        return model.step(h.unsqueeze(0), x.unsqueeze(0)).squeeze(0)

    jac = torch.func.vmap(torch.func.jacrev(step_one, argnums=0))

    def tangent(h, x, q):
        j = jac(h, x)  # (batch, n, n)
        return j @ q

    return _Wrapped(model, tangent)


def dense_jacobian(model, h):
    """Path 3: the (batch, 2N, 2N) Jacobian of one recurrent LIF layer, assembled from its structure (eq. 5.10 of
    notebook 05; eqs. 2.3-2.6 of helpers.models): rows (I', U'), columns (I, U),

        dI'/dI = alpha 1,   dI'/dU = V D,
        dU'/dI, dU'/dU diagonal (zero reset: times 1 - S; attached reset: extra terms).

    Written to be cheap: one zero-filled allocation, the V D block written once, the diagonals through views.
    """
    p = model.params
    (syn, mem), = model.split_state(h)
    batch, n = mem.shape
    d = surrogate_derivative(mem - p.threshold, p.surrogate, p.steepness)  # (batch, N)
    jac = h.new_zeros(batch, 2 * n, 2 * n)
    torch.mul(model.w_rec[0], d.unsqueeze(-2), out=jac[:, :n, n:])  # V D
    jac[:, :n, :n].diagonal(dim1=-2, dim2=-1).fill_(p.alpha)
    if p.reset == "zero":
        keep = (mem <= p.threshold).to(h.dtype)
        d_mem = p.beta * keep
        if not p.detach_reset:
            d_mem = d_mem - (p.beta * mem + syn) * d
        d_syn = keep
    else:
        d_mem = torch.full_like(mem, p.beta)
        if not p.detach_reset:
            d_mem = d_mem - p.threshold * d
        d_syn = torch.ones_like(mem)
    jac[:, n:, :n].diagonal(dim1=-2, dim2=-1).copy_(d_syn)
    jac[:, n:, n:].diagonal(dim1=-2, dim2=-1).copy_(d_mem)
    return jac


def dense_system(model):
    return _Wrapped(model, lambda h, x, q: dense_jacobian(model, h) @ q)


def _repeat(fn, n_calls):
    for _ in range(n_calls):
        fn()  # results dropped at once, as in the spectrum loop


def timed(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        with torch.no_grad():
            result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="T, time steps (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats, median reported (default 3)")
    parser.add_argument("--autograd-steps", type=int, default=100,
                        help="steps on which the autograd path is timed, scaled per step to T (default 100)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads (default 1; 0 leaves torch's default). The per-step tensors are "
                             "small (<= 1 MB): on a shared 2-core machine a second thread mostly waits at barriers, "
                             "and the structured path, with many small operations, suffers most (seen: 20x slower)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reorth-every", type=int, default=1, help="QR every this many steps, all paths (default 1)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    n_in, rate = 100, 0.05
    gen = torch.Generator().manual_seed(args.seed)
    model = RecurrentSNN(n_in, args.hidden, 2, params=LIFParams(), init="fluctuation", generator=gen, dtype=dtype)
    inputs = poisson_spikes(args.batch, args.steps, n_in, rate, generator=gen, dtype=dtype)
    q0 = random_basis(model.state_dim, args.k, generator=gen, dtype=dtype)
    t_auto = min(args.autograd_steps, args.steps)
    with torch.no_grad():
        rate_hidden = model(inputs).spikes[0].mean().item()
    print(f"RecurrentSNN: {args.hidden} LIF neurons (state dim {model.state_dim}), {n_in} Poisson inputs at "
          f"{rate} per step, zero reset (detached), fast_sigmoid steepness {model.params.steepness:g}, {args.dtype}")
    print(f"k = {args.k}, T = {args.steps}, batch {args.batch}, QR every {args.reorth_every} step(s); hidden firing "
          f"rate {rate_hidden:.3f} spikes/step; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"median of {args.repeats} repeats")

    def spectrum(system, inputs):
        return lyapunov_spectrum(system, inputs, args.k, q0=q0, reorth_every=args.reorth_every).exponents

    # Warm-up (the first torch.func call traces and is ~100x slower than the next ones): 2 steps each.
    systems = {"structured": model, "dense": dense_system(model), "autograd": autograd_system(model)}
    for system in systems.values():
        timed(lambda: spectrum(system, inputs[:, :2]), 1)
    structured_s, lam_structured = timed(lambda: spectrum(model, inputs), args.repeats)
    dense_s, lam_dense = timed(lambda: spectrum(systems["dense"], inputs), args.repeats)
    auto_short_s, lam_auto = timed(lambda: spectrum(systems["autograd"], inputs[:, :t_auto]), args.repeats)
    with torch.no_grad():
        lam_structured_short = spectrum(model, inputs[:, :t_auto])
    autograd_s = auto_short_s * args.steps / t_auto

    print(f"leading exponents (structured, sample 0): {[round(v, 5) for v in lam_structured[0, :4].tolist()]}")
    diff_dense = (lam_dense - lam_structured).abs().max().item()
    diff_auto = (lam_auto - lam_structured_short).abs().max().item()
    # Same trajectory and QR, J @ Q summed in a different order: float rounding, amplified a little by the QR.
    tol = 1e-4 if dtype == torch.float32 else 1e-9
    print(f"max |difference| of exponents, dense vs structured (T = {args.steps}): {diff_dense:.2e}")
    print(f"max |difference| of exponents, autograd vs structured (T = {t_auto}): {diff_auto:.2e}")
    print(f"the three agree within {tol:g}: {max(diff_dense, diff_auto) < tol}")

    # Where the time goes: one call of each part of a step, at a state of the trajectory.
    with torch.no_grad():
        h = model.initial_state(args.batch)
        for t in range(min(50, args.steps - 1)):
            h = model.step(h, inputs[:, t])
        x_t, q = inputs[:, min(50, args.steps - 1)], q0.expand(args.batch, -1, -1).contiguous()
        parts = {
            "structured tangent (model.tangent)": lambda: model.tangent(h, x_t, q),
            "dense tangent (assemble J, J @ Q)": lambda: systems["dense"].tangent(h, x_t, q),
            "autograd tangent (jacrev J, J @ Q)": lambda: systems["autograd"].tangent(h, x_t, q),
            "QR (floored_qr), shared": lambda: floored_qr(q),
            "step (model.step), shared": lambda: model.step(h, x_t),
        }
        part_ms = {}
        for name, fn in parts.items():
            n_calls = 3 if "autograd" in name else 30
            part_ms[name] = 1e3 * timed(lambda: _repeat(fn, n_calls), max(args.repeats, 3))[0] / n_calls
    print("per call (ms): " + "; ".join(f"{name} {ms:.3f}" for name, ms in part_ms.items()))
    shared = part_ms["QR (floored_qr), shared"] / args.reorth_every + part_ms["step (model.step), shared"]
    tangent_ms = {key: part_ms[name] for key, name in zip(("structured", "dense", "autograd"), parts)}
    print(f"tangent map alone: dense / structured = {tangent_ms['dense'] / tangent_ms['structured']:.1f}x, "
          f"autograd / structured = {tangent_ms['autograd'] / tangent_ms['structured']:.1f}x; the shared QR and "
          f"step ({shared:.3f} ms per step) are {100 * shared / (shared + tangent_ms['structured']):.0f}% of a "
          f"structured step")

    print(f"structured (model.tangent):        {structured_s:8.3f} s  ({1e3 * structured_s / args.steps:.3f} ms/step)")
    scaled = "" if t_auto == args.steps else (f", timed on {t_auto} steps ({auto_short_s:.2f} s) and scaled per step "
                                              f"to T = {args.steps}")
    print(f"autograd (vmap(jacrev(step)) @ Q): {autograd_s:8.3f} s  "
          f"({1e3 * autograd_s / args.steps:.3f} ms/step{scaled})")
    print(f"dense explicit (block J @ Q):      {dense_s:8.3f} s  ({1e3 * dense_s / args.steps:.3f} ms/step)")
    ratio_autograd, ratio_dense = autograd_s / structured_s, dense_s / structured_s
    print(f"speed-up of the structured path: {ratio_autograd:.1f}x over autograd (goal >= 20x), "
          f"{ratio_dense:.1f}x over dense explicit (goal >= 3x)")
    print(json.dumps({
        "structured_s": round(structured_s, 4), "autograd_s": round(autograd_s, 4), "dense_s": round(dense_s, 4),
        "ratio_autograd": round(ratio_autograd, 2), "ratio_dense": round(ratio_dense, 2),
    }))


if __name__ == "__main__":
    main()
