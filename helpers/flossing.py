r"""Surrogate gradient flossing: push the leading surrogate Lyapunov exponents towards a target.

Gradient flossing (Engelken 2023) adds a loss on the leading k Lyapunov exponents of the network's tangent
dynamics (COURSE.md 4.4),

.. math::  \mathcal L_\mathrm{floss} = \frac{1}{k} \sum_{i=1}^{k} (\lambda_i - \lambda_\ast)^2   \qquad (6.1)

(averaged over the batch too), with :math:`\lambda_i` from the QR method of :mod:`helpers.lyapunov`
(eq. 5.1), :math:`\lambda_\ast` the target (0: neither exploding nor vanishing). Because every step of the
QR method is differentiable (the floored QR has a written-out backward pass), autograd gives
:math:`\partial \mathcal L_\mathrm{floss} / \partial \theta` for the dynamics' parameters :math:`\theta`
(input and recurrent weights, biases), never the readout.

**Two gradient paths.** The tangent map of a spiking network, :math:`J_t = J(h_t; \theta)`, depends on the
weights twice: directly (the recurrent weights :math:`V` inside :math:`V D_t`, eq. 2.4) and through the
trajectory :math:`h_t(\theta)` (the surrogate derivatives :math:`D_t = \sigma'(U_t - \vartheta)` and the
reset masks):

.. math::  \frac{d\lambda_i}{d\theta} = \underbrace{\frac{\partial \lambda_i}{\partial \theta}\Big|_{h}}_{\text{frozen}}
           + \sum_t \frac{\partial \lambda_i}{\partial h_t} \frac{d h_t}{d\theta}   \qquad (6.2)

- ``path="trajectory"`` keeps both terms (autograd through the spiking trajectory, with surrogate
  gradients for the states);
- ``path="frozen"`` keeps only the first: the trajectory runs without gradient and the tangent map is
  evaluated at the detached states, so the gradient flows only through the weights inside the tangent map
  (:class:`FrozenTrajectory`). It cannot move the input weights or the biases of a one-layer network
  (they do not appear in its tangent map), and it is cheaper.

**What the measurements say** (``scripts/flossing_sweep.py``, notebook 06): in the course's LIF networks
neither path moved the leading exponents from far below 0 to 0. The trajectory path drove them to the
leak value :math:`\log\beta`; following the frozen gradient reshaped :math:`V` so that the membranes left the
threshold region (the mean surrogate derivative fell) and the exponents moved *away* from the target, also
with penalties holding the firing rate, the weight norm or the mean surrogate derivative (``rate_weight``,
``hold``, ``keep_norm``). The surrogate width sets where the exponents sit: with a fast sigmoid of steepness
3 they start near 0 and the frozen path (the default) keeps them there.

**Schedules.** The training loop (:mod:`helpers.training`) asks a :class:`FlossingSchedule` before each
training step how many flossing updates to run (:meth:`FlossingSchedule.updates_before`) and with what
weight to add a flossing loss to the task loss (:meth:`FlossingSchedule.loss_weight`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch

from .checks import check_choice, check_int, check_nonnegative, check_positive, check_tensor
from .lyapunov import lyapunov_spectrum, random_basis
from .surrogate import spike, surrogate_derivative

PATHS = ("frozen", "trajectory")


# ---------------------------------------------------------------------------------------------- the loss
def flossing_loss(exponents: torch.Tensor, k: int | None = None, target: float = 0.0) -> torch.Tensor:
    r"""The flossing loss (eq. 6.1): mean over the first ``k`` exponents (and the batch) of :math:`(\lambda_i - \lambda_\ast)^2`.

    Args:
        exponents: Lyapunov exponents, (k_total,) or (batch, k_total), sorted descending (1/step).
        k: number of leading exponents to floss, 1 <= k <= k_total; None means all given.
        target: the target exponent :math:`\lambda_\ast` (1/step).

    Returns a scalar tensor, differentiable with respect to ``exponents``.
    """
    if not isinstance(exponents, torch.Tensor):
        raise TypeError(f"exponents must be a torch.Tensor, got {type(exponents).__name__}")
    if exponents.ndim not in (1, 2) or exponents.shape[-1] == 0:
        raise ValueError(f"exponents must have shape (k,) or (batch, k) with k >= 1, got {tuple(exponents.shape)}")
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not math.isfinite(target):
        raise ValueError(f"target must be a finite number, got {target!r}")
    n = exponents.shape[-1]
    k = n if k is None else check_int("k", k, 1, n)
    return ((exponents[..., :k] - target) ** 2).mean()


# ---------------------------------------------------------------------------------------------- config
@dataclass
class FlossingConfig:
    r"""How to floss: which exponents, towards what, on which inputs, with which optimiser and gradient path.

    Attributes:
        k: number of leading exponents flossed (1 <= k <= state_dim).
        target: target exponent, 1/step (0: marginal stability; slightly negative keeps a margin).
        seq_len: time steps of each flossing input sequence (> transient).
        transient: steps discarded before averaging (the trajectory and the tangent basis settle).
        batch_size: input sequences per flossing update.
        lr: Adam learning rate of the flossing optimiser (> 0).
        path: ``"frozen"`` (gradient only through the weights inside the tangent map, eq. 6.2 first term)
            or ``"trajectory"`` (also through the spiking trajectory).
        reorth_every: QR every this many steps.
        rate_weight: weight of a penalty ``rate_weight * (statistic - rate_target)^2`` that holds the operating
            point (the statistic named by ``hold``) while flossing, added to the flossing loss (eq. 6.5;
            0 = off). Its gradient always flows through the spiking
            trajectory (surrogate gradients), also with ``path="frozen"`` (one extra forward pass).
        rate_target: the value that penalty holds: a firing rate (spikes per neuron per step) for
            ``hold="rate"``, a mean surrogate derivative for ``hold="surrogate"``; None: :func:`floss` holds
            the value measured on its first input batch (the operating point before flossing), and
            :func:`flossing_objective` adds no penalty.
        hold: the trajectory statistic of that penalty: ``"rate"`` (mean spike count) or ``"surrogate"``
            (mean surrogate derivative :math:`\overline{D}` = mean of :math:`\sigma'(U_t - \vartheta)`: how close
            the membranes sit to threshold, which sets the size of :math:`V D_t` in the tangent map).
        mask_grad: trajectory path only: give the zero reset's mask in the tangent map a surrogate
            derivative (see :class:`TrajectorySystem`), so the gradient sees that spikes annihilate directions.
        keep_norm: after every update, rescale each weight matrix of the dynamics to the Frobenius norm it had
            when :func:`floss` started, so that flossing can reshape the weights but not scale them up.

    **Defaults, chosen by measurement** (``scripts/flossing_sweep.py`` -> ``figures/flossing_sweep.json``;
    notebook 06 shows the numbers; 64 LIF neurons, 20 Poisson inputs, 80 updates): the frozen path, Adam lr
    3e-3, k = 4, target 0, batch 4 sequences of 200 steps with a 50-step transient, no operating-point penalty.
    The trajectory path drove the leading exponents to the leak value log(beta) = -0.1 in every condition
    (its surrogate gradient does not predict how the exponents change); lr 1e-2 only grew the weights.
    **What it requires:** a wide surrogate. With the course's default LIF network (zero reset, fast sigmoid of
    steepness 10) lambda_1 is about -0.06 and no setting measured brought it to 0: following the frozen
    gradient shifted the operating point (the mean surrogate derivative halved) and moved the exponents *away*
    from the target, also with the firing rate, the weight norm or the mean surrogate derivative held by a
    penalty. With steepness 3 (fast sigmoid) the leading exponents sit within about 0.02 of 0, and flossing
    with these defaults keeps them there while the trajectory path pulls them down to about -0.08.
    """

    k: int = 4
    target: float = 0.0
    seq_len: int = 200
    transient: int = 50
    batch_size: int = 4
    lr: float = 3e-3
    path: str = "frozen"
    reorth_every: int = 1
    rate_weight: float = 0.0
    rate_target: float | None = None
    hold: str = "surrogate"
    mask_grad: bool = False
    keep_norm: bool = False

    def __post_init__(self):
        self.validate()

    def validate(self, state_dim: int | None = None) -> "FlossingConfig":
        """Check every field (and ``k <= state_dim`` if given); raise ``ValueError`` naming the field."""
        check_int("k", self.k, 1, state_dim)
        if isinstance(self.target, bool) or not isinstance(self.target, (int, float)) or not math.isfinite(self.target):
            raise ValueError(f"target must be a finite number, got {self.target!r}")
        check_int("seq_len", self.seq_len, 1)
        check_int("transient", self.transient, 0)
        if self.seq_len <= self.transient:
            raise ValueError(f"seq_len must be larger than transient={self.transient}, got seq_len={self.seq_len}")
        check_int("batch_size", self.batch_size, 1)
        check_positive("lr", self.lr)
        check_choice("path", self.path, PATHS)
        check_int("reorth_every", self.reorth_every, 1)
        check_nonnegative("rate_weight", self.rate_weight)
        if self.rate_target is not None:
            check_nonnegative("rate_target", self.rate_target)
        check_choice("hold", self.hold, ("rate", "surrogate"))
        if not isinstance(self.mask_grad, bool):
            raise TypeError(f"mask_grad must be True or False, got {self.mask_grad!r}")
        if not isinstance(self.keep_norm, bool):
            raise TypeError(f"keep_norm must be True or False, got {self.keep_norm!r}")
        return self


# ---------------------------------------------------------------------------------------------- gradient paths
class FrozenTrajectory:
    r"""A view of a model for the frozen gradient path (eq. 6.2, first term only).

    ``step`` runs the model's step under ``torch.no_grad()`` (the trajectory carries no gradient);
    ``tangent`` is the model's tangent map at the *detached* state, so only the weights that appear inside
    the tangent map (the recurrent weights :math:`V` in :math:`V D`, deeper feed-forward weights) receive a
    gradient, while the surrogate derivatives :math:`D_t` and reset masks are constants.
    """

    def __init__(self, model):
        self.model = model

    @property
    def state_dim(self) -> int:
        return self.model.state_dim

    def initial_state(self, batch_size: int) -> torch.Tensor:
        return self.model.initial_state(batch_size).detach()

    def step(self, h: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        with torch.no_grad():
            return self.model.step(h.detach(), x)

    def tangent(self, h: torch.Tensor, x: torch.Tensor | None, q: torch.Tensor) -> torch.Tensor:
        return self.model.tangent(h.detach(), x, q)


class TrajectorySystem:
    r"""A view of a model for the trajectory gradient path (eq. 6.2, both terms), with two options.

    - ``record_spikes``: keep the surrogate-differentiable spikes of every step (for a firing-rate penalty).
    - ``mask_grad``: give the zero reset's mask in the tangent map a surrogate derivative. The model's tangent
      (eq. 2.5) multiplies the membrane row by the hard mask :math:`1 - S_t = [U_t \le \vartheta]`, whose
      derivative is zero, so the trajectory path does not see that pushing a neuron over threshold
      *annihilates* its tangent direction. With ``mask_grad`` the mask is :math:`1 - \mathrm{spike}(U_t - \vartheta)`:
      the same value forward, derivative :math:`-\sigma'(U_t - \vartheta)` backward, exactly as the spike itself
      is treated (eq. 6.4 of notebook 06). It changes gradients only, never the exponents.
    """

    def __init__(self, model, record_spikes: bool = False, mask_grad: bool = False):
        self.model = model
        self.record_spikes = record_spikes
        self.mask_grad = mask_grad and model.params.reset == "zero"
        self.spikes: list[torch.Tensor] = []

    @property
    def state_dim(self) -> int:
        return self.model.state_dim

    def initial_state(self, batch_size: int) -> torch.Tensor:
        return self.model.initial_state(batch_size)

    def step(self, h, x):
        if not self.record_spikes:
            return self.model.step(h, x)
        spk, h_next = self.model._advance(h, x @ self.model.w_ff[0].T)
        self.spikes.append(torch.cat(spk, dim=-1))
        return h_next

    def tangent(self, h, x, q):
        out = self.model.tangent(h, x, q)
        if not self.mask_grad:
            return out
        p = self.model.params
        if q.ndim == 2:
            q = q.expand(h.shape[0], *q.shape)
        pieces = []
        for (syn, mem), (q_syn, q_mem), (o_syn, o_mem) in zip(
            self.model.split_state(h), self.model.split_rows(q), self.model.split_rows(out)
        ):
            spk = spike(mem - p.threshold, p.surrogate, p.steepness)
            ghost = (spk - spk.detach()).unsqueeze(-1)  # 0 forward, sigma' backward  (6.4)
            pieces += [o_syn, o_mem - ghost * (p.beta * q_mem + q_syn)]
        return torch.cat(pieces, dim=1)


def _check_model(model) -> None:
    for name in ("state_dim", "step", "tangent", "initial_state", "dynamics_parameters"):
        if not hasattr(model, name):
            raise TypeError(f"model must implement the dynamical-system protocol and dynamics_parameters(); "
                            f"{type(model).__name__} has no {name!r}")


def initial_basis(state_dim: int, k: int, generator: torch.Generator | None, dtype: torch.dtype,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """The random orthonormal (state_dim, k) tangent basis a flossing pass starts from, drawn on the CPU from
    ``generator`` (a CUDA generator seeds a CPU one), or from a fixed seed if None: results never depend on
    torch's global random state."""
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    elif generator.device.type != "cpu":
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
        generator = torch.Generator().manual_seed(seed)
    return random_basis(state_dim, k, generator=generator, dtype=dtype).to(device)


def _spectrum(model, x: torch.Tensor, config: FlossingConfig, generator: torch.Generator | None,
              q0: torch.Tensor | None = None):
    """Exponents (batch, k) by the chosen path, and the statistic ``config.hold`` names (a tensor, or None).

    ``q0``: the initial basis, (state_dim, k) or (batch, state_dim, k); default :func:`initial_basis`."""
    _check_model(model)
    config.validate(model.state_dim)
    check_tensor("x", x, ndim=3)
    if x.shape[1] <= config.transient:
        raise ValueError(f"x has {x.shape[1]} time steps; it needs more than transient={config.transient}")
    ref = next(iter(model.parameters()))
    if q0 is None:
        q0 = initial_basis(model.state_dim, config.k, generator, ref.dtype, ref.device)
    rate = None
    if config.path == "frozen":
        system = FrozenTrajectory(model)
    else:
        record = config.rate_weight > 0 and hasattr(model, "_advance")
        system = TrajectorySystem(model, record_spikes=record, mask_grad=config.mask_grad)
    res = lyapunov_spectrum(system, x, config.k, reorth_every=config.reorth_every,
                            transient=config.transient, q0=q0)
    if config.path == "trajectory" and system.spikes:
        rate = torch.stack(system.spikes[config.transient:], 1).mean()
    elif config.path == "frozen" and config.rate_weight > 0:
        # the exponents' trajectory is frozen, but the penalty needs the surrogate gradient of the
        # trajectory statistic: one extra forward pass with gradient (6.5)
        out = model(x)
        if config.hold == "rate":
            rate = torch.cat([s[:, config.transient:] for s in out.spikes], dim=-1).mean()
    if config.rate_weight > 0 and config.hold == "surrogate":
        p = model.params
        if config.path == "trajectory":
            out = model(x)
        mem = torch.cat([m[:, config.transient:] for m in out.mem], dim=-1)
        rate = surrogate_derivative(mem - p.threshold, p.surrogate, p.steepness).mean()
    return res.exponents, rate


def operating_point(model, x: torch.Tensor, config: FlossingConfig) -> torch.Tensor:
    """The trajectory statistic that ``config.hold`` names (mean rate or mean surrogate derivative), no gradient."""
    with torch.no_grad():
        out = model(x)
        if config.hold == "rate":
            return torch.cat([s[:, config.transient:] for s in out.spikes], dim=-1).mean()
        p = model.params
        mem = torch.cat([m[:, config.transient:] for m in out.mem], dim=-1)
        return surrogate_derivative(mem - p.threshold, p.surrogate, p.steepness).mean()


def flossing_exponents(model, x: torch.Tensor, config: FlossingConfig,
                       generator: torch.Generator | None = None, q0: torch.Tensor | None = None) -> torch.Tensor:
    """The leading ``config.k`` surrogate Lyapunov exponents of ``model`` driven by ``x`` (batch, T, n_in).

    Returns (batch, k), sorted descending (1/step), differentiable by ``config.path`` (eq. 6.2). The
    initial tangent basis is ``q0`` if given, else random (:func:`initial_basis` from ``generator``, else a
    fixed seed).
    """
    return _spectrum(model, x, config, generator, q0)[0]


def flossing_objective(model, x: torch.Tensor, config: FlossingConfig,
                       generator: torch.Generator | None = None):
    """``(loss, exponents)``: eq. (6.1) on ``flossing_exponents`` plus the optional operating-point penalty (6.5)."""
    exponents, rate = _spectrum(model, x, config, generator)
    loss = flossing_loss(exponents, config.k, config.target)
    if rate is not None and config.rate_weight > 0 and config.rate_target is not None:
        loss = loss + config.rate_weight * (rate - config.rate_target) ** 2
    return loss, exponents


def poisson_sampler(n_in: int, rate: float = 0.05, dtype: torch.dtype = torch.float32,
                    device: torch.device | str | None = None) -> Callable:
    """An ``input_sampler(batch_size, seq_len, generator)`` of Poisson spike trains (spike probability ``rate`` per step)."""
    from .inputs import poisson_spikes

    check_int("n_in", n_in, 1)

    def sample(batch_size: int, seq_len: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return poisson_spikes(batch_size, seq_len, n_in, rate, generator=generator, dtype=dtype, device=device)

    return sample


def floss(model, input_sampler: Callable, n_updates: int, config: FlossingConfig, optimizer=None,
          generator: torch.Generator | None = None, record_every: int = 1) -> dict:
    """Run ``n_updates`` flossing updates (eq. 6.1) on fresh input sequences; return the history.

    Args:
        model: a spiking model with the protocol of :mod:`helpers.lyapunov` and ``dynamics_parameters()``.
        input_sampler: ``input_sampler(batch_size, seq_len, generator) -> (batch, seq_len, n_in)``.
        n_updates: number of gradient updates (>= 0).
        config: :class:`FlossingConfig`.
        optimizer: a torch optimiser over (a subset of) ``model.dynamics_parameters()``; default
            ``Adam(model.dynamics_parameters(), lr=config.lr)``. The readout is never updated here.
        generator: seeds the inputs and the initial tangent bases.
        record_every: keep the exponents of every this many updates (and of the last).

    Returns ``{"exponents": (n_recorded, k) nested list (batch mean), "loss": [...], "step": [...],
    "time_s": float, "held_value": float | None}``; ``"exponents"`` are those measured on each recorded
    update's batch, before its step; ``"held_value"`` is the operating point the penalty held (eq. 6.5).
    """
    _check_model(model)
    check_int("n_updates", n_updates, 0)
    check_int("record_every", record_every, 1)
    config.validate(model.state_dim)
    if not callable(input_sampler):
        raise TypeError(f"input_sampler must be callable (batch_size, seq_len, generator) -> Tensor, got {input_sampler!r}")
    params = [p for p in model.dynamics_parameters() if p.requires_grad]
    if optimizer is None:
        optimizer = torch.optim.Adam(params, lr=config.lr)
    readout = [p for p in getattr(model, "readout_parameters", lambda: [])()]
    readout_flags = [p.requires_grad for p in readout]
    history = {"exponents": [], "loss": [], "step": [], "time_s": 0.0}
    norms0 = [float(p.detach().norm()) for p in params]
    if config.rate_weight > 0 and config.rate_target is None and n_updates > 0:
        # hold the operating point measured before the first update (see FlossingConfig.rate_target)
        gen_state = generator.get_state() if generator is not None else None
        x0 = input_sampler(config.batch_size, config.seq_len, generator)
        if gen_state is not None:
            generator.set_state(gen_state)
        config = replace(config, rate_target=float(operating_point(model, x0, config)))
    history["held_value"] = config.rate_target
    start = time.perf_counter()
    try:
        for p in readout:  # the readout is not part of the dynamics; make sure nothing touches it
            p.requires_grad_(False)
        for update in range(n_updates):
            x = input_sampler(config.batch_size, config.seq_len, generator)
            optimizer.zero_grad(set_to_none=True)
            loss, exponents = flossing_objective(model, x, config, generator)
            if loss.requires_grad:
                loss.backward()
                optimizer.step()
                if config.keep_norm:
                    with torch.no_grad():
                        for p, n0 in zip(params, norms0):
                            if p.ndim == 2 and n0 > 0:
                                p.mul_(n0 / p.norm().clamp_min(1e-30))
            if update % record_every == 0 or update == n_updates - 1:
                history["exponents"].append(exponents.detach().mean(0).cpu().tolist())
                history["loss"].append(float(loss.detach()))
                history["step"].append(update)
    finally:
        for p, flag in zip(readout, readout_flags):
            p.requires_grad_(flag)
    history["time_s"] = time.perf_counter() - start
    return history


def measure_exponents(model, input_sampler: Callable, k: int, seq_len: int, transient: int, batch_size: int = 4,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """The k leading surrogate exponents (batch mean, (k,)) of ``model`` on fresh inputs, without gradient."""
    x = input_sampler(batch_size, seq_len, generator)
    with torch.no_grad():
        res = lyapunov_spectrum(model, x, k, transient=transient, generator=generator)
    return res.exponents.mean(0)


# ---------------------------------------------------------------------------------------------- schedules
class FlossingSchedule:
    """When and how much to floss during training; the training loop consults it at every step.

    A schedule answers two questions per training step ``step`` (0-based):

    - :meth:`updates_before` (``step``): how many flossing updates (:func:`floss`, each one forward+backward
      pass over ``config.batch_size`` sequences of ``config.seq_len`` steps) to run before that step;
      step 0 is where pre-flossing happens.
    - :meth:`loss_weight` (``step``): the weight of a flossing loss (eq. 6.1) added to the task loss at that
      step (0 for episodic schedules, which floss in separate updates).

    :meth:`total_updates` (n_steps) gives the cost in flossing updates over a run of ``n_steps`` training
    steps. Subclasses set ``config`` and override the two methods; keep them pure functions of ``step``.
    """

    config: FlossingConfig

    def __init__(self, config: FlossingConfig | None = None):
        self.config = FlossingConfig() if config is None else config
        if not isinstance(self.config, FlossingConfig):
            raise TypeError(f"config must be a FlossingConfig, got {type(self.config).__name__}")

    def updates_before(self, step: int) -> int:
        check_int("step", step, 0)
        return 0

    def loss_weight(self, step: int) -> float:
        check_int("step", step, 0)
        return 0.0

    def total_updates(self, n_steps: int) -> int:
        """Flossing updates run over ``n_steps`` training steps (the episodic cost)."""
        check_int("n_steps", n_steps, 0)
        return sum(self.updates_before(s) for s in range(n_steps))

    def state_dict(self) -> dict:
        """What the schedule has learnt during a run (nothing for a fixed schedule); saved in checkpoints."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (a resumed run then continues exactly)."""
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, got {sorted(state)}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"


class NoFlossing(FlossingSchedule):
    """No flossing at all (the baseline). Cost: 0."""


class PreFlossing(FlossingSchedule):
    """Floss ``n_updates`` times before training starts (step 0), never again. Cost: ``n_updates`` updates."""

    def __init__(self, n_updates: int, config: FlossingConfig | None = None):
        super().__init__(config)
        self.n_updates = check_int("n_updates", n_updates, 0)

    def updates_before(self, step: int) -> int:
        check_int("step", step, 0)
        return self.n_updates if step == 0 else 0

    def __repr__(self) -> str:
        return f"PreFlossing(n_updates={self.n_updates}, config={self.config})"


class PeriodicFlossing(FlossingSchedule):
    """The reference method (Engelken 2023): pre-flossing, then flossing episodes at given training steps.

    Args:
        pre_updates: flossing updates before step 0 (reference: 500 for rate networks).
        episode_steps: training steps before which an episode runs (reference: (100, 200)).
        episode_updates: flossing updates per episode (reference: 500).
        config: :class:`FlossingConfig`.

    Cost: ``pre_updates + len(episode_steps) * episode_updates`` updates (those with step < n_steps).
    """

    def __init__(self, pre_updates: int, episode_steps: Sequence[int], episode_updates: int,
                 config: FlossingConfig | None = None):
        super().__init__(config)
        self.pre_updates = check_int("pre_updates", pre_updates, 0)
        self.episode_steps = tuple(check_int("episode step", int(s) if not isinstance(s, bool) else s, 0)
                                   for s in episode_steps)
        self.episode_updates = check_int("episode_updates", episode_updates, 0)

    def updates_before(self, step: int) -> int:
        check_int("step", step, 0)
        n = self.pre_updates if step == 0 else 0
        return n + self.episode_updates * self.episode_steps.count(step)

    def __repr__(self) -> str:
        return (f"PeriodicFlossing(pre_updates={self.pre_updates}, episode_steps={self.episode_steps}, "
                f"episode_updates={self.episode_updates}, config={self.config})")


def reference_schedule(config: FlossingConfig | None = None, updates_scale: float = 1.0,
                       episode_steps: Sequence[int] = (100, 200)) -> PeriodicFlossing:
    """The reference schedule of Engelken (2023): 500 pre-flossing updates and 500-update episodes before
    training steps 100 and 200, with the update counts multiplied by ``updates_scale`` (e.g. 0.1 for the
    course's spiking networks on a CPU, where one update costs a full spiking forward and backward pass)."""
    check_positive("updates_scale", updates_scale)
    n = max(1, int(round(500 * updates_scale)))
    return PeriodicFlossing(n, episode_steps, n, config)


__all__ = [
    "PATHS", "flossing_loss", "FlossingConfig", "FrozenTrajectory", "TrajectorySystem", "flossing_exponents", "flossing_objective",
    "initial_basis",
    "poisson_sampler", "floss", "operating_point", "measure_exponents", "FlossingSchedule", "NoFlossing", "PreFlossing",
    "PeriodicFlossing", "reference_schedule",
]

# The schedules added by the schedule study live in helpers.schedules (which imports this module); they are
# re-exported here lazily so that ``from helpers.flossing import RegularizerFlossing`` works in either order.
_SCHEDULE_NAMES = ("RegularizerFlossing", "AnnealedFlossing", "AdaptiveFlossing", "lyapunov_probe", "make_schedule",
                   "schedule_timeline", "RECOMMENDED", "recommended_schedule")


def __getattr__(name):
    if name in _SCHEDULE_NAMES:
        from . import schedules

        return getattr(schedules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
