r"""Batched independent networks: S same-shape SNNs (seeds or configurations) trained as one model.

Experiments in the course repeat every run over several seeds (e.g. 9 networks per delay in notebook
07). Run one after the other, each small network pays the Python and dispatch cost of every time step.
:class:`BatchedSNN` stacks the parameters of S networks along a leading **seed dimension**
(:math:`W_l` becomes (S, N_l, N_{l-1}), :math:`V_l` (S, N_l, N_l), ...) and runs all S networks at once
with batched products (``torch.bmm``) through the fast path of :mod:`helpers.fast`, so each time step
costs one set of operations for all S networks.

The S networks stay **independent**:

- the forward pass never mixes seeds (every product is per seed);
- with the loss :math:`L = \sum_s L_s` (the *sum* of per-seed losses; :func:`seed_losses` helps),
  :math:`\partial L/\partial \theta_s = \partial L_s/\partial \theta_s`;
- Adam, AdamW and SGD (with momentum or weight decay) are elementwise, so one optimiser over the stacked
  parameters takes exactly the steps of S independent optimisers (not so optimisers that use a
  per-tensor norm, such as LAMB or LARS);
- gradient-norm clipping is *not* elementwise: :meth:`BatchedSNN.clip_grad_norm_` clips each seed by
  its own norm, as ``torch.nn.utils.clip_grad_norm_`` would on that seed's model.

:meth:`BatchedSNN.from_seeds` builds network s with ``torch.Generator().manual_seed(seeds[s])`` through
the reference constructor, so seed s of the batch *is* the sequential seed-s network;
:meth:`BatchedSNN.from_models` stacks any list of same-shape models (e.g. different gains).
:meth:`BatchedSNN.extract` returns seed s as an ordinary ``RecurrentSNN`` / ``MultiLayerSNN`` (a copy, for
plotting or saving); :meth:`BatchedSNN.seed_view` lends network s *in place*: every method of the
reference model (``step``, ``tangent``, ``forward``, hence the flossing functions) computed on seed s's
slices of the stacked parameters, its gradients flowing into those slices only; :class:`SeedBatchedSystem`
is all S networks as one dynamical system, for their Lyapunov spectra in one pass.

**Training.** :func:`train_batched` is ``helpers.training.train(..., fast=True)`` for S networks at once
(tasks, fixed flossing schedules, no checkpoints): network s gets the data, flossing inputs and
evaluations that ``train(..., seed=seeds[s])`` gives it, and the same updates (to rounding; tests/test_batched.py
checks 1e-9 in float64). :func:`run_delayed_task_batched` is :func:`helpers.training.run_delayed_task` for
all seeds of one (task, delay, flossing) setting.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import torch
from torch import nn
from torch.nn.utils.stateless import _reparametrize_module

from .checks import check_choice, check_int, check_positive, check_tensor
from .fast import LeakyReadoutFunction, LIFLayerFunction, _bias_or_none, _layer_config
from .flossing import (FlossingConfig, FlossingSchedule, flossing_exponents, flossing_loss, flossing_objective,
                       initial_basis, operating_point)
from .lyapunov import lyapunov_spectrum
from .models import MultiLayerSNN, RecurrentSNN, SNNOutput, membrane_tangent
from .neurons import lif_step
from .schedules import ScheduleMixin
from .surrogate import spike, surrogate_derivative
from .training import (DELAY_SCHEDULES, HISTORY_KEYS, _progress, delayed_task_record, delayed_task_schedule,
                       delayed_task_setup, early_gradient_norm)


def _same_config(a: MultiLayerSNN, b: MultiLayerSNN) -> str | None:
    """Why two models cannot be stacked (None if they can)."""
    checks = [
        ("type", type(a), type(b)),
        ("n_in", a.n_in, b.n_in),
        ("hidden", a.hidden, b.hidden),
        ("n_out", a.n_out, b.n_out),
        ("recurrent", a.recurrent, b.recurrent),
        ("params", a.params, b.params),
        ("tau_out", a.tau_out, b.tau_out),
        ("dtype", a.w_out.dtype, b.w_out.dtype),
        ("device", a.w_out.device, b.w_out.device),
        ("bias", [x.requires_grad for x in a.biases], [x.requires_grad for x in b.biases]),
    ]
    for name, x, y in checks:
        if x != y:
            return f"{name} differs: {x!r} != {y!r}"
    return None


class BatchedSNN(nn.Module):
    """S independent :class:`~helpers.models.MultiLayerSNN` of the same shape, stacked on a seed axis.

    Build with :meth:`from_seeds` or :meth:`from_models`. Parameters (S = ``n_models``):
    ``w_ff[l]`` (S, N_l, N_{l-1}), ``w_rec[l]`` (S, N_l, N_l) (or (S, 0, 0) for a feed-forward layer),
    ``biases[l]`` (S, N_l), ``w_out`` (S, n_out, N_L), ``b_out`` (S, n_out).

    ``forward(x)`` takes x (batch, T, n_in) (the same input for every network) or (S, batch, T, n_in)
    (one input per network) and returns an :class:`~helpers.models.SNNOutput` whose tensors have a
    leading seed axis: ``output`` (S, batch, T, n_out), ``spikes[l]`` and ``mem[l]`` (S, batch, T, N_l).
    """

    def __init__(self, models: Sequence[MultiLayerSNN]):
        super().__init__()
        models = list(models)
        if len(models) == 0:
            raise ValueError("BatchedSNN needs at least one model, got an empty list")
        for i, m in enumerate(models):
            if not isinstance(m, MultiLayerSNN):
                raise TypeError(f"models[{i}] must be a helpers.models.MultiLayerSNN, got {type(m).__name__}")
            why = _same_config(models[0], m)
            if why is not None:
                raise ValueError(f"models[{i}] cannot be batched with models[0]: {why}")
        first = models[0]
        # The template keeps the configuration (class, sizes, LIF parameters) for extract(); it is not a
        # submodule, so its parameters are not part of this module's parameters.
        self.__dict__["_template"] = copy.deepcopy(first)
        self.n_models = len(models)
        self.params, self.n_in, self.hidden, self.n_out = first.params, first.n_in, first.hidden, first.n_out
        self.recurrent, self.tau_out = first.recurrent, first.tau_out

        def stack(get) -> nn.Parameter:
            tensors = [get(m).detach() for m in models]
            return nn.Parameter(torch.stack(tensors).clone(), requires_grad=get(first).requires_grad)

        n_layers = len(first.hidden)
        self.w_ff = nn.ParameterList([stack(lambda m, i=i: m.w_ff[i]) for i in range(n_layers)])
        self.w_rec = nn.ParameterList([stack(lambda m, i=i: m.w_rec[i]) for i in range(n_layers)])
        self.biases = nn.ParameterList([stack(lambda m, i=i: m.biases[i]) for i in range(n_layers)])
        self.w_out = stack(lambda m: m.w_out)
        self.b_out = stack(lambda m: m.b_out)

    # ------------------------------------------------------------------ construction and extraction
    @classmethod
    def from_models(cls, models: Sequence[MultiLayerSNN]) -> "BatchedSNN":
        """Stack existing same-shape models (their current weights are copied)."""
        return cls(models)

    @classmethod
    def from_seeds(cls, seeds: Sequence[int], *args, model_class: type = MultiLayerSNN, **kwargs) -> "BatchedSNN":
        """Network s built as ``model_class(*args, generator=torch.Generator().manual_seed(seeds[s]), **kwargs)``.

        Example: ``BatchedSNN.from_seeds(range(9), 20, 128, 2, model_class=RecurrentSNN, gain=1.5)``.
        """
        seeds = list(seeds)
        if len(seeds) == 0:
            raise ValueError("seeds must list at least one seed, got none")
        if "generator" in kwargs:
            raise ValueError("from_seeds makes one generator per seed; do not pass generator=")
        if not (isinstance(model_class, type) and issubclass(model_class, MultiLayerSNN)):
            raise TypeError(f"model_class must be MultiLayerSNN or a subclass, got {model_class!r}")
        models = []
        for seed in seeds:
            check_int("seed", seed)
            models.append(model_class(*args, generator=torch.Generator().manual_seed(seed), **kwargs))
        return cls(models)

    @classmethod
    def recurrent_from_seeds(cls, seeds: Sequence[int], n_in: int, n_hidden: int, n_out: int, **kwargs) -> "BatchedSNN":
        """Shorthand for ``from_seeds(seeds, n_in, n_hidden, n_out, model_class=RecurrentSNN, **kwargs)``."""
        return cls.from_seeds(seeds, n_in, n_hidden, n_out, model_class=RecurrentSNN, **kwargs)

    def extract(self, s: int) -> MultiLayerSNN:
        """Network ``s`` as an ordinary model of the original class (a copy: later training does not change it)."""
        check_int("s", s, 0, self.n_models - 1)
        model = copy.deepcopy(self._template).to(self.w_out.device)
        with torch.no_grad():
            for layer in range(len(self.hidden)):
                model.w_ff[layer].copy_(self.w_ff[layer][s])
                model.w_rec[layer].copy_(self.w_rec[layer][s])
                model.biases[layer].copy_(self.biases[layer][s])
            model.w_out.copy_(self.w_out[s])
            model.b_out.copy_(self.b_out[s])
        return model

    def to_models(self) -> list[MultiLayerSNN]:
        """All networks as ordinary models."""
        return [self.extract(s) for s in range(self.n_models)]

    @contextlib.contextmanager
    def seed_view(self, s: int) -> Iterator[MultiLayerSNN]:
        """Network ``s`` in place: the template model with its parameters replaced by the slices ``p[s]``.

        Inside ``with batched.seed_view(s) as net:`` the model ``net`` is network s for every method of the
        reference class (``step``, ``tangent``, ``forward``, ``dynamics_parameters``, hence the Lyapunov and
        flossing functions), and gradients of what it computes flow into seed s's slices of the stacked
        parameters, nowhere else. No copy (unlike :meth:`extract`); use ``net`` only inside the block (one
        template serves every seed).
        """
        check_int("s", s, 0, self.n_models - 1)
        slices = {name: p[s] for name, p in self.named_parameters()}
        with _reparametrize_module(self._template, slices):
            yield self._template

    # ------------------------------------------------------------------ bookkeeping
    @property
    def kappa(self) -> float:
        return self._template.kappa

    @property
    def state_dim(self) -> int:
        return self._template.state_dim

    def dynamics_parameters(self) -> list[nn.Parameter]:
        """W_l, V_l (recurrent layers), b_l (if learnable), each with the seed axis first."""
        params = list(self.w_ff) + [w for w in self.w_rec if w.numel() > 0]
        return params + [b for b in self.biases if b.requires_grad]

    def readout_parameters(self) -> list[nn.Parameter]:
        return [self.w_out, self.b_out]

    def seed_grad_norms(self, parameters: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """Per-seed L2 norm of the gradients, (S,), over ``parameters`` (default: all trainable ones)."""
        params = self._grad_params(parameters)
        if not params:
            return self.w_out.new_zeros(self.n_models)
        per_param = [p.grad.reshape(self.n_models, -1).norm(dim=1) for p in params]
        return torch.stack(per_param, 1).norm(dim=1)

    def clip_grad_norm_(self, max_norm: float, parameters: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """Clip each seed's gradient to norm ``max_norm``, exactly like ``clip_grad_norm_`` on that seed's model.

        Returns the per-seed norms before clipping, (S,). Coefficient per seed:
        ``min(1, max_norm / (norm + 1e-6))`` (torch's formula).
        """
        check_positive("max_norm", max_norm)
        params = self._grad_params(parameters)
        norms = self.seed_grad_norms(params)
        coef = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
        for p in params:
            p.grad.mul_(coef.reshape((-1,) + (1,) * (p.grad.ndim - 1)).to(p.grad.dtype))
        return norms

    def _grad_params(self, parameters):
        params = self.parameters() if parameters is None else parameters
        out = []
        for p in params:
            if p.grad is None or p.numel() == 0:
                continue
            if p.shape[0] != self.n_models:
                raise ValueError(f"every parameter needs the seed axis ({self.n_models}) first, got shape {tuple(p.shape)}")
            out.append(p)
        return out

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> SNNOutput:
        """Run all S networks; x (batch, T, n_in) shared or (S, batch, T, n_in); h0 (S, batch, state_dim)."""
        n = self.n_models
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        ref = self.w_out
        if x.dtype != ref.dtype or x.device != ref.device:
            raise ValueError(f"x must have the model's dtype and device ({ref.dtype}, {ref.device}), got ({x.dtype}, {x.device})")
        if not bool(torch.isfinite(x.sum())):
            raise ValueError("x must contain only finite values, got NaN or inf")
        if x.ndim == 3:  # one input for all: one GEMM (B*T, n_in) @ (n_in, S*N)
            check_tensor("x", x, shape=(None, None, self.n_in), finite=False)
            batch, n_steps, _ = x.shape
            w0 = self.w_ff[0]
            drive = (x.reshape(batch * n_steps, self.n_in) @ w0.reshape(-1, self.n_in).T).reshape(batch, n_steps, n, -1)
        elif x.ndim == 4:  # one input per network: S GEMMs (B*T, n_in) @ (n_in, N)
            check_tensor("x", x, shape=(n, None, None, self.n_in), finite=False)
            _, batch, n_steps, _ = x.shape
            drive = torch.bmm(x.reshape(n, batch * n_steps, self.n_in), self.w_ff[0].transpose(1, 2))
            drive = drive.reshape(n, batch, n_steps, -1).permute(1, 2, 0, 3)
        else:
            raise ValueError(
                f"x must be (batch, T, {self.n_in}) or ({n}, batch, T, {self.n_in}), got shape {tuple(x.shape)}"
            )
        drive = drive.permute(1, 2, 0, 3)  # (B, T, S, N) -> a (T, S, B, N) view, no copy
        if h0 is not None:
            check_tensor("h0", h0, shape=(n, batch, self.state_dim), finite=False)
            init = self._template.split_state(h0)
        else:
            zeros = x.new_zeros(n, batch, 1).expand(n, batch, max(self.hidden))
            init = [(zeros[..., :size], zeros[..., :size]) for size in self.hidden]

        def time_major(flat: torch.Tensor) -> torch.Tensor:
            """(S, T*B, N) seed-major storage -> its (T, S, B, N) view (no copy)."""
            return flat.reshape(n, n_steps, batch, -1).transpose(0, 1)

        def seed_major(seq: torch.Tensor) -> torch.Tensor:
            """(T, S, B, N) view of seed-major storage -> (S, T*B, N) (no copy)."""
            return seq.transpose(0, 1).reshape(n, n_steps * batch, -1)

        cfg = _layer_config(self._template)
        spikes, mems = [], []
        for layer in range(len(self.hidden)):
            if layer > 0:
                drive = time_major(torch.bmm(seed_major(spikes[-1]), self.w_ff[layer].transpose(1, 2)))  # (2.1)
            w_rec = self.w_rec[layer] if self.recurrent[layer] else None
            bias = _bias_or_none(self.biases[layer])
            bias = None if bias is None else bias.unsqueeze(1)
            syn0, mem0 = init[layer]
            spk, mem = LIFLayerFunction.apply(drive, w_rec, bias, syn0, mem0, cfg)
            spikes.append(spk)
            mems.append(mem)
        z = time_major(torch.bmm(seed_major(spikes[-1]), self.w_out.transpose(1, 2)) + self.b_out.unsqueeze(1))
        y = LeakyReadoutFunction.apply(z, self.kappa)  # (2.2)
        return SNNOutput(
            output=y.permute(1, 2, 0, 3).contiguous(),
            spikes=[s.permute(1, 2, 0, 3) for s in spikes],
            mem=[m.permute(1, 2, 0, 3) for m in mems],
        )


def seed_losses(loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], output: torch.Tensor,
                target: torch.Tensor, shared_target: bool = False) -> torch.Tensor:
    """Per-seed losses (S,): ``loss_fn(output[s], target[s])`` (or ``target`` if ``shared_target``).

    ``output`` has the seed axis first (S, ...). Train on ``seed_losses(...).sum()``: each seed then
    receives exactly the gradient of its own loss.
    """
    n = output.shape[0]
    if not shared_target and (target.ndim == 0 or target.shape[0] != n):
        raise ValueError(f"target must have the seed axis first ({n}, ...) or pass shared_target=True, "
                         f"got shape {tuple(target.shape)}")
    return torch.stack([loss_fn(output[s], target if shared_target else target[s]) for s in range(n)])


# ---------------------------------------------------------------------------------------------- one system
class SeedBatchedSystem:
    r"""The S networks of a :class:`BatchedSNN` as *one* dynamical system (the protocol of :mod:`helpers.lyapunov`).

    The batch is folded seed-major: a state is (S * batch, state_dim), rows ``s * batch`` to
    ``(s + 1) * batch - 1`` belonging to network s, and so are the inputs (S * batch, n_in). ``step`` and
    ``tangent`` are eqs. (2.1), (1.1)-(1.4) and (2.3)-(2.6) of :mod:`helpers.models`, each network with its
    own weights (batched products), so one call

        ``lyapunov_spectrum(SeedBatchedSystem(model), x.repeat(S, 1, 1), k).exponents.reshape(S, batch, k)``

    gives what ``lyapunov_spectrum(model.extract(s), x, k)`` gives for every s (to rounding).
    """

    def __init__(self, model: BatchedSNN):
        self.model = model
        self.state_dim = model.state_dim
        self.params = model.params

    def parameters(self):
        """The stacked parameters (so that :mod:`helpers.flossing` finds the dtype and device)."""
        return self.model.parameters()

    def dynamics_parameters(self) -> list[nn.Parameter]:
        return self.model.dynamics_parameters()

    def initial_state(self, batch_size: int) -> torch.Tensor:
        check_int("batch_size", batch_size, 1)
        if batch_size % self.model.n_models:
            raise ValueError(f"batch_size must be a multiple of the number of networks ({self.model.n_models}) "
                             f"(the batch is folded seed-major), got {batch_size}")
        ref = self.model.w_out
        return torch.zeros(batch_size, self.state_dim, dtype=ref.dtype, device=ref.device)

    def _unfold(self, t: torch.Tensor) -> torch.Tensor:
        """(S * batch, ...) -> (S, batch, ...)."""
        return t.reshape(self.model.n_models, -1, *t.shape[1:])

    def _layers(self, t: torch.Tensor, dim: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The (I_l, U_l) blocks of ``t`` along ``dim`` (the state axis)."""
        out, start = [], 0
        for size in self.model.hidden:
            out.append((t.narrow(dim, start, size), t.narrow(dim, start + size, size)))
            start += 2 * size
        return out

    def step(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        m, p = self.model, self.model.params
        if x is None:
            raise ValueError(f"x must be a tensor of shape (S * batch, {m.n_in}), got None")
        layers = self._layers(self._unfold(h), -1)
        spikes = [spike(mem - p.threshold, p.surrogate, p.steepness) for _, mem in layers]  # (1.1)
        new = []
        for layer, (syn, mem) in enumerate(layers):
            source = self._unfold(x) if layer == 0 else spikes[layer - 1]
            current = torch.bmm(source, m.w_ff[layer].transpose(1, 2))  # (2.1), per network
            if m.recurrent[layer]:
                current = current + torch.bmm(spikes[layer], m.w_rec[layer].transpose(1, 2))
            current = current + m.biases[layer].unsqueeze(1)
            _, syn_next, mem_next = lif_step(syn, mem, current, p)  # (1.2)-(1.4)
            new += [syn_next, mem_next]
        return torch.cat(new, dim=-1).reshape(h.shape)

    def tangent(self, h: torch.Tensor, x: torch.Tensor | None, q: torch.Tensor) -> torch.Tensor:
        m, p = self.model, self.model.params
        if q.ndim == 2:
            q = q.expand(h.shape[0], *q.shape)
        layers = self._layers(self._unfold(h), -1)
        rows = self._layers(self._unfold(q), 2)  # (S, batch, N_l, k) blocks

        def per_network(w, v):  # W_s v for network s: (S, N, M) x (S, batch, M, k)
            return torch.einsum("snm,sbmk->sbnk", w, v)

        out, d_spk_prev = [], None
        for layer, ((syn, mem), (q_syn, q_mem)) in enumerate(zip(layers, rows)):
            d_spk = surrogate_derivative(mem - p.threshold, p.surrogate, p.steepness).unsqueeze(-1) * q_mem  # (2.3)
            q_syn_next = p.alpha * q_syn  # (2.4)
            if m.recurrent[layer]:
                q_syn_next = q_syn_next + per_network(m.w_rec[layer], d_spk)
            if layer > 0:
                q_syn_next = q_syn_next + per_network(m.w_ff[layer], d_spk_prev)
            out += [q_syn_next, membrane_tangent(p, syn, mem, q_syn, q_mem, d_spk)]  # (2.5)-(2.6)
            d_spk_prev = d_spk
        return torch.cat(out, dim=2).reshape(q.shape)


# ---------------------------------------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate_batched(model: BatchedSNN, task, n_batches: int = 4, batch_size: int = 64,
                     seed: int | Sequence[int] = 10_000) -> list[dict]:
    """Per network, the mean loss and accuracy on fresh task data: :func:`helpers.training.evaluate` for all S.

    ``seed``: an int (every network sees the same ``n_batches`` batches, from a generator seeded ``seed``:
    one forward pass with a shared input) or S ints (network s sees the batches of a generator seeded
    ``seed[s]``, what ``evaluate(network_s, task, seed=seed[s])`` gives). Returns S ``{"loss", "accuracy"}``.
    """
    check_int("n_batches", n_batches, 1)
    check_int("batch_size", batch_size, 1)
    n = model.n_models
    shared = not isinstance(seed, Sequence)
    seeds = [seed] if shared else list(seed)
    if not shared and len(seeds) != n:
        raise ValueError(f"seed must be an int or one int per network ({n}), got {len(seeds)} seeds")
    for i, value in enumerate(seeds):
        check_int(f"seed[{i}]" if not shared else "seed", value)
    device = model.w_out.device
    gens = [torch.Generator(device=task.device).manual_seed(int(value)) for value in seeds]
    losses, accs = [[] for _ in range(n)], [[] for _ in range(n)]
    for _ in range(n_batches):
        batches = [task.sample(batch_size, gen) for gen in gens]
        x, y, mask = (torch.stack([b[i] for b in batches]).to(device) for i in range(3))
        out = model(x[0] if shared else x).output
        for s in range(n):
            data = 0 if shared else s
            losses[s].append(float(task.loss(out[s], y[data], mask[data])))
            accs[s].append(task.accuracy(out[s], y[data], mask[data]))
    # equal batch sizes: the mean is evaluate()'s weighted mean
    return [{"loss": sum(l * batch_size for l in losses[s]) / (batch_size * n_batches),
             "accuracy": sum(a * batch_size for a in accs[s]) / (batch_size * n_batches)} for s in range(n)]


# ---------------------------------------------------------------------------------------------- flossing
def _check_schedule(schedule, state_dim: int) -> None:
    """Only fixed schedules: one schedule object answers for all S networks."""
    if schedule is None:
        return
    if not isinstance(schedule, FlossingSchedule):
        raise TypeError(f"schedule must be None or a helpers.flossing.FlossingSchedule, got {type(schedule).__name__}")
    observe = getattr(type(schedule), "observe", ScheduleMixin.observe)
    if observe is not ScheduleMixin.observe:
        raise ValueError(
            f"schedule={schedule!r} adapts to the observations of one run (it overrides observe()); train_batched "
            "shares one schedule between all networks, so it takes fixed schedules only (NoFlossing, PreFlossing, "
            "PeriodicFlossing, RegularizerFlossing, AnnealedFlossing); train adaptive ones with helpers.training.train")
    schedule.config.validate(state_dim)


def floss_batched(model: BatchedSNN, input_sampler: Callable, n_updates: int, config: FlossingConfig,
                  optimizer: torch.optim.Optimizer, generators: Sequence[torch.Generator]) -> None:
    """:func:`helpers.flossing.floss` for all S networks: ``n_updates`` updates, each S independent ones.

    Per update, network s draws its inputs and initial tangent basis from ``generators[s]`` (as ``floss``
    does from its one generator); with the frozen path and no operating-point penalty (the default) all S
    spectra are one pass of :class:`SeedBatchedSystem`, otherwise each network's flossing objective is computed
    on its :meth:`BatchedSNN.seed_view`. ``optimizer`` (over the stacked dynamics parameters; Adam, elementwise)
    steps on the sum of the S losses, which is S independent steps. Every :class:`~helpers.flossing.FlossingConfig` option behaves as in ``floss``:
    the operating point held by ``rate_weight`` is each network's own, ``keep_norm`` each network's norms.
    """
    check_int("n_updates", n_updates, 0)
    n = model.n_models
    if len(generators) != n:
        raise ValueError(f"generators must hold one generator per network ({n}), got {len(generators)}")
    params = [p for p in model.dynamics_parameters() if p.requires_grad]
    configs = [config] * n
    if config.rate_weight > 0 and config.rate_target is None and n_updates > 0:
        configs = []  # hold each network's operating point, measured on its first input batch (as floss does)
        for s, gen in enumerate(generators):
            state = gen.get_state()
            x0 = input_sampler(config.batch_size, config.seq_len, gen)
            gen.set_state(state)
            with model.seed_view(s) as net:
                configs.append(replace(config, rate_target=float(operating_point(net, x0, config))))
    norms0 = [p.detach().flatten(1).norm(dim=1) for p in params]  # (S,) per parameter, for keep_norm
    # the frozen path without an operating-point penalty: all networks' spectra in one pass
    one_pass = config.path == "frozen" and config.rate_weight == 0
    ref = model.w_out
    readout = model.readout_parameters()
    readout_flags = [p.requires_grad for p in readout]
    try:
        for p in readout:  # the readout is not part of the dynamics (as in floss)
            p.requires_grad_(False)
        for _ in range(n_updates):
            optimizer.zero_grad(set_to_none=True)
            if one_pass:  # every network's inputs, then its initial basis, from its generator (as floss draws)
                xs, q0s = [], []
                for gen in generators:
                    xs.append(input_sampler(config.batch_size, config.seq_len, gen))
                    q0 = initial_basis(model.state_dim, config.k, gen, ref.dtype, ref.device)
                    q0s.append(q0.expand(config.batch_size, -1, -1))
                exps = flossing_exponents(SeedBatchedSystem(model), torch.cat(xs), config, q0=torch.cat(q0s))
                losses = [flossing_loss(e, config.k, config.target) for e in exps.reshape(n, config.batch_size, -1)]
            else:
                losses = []
                for s, gen in enumerate(generators):
                    x = input_sampler(config.batch_size, config.seq_len, gen)
                    with model.seed_view(s) as net:
                        losses.append(flossing_objective(net, x, configs[s], gen)[0])
            loss = torch.stack(losses).sum()
            if loss.requires_grad:
                loss.backward()
                optimizer.step()
                if config.keep_norm:
                    with torch.no_grad():
                        for p, n0 in zip(params, norms0):
                            if p.ndim == 3:  # the weight matrices, (S, N, M)
                                scale = torch.where(n0 > 0, n0 / p.flatten(1).norm(dim=1).clamp_min(1e-30), 1.0)
                                p.mul_(scale.reshape(-1, 1, 1))
    finally:
        for p, flag in zip(readout, readout_flags):
            p.requires_grad_(flag)


def _flossing_losses(model: BatchedSNN, task, cfg: FlossingConfig, generators, device) -> torch.Tensor:
    """Each network's flossing loss (eq. 6.1), (S,), on inputs from its own flossing generator.

    What ``flossing_loss(flossing_exponents(network_s, x_s, cfg))`` gives for every s. With the frozen path
    and no operating-point penalty (the default configuration), all S spectra are one pass of
    :class:`SeedBatchedSystem` (every network starts from the same fixed-seed basis that
    :func:`helpers.flossing.flossing_exponents` draws without a generator); otherwise network by network on
    its seed view.
    """
    xs = [task.input_sampler(cfg.batch_size, cfg.seq_len, gen).to(device) for gen in generators]
    if cfg.path == "frozen" and cfg.rate_weight == 0:
        exps = flossing_exponents(SeedBatchedSystem(model), torch.cat(xs), cfg)
        exps = exps.reshape(model.n_models, cfg.batch_size, -1)
        return torch.stack([flossing_loss(e, k=cfg.k, target=cfg.target) for e in exps])
    losses = []
    for s, x in enumerate(xs):
        with model.seed_view(s) as net:
            losses.append(flossing_loss(flossing_exponents(net, x, cfg), k=cfg.k, target=cfg.target))
    return torch.stack(losses)


# ---------------------------------------------------------------------------------------------- the loop
def train_batched(
    model: BatchedSNN,
    task,
    seeds: Sequence[int],
    n_steps: int,
    lr: float = 1e-3,
    schedule: FlossingSchedule | None = None,
    clip: float | None = 1.0,
    batch_size: int = 32,
    eval_every: int | None = None,
    eval_batches: int = 2,
    eval_batch_size: int = 64,
    eval_seed: int = 10_000,
    early_step: int | None = None,
    lyap_every: int | None = None,
    lyap_k: int = 1,
    lyap_len: int = 200,
    lyap_transient: int = 50,
    progress: bool | None = False,
) -> list[dict]:
    """Train the S networks of ``model`` as ``train(network_s, task, ..., seed=seeds[s], fast=True)`` would.

    Network s: training data from a generator seeded ``seeds[s]``, flossing inputs from one seeded
    ``seeds[s] + 1``, evaluations on the fresh data of ``eval_seed`` (the same for all). Per step, in the
    order of :func:`helpers.training.train`: the schedule's flossing updates (:func:`floss_batched`, one
    persistent Adam over the stacked dynamics parameters), one forward pass of all networks on their own
    batches, the loss :math:`\\sum_s L_s` (plus, where ``schedule.loss_weight(step) > 0``, each network's
    weighted flossing loss (eq. 7.7), computed on its seed view), backward, per-seed clipping
    (:meth:`BatchedSNN.clip_grad_norm_`), one Adam step; evaluation every ``eval_every`` steps.
    Adam is elementwise and every term of the loss belongs to one network, so this is S independent runs.

    Arguments as in :func:`helpers.training.train` (a task, not a loader; no checkpoints). ``schedule``:
    None or a fixed schedule (its ``updates_before`` / ``loss_weight`` are asked once per step for all
    networks); adaptive schedules (which observe one run) raise ``ValueError``.

    Returns S histories with the keys and meaning of ``train``'s (:data:`helpers.training.HISTORY_KEYS`),
    except that the times are shared: ``wall_time_s`` is the wall time of the whole batched run and
    ``flossing_time_s`` that of all networks' flossing work, the same number in every history (divide by
    S for a per-network share). ``grad_norm_early`` is measured per network on its seed view, the
    exponents of all networks in one pass (:class:`SeedBatchedSystem`).
    """
    if not isinstance(model, BatchedSNN):
        raise TypeError(f"model must be a helpers.batched.BatchedSNN, got {type(model).__name__}")
    missing = [name for name in ("sample", "loss", "accuracy", "input_sampler") if not hasattr(task, name)]
    if missing:
        raise TypeError(f"task must be a task (sample, loss, accuracy, input_sampler); "
                        f"{type(task).__name__} has no {missing}")
    seeds = list(seeds)
    if len(seeds) != model.n_models:
        raise ValueError(f"seeds must list one seed per network (model.n_models = {model.n_models}), "
                         f"got {len(seeds)}: {seeds!r}")
    for i, seed in enumerate(seeds):
        check_int(f"seeds[{i}]", seed)
    check_int("n_steps", n_steps, 0)
    check_positive("lr", lr)
    if clip is not None:
        check_positive("clip", clip)
    check_int("batch_size", batch_size, 1)
    eval_every = max(1, n_steps // 10) if eval_every is None else check_int("eval_every", eval_every, 1)
    check_int("eval_batches", eval_batches, 1)
    check_int("eval_batch_size", eval_batch_size, 1)
    check_int("eval_seed", eval_seed)
    early_step = getattr(task, "hold", 1) if early_step is None else check_int("early_step", early_step, 0)
    lyap_every = eval_every if lyap_every is None else check_int("lyap_every", lyap_every, 0)
    check_int("lyap_k", lyap_k, 1)
    check_int("lyap_len", lyap_len, 1)
    check_int("lyap_transient", lyap_transient, 0)
    _check_schedule(schedule, model.state_dim)

    n = model.n_models
    device = model.w_out.device
    gen_device = task.device
    data_gens = [torch.Generator(device=gen_device).manual_seed(int(seed)) for seed in seeds]
    floss_gens = [torch.Generator(device=gen_device).manual_seed(int(seed) + 1) for seed in seeds]
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    floss_opt = None
    if schedule is not None:
        floss_opt = torch.optim.Adam([p for p in model.dynamics_parameters() if p.requires_grad], lr=schedule.config.lr)
    histories = [{key: [] for key in HISTORY_KEYS} for _ in range(n)]
    for hist in histories:
        hist.update(flossing_updates=0, flossing_time_s=0.0, wall_time_s=0.0)

    def fresh(offset: int) -> torch.Generator:
        return torch.Generator(device=gen_device).manual_seed(eval_seed + offset)

    def record_eval(step: int) -> None:
        """What train's record_eval records, for every network (evaluation data shared)."""
        results = evaluate_batched(model, task, eval_batches, eval_batch_size, eval_seed)
        x, y, mask = (t.to(device) for t in task.sample(min(eval_batch_size, 16), fresh(1)))
        lyap = bool(lyap_every) and (step % lyap_every == 0 or step == n_steps)
        if lyap:  # all networks in one pass, each on the same 4 fresh sequences
            xl = task.input_sampler(4, lyap_len + lyap_transient, fresh(2)).to(device)
            with torch.no_grad():
                exps = lyapunov_spectrum(SeedBatchedSystem(model), xl.repeat(n, 1, 1), k=min(lyap_k, model.state_dim),
                                         transient=lyap_transient, generator=torch.Generator().manual_seed(0)).exponents
            exps = exps.reshape(n, xl.shape[0], -1).mean(1)
        for s, (hist, res) in enumerate(zip(histories, results)):
            hist["step"].append(step)
            hist["loss"].append(res["loss"])
            hist["accuracy"].append(res["accuracy"])
            with model.seed_view(s) as net:
                hist["grad_norm_early"].append(early_gradient_norm(net, x, y, mask, task.loss, early_step))
            if lyap:
                hist["lyap_step"].append(step)
                hist["exponents"].append([float(e) for e in exps[s]])
                hist["lambda_1"].append(float(exps[s, 0]))

    def add_flossing_time(seconds: float, updates: int = 0) -> None:
        for hist in histories:
            hist["flossing_time_s"] += seconds
            hist["flossing_updates"] += updates

    bar = _progress(n_steps, 0, progress)
    t_start = time.perf_counter()
    if n_steps > 0:
        record_eval(0)
    for step in range(n_steps):
        model.train()
        # ---- flossing episodes (eq. 7.7, helpers.flossing.floss for every network)
        if schedule is not None:
            n_floss = int(schedule.updates_before(step))
            if n_floss > 0:
                t0 = time.perf_counter()
                floss_batched(model, task.input_sampler, n_floss, schedule.config, floss_opt, floss_gens)
                add_flossing_time(time.perf_counter() - t0, n_floss)
        # ---- task step: every network on its own batch
        batches = [task.sample(batch_size, gen) for gen in data_gens]
        x, y, mask = (torch.stack([b[i] for b in batches]).to(device) for i in range(3))
        out = model(x).output
        losses = torch.stack([task.loss(out[s], y[s], mask[s]) for s in range(n)])
        total = losses.sum()
        weight = float(schedule.loss_weight(step)) if schedule is not None else 0.0
        if weight > 0:  # eq. (7.7) per network
            t0 = time.perf_counter()
            total = total + weight * _flossing_losses(model, task, schedule.config, floss_gens, device).sum()
            add_flossing_time(time.perf_counter() - t0)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        norms = model.clip_grad_norm_(clip) if clip is not None else model.seed_grad_norms()
        optimizer.step()
        for hist, loss, norm in zip(histories, losses.tolist(), norms.tolist()):
            hist["train_loss"].append(loss)
            hist["grad_norm"].append(norm)
        if (step + 1) % eval_every == 0 or step + 1 == n_steps:
            model.eval()
            record_eval(step + 1)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{float(losses.mean()):.3f}")
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - t_start
    for hist in histories:
        hist["wall_time_s"] = wall
    return histories


# ---------------------------------------------------------------------------------------------- delayed-task runs
def run_delayed_task_batched(kind: str, delay: int, flossing: bool, seeds: Sequence[int], device=None,
                             schedule: str = "recommended", progress: bool | None = False,
                             **overrides) -> list[dict]:
    """:func:`helpers.training.run_delayed_task` for several seeds at once, trained as one batched model.

    Network s is built, trained and tested as ``run_delayed_task(kind, delay, flossing, seeds[s], device,
    schedule=schedule, **overrides)`` would (same initial weights, training data, flossing inputs,
    evaluations and test data, generator seed ``10**6 + seeds[s]``), through :func:`train_batched`.
    Returns one record per seed with the fields of ``run_delayed_task``'s, except the times, and three more:

    - ``wall_time_s``: the batched run's wall time divided by S (the records' times add up to the total);
    - ``flossing_time_s``: likewise, the shared flossing time divided by S;
    - ``batched``: True; ``batch_seeds``: the seeds trained together; ``batch_wall_time_s``: the total.
    """
    seeds = list(seeds)
    if len(seeds) == 0:
        raise ValueError("seeds must list at least one seed, got none")
    for i, seed in enumerate(seeds):
        check_int(f"seeds[{i}]", seed)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct (one record per seed), got {seeds!r}")
    check_choice("schedule", schedule, DELAY_SCHEDULES)
    setups = [delayed_task_setup(kind, delay, seed, device, **overrides) for seed in seeds]
    task, _, s = setups[0]
    model = BatchedSNN.from_models([m for _, m, _ in setups])
    floss_schedule = delayed_task_schedule(s, schedule) if flossing else None
    t0 = time.perf_counter()
    hists = train_batched(model, task, seeds, s["n_steps"], lr=s["lr"], schedule=floss_schedule, clip=s["clip"],
                          batch_size=s["batch_size"], eval_every=max(1, s["n_steps"] // 3),
                          eval_batches=s["eval_batches"], eval_batch_size=s["eval_batch_size"], eval_seed=10_000,
                          lyap_every=s["n_steps"], lyap_k=1, progress=progress)
    tests = evaluate_batched(model, task, s["test_batches"], s["test_batch_size"],
                             seed=[10**6 + seed for seed in seeds])
    wall = time.perf_counter() - t0
    n = len(seeds)
    return [{**delayed_task_record(kind, delay, flossing, seed, schedule, task, s, hist, test, wall_time_s=wall / n,
                                   flossing_time_s=hist["flossing_time_s"] / n),
             "batched": True, "batch_seeds": seeds, "batch_wall_time_s": wall}
            for seed, hist, test in zip(seeds, hists, tests)]
