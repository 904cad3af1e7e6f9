r"""Reference dynamical systems with known Lyapunov exponents, implementing the protocol of
:mod:`helpers.lyapunov` (``state_dim``, ``initial_state``, ``step``, ``tangent``).

==========================  ==============================================  =====================================
system                      map                                             known answer
==========================  ==============================================  =====================================
:class:`LinearMap`          :math:`h \mapsto A h`                            :math:`\log|\mathrm{eig}(A)|`
:class:`RandomMatrixProduct` :math:`h \mapsto M_t h`, :math:`M_t` i.i.d.     :math:`\tfrac12(\log 2s^2 + \psi(\tfrac{N-i+1}{2}))`
:class:`HenonMap`           :math:`(x, y) \mapsto (1 - a x^2 + y, b x)`      :math:`\lambda_1 \approx 0.4192`, :math:`\lambda_1+\lambda_2 = \log b`
:class:`RandomTanhNetwork`  :math:`h \mapsto J \tanh(h)`                     :math:`g<1`: :math:`\log \rho(J)`; :math:`g>1`: mean field
:class:`RateNetwork`        :math:`h \mapsto h + \tfrac{\Delta t}{\tau}(-h + J\tanh h + x)`  transition to chaos at g = 1
==========================  ==============================================  =====================================
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import check_int, check_positive, check_tensor


class LinearMap(nn.Module):
    """The constant linear map :math:`h_{t+1} = A h_t`; its exponents are :math:`\\log|\\mathrm{eig}(A)|`."""

    def __init__(self, a: torch.Tensor):
        super().__init__()
        check_tensor("a", a, ndim=2)
        if a.shape[0] != a.shape[1]:
            raise ValueError(f"a must be square, got shape {tuple(a.shape)}")
        self.a = nn.Parameter(a.clone())

    @property
    def state_dim(self) -> int:
        return self.a.shape[0]

    def initial_state(self, batch_size: int) -> torch.Tensor:
        return torch.ones(batch_size, self.state_dim, dtype=self.a.dtype, device=self.a.device)

    def step(self, h, x=None):
        return h @ self.a.T

    def tangent(self, h, x, q):
        q = q if q.ndim == 3 else q.expand(h.shape[0], *q.shape)
        return self.a @ q

    def exact_exponents(self) -> torch.Tensor:
        """:math:`\\log|\\mu_i|` for the eigenvalues :math:`\\mu_i` of A, sorted descending."""
        mags = torch.linalg.eigvals(self.a.detach()).abs()
        return torch.sort(torch.log(mags), descending=True).values


class RandomMatrixProduct:
    """Products of i.i.d. Gaussian N x N matrices: the input at step t *is* the matrix :math:`M_t`.

    ``inputs`` of :func:`lyapunov_spectrum` is (batch, T, N*N) with i.i.d. :math:`\\mathcal N(0, s^2)`
    entries (:meth:`sample`); ``step`` is :math:`h \\mapsto M_t h` and ``tangent`` is :math:`M_t Q`.
    Exact finite-N exponents (Newman 1986; Cohen & Newman 1984):
    :math:`\\lambda_i = \\tfrac12(\\log(2 s^2) + \\psi((N-i+1)/2))`, standard error of a T-step estimate
    :math:`\\sqrt{\\psi'((N-i+1)/2) / (4T)}` (:meth:`exact_exponents`, :meth:`standard_errors`).
    """

    def __init__(self, n: int, s: float = 1.0, dtype=torch.float64):
        self.n = check_int("n", n, 1)
        self.s = check_positive("s", s)
        self.dtype = dtype

    @property
    def state_dim(self) -> int:
        return self.n

    def initial_state(self, batch_size):
        return torch.ones(batch_size, self.n, dtype=self.dtype)

    def sample(self, batch: int, n_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.s * torch.randn(batch, n_steps, self.n * self.n, generator=generator, dtype=self.dtype)

    def _matrix(self, x):
        return x.reshape(x.shape[0], self.n, self.n)

    def step(self, h, x):
        return (self._matrix(x) @ h.unsqueeze(-1)).squeeze(-1)

    def tangent(self, h, x, q):
        return self._matrix(x) @ q

    def exact_exponents(self) -> torch.Tensor:
        i = torch.arange(1, self.n + 1, dtype=torch.float64)
        return 0.5 * (math.log(2 * self.s**2) + torch.special.digamma((self.n - i + 1) / 2))

    def standard_errors(self, n_steps: int) -> torch.Tensor:
        i = torch.arange(1, self.n + 1, dtype=torch.float64)
        trigamma = torch.special.polygamma(1, (self.n - i + 1) / 2)
        return torch.sqrt(trigamma / (4 * n_steps))


class HenonMap(nn.Module):
    """The Henon map :math:`(x, y) \\mapsto (1 - a x^2 + y,\\ b x)`; for a = 1.4, b = 0.3,
    :math:`\\lambda_1 \\approx 0.4192` and :math:`\\lambda_1 + \\lambda_2 = \\log b` (the Jacobian's
    determinant is :math:`-b` everywhere)."""

    def __init__(self, a: float = 1.4, b: float = 0.3, dtype=torch.float64):
        super().__init__()
        self.a, self.b, self.dtype = a, b, dtype

    state_dim = 2

    def initial_state(self, batch_size):
        start = torch.tensor([0.1, 0.1], dtype=self.dtype)
        return start.repeat(batch_size, 1)

    def step(self, h, x=None):
        u, v = h[:, 0], h[:, 1]
        return torch.stack([1 - self.a * u * u + v, self.b * u], dim=-1)

    def tangent(self, h, x, q):
        q = q if q.ndim == 3 else q.expand(h.shape[0], *q.shape)
        u = h[:, 0, None]
        return torch.stack([-2 * self.a * u * q[:, 0] + q[:, 1], self.b * q[:, 0]], dim=1)


class RandomTanhNetwork(nn.Module):
    """Discrete random network :math:`h_{t+1} = J \\tanh(h_t) (+ x_t)`, :math:`J_{ij} \\sim \\mathcal N(0, g^2/N)`.

    The Jacobian is :math:`J\\, \\mathrm{diag}(1 - \\tanh^2 h_t)`: the derivative is evaluated at the
    *pre-activation* state h (a pitfall in public code is to evaluate it at the post-activation).
    For g < 1 the origin is stable and :math:`\\lambda_1 = \\log \\rho(J)`; for g > 1 mean-field theory
    gives :math:`\\lambda_1 = \\tfrac12 \\log(g^2 \\langle \\phi'^2 \\rangle)` (:func:`tanh_mean_field_lambda1`).
    """

    def __init__(self, n: int, g: float, generator: torch.Generator | None = None, dtype=torch.float64):
        super().__init__()
        check_int("n", n, 1)
        self.g = float(g)
        self.weight = nn.Parameter(g / math.sqrt(n) * torch.randn(n, n, generator=generator, dtype=dtype))
        self._init = torch.randn(n, generator=generator, dtype=dtype)

    @property
    def state_dim(self) -> int:
        return self.weight.shape[0]

    def initial_state(self, batch_size):
        return self._init.repeat(batch_size, 1)

    def step(self, h, x=None):
        out = torch.tanh(h) @ self.weight.T
        return out if x is None else out + x

    def tangent(self, h, x, q):
        d = 1 - torch.tanh(h) ** 2
        return self.weight @ (d.unsqueeze(-1) * q)


class RateNetwork(RandomTanhNetwork):
    """Continuous-time random rate network, Euler-discretised:
    :math:`h_{t+1} = h_t + \\frac{\\Delta t}{\\tau} (-h_t + J \\tanh h_t + x_t)`.

    Sompolinsky, Crisanti & Sommers (1988): chaotic for g > 1 in the large-N limit. Exponents are per
    step; divide by :math:`\\Delta t/\\tau` for units of 1/tau.
    """

    def __init__(self, n: int, g: float, dt_over_tau: float = 0.1, generator=None, dtype=torch.float64):
        super().__init__(n, g, generator=generator, dtype=dtype)
        self.dt_over_tau = check_positive("dt_over_tau", dt_over_tau)

    def step(self, h, x=None):
        drive = torch.tanh(h) @ self.weight.T - h
        if x is not None:
            drive = drive + x
        return h + self.dt_over_tau * drive

    def tangent(self, h, x, q):
        d = 1 - torch.tanh(h) ** 2
        return (1 - self.dt_over_tau) * q + self.dt_over_tau * (self.weight @ (d.unsqueeze(-1) * q))


def tanh_mean_field_lambda1(g: float) -> float:
    r"""Mean-field leading exponent of :class:`RandomTanhNetwork` for g > 1.

    The pre-activation is Gaussian with variance :math:`\Delta` solving
    :math:`\Delta = g^2 \langle \tanh^2(\sqrt{\Delta} z) \rangle_z` (z standard normal); then
    :math:`\lambda_1 = \tfrac12 \log(g^2 \langle \phi'(\sqrt\Delta z)^2 \rangle_z)`, :math:`\phi = \tanh`.
    Adaptive quadrature (the integrand of the second average is sharply peaked at z = 0 for large g,
    so a fixed Gauss-Hermite rule is not accurate enough) and fixed-point iteration.
    """
    from scipy import integrate

    def gaussian_mean(f):
        density = lambda z: math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # noqa: E731
        return integrate.quad(lambda z: density(z) * f(z), -40, 40, points=[0.0], limit=500)[0]

    delta = g * g
    for _ in range(1000):
        delta_new = g * g * gaussian_mean(lambda z: math.tanh(math.sqrt(delta) * z) ** 2)
        if abs(delta_new - delta) < 1e-12:
            break
        delta = delta_new
    dphi2 = gaussian_mean(lambda z: (1 - math.tanh(math.sqrt(delta) * z) ** 2) ** 2)
    return 0.5 * math.log(g * g * dphi2)
