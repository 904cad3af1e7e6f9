"""Input spike trains: the discrete-time Poisson process used throughout the course."""

from __future__ import annotations

import torch

from .checks import check_int


def poisson_spikes(
    batch: int,
    n_steps: int,
    n_channels: int,
    rate: float | torch.Tensor,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Bernoulli spikes with probability ``rate`` per channel and step: a Poisson process in discrete time.

    Args:
        batch, n_steps, n_channels: output shape (batch, n_steps, n_channels).
        rate: spike probability per step in [0, 1] (rate in Hz times dt in s); a float or a tensor that
            broadcasts to the output shape (e.g. (n_channels,) for channel-specific rates).
        generator: a seeded ``torch.Generator`` for reproducibility (on the same device).

    Returns a 0/1 tensor of shape (batch, n_steps, n_channels).
    """
    check_int("batch", batch, 1)
    check_int("n_steps", n_steps, 1)
    check_int("n_channels", n_channels, 1)
    rate_t = torch.as_tensor(rate, dtype=dtype, device=device)
    if not bool(((rate_t >= 0) & (rate_t <= 1)).all()):
        raise ValueError(f"rate must be a probability per step in [0, 1], got {rate!r}")
    uniform = torch.rand(batch, n_steps, n_channels, generator=generator, dtype=dtype, device=device)
    return (uniform < rate_t).to(dtype)
