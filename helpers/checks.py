"""Argument checks shared by the course's modules.

Every check raises a ``ValueError`` (or ``TypeError``) whose message names the argument, the value
given and what is allowed, so that a learner who mistypes a slider range or a shape sees at once what
went wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


def check_positive(name: str, value: float) -> float:
    """Return ``value`` if it is a finite number > 0, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number > 0, got {value!r} of type {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def check_nonnegative(name: str, value: float) -> float:
    """Return ``value`` if it is a finite number >= 0, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number >= 0, got {value!r} of type {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def check_int(name: str, value: int, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int in ``[minimum, maximum]``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "-inf" if minimum is None else minimum
        high = "inf" if maximum is None else maximum
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value}")
    return value


def check_choice(name: str, value: str, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_tensor(
    name: str,
    value: torch.Tensor,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = True,
) -> torch.Tensor:
    """Check that ``value`` is a floating tensor of the given rank / shape (``None`` = any size).

    Raises ``TypeError`` for a non-tensor or an integer tensor, ``ValueError`` for a wrong rank, a wrong
    shape or (with ``finite=True``) a NaN or infinite entry.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(value.shape)}")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(value.shape, shape)):
            if want is not None and got != want:
                expected = tuple("any" if s is None else s for s in shape)
                raise ValueError(
                    f"{name} must have shape {expected}, got {tuple(value.shape)} (axis {axis}: {got} != {want})"
                )
    if finite and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must contain only finite values, got NaN or inf")
    return value
