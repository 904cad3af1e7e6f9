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
:meth:`BatchedSNN.from_models` stacks any list of same-shape models (e.g. different gains), and
:meth:`BatchedSNN.extract` returns seed s as an ordinary ``RecurrentSNN`` / ``MultiLayerSNN`` (for the
Lyapunov tools, plotting, saving).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .checks import check_int, check_positive, check_tensor
from .fast import LeakyReadoutFunction, LIFLayerFunction, _bias_or_none, _layer_config
from .models import MultiLayerSNN, RecurrentSNN, SNNOutput


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
        model = copy.deepcopy(self._template)
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
