r"""Flossing schedules beyond the reference: a continuous regulariser, an adaptive and an annealed schedule.

A schedule (:class:`helpers.flossing.FlossingSchedule`) tells the training loop, before training step
:math:`s`, how many separate flossing updates :math:`u_s` to run (``updates_before``) and with which weight
:math:`w_s` to add the flossing loss (eq. 6.1) to the task loss (``loss_weight``, eq. 7.7):

.. math::  L_s = L_\text{task} + w_s\,\frac1k\sum_{i\le k}(\lambda_i - \lambda_\ast)^2, \qquad
           \text{cost} = \sum_s u_s \;\text{flossing updates} + \#\{s : w_s > 0\}\;\text{flossing passes}   \qquad (9.1)

One flossing *update* (:func:`helpers.flossing.floss`) and one flossing *pass* (the loss term inside a task
step) cost about the same: a spiking forward pass with the QR method over ``config.batch_size`` sequences of
``config.seq_len`` steps, and its backward pass. :meth:`ScheduleMixin.cost` counts both.

The schedules of notebook 09 (the first three live in :mod:`helpers.flossing`):

=====================  ==========================================================================  ==========================
schedule               what it does                                                                cost over n steps
=====================  ==========================================================================  ==========================
``NoFlossing``         nothing                                                                     0
``PreFlossing``        ``n_updates`` updates before step 0                                          n_updates
``PeriodicFlossing``   pre-flossing, then episodes of ``episode_updates`` at ``episode_steps``      pre + episodes x updates
``RegularizerFlossing``  :math:`w_s = w` on every ``every``-th step (and optional pre-flossing)    ceil(n / every) passes
``AdaptiveFlossing``   an episode when the observed :math:`\lambda_1` leaves the band               pre + triggers x updates
                       :math:`[\lambda_\ast - \delta, \lambda_\ast + \delta]` or the gradient         + one probe per check
                       reaching an early state falls below ``grad_ratio`` x its first value
``AnnealedFlossing``   episodes every ``every`` steps whose length, and a loss weight, halve        sum of the decaying terms
                       every ``half_life`` steps (eq. 9.2)
=====================  ==========================================================================  ==========================

**Annealing** (eq. 9.2): at steps :math:`s = m\,\text{every}` (m >= 1) an episode of
:math:`u_s = \operatorname{round}(u_0\, 2^{-s/\text{half\_life}})` updates, and a loss weight
:math:`w_s = w_0\, 2^{-s/\text{half\_life}}` on every step (if :math:`w_0 > 0`):

.. math::  u_s = \operatorname{round}\!\big(u_0\,2^{-s/T_{1/2}}\big), \qquad w_s = w_0\,2^{-s/T_{1/2}}   \qquad (9.2)

**Observations** (adaptive schedules). The adaptive schedule reacts to what happens in training, so it needs
observations. Two ways to give them:

- the training loop calls ``schedule.observe(step, history)`` after each training step (it reads the newest
  ``lambda_1`` / ``grad_norm_early`` entries of the history if they were recorded at ``step``); an episode
  triggered by an observation at step ``step`` runs before training step ``step`` (the next one);
- or the schedule is given a ``probe`` (a callable ``probe(step) -> {"lambda_1": ..., "grad_norm_early": ...}``,
  see :func:`lyapunov_probe`), which it calls itself every ``check_every`` steps inside ``updates_before``.
  The probe's time is counted in ``probe_time_s`` (add it to the flossing time).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from .checks import check_int
from .flossing import FlossingConfig, FlossingSchedule, NoFlossing, PeriodicFlossing, PreFlossing


def _check_number(name: str, value, low: float | None = None, high: float | None = None, *,
                  low_open: bool = False, allowed: str | None = None) -> float:
    """A finite real number in [low, high] (or (low, high] with ``low_open``); ValueError naming the argument."""
    if low_open:
        default = f"a finite number > {low}" + (f" and <= {high}" if high is not None else "")
    elif low is not None and high is not None:
        default = f"a finite number in [{low}, {high}]"
    elif low is not None:
        default = f"a finite number >= {low}"
    else:
        default = "a finite number"
    allowed = allowed or default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def _check_count(name: str, value, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _check_step(step) -> int:
    return check_int("step", step, 0)


class ScheduleMixin:
    """Cost bookkeeping and a description shared by the schedules of this module."""

    #: short name used in results files and figures
    name = "schedule"

    def params(self) -> dict:  # pragma: no cover - overridden
        return {}

    def passes(self, n_steps: int) -> int:
        """Training steps (of the first ``n_steps``) whose loss includes a flossing term (one extra pass each)."""
        check_int("n_steps", n_steps, 0)
        return sum(1 for s in range(n_steps) if self.loss_weight(s) > 0)

    def cost(self, n_steps: int) -> dict:
        """Cost of a run of ``n_steps`` training steps: flossing updates and flossing loss passes (eq. 9.1)."""
        updates = self.total_updates(n_steps)
        passes = self.passes(n_steps)
        return {"flossing_updates": updates, "flossing_passes": passes, "total": updates + passes}

    def observe(self, step: int, history: dict | None = None, **observations) -> None:
        """Non-adaptive schedules ignore observations."""
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


# ------------------------------------------------------------------------------------------ regulariser
class RegularizerFlossing(ScheduleMixin, FlossingSchedule):
    r"""A continuous regulariser: the flossing loss added to the task loss with weight ``weight`` (eq. 7.7).

    Args:
        weight: :math:`w > 0`, the weight of eq. (6.1) in the total loss.
        every: add it on steps ``s`` with ``s % every == 0`` (1: every step).
        pre_updates: optional separate flossing updates before step 0.
        config: :class:`~helpers.flossing.FlossingConfig` (k, target, seq_len, ... of the flossing pass).

    ``loss_weight(s) = weight if s % every == 0 else 0``; ``updates_before(0) = pre_updates``.
    Cost over n steps: ``pre_updates`` updates + ``ceil(n / every)`` passes. The flossing gradient goes
    through the task's Adam optimiser (and its gradient clipping), not a separate one.
    """

    name = "regularizer"

    def __init__(self, weight: float = 1.0, every: int = 1, pre_updates: int = 0,
                 config: FlossingConfig | None = None):
        super().__init__(config)
        self.weight = _check_number("weight", weight, 0.0, low_open=True)
        self.every = _check_count("every", every, 1)
        self.pre_updates = _check_count("pre_updates", pre_updates, 0)

    def params(self) -> dict:
        return {"weight": self.weight, "every": self.every, "pre_updates": self.pre_updates}

    def updates_before(self, step: int) -> int:
        return self.pre_updates if _check_step(step) == 0 else 0

    def loss_weight(self, step: int) -> float:
        return self.weight if _check_step(step) % self.every == 0 else 0.0


# ------------------------------------------------------------------------------------------ annealed
class AnnealedFlossing(ScheduleMixin, FlossingSchedule):
    r"""Flossing that fades out: episodes and a loss weight halving every ``half_life`` steps (eq. 9.2).

    Args:
        initial_updates: :math:`u_0`, the episode length before decay (0: no episodes).
        every: an episode before each step ``s = m * every``, m >= 1 (episodes of 0 updates are skipped).
        half_life: :math:`T_{1/2}` in training steps (> 0).
        pre_updates: flossing updates before step 0 (not decayed).
        initial_weight: :math:`w_0 \ge 0`, the loss weight at step 0 (0: no loss term).
        weight_every: the loss term is added on steps with ``s % weight_every == 0``.
        config: :class:`~helpers.flossing.FlossingConfig`.

    ``updates_before(s) = round(u_0 2^{-s/T}) at s = m*every`` (+ ``pre_updates`` at 0);
    ``loss_weight(s) = w_0 2^{-s/T}`` on steps ``s % weight_every == 0``. Cost: the sum of these terms.
    """

    name = "annealed"

    def __init__(self, initial_updates: int = 10, every: int = 50, half_life: float = 100.0, pre_updates: int = 0,
                 initial_weight: float = 0.0, weight_every: int = 1, config: FlossingConfig | None = None):
        super().__init__(config)
        self.initial_updates = _check_count("initial_updates", initial_updates, 0)
        self.every = _check_count("every", every, 1)
        self.half_life = _check_number("half_life", half_life, 0.0, low_open=True,
                                       allowed="a finite number > 0 (training steps)")
        self.pre_updates = _check_count("pre_updates", pre_updates, 0)
        self.initial_weight = _check_number("initial_weight", initial_weight, 0.0)
        self.weight_every = _check_count("weight_every", weight_every, 1)

    def params(self) -> dict:
        return {"initial_updates": self.initial_updates, "every": self.every, "half_life": self.half_life,
                "pre_updates": self.pre_updates, "initial_weight": self.initial_weight,
                "weight_every": self.weight_every}

    def decay(self, step: int) -> float:
        """The factor :math:`2^{-s/T_{1/2}}` of eq. (9.2)."""
        return 2.0 ** (-_check_step(step) / self.half_life)

    def updates_before(self, step: int) -> int:
        n = self.pre_updates if _check_step(step) == 0 else 0
        if step > 0 and step % self.every == 0:
            n += int(round(self.initial_updates * self.decay(step)))
        return n

    def loss_weight(self, step: int) -> float:
        if self.initial_weight == 0 or _check_step(step) % self.weight_every:
            return 0.0
        return self.initial_weight * self.decay(step)


# ------------------------------------------------------------------------------------------ adaptive
class AdaptiveFlossing(ScheduleMixin, FlossingSchedule):
    r"""Floss only when needed: an episode when the leading exponent leaves a band around the target, or when
    the gradient reaching an early state has fallen below a fraction of its first observed value.

    Args:
        band: :math:`\delta > 0`: an observation :math:`\lambda_1` outside
            :math:`[\lambda_\ast - \delta, \lambda_\ast + \delta]` (:math:`\lambda_\ast` = ``config.target``) triggers.
        episode_updates: flossing updates per triggered episode (>= 1).
        pre_updates: flossing updates before step 0 (unconditional).
        check_every: with a ``probe``: probe every this many steps (steps ``s = m * check_every``, m >= 1).
        grad_ratio: None (off) or a number in (0, 1): also trigger when the observed early-state gradient norm
            is below ``grad_ratio`` times the first one observed.
        max_episodes: at most this many triggered episodes (None: no limit); bounds the cost.
        probe: None, or ``probe(step) -> dict`` with ``"lambda_1"`` and/or ``"grad_norm_early"`` (see
            :func:`lyapunov_probe`); the schedule then observes by itself (no change to the training loop).
        config: :class:`~helpers.flossing.FlossingConfig`.

    Observations arrive through :meth:`observe`. An observation made after training step ``step`` - 1 (the
    loop's ``step`` counter then equals ``step``) schedules ``episode_updates`` updates before training
    step ``step``. ``triggers`` lists ``(step, reason)``. Cost: ``pre_updates + episode_updates x triggers``
    updates, plus one probe (a no-gradient spectrum) per check.
    """

    name = "adaptive"

    def __init__(self, band: float = 0.03, episode_updates: int = 5, pre_updates: int = 0, check_every: int = 25,
                 grad_ratio: float | None = None, max_episodes: int | None = None,
                 probe: Callable[[int], dict] | None = None, config: FlossingConfig | None = None):
        super().__init__(config)
        self.band = _check_number("band", band, 0.0, low_open=True, allowed="a finite number > 0 (1/step)")
        self.episode_updates = _check_count("episode_updates", episode_updates, 1)
        self.pre_updates = _check_count("pre_updates", pre_updates, 0)
        self.check_every = _check_count("check_every", check_every, 1)
        if grad_ratio is not None:
            grad_ratio = _check_number("grad_ratio", grad_ratio, 0.0, 1.0, low_open=True,
                                       allowed="None or a number in (0, 1]")
        self.grad_ratio = grad_ratio
        if max_episodes is not None:
            max_episodes = _check_count("max_episodes", max_episodes, 0)
        self.max_episodes = max_episodes
        if probe is not None and not callable(probe):
            raise ValueError(f"probe must be None or a callable probe(step) -> dict, got {probe!r}")
        self.probe = probe
        self.reset()

    def reset(self) -> None:
        """Forget all observations and triggered episodes (start of a new run)."""
        self.episodes: dict[int, int] = {}
        self.triggers: list[tuple[int, str]] = []
        self.observations: list[dict] = []
        self.grad_reference: float | None = None
        self.probe_time_s = 0.0
        self._probed: set[int] = set()

    def state_dict(self) -> dict:
        """Triggered episodes, observations, gradient reference and probe bookkeeping (plain Python values)."""
        return {"episodes": dict(self.episodes), "triggers": [list(t) for t in self.triggers],
                "observations": [dict(o) for o in self.observations], "grad_reference": self.grad_reference,
                "probe_time_s": self.probe_time_s, "probed": sorted(self._probed)}

    def load_state_dict(self, state: dict) -> None:
        missing = {"episodes", "triggers", "observations", "grad_reference", "probe_time_s", "probed"} - set(state)
        if missing:
            raise ValueError(f"state is missing {sorted(missing)}; pass a dict from AdaptiveFlossing.state_dict()")
        self.episodes = {int(k): int(v) for k, v in state["episodes"].items()}
        self.triggers = [(int(s), str(r)) for s, r in state["triggers"]]
        self.observations = [dict(o) for o in state["observations"]]
        self.grad_reference = state["grad_reference"]
        self.probe_time_s = float(state["probe_time_s"])
        self._probed = {int(s) for s in state["probed"]}

    def params(self) -> dict:
        return {"band": self.band, "episode_updates": self.episode_updates, "pre_updates": self.pre_updates,
                "check_every": self.check_every, "grad_ratio": self.grad_ratio, "max_episodes": self.max_episodes,
                "target": self.config.target}

    def in_band(self, lambda_1: float) -> bool:
        """Whether :math:`|\\lambda_1 - \\lambda_\\ast| \\le \\delta`."""
        return abs(lambda_1 - self.config.target) <= self.band

    def observe(self, step: int, history: dict | None = None, *, lambda_1: float | None = None,
                grad_norm_early: float | None = None) -> bool:
        """Take the observations made after ``step`` training steps; return whether an episode was triggered.

        From ``history`` (the training loop's dict) only entries recorded at ``step`` are used
        (``history["lyap_step"][-1] == step`` for ``lambda_1``, ``history["step"][-1] == step`` for
        ``grad_norm_early``); keyword values override them.
        """
        _check_step(step)
        if history is not None:
            if lambda_1 is None and history.get("lyap_step") and history["lyap_step"][-1] == step:
                lambda_1 = history["lambda_1"][-1]
            if grad_norm_early is None and history.get("step") and history["step"][-1] == step \
                    and history.get("grad_norm_early"):
                grad_norm_early = history["grad_norm_early"][-1]
        if lambda_1 is None and grad_norm_early is None:
            return False
        self.observations.append({"step": step, "lambda_1": lambda_1, "grad_norm_early": grad_norm_early})
        reason = None
        if lambda_1 is not None and math.isfinite(lambda_1) and not self.in_band(lambda_1):
            reason = f"lambda_1={lambda_1:.4f} outside [{self.config.target - self.band:.4f}, " \
                     f"{self.config.target + self.band:.4f}]"
        if grad_norm_early is not None and self.grad_ratio is not None and math.isfinite(grad_norm_early):
            if self.grad_reference is None:
                self.grad_reference = grad_norm_early
            elif grad_norm_early < self.grad_ratio * self.grad_reference and reason is None:
                reason = f"grad_norm_early={grad_norm_early:.3g} < {self.grad_ratio} x {self.grad_reference:.3g}"
        if reason is None or (self.max_episodes is not None and len(self.triggers) >= self.max_episodes) \
                or step in self.episodes:
            return False
        self.episodes[step] = self.episode_updates
        self.triggers.append((step, reason))
        return True

    def updates_before(self, step: int) -> int:
        _check_step(step)
        if self.probe is not None and step > 0 and step % self.check_every == 0 and step not in self._probed:
            self._probed.add(step)
            t0 = time.perf_counter()
            obs = self.probe(step) or {}
            self.probe_time_s += time.perf_counter() - t0
            self.observe(step, lambda_1=obs.get("lambda_1"), grad_norm_early=obs.get("grad_norm_early"))
        return (self.pre_updates if step == 0 else 0) + self.episodes.get(step, 0)

    def cost(self, n_steps: int) -> dict:
        out = super().cost(n_steps)
        out["probes"] = len(self._probed) if self.probe is not None else len(self.observations)
        return out


def lyapunov_probe(model, input_sampler: Callable, seq_len: int = 100, transient: int = 20, batch_size: int = 2,
                   seed: int = 0) -> Callable[[int], dict]:
    """A probe for :class:`AdaptiveFlossing`: the leading exponent of ``model`` on fresh inputs, no gradient.

    ``probe(step)`` returns ``{"lambda_1": float}`` measured by the QR method (k = 1) on ``batch_size``
    sequences of ``seq_len`` steps from ``input_sampler`` (seeded by ``seed + step``: deterministic).
    """
    from .lyapunov import lyapunov_spectrum

    check_int("seq_len", seq_len, transient + 1)

    def probe(step: int) -> dict:
        gen = torch.Generator().manual_seed(int(seed) + int(step))
        x = input_sampler(batch_size, seq_len, gen)
        with torch.no_grad():
            res = lyapunov_spectrum(model, x, 1, transient=transient, generator=gen)
        return {"lambda_1": float(res.exponents[:, 0].mean())}

    return probe


# ------------------------------------------------------------------------------------------ the recommended default
#: The course's default schedule from notebook 09's study (``figures/schedule_study.json``): the flossing loss
#: with weight 10 on every 20th training step. On delayed XOR (d = 4 and 2, 300 steps, 18 seeds) it matched
#: training without flossing and beat the reference schedule, at a sixth of its flossing time (fraction 0.11
#: against 0.64); on FSDD it matched the other schedules at 6 % of the training time. README, "Recommended
#: flossing schedule", has the tables.
RECOMMENDED = {"weight": 10.0, "every": 20}


def recommended_schedule(config: FlossingConfig | None = None, **changes) -> RegularizerFlossing:
    """The recommended default, :data:`RECOMMENDED` (``changes`` override its parameters)."""
    unknown = set(changes) - {"weight", "every", "pre_updates"}
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; allowed: weight, every, pre_updates")
    return RegularizerFlossing(**{**RECOMMENDED, **changes}, config=config)


# ------------------------------------------------------------------------------------------ names and factory
SCHEDULES = {"none": NoFlossing, "pre": PreFlossing, "periodic": PeriodicFlossing,
             "regularizer": RegularizerFlossing, "adaptive": AdaptiveFlossing, "annealed": AnnealedFlossing}


def make_schedule(name: str, config: FlossingConfig | None = None, **params) -> FlossingSchedule:
    """Build a schedule by name (one of :data:`SCHEDULES`) with keyword parameters."""
    if name not in SCHEDULES:
        raise ValueError(f"name must be one of {tuple(SCHEDULES)}, got {name!r}")
    cls = SCHEDULES[name]
    if cls is NoFlossing:
        if params:
            raise ValueError(f"schedule 'none' takes no parameters, got {sorted(params)}")
        return NoFlossing(config)
    return cls(**params, config=config)


def schedule_timeline(schedule: FlossingSchedule, n_steps: int) -> dict:
    """``{"step", "updates", "weight"}`` lists over ``n_steps`` steps (for timeline figures).

    For an adaptive schedule this shows only the episodes triggered so far (and pre-flossing).
    """
    check_int("n_steps", n_steps, 1)
    probe = getattr(schedule, "probe", None)
    if probe is not None:
        schedule.probe = None  # a timeline must not run the probe
    try:
        steps = list(range(n_steps))
        return {"step": steps, "updates": [int(schedule.updates_before(s)) for s in steps],
                "weight": [float(schedule.loss_weight(s)) for s in steps]}
    finally:
        if probe is not None:
            schedule.probe = probe


__all__ = ["RegularizerFlossing", "AnnealedFlossing", "AdaptiveFlossing", "lyapunov_probe", "SCHEDULES",
           "RECOMMENDED", "recommended_schedule",
           "make_schedule", "schedule_timeline", "ScheduleMixin"]
