r"""The course's one training loop: Adam with gradient clipping, optional gradient flossing, evaluation on
fresh data, diagnostics (gradient reaching an early state, leading Lyapunov exponents, flossing time) and
atomic checkpoints that let an interrupted run resume exactly.

Two kinds of data:

- a **task** (e.g. :class:`helpers.tasks.DelayedTask`): an object with ``sample(batch, generator) -> (x, y, mask)``,
  ``loss(output, y, mask)``, ``accuracy(output, y, mask)`` and ``input_sampler(batch, seq_len, generator)``;
  training batches come from a generator seeded with ``seed``, evaluation batches from a separate generator
  seeded with ``eval_seed`` (fresh data, never seen in training);
- a **loader**: any re-iterable of ``(x, y)`` batches with one label per sequence (classification, e.g. spoken
  digits). The logits are the readout reduced over time (``readout_reduction`` = ``"max"`` or ``"mean"``):

  .. math::  \text{logits}_c = \max_t o_{t,c} \quad\text{or}\quad \frac{1}{T}\sum_t o_{t,c}, \qquad L = \mathrm{CE}(\text{logits}, y)   \qquad (7.6)

**Flossing** (:mod:`helpers.flossing`): before training step ``s`` the loop runs
``schedule.updates_before(s)`` flossing updates (``floss`` with a persistent Adam optimiser over the dynamics
parameters only), and if ``schedule.loss_weight(s) > 0`` it adds
``loss_weight * flossing_loss(flossing_exponents(model, x_fresh, config))`` to the task loss (eq. 7.7):

.. math::  L_\text{total} = L_\text{task} + w_s \frac{1}{k}\sum_{i \le k} (\lambda_i - \lambda_\text{target})^2   \qquad (7.7)
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from .checks import check_int
from .config import run_mode
from .fast import fast_forward
from .flossing import FlossingConfig, floss, flossing_exponents, flossing_loss, reference_schedule
from .lyapunov import lyapunov_spectrum
from .models import MultiLayerSNN, RecurrentSNN
from .neurons import LIFParams
from .provenance import atomic_torch_save
from .tasks import DelayedTask

READOUT_REDUCTIONS = ("max", "mean")
HISTORY_KEYS = ("step", "loss", "accuracy", "train_loss", "grad_norm", "grad_norm_early", "lyap_step",
                "exponents", "lambda_1", "flossing_updates", "flossing_time_s", "wall_time_s")


# ---------------------------------------------------------------------------------------------- data adapters
def _is_task(data) -> bool:
    return all(hasattr(data, name) for name in ("sample", "loss", "accuracy"))


def reduce_readout(output: torch.Tensor, reduction: str) -> torch.Tensor:
    """Readout over time (batch, T, n_out) -> logits (batch, n_out) by eq. (7.6)."""
    if reduction == "max":
        return output.max(1).values
    if reduction == "mean":
        return output.mean(1)
    raise ValueError(f"readout_reduction must be one of {READOUT_REDUCTIONS}, got {reduction!r}")


class _LoaderAdapter:
    """Presents a loader of (x, y) per-sequence labels through the task interface (mask unused)."""

    def __init__(self, loader, reduction: str):
        if reduction not in READOUT_REDUCTIONS:
            raise ValueError(f"readout_reduction must be one of {READOUT_REDUCTIONS}, got {reduction!r}")
        self.loader, self.reduction, self._it = loader, reduction, None

    def next_batch(self):
        for _ in range(2):
            if self._it is None:
                self._it = iter(self.loader)
            try:
                return next(self._it)
            except StopIteration:
                self._it = None
        raise ValueError("the data loader yielded no batches")

    def loss(self, output, y, mask=None):
        return F.cross_entropy(reduce_readout(output, self.reduction), y)

    def accuracy(self, output, y, mask=None):
        return float((reduce_readout(output, self.reduction).argmax(-1) == y).float().mean())

    def input_sampler(self, batch, seq_len, generator=None):
        x = self.next_batch()[0]
        return x[:batch, :seq_len]


# ---------------------------------------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate(model, data, n_batches: int = 4, batch_size: int = 64, seed: int = 10_000, device=None,
             readout_reduction: str = "max") -> dict:
    """Mean loss and accuracy on fresh data.

    For a task: ``n_batches`` batches drawn from a generator seeded with ``seed`` (use a seed never used for
    training). For a loader: every batch of it (``n_batches`` ignored). Returns ``{"loss", "accuracy"}``.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    losses, accs, weights = [], [], []
    if _is_task(data):
        gen = torch.Generator(device=data.device).manual_seed(int(seed))
        batches = (data.sample(batch_size, gen) for _ in range(n_batches))
        task = data
    else:
        task = _LoaderAdapter(data, readout_reduction)
        batches = ((x, y, None) for x, y in data)
    for x, y, mask in batches:
        x, y = x.to(device), y.to(device)
        mask = mask.to(device) if mask is not None else None
        out = model(x).output
        losses.append(float(task.loss(out, y, mask)))
        accs.append(task.accuracy(out, y, mask))
        weights.append(x.shape[0])
    total = sum(weights)
    return {"loss": sum(l * w for l, w in zip(losses, weights)) / total,
            "accuracy": sum(a * w for a, w in zip(accs, weights)) / total}


def early_gradient_norm(model, x, y, mask, loss_fn, early_step: int) -> float:
    r"""Mean over the batch of :math:`\|\partial L/\partial h_t\|` at ``t = early_step`` (via ``forward(return_states=True)``)."""
    with torch.enable_grad():
        out = model(x, return_states=True)
        loss = loss_fn(out.output, y, mask)
        t = min(max(early_step, 0), len(out.states) - 1)
        (g,) = torch.autograd.grad(loss, [out.states[t]], allow_unused=True)
    return 0.0 if g is None else float(g.norm(dim=-1).mean())


# ---------------------------------------------------------------------------------------------- checkpoints
def _progress(total: int, initial: int, enabled: bool | None):
    if enabled is None:
        enabled = run_mode() != "quick" and sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, initial=initial, desc="training", leave=False)


# ---------------------------------------------------------------------------------------------- the loop
def train(
    model,
    task_or_loader,
    n_steps: int,
    lr: float = 1e-3,
    schedule=None,
    clip: float | None = 1.0,
    device=None,
    batch_size: int = 32,
    seed: int = 0,
    eval_every: int | None = None,
    eval_batches: int = 2,
    eval_batch_size: int = 64,
    eval_seed: int = 10_000,
    eval_loader=None,
    readout_reduction: str = "max",
    early_step: int | None = None,
    lyap_every: int | None = None,
    lyap_k: int = 1,
    lyap_len: int = 200,
    lyap_transient: int = 50,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 50,
    progress: bool | None = None,
    stop_after: int | None = None,
    fast: bool = False,
) -> dict:
    """Train ``model`` in place with Adam; returns the history dict.

    Args:
        model: an SNN of :mod:`helpers.models` (``forward(x, return_states=...)``, ``dynamics_parameters()``).
        task_or_loader: a task (see module docstring) or a re-iterable loader of (x, y) batches.
        n_steps: training (Adam) steps in total (a resumed run continues up to this number).
        lr: Adam learning rate for the task loss.
        schedule: a :class:`helpers.flossing.FlossingSchedule` (None: no flossing).
        clip: gradient-norm clipping threshold for the task step (None: no clipping).
        device: device for the model and batches (default: the model's).
        batch_size: training batch size (tasks).
        seed: seed of the training-data and flossing-input generators.
        eval_every: evaluate every this many steps and at the end (default ``max(1, n_steps // 10)``).
        eval_batches, eval_batch_size, eval_seed: the fresh evaluation data (tasks); for loaders pass
            ``eval_loader`` (default: no evaluation data, the training batch's accuracy is recorded).
        readout_reduction: ``"max"`` or ``"mean"`` over time for per-sequence labels (eq. 7.6).
        early_step: index t of the state whose gradient norm is recorded (default: a task's ``hold``, i.e.
            the state just after the first bit, else 1).
        lyap_every: estimate the leading ``lyap_k`` exponents every this many steps on a fresh input of
            ``lyap_len`` steps (after ``lyap_transient``) (default: at each evaluation). 0 disables.
        checkpoint: path of a checkpoint file; if it exists the run resumes from it; it is rewritten
            atomically (tmp file + ``os.replace``) every ``checkpoint_every`` steps and at the end.
        progress: show a tqdm bar (default: only outside quick mode and on a terminal).
        stop_after: stop (after checkpointing) once this step is reached: simulates an interruption.
        fast: run the task's forward and backward through :func:`helpers.fast.fast_forward` (the fused
            BPTT path: identical spikes, gradients equal to float rounding, about 3x faster for large
            networks). Off by default so that the stored studies rerun bit for bit.

    Resuming is exact for tasks (the data generators' states are checkpointed). For a loader, the loop
    restarts the loader's iteration (and flossing inputs and loader-mode diagnostics take batches from it).

    History keys: ``step``, ``loss``, ``accuracy`` (evaluation, fresh data), ``train_loss`` (per step),
    ``grad_norm`` (task gradient norm before clipping, per step), ``grad_norm_early`` (at evaluations),
    ``lyap_step``, ``exponents`` (lists of k), ``lambda_1``, ``flossing_updates``, ``flossing_time_s``,
    ``wall_time_s``.
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"n_steps must be an integer >= 0, got {n_steps!r}")
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be None or a number > 0, got {clip!r}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    is_task = _is_task(task_or_loader)
    task = task_or_loader if is_task else _LoaderAdapter(task_or_loader, readout_reduction)
    eval_every = max(1, n_steps // 10) if eval_every is None else eval_every
    for name, value in (("eval_every", eval_every), ("checkpoint_every", checkpoint_every), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    lyap_every = eval_every if lyap_every is None else lyap_every
    if early_step is None:
        early_step = getattr(task_or_loader, "hold", 1) if is_task else 1
    gen_device = task_or_loader.device if is_task else torch.device("cpu")
    data_gen = torch.Generator(device=gen_device).manual_seed(int(seed))
    floss_gen = torch.Generator(device=gen_device).manual_seed(int(seed) + 1)

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=lr)
    floss_opt = None
    if schedule is not None:
        floss_opt = torch.optim.Adam([p for p in model.dynamics_parameters() if p.requires_grad], lr=schedule.config.lr)
    history = {key: [] for key in HISTORY_KEYS}
    history.update(flossing_updates=0, flossing_time_s=0.0, wall_time_s=0.0)
    start_step = 0

    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    if ckpt_path is not None and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if floss_opt is not None and state.get("floss_optimizer") is not None:
            floss_opt.load_state_dict(state["floss_optimizer"])
        if schedule is not None and hasattr(schedule, "load_state_dict"):
            schedule.load_state_dict(state.get("schedule") or {})  # e.g. an adaptive schedule's triggers
        history, start_step = state["history"], state["step"]
        data_gen.set_state(state["data_gen"].cpu())
        floss_gen.set_state(state["floss_gen"].cpu())

    def save(step):
        if ckpt_path is not None:
            atomic_torch_save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                          "floss_optimizer": floss_opt.state_dict() if floss_opt is not None else None,
                          "schedule": schedule.state_dict() if hasattr(schedule, "state_dict") else None,
                          "history": history, "step": step, "data_gen": data_gen.get_state(),
                          "floss_gen": floss_gen.get_state()}, ckpt_path)

    def record_eval(step):
        if is_task:
            res = evaluate(model, task_or_loader, eval_batches, eval_batch_size, eval_seed, device)
            x, y, mask = task_or_loader.sample(min(eval_batch_size, 16), torch.Generator(device=gen_device).manual_seed(eval_seed + 1))
        elif eval_loader is not None:
            res = evaluate(model, eval_loader, device=device, readout_reduction=readout_reduction)
            x, y = next(iter(eval_loader))
            mask = None
        else:
            res = {"loss": history["train_loss"][-1] if history["train_loss"] else float("nan"),
                   "accuracy": float("nan")}
            x, y = task.next_batch()
            mask = None
        x, y = x.to(device), y.to(device)
        mask = mask.to(device) if mask is not None else None
        history["step"].append(step)
        history["loss"].append(res["loss"])
        history["accuracy"].append(res["accuracy"])
        history["grad_norm_early"].append(early_gradient_norm(model, x, y, mask, task.loss, early_step))
        if lyap_every and (step % lyap_every == 0 or step == n_steps):
            xl = task.input_sampler(4, lyap_len + lyap_transient, torch.Generator(device=gen_device).manual_seed(eval_seed + 2))
            with torch.no_grad():
                exps = lyapunov_spectrum(model, xl.to(device), k=min(lyap_k, model.state_dim),
                                         transient=lyap_transient,
                                         generator=torch.Generator().manual_seed(0)).exponents.mean(0)
            history["lyap_step"].append(step)
            history["exponents"].append([float(e) for e in exps])
            history["lambda_1"].append(float(exps[0]))

    bar = _progress(n_steps, start_step, progress)
    t_start = time.perf_counter() - history["wall_time_s"]
    if start_step == 0 and n_steps > 0 and not history["step"]:
        record_eval(0)
    step = start_step
    while step < n_steps:
        if stop_after is not None and step >= stop_after:
            break
        model.train()
        # ---- flossing episodes (eq. 7.7 and helpers.flossing.floss)
        if schedule is not None:
            n_floss = int(schedule.updates_before(step))
            if n_floss > 0:
                t0 = time.perf_counter()
                floss(model, task.input_sampler, n_floss, schedule.config, optimizer=floss_opt, generator=floss_gen)
                history["flossing_time_s"] += time.perf_counter() - t0
                history["flossing_updates"] += n_floss
        # ---- task step
        if is_task:
            x, y, mask = task_or_loader.sample(batch_size, data_gen)
        else:
            (x, y), mask = task.next_batch(), None
        x, y = x.to(device), y.to(device)
        mask = mask.to(device) if mask is not None else None
        out = fast_forward(model, x) if fast else model(x)
        loss = task.loss(out.output, y, mask)
        weight = float(schedule.loss_weight(step)) if schedule is not None else 0.0
        total = loss
        if weight > 0:
            t0 = time.perf_counter()
            cfg = schedule.config
            xf = task.input_sampler(cfg.batch_size, cfg.seq_len, floss_gen).to(device)
            total = loss + weight * flossing_loss(flossing_exponents(model, xf, cfg), k=cfg.k, target=cfg.target)
            history["flossing_time_s"] += time.perf_counter() - t0
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        norm = torch.nn.utils.clip_grad_norm_(trainable, clip if clip is not None else float("inf"))
        optimizer.step()
        step += 1
        history["train_loss"].append(float(loss.detach()))
        history["grad_norm"].append(float(norm))
        if step % eval_every == 0 or step == n_steps:
            model.eval()
            record_eval(step)
            if schedule is not None and hasattr(schedule, "observe"):
                schedule.observe(step, history)  # adaptive schedules read lambda_1 / early gradients here
        history["wall_time_s"] = time.perf_counter() - t_start
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{float(loss):.3f}")
        if step % checkpoint_every == 0 or step == n_steps or (stop_after is not None and step >= stop_after):
            save(step)
    if bar is not None:
        bar.close()
    history["wall_time_s"] = time.perf_counter() - t_start
    return history


# ---------------------------------------------------------------------------------------------- delayed-task runs
#: The calibrated setting of notebook 07 and ``scripts/delayed_xor_study.py`` (see the notebook for the
#: measurements behind each choice). Times in seconds, rates as spike probabilities per step.
DELAY_STUDY_DEFAULTS = dict(
    n_hidden=64, layers=1, hold=4, n_per_group=10, rate=0.3, background=0.02, extra_bits=4,
    tau_mem=10e-3, tau_syn=5e-3, dt=1e-3, reset="subtract", surrogate="fast_sigmoid", steepness=10.0,
    init="fluctuation", input_rate=0.16, hidden_rate=0.05, tau_out=5e-3,
    lr=3e-3, batch_size=32, n_steps=300, clip=1.0, eval_batches=2, eval_batch_size=64,
    test_batches=4, test_batch_size=128,
    floss_updates_scale=0.06, floss_episode_steps=(100, 200), floss_seq_len=100, floss_transient=20,
    floss_k=4, floss_target=0.0, floss_batch_size=4, floss_lr=3e-3, floss_path="frozen", floss_rate_weight=0.0,
    floss_keep_norm=False,
)


def delayed_task_setup(kind: str, delay: int, seed: int, device=None, **overrides):
    """Build the task and a freshly initialised network of the calibrated setting.

    The network is a :class:`~helpers.models.RecurrentSNN` of ``n_hidden`` neurons, or with ``layers`` > 1 a
    :class:`~helpers.models.MultiLayerSNN` of ``layers`` recurrent layers of ``n_hidden`` neurons each.
    ``overrides`` replace entries of :data:`DELAY_STUDY_DEFAULTS`. Returns ``(task, model, settings)``.
    """
    unknown = set(overrides) - set(DELAY_STUDY_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; allowed: {sorted(DELAY_STUDY_DEFAULTS)}")
    s = {**DELAY_STUDY_DEFAULTS, **overrides}
    device = torch.device(device) if device is not None else torch.device("cpu")
    task = DelayedTask(kind, delay, n_bits=delay + s["extra_bits"], hold=s["hold"], n_per_group=s["n_per_group"],
                       rate=s["rate"], background=s["background"], device=device)
    params = LIFParams(tau_mem=s["tau_mem"], tau_syn=s["tau_syn"], dt=s["dt"], reset=s["reset"],
                       surrogate=s["surrogate"], steepness=s["steepness"])
    gen = torch.Generator().manual_seed(int(seed))
    layers = check_int("layers", s["layers"], 1)
    common = dict(params=params, init=s["init"], input_rate=s["input_rate"], hidden_rate=s["hidden_rate"],
                  tau_out=s["tau_out"], generator=gen)
    if layers == 1:
        model = RecurrentSNN(task.n_in, s["n_hidden"], task.n_out, **common)
    else:
        model = MultiLayerSNN(task.n_in, (s["n_hidden"],) * layers, task.n_out, recurrent=True, **common)
    return task, model.to(device), s


#: Schedules of the delayed-task runs: the course's default since notebook 09, and the reference method.
DELAY_SCHEDULES = ("recommended", "reference")


def delayed_task_flossing_config(settings: dict) -> FlossingConfig:
    """The flossing pass of the delayed-task setting (k, target, sequence length, ... from ``settings``)."""
    return FlossingConfig(k=settings["floss_k"], target=settings["floss_target"], seq_len=settings["floss_seq_len"],
                          transient=settings["floss_transient"], batch_size=settings["floss_batch_size"],
                          lr=settings["floss_lr"], path=settings["floss_path"],
                          rate_weight=settings["floss_rate_weight"], keep_norm=settings["floss_keep_norm"])


def delayed_task_schedule(settings: dict, schedule: str = "recommended"):
    """The flossing schedule of a delayed-task run.

    ``"recommended"``: :func:`helpers.schedules.recommended_schedule` (the flossing loss with weight 10 on
    every 20th step, notebook 09); ``"reference"``: :func:`helpers.flossing.reference_schedule` scaled to the
    budget (``floss_updates_scale``, ``floss_episode_steps``), the schedule of the first delayed-XOR studies.
    """
    from .schedules import recommended_schedule

    if schedule not in DELAY_SCHEDULES:
        raise ValueError(f"schedule must be one of {DELAY_SCHEDULES}, got {schedule!r}")
    config = delayed_task_flossing_config(settings)
    if schedule == "recommended":
        return recommended_schedule(config)
    return reference_schedule(config, updates_scale=settings["floss_updates_scale"],
                              episode_steps=tuple(settings["floss_episode_steps"]))


def run_delayed_task(kind: str, delay: int, flossing: bool, seed: int, device=None, checkpoint=None,
                     progress: bool | None = False, schedule: str = "recommended", fast: bool = False,
                     **overrides) -> dict:
    """Train one network on a delayed task (with or without flossing) and test it on fresh data.

    With ``flossing``, ``schedule`` names the schedule (:data:`DELAY_SCHEDULES`, see
    :func:`delayed_task_schedule`); ``fast`` trains through the fused path of :mod:`helpers.fast`.

    The test data come from a generator seeded with ``10**6 + seed`` (never used for training, seed ``seed``,
    nor for the evaluations during training, seed ``10**4``). Returns one record of the study (see
    ``scripts/delayed_xor_study.py``).
    """
    task, model, s = delayed_task_setup(kind, delay, seed, device, **overrides)
    schedule_name = schedule
    schedule = delayed_task_schedule(s, schedule_name) if flossing else None
    t0 = time.perf_counter()
    hist = train(model, task, s["n_steps"], lr=s["lr"], schedule=schedule, clip=s["clip"], device=task.device, fast=fast,
                 batch_size=s["batch_size"], seed=seed, eval_every=max(1, s["n_steps"] // 3),
                 eval_batches=s["eval_batches"], eval_batch_size=s["eval_batch_size"], eval_seed=10_000,
                 lyap_every=s["n_steps"], lyap_k=1, checkpoint=checkpoint, progress=progress)
    test = evaluate(model, task, s["test_batches"], s["test_batch_size"], seed=10**6 + seed, device=task.device)
    return delayed_task_record(kind, delay, flossing, seed, schedule_name, task, s, hist, test,
                               wall_time_s=time.perf_counter() - t0, flossing_time_s=hist["flossing_time_s"])


def delayed_task_record(kind: str, delay: int, flossing: bool, seed: int, schedule: str, task, settings: dict,
                        hist: dict, test: dict, *, wall_time_s: float, flossing_time_s: float) -> dict:
    """One record of the delayed-task studies from a run's training history and test result."""
    nan = float("nan")
    s = settings
    return {
        "task": kind, "delay": delay, "delay_steps": task.delay_steps,
        "delay_tau_mem": task.delay_steps * s["dt"] / s["tau_mem"], "flossing": bool(flossing), "seed": seed,
        "schedule": schedule if flossing else "none",
        "test_accuracy": test["accuracy"], "final_loss": test["loss"],
        "final_train_loss": hist["train_loss"][-1] if hist["train_loss"] else nan,
        "train_steps": s["n_steps"], "wall_time_s": wall_time_s,
        "flossing_time_s": flossing_time_s, "flossing_updates": hist["flossing_updates"],
        "grad_norm_early": hist["grad_norm_early"][-1], "grad_norm_early_init": hist["grad_norm_early"][0],
        "lambda_1": hist["lambda_1"][-1] if hist["lambda_1"] else nan,
        "lambda_1_init": hist["lambda_1"][0] if hist["lambda_1"] else nan,
        "val_accuracy_curve": {"step": hist["step"], "accuracy": hist["accuracy"]},
    }
