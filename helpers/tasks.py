r"""Temporal tasks with spike-coded inputs: delayed XOR and delayed copy.

**The bit stream.** A sequence of ``n_bits`` i.i.d. random bits :math:`x_b \in \{0, 1\}` (b = 0..n_bits-1,
each 0 or 1 with probability 1/2). Each bit is *held* for ``hold`` time steps (bit slot b covers steps
:math:`t \in [b\,\text{hold}, (b+1)\,\text{hold})`), so a sequence has ``seq_len = n_bits * hold`` steps.

**The targets** (delays ``delay`` = d are in units of **bits**; in steps the delay is d * hold, in membrane
time constants d * hold * dt / tau_mem):

.. math::  y_b = x_{b - d/2} \oplus x_{b - d}  \quad\text{(delayed XOR, d even)}   \qquad (7.1)

.. math::  y_b = x_{b - d}                    \quad\text{(delayed copy)}           \qquad (7.2)

defined only for :math:`b \ge d`. Every step of slot b carries the target :math:`y_b`; the **mask** is
True on the steps of slots :math:`b \ge d` only (no target before the delay: the loss and the accuracy
ignore the first d slots).

**The spike code.** The input population has two groups of ``n_per_group`` Poisson neurons, group 0
for the bit value 0 and group 1 for the value 1. While bit :math:`x_b` is presented, the neurons of group
:math:`x_b` fire with probability ``rate`` per step and all others at the ``background`` probability:

.. math::  P(\text{spike of neuron } i \text{ at step } t) = \begin{cases}\text{rate} & i \in \text{group } x_{\lfloor t/\text{hold}\rfloor}\\ \text{background} & \text{otherwise}\end{cases}  \qquad (7.3)

**Loss and accuracy.** The network has two readout units (class 0 / class 1). The loss is the
cross-entropy of the readout at every masked step (eq. 7.4); the accuracy is per bit slot: the readout
averaged over the steps of a slot, argmax, compared with :math:`y_b`, over all masked slots (eq. 7.5).

.. math::  L = \frac{1}{|M|} \sum_{(n,t) \in M} -\log \operatorname{softmax}(o_{n,t})_{y_{n,t}}   \qquad (7.4)

.. math::  \text{acc} = \frac{1}{|M_\text{slots}|} \sum_{(n,b) \in M_\text{slots}} [\arg\max_c \bar o_{n,b,c} = y_{n,b}],
           \quad \bar o_{n,b} = \frac{1}{\text{hold}} \sum_{t \in \text{slot } b} o_{n,t}  \qquad (7.5)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

TASK_KINDS = ("xor", "copy")


def _check_int(name, value, minimum, allowed: str):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer ({allowed}), got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return value


def _check_prob(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a spike probability per step in [0, 1], got {value!r}")
    return float(value)


@dataclass
class DelayedTask:
    """Delayed XOR (eq. 7.1) or delayed copy (eq. 7.2) of a spike-coded random bit stream (eq. 7.3).

    Args:
        kind: ``"xor"`` or ``"copy"``.
        delay: d, in bits (slots); >= 1 for copy, an even number >= 2 for XOR (d/2 must be a whole bit).
        n_bits: bits per sequence (> delay, so that at least one slot has a target); default ``delay + 8``.
        hold: time steps each bit is presented (>= 1).
        n_per_group: Poisson neurons per bit value (the input has ``2 * n_per_group`` channels).
        rate: spike probability per step of the active group (in (0, 1]).
        background: spike probability per step of the inactive group (in [0, rate)).
        device: where the samples are made (the generators passed in must live there too).

    Attributes: ``n_in`` (= 2 n_per_group), ``n_out`` (= 2), ``seq_len`` (= n_bits * hold steps),
    ``delay_steps`` (= delay * hold).
    """

    kind: str = "xor"
    delay: int = 4
    n_bits: int | None = None
    hold: int = 5
    n_per_group: int = 10
    rate: float = 0.5
    background: float = 0.0
    device: torch.device | str | None = None

    def __post_init__(self):
        if self.kind not in TASK_KINDS:
            raise ValueError(f"kind must be one of {TASK_KINDS}, got {self.kind!r}")
        if self.kind == "xor":
            _check_int("delay", self.delay, 2, "an even integer >= 2 for kind='xor'")
            if self.delay % 2:
                raise ValueError(f"delay must be an even integer >= 2 for kind='xor' (d/2 must be a whole bit), "
                                 f"got {self.delay}")
        else:
            _check_int("delay", self.delay, 1, "an integer >= 1 for kind='copy'")
        if self.n_bits is None:
            self.n_bits = self.delay + 8
        _check_int("n_bits", self.n_bits, self.delay + 1, f"an integer > delay = {self.delay} (bits per sequence)")
        _check_int("hold", self.hold, 1, "a positive integer (time steps per bit)")
        _check_int("n_per_group", self.n_per_group, 1, "a positive integer (neurons per bit value)")
        self.rate = _check_prob("rate", self.rate)
        if self.rate == 0.0:
            raise ValueError(f"rate must be a spike probability per step in (0, 1], got {self.rate!r}")
        self.background = _check_prob("background", self.background)
        if self.background >= self.rate:
            raise ValueError(f"background must be in [0, rate) = [0, {self.rate}), got {self.background!r}")
        self.device = torch.device("cpu") if self.device is None else torch.device(self.device)

    # ------------------------------------------------------------------ sizes
    @property
    def n_in(self) -> int:
        return 2 * self.n_per_group

    @property
    def n_out(self) -> int:
        return 2

    @property
    def seq_len(self) -> int:
        return self.n_bits * self.hold

    @property
    def delay_steps(self) -> int:
        return self.delay * self.hold

    # ------------------------------------------------------------------ data
    def bits(self, batch: int, n_bits: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Random bits (batch, n_bits), int64 0/1."""
        _check_int("batch", batch, 1, "a positive integer")
        return torch.randint(0, 2, (batch, n_bits), generator=generator, device=self.device)

    def targets(self, bits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-slot targets and mask from bits (batch, n_bits): eqs. (7.1)/(7.2); slots b < d get target 0, mask False."""
        d = self.delay
        y = torch.zeros_like(bits)
        if self.kind == "xor":
            y[:, d:] = bits[:, d // 2 : bits.shape[1] - d // 2] ^ bits[:, : bits.shape[1] - d]
        else:
            y[:, d:] = bits[:, : bits.shape[1] - d]
        mask = torch.zeros_like(bits, dtype=torch.bool)
        mask[:, d:] = True
        return y, mask

    def encode(self, bits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Spike code of eq. (7.3): (batch, n_bits * hold, n_in) float 0/1."""
        batch, n_bits = bits.shape
        steps = bits.repeat_interleave(self.hold, dim=1)  # (batch, T)
        group = torch.arange(self.n_in, device=self.device) // self.n_per_group  # channel -> bit value
        active = steps.unsqueeze(-1) == group  # (batch, T, n_in)
        prob = torch.where(active, self.rate, self.background)
        uniform = torch.rand(prob.shape, generator=generator, device=self.device)
        return (uniform < prob).float()

    def sample(self, batch: int, generator: torch.Generator | None = None):
        """One batch: ``(x, y, mask)``: spikes (batch, seq_len, n_in), per-step targets (batch, seq_len)
        int64 and mask (batch, seq_len) bool (False before the delay)."""
        bits = self.bits(batch, self.n_bits, generator)
        y, mask = self.targets(bits)
        x = self.encode(bits, generator)
        return x, y.repeat_interleave(self.hold, 1), mask.repeat_interleave(self.hold, 1)

    def input_sampler(self, batch: int, seq_len: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Fresh task-like inputs (batch, seq_len, n_in) of any length (for flossing and Lyapunov spectra)."""
        _check_int("seq_len", seq_len, 1, "a positive integer (time steps)")
        n_bits = -(-seq_len // self.hold)
        return self.encode(self.bits(batch, n_bits, generator), generator)[:, :seq_len]

    # ------------------------------------------------------------------ evaluation
    def loss(self, output: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Cross-entropy over the masked steps (eq. 7.4); output (batch, T, 2) readout logits."""
        return F.cross_entropy(output[mask], y[mask])

    def accuracy(self, output: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> float:
        """Fraction of masked bit slots whose slot-averaged readout picks the target (eq. 7.5)."""
        batch, n_steps, n_out = output.shape
        n_slots = n_steps // self.hold
        shape = (batch, n_slots, self.hold)
        mean_out = output[:, : n_slots * self.hold].reshape(*shape, n_out).mean(2)
        y_slot = y[:, : n_slots * self.hold].reshape(shape)[..., 0]
        m_slot = mask[:, : n_slots * self.hold].reshape(shape)[..., 0]
        correct = (mean_out.argmax(-1) == y_slot)[m_slot]
        return float(correct.float().mean()) if correct.numel() else float("nan")

    def describe(self) -> str:
        extra = f" (d/2 = {self.delay // 2})" if self.kind == "xor" else ""
        return (f"delayed {self.kind}: delay {self.delay} bits{extra} = {self.delay_steps} steps, hold {self.hold}, "
                f"{self.n_bits} bits = {self.seq_len} steps, {self.n_in} inputs "
                f"({self.n_per_group}/group, rate {self.rate}, background {self.background})")


def delayed_xor(delay: int, **kwargs) -> DelayedTask:
    """Delayed XOR task (eq. 7.1); ``delay`` in bits (even). See :class:`DelayedTask` for the arguments."""
    return DelayedTask(kind="xor", delay=delay, **kwargs)


def delayed_copy(delay: int, **kwargs) -> DelayedTask:
    """Delayed copy task (eq. 7.2); ``delay`` in bits. See :class:`DelayedTask` for the arguments."""
    return DelayedTask(kind="copy", delay=delay, **kwargs)
