r"""What theory says about surrogate gradients, made checkable (Gygax & Zenke 2025).

Three statements of Gygax & Zenke, *Elucidating the theoretical underpinnings of surrogate gradient
learning in spiking neural networks* (Neural Computation 37:886, 2025), each computed exactly here:

**(a) One stochastic neuron.** An escape-noise neuron spikes with probability

.. math::  P(S = 1 \mid v) = F(\beta_s v), \qquad F(z) = 1 / (1 + e^{-z}), \quad v = U - \vartheta  \qquad (3.7)

so its expected output is :math:`\mathbb E[S] = F(\beta_s v)` and

.. math::  \partial \mathbb E[S] / \partial w = \beta_s F'(\beta_s v)\, \partial v / \partial w.  \qquad (3.8)

The course's sigmoid surrogate is peak-1 normalised, :math:`\sigma'(v) = 4 F(\beta_s v)(1 - F(\beta_s v))
= 4 F'(\beta_s v)`, so

.. math::  \beta_s F'(\beta_s v) = \tfrac{\beta_s}{4}\, \sigma'_\text{sigmoid}(v)
           = \sigma'_\text{sigmoid}(v) / \text{area}(\sigma'_\text{sigmoid}),  \qquad (3.9)

i.e. the surrogate gradient of the *deterministic* neuron equals the gradient of the *expected* output of the
stochastic neuron exactly when the surrogate is the sigmoid of the same steepness **normalised to unit
area** (a probability density, like :math:`\beta_s F'`), which is the peak-1 surrogate times
:math:`\beta_s / 4`. :func:`single_neuron_check` computes both sides and a Monte Carlo estimate.

**(b) Two layers.** For a stochastic network with a hidden layer the gradient of the expected output
involves *finite differences* of the output probability over hidden spike patterns, averaged over the
hidden noise; the surrogate gradient uses *derivatives* at one (deterministic) operating point.
:func:`two_layer_gradients` computes the exact gradient by enumerating the :math:`2^{N_h}` hidden spike
patterns, the deterministic surrogate gradient and the mean surrogate gradient of the stochastic network;
:func:`sign_flip_network` builds a network where they have opposite signs.

**(c) Not a gradient field.** :func:`loop_integral` integrates a vector field around a circle in a plane of
two weights. For the gradient of any smooth function the result is zero (up to quadrature error, which the
periodic trapezoidal rule makes exponentially small); for the surrogate gradient of a two-layer network it
is not, so the surrogate gradient is the gradient of no function at all.

Equation numbers are those of notebook 03. Everything is float64 and uses the course's :func:`helpers.surrogate.spike` for the surrogate backward pass.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from .checks import check_int, check_positive, check_tensor
from .surrogate import spike, surrogate_area

THRESHOLD = 1.0


# ------------------------------------------------------------------------------------------------ (a)
def escape_probability(v: torch.Tensor, steepness: float) -> torch.Tensor:
    r"""Spike probability of the escape-noise neuron, :math:`F(\beta_s v)` with F the logistic (eq. 3.7).

    Args:
        v: distance to threshold :math:`U - \vartheta` (membrane units).
        steepness: :math:`\beta_s > 0` (1 / membrane units); large means little noise.
    """
    check_positive("steepness", steepness)
    return torch.sigmoid(steepness * v)


def matched_scale(steepness: float) -> float:
    r"""Factor that turns the peak-1 sigmoid surrogate into :math:`\beta_s F'` (eq. 3.9): :math:`\beta_s / 4`.

    Equal to ``1 / surrogate_area("sigmoid", steepness)``: the matching surrogate is the unit-area one.
    """
    return 1.0 / surrogate_area("sigmoid", steepness)


def scaled_spike(v: torch.Tensor, kind: str, steepness: float, scale: float = 1.0) -> torch.Tensor:
    r"""Heaviside forward; backward ``scale`` times the course's peak-1 surrogate of ``kind`` (eq. 3.5).

    ``scale = 1 / surrogate_area(kind, steepness)`` gives the unit-area normalisation. Built on
    :func:`helpers.surrogate.spike`: the forward value is exactly :math:`H(v)`.
    """
    s = spike(v, kind, steepness)
    return s if scale == 1.0 else s.detach() + scale * (s - s.detach())


def matched_spike(v: torch.Tensor, steepness: float) -> torch.Tensor:
    r"""Heaviside forward; backward :math:`\beta_s F'(\beta_s v)` (the unit-area sigmoid surrogate, eq. 3.9)."""
    return scaled_spike(v, "sigmoid", steepness, matched_scale(steepness))


@dataclass
class SingleNeuronCheck:
    """Gradients of :math:`J(w) = \\frac1B \\sum_b c_b\\, \\mathbb E[S_b]` for one escape-noise neuron, (n_in,) each.

    Attributes:
        exact: :math:`\\nabla J` from eq. (3.8) in closed form.
        monte_carlo, monte_carlo_stderr: score-function estimate from ``n_samples`` spike samples per
            pattern, and its standard error per component.
        surrogate_matched: surrogate gradient of the deterministic neuron with the unit-area sigmoid (eq. 3.9).
        surrogate_peak1: the same with the course's peak-1 sigmoid (``exact * 4 / steepness``).
        surrogate_mismatched: the peak-1 fast-sigmoid surrogate, for contrast (not proportional in general).
    """

    exact: torch.Tensor
    monte_carlo: torch.Tensor
    monte_carlo_stderr: torch.Tensor
    surrogate_matched: torch.Tensor
    surrogate_peak1: torch.Tensor
    surrogate_mismatched: torch.Tensor


def single_neuron_check(
    w: torch.Tensor,
    x: torch.Tensor,
    c: torch.Tensor,
    steepness: float,
    n_samples: int = 100_000,
    generator: torch.Generator | None = None,
) -> SingleNeuronCheck:
    r"""Check (a): the gradient of the expected output equals the matched surrogate gradient.

    The neuron sees B input patterns ``x`` (B, n_in) through weights ``w`` (n_in,):
    :math:`v_b = x_b \cdot w - \vartheta` (threshold 1). The objective is linear in the outputs,
    :math:`J = \frac1B \sum_b c_b S_b` with weights ``c`` (B,) (e.g. :math:`c_b = 1 - 2 y_b` makes
    :math:`\mathbb E[J]` the expected squared error against binary targets :math:`y_b`, up to a constant).

    The Monte Carlo estimate uses the score function: with :math:`p = F(\beta_s v)`,
    :math:`\partial_w \log P(S) = \beta_s (S - p)\, x`, so :math:`\nabla \mathbb E[J] =
    \mathbb E[J\, \partial_w \log P(S)]`; samples are independent across patterns.
    """
    check_tensor("w", w, ndim=1)
    check_tensor("x", x, shape=(None, w.shape[0]))
    check_tensor("c", c, shape=(x.shape[0],))
    check_positive("steepness", steepness)
    check_int("n_samples", n_samples, 2)
    w, x, c = w.double(), x.double(), c.double()
    batch = x.shape[0]
    v = x @ w - THRESHOLD
    p = escape_probability(v, steepness)
    exact = ((c * steepness * p * (1 - p)) @ x) / batch  # (3.8)

    # Monte Carlo, score function: each sample draws one spike per pattern.
    spikes = (torch.rand(n_samples, batch, generator=generator, dtype=torch.float64) < p).double()
    per_sample = ((c * spikes) * steepness * (spikes - p)) @ x / batch  # (n_samples, n_in)
    monte_carlo = per_sample.mean(0)
    stderr = per_sample.std(0) / math.sqrt(n_samples)

    def surrogate_grad(fn):
        w_ = w.clone().requires_grad_(True)
        out = (c * fn(x @ w_ - THRESHOLD)).sum() / batch
        (grad,) = torch.autograd.grad(out, w_)
        return grad

    return SingleNeuronCheck(
        exact=exact,
        monte_carlo=monte_carlo,
        monte_carlo_stderr=stderr,
        surrogate_matched=surrogate_grad(lambda u: matched_spike(u, steepness)),  # (3.9)
        surrogate_peak1=surrogate_grad(lambda u: spike(u, "sigmoid", steepness)),
        surrogate_mismatched=surrogate_grad(lambda u: spike(u, "fast_sigmoid", steepness)),
    )


# ------------------------------------------------------------------------------------------------ (b)
@dataclass
class TwoLayerNet:
    r"""A two-layer network of binary (one-step) neurons, float64.

    Hidden :math:`v_h = W_1 x + b_1 - \vartheta`, output :math:`v_o = W_2 h + b_2 - \vartheta` (threshold 1);
    stochastic version: :math:`h \sim \text{Bernoulli}(F(\beta_s v_h))`, :math:`o \sim
    \text{Bernoulli}(F(\beta_s v_o))`; deterministic version: :math:`h = H(v_h)`, :math:`o = H(v_o)`.
    The objective is :math:`J = \frac1B \sum_b c \cdot o_b` with fixed output weights ``c`` (n_out,).

    Attributes:
        w1 (n_h, n_in), b1 (n_h,), w2 (n_out, n_h), b2 (n_out,), c (n_out,), x (B, n_in) input patterns.
    """

    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor
    c: torch.Tensor
    x: torch.Tensor

    def parameters(self) -> list[torch.Tensor]:
        return [self.w1, self.b1, self.w2, self.b2]

    @property
    def n_hidden(self) -> int:
        return self.w1.shape[0]


def random_two_layer_net(n_in: int = 4, n_hidden: int = 6, n_out: int = 3, batch: int = 4,
                         generator: torch.Generator | None = None) -> TwoLayerNet:
    """Random :class:`TwoLayerNet`: Gaussian weights with membrane potentials of order 1 around threshold.

    Inputs are 0/1 patterns; output weights ``c`` are random signs (so several paths compete).
    """
    check_int("n_hidden", n_hidden, 1, 14)
    g = dict(generator=generator, dtype=torch.float64)
    x = (torch.rand(batch, n_in, **g) < 0.5).double()
    w1 = torch.randn(n_hidden, n_in, **g) * 1.5 / math.sqrt(n_in)
    w2 = torch.randn(n_out, n_hidden, **g) * 2.0 / math.sqrt(n_hidden)
    b1 = 1.0 + 0.5 * torch.randn(n_hidden, **g)
    b2 = 1.0 + 0.5 * torch.randn(n_out, **g)
    c = torch.where(torch.rand(n_out, **g) < 0.5, -1.0, 1.0).double()
    return TwoLayerNet(w1, b1, w2, b2, c, x)


def hidden_patterns(n_hidden: int) -> torch.Tensor:
    """All 2^n_hidden binary hidden spike patterns, (2^n_hidden, n_hidden), float64."""
    return torch.tensor(list(itertools.product((0.0, 1.0), repeat=n_hidden)), dtype=torch.float64)


def pattern_probabilities(p_hidden: torch.Tensor, patterns: torch.Tensor) -> torch.Tensor:
    r""":math:`P(h \mid x) = \prod_j p_j^{h_j} (1 - p_j)^{1 - h_j}` for each row of ``p_hidden`` (B, n_h) and each
    pattern (P, n_h); returns (B, P). A product, not exp(sum log), so that p = 0 or 1 (saturated neurons)
    gives exact zeros and finite gradients."""
    factors = torch.where(patterns[None] > 0.5, p_hidden[:, None], 1.0 - p_hidden[:, None])  # (B, P, n_h)
    return factors.prod(-1)


def expected_objective(net: TwoLayerNet, params: list[torch.Tensor], steepness: float) -> torch.Tensor:
    r"""Exact :math:`\mathbb E[J]` of the stochastic network by enumeration of hidden patterns (eq. 3.10).

    .. math::  \mathbb E[J] = \frac1B \sum_b \sum_{h \in \{0,1\}^{N_h}} P(h \mid x_b)\, c \cdot F(\beta_s (W_2 h + b_2 - \vartheta))  \qquad (3.10)

    with :math:`P(h \mid x) = \prod_j p_j^{h_j} (1 - p_j)^{1 - h_j}`, :math:`p = F(\beta_s v_h)`. Smooth in
    all parameters, so autograd gives the exact gradient.
    """
    w1, b1, w2, b2 = params
    patterns = hidden_patterns(w1.shape[0])  # (P, n_h)
    p_hidden = escape_probability(net.x @ w1.T + b1 - THRESHOLD, steepness)  # (B, n_h)
    prob = pattern_probabilities(p_hidden, patterns)  # (B, P)
    p_out = escape_probability(patterns @ w2.T + b2 - THRESHOLD, steepness)  # (P, n_out)
    return (prob * (p_out @ net.c)[None]).sum(-1).mean()


def deterministic_objective(net: TwoLayerNet, params: list[torch.Tensor], steepness: float) -> torch.Tensor:
    """J of the deterministic network (Heaviside forward), backward through the matched surrogate (eq. 3.9)."""
    w1, b1, w2, b2 = params
    h = matched_spike(net.x @ w1.T + b1 - THRESHOLD, steepness)
    o = matched_spike(h @ w2.T + b2 - THRESHOLD, steepness)
    return (o @ net.c).mean()


def stochastic_surrogate_objective(net: TwoLayerNet, params: list[torch.Tensor], steepness: float) -> torch.Tensor:
    r"""A scalar whose gradient is the *mean* surrogate gradient of the stochastic network (exact, eq. 3.11).

    For one sample of hidden spikes :math:`h`, the surrogate gradient of the stochastic network (stochastic
    automatic differentiation with the escape-noise derivative, Gygax & Zenke 2025) passes through each
    spike the derivative of its probability, :math:`\partial h_j / \partial v_j \to \beta_s F'(\beta_s v_j)`,
    while the forward pass uses the sampled value. Averaged over samples by enumeration:

    .. math::  \bar g = \frac1B \sum_b \sum_h P(h \mid x_b)\, \nabla \big[c \cdot F(\beta_s(W_2 \tilde h + b_2 - \vartheta))\big],
               \quad \tilde h = h + p - \operatorname{sg}(p)  \qquad (3.11)

    (sg: stop-gradient; the output's own sample does not change the gradient of a linear objective).
    """
    w1, b1, w2, b2 = params
    patterns = hidden_patterns(w1.shape[0])
    p_hidden = escape_probability(net.x @ w1.T + b1 - THRESHOLD, steepness)  # (B, n_h)
    prob = pattern_probabilities(p_hidden.detach(), patterns)  # (B, P), weights only
    h = patterns[None] + (p_hidden - p_hidden.detach())[:, None]  # (B, P, n_h)
    p_out = escape_probability(h @ w2.T + b2 - THRESHOLD, steepness)  # (B, P, n_out)
    return (prob * (p_out @ net.c)).sum(-1).mean()


def surrogate_objective(kind: str, normalisation: str = "peak"):
    """Like :func:`deterministic_objective` with any surrogate ``kind``, peak-1 or unit-area normalised.

    Returns ``objective(net, params, steepness)`` (use with :func:`plane_field` or autograd).
    """
    if normalisation not in ("peak", "area"):
        raise ValueError(f"normalisation must be 'peak' or 'area', got {normalisation!r}")

    def objective(net: TwoLayerNet, params: list[torch.Tensor], steepness: float) -> torch.Tensor:
        scale = 1.0 if normalisation == "peak" else 1.0 / surrogate_area(kind, steepness)
        w1, b1, w2, b2 = params
        h = scaled_spike(net.x @ w1.T + b1 - THRESHOLD, kind, steepness, scale)
        o = scaled_spike(h @ w2.T + b2 - THRESHOLD, kind, steepness, scale)
        return (o @ net.c).mean()

    return objective


def monte_carlo_objective_gradient(net: TwoLayerNet, steepness: float, n_samples: int,
                                   generator: torch.Generator | None = None):
    r"""Score-function Monte Carlo estimate of :math:`\nabla_{W_1} \mathbb E[J]` and its standard error.

    Samples hidden patterns, uses :math:`\mathbb E[c \cdot F(\beta_s v_o) \, \partial_{W_1} \log P(h)]` with
    :math:`\partial_{W_{1,jk}} \log P(h) = \beta_s (h_j - p_j) x_k`. Independent of the enumeration in
    :func:`expected_objective`, so it validates it. Returns ``(mean, stderr)``, each like ``net.w1``.
    """
    check_int("n_samples", n_samples, 2)
    p_hidden = escape_probability(net.x @ net.w1.T + net.b1 - THRESHOLD, steepness)  # (B, n_h)
    h = (torch.rand(n_samples, *p_hidden.shape, generator=generator, dtype=torch.float64) < p_hidden).double()
    value = escape_probability(h @ net.w2.T + net.b2 - THRESHOLD, steepness) @ net.c  # (S, B)
    score = steepness * (h - p_hidden)  # (S, B, n_h)
    per_sample = torch.einsum("sb,sbj,bk->sjk", value, score, net.x) / net.x.shape[0]
    return per_sample.mean(0), per_sample.std(0) / math.sqrt(n_samples)


@dataclass
class TwoLayerGradients:
    """Gradients of J with respect to (w1, b1, w2, b2), each a list of 4 tensors.

    Attributes:
        exact: gradient of the expected objective of the stochastic network (enumeration, eq. 3.10).
        surrogate: surrogate gradient of the deterministic network (matched surrogate, eq. 3.9).
        stochastic_surrogate: mean surrogate gradient of the stochastic network (eq. 3.11).
    """

    exact: list[torch.Tensor]
    surrogate: list[torch.Tensor]
    stochastic_surrogate: list[torch.Tensor]

    @staticmethod
    def flat(grads) -> torch.Tensor:
        return torch.cat([g.reshape(-1) for g in grads])

    def cosine(self, which: str = "surrogate") -> float:
        """Cosine similarity between the exact gradient and ``which`` (all parameters flattened)."""
        a, b = self.flat(self.exact), self.flat(getattr(self, which))
        return float(a @ b / (a.norm() * b.norm()).clamp_min(1e-300))

    def sign_disagreement(self, which: str = "surrogate", rel_tol: float = 1e-3) -> float:
        """Fraction of components (with an exact gradient above ``rel_tol`` of the largest) of opposite sign."""
        a, b = self.flat(self.exact), self.flat(getattr(self, which))
        keep = a.abs() > rel_tol * a.abs().max()
        return float(((a * b)[keep] < 0).double().mean()) if keep.any() else 0.0


def _grad(objective, net: TwoLayerNet, steepness: float) -> list[torch.Tensor]:
    params = [p.detach().clone().requires_grad_(True) for p in net.parameters()]
    return list(torch.autograd.grad(objective(net, params, steepness), params, allow_unused=False))


def two_layer_gradients(net: TwoLayerNet, steepness: float) -> TwoLayerGradients:
    """Check (b): exact gradient of E[J] vs deterministic and stochastic surrogate gradients (all exact)."""
    check_positive("steepness", steepness)
    return TwoLayerGradients(
        exact=_grad(expected_objective, net, steepness),
        surrogate=_grad(deterministic_objective, net, steepness),
        stochastic_surrogate=_grad(stochastic_surrogate_objective, net, steepness),
    )


def sign_flip_network() -> TwoLayerNet:
    r"""A minimal network where the surrogate gradient of :math:`W_1` has the wrong sign.

    One input (x = 1), one hidden neuron just below threshold (:math:`v_h = -0.05`), two outputs with
    :math:`J = \mathbb E[o_1] - \mathbb E[o_2]`. Output 1 sits near its threshold and depends weakly on
    the hidden neuron (:math:`W_{2,1} = 0.2`): a large derivative, a small finite difference. Output 2 sits
    far below threshold (:math:`v_{o,2} = -2` when h = 0) and depends strongly on it (:math:`W_{2,2} = 3`):
    a tiny derivative at the operating point, but the hidden spike lifts it far above threshold. The
    surrogate gradient (derivatives at the operating point) says "raise :math:`W_1`" (helps :math:`o_1`),
    the expected objective says "lower it" (a hidden spike switches :math:`o_2` on).
    """
    t = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return TwoLayerNet(
        w1=t([0.95]).reshape(1, 1), b1=t(0.0), w2=t(0.2, 3.0).reshape(2, 1), b2=t(0.95, -1.0),
        c=t(1.0, -1.0), x=t(1.0).reshape(1, 1),
    )


# ------------------------------------------------------------------------------------------------ (c)
def loop_integral(field, center: torch.Tensor, radius: float, n_points: int = 256) -> float:
    r"""Line integral :math:`\oint g \cdot dl` of a 2-D vector field around a circle (eq. 3.12).

    .. math::  \oint g \cdot dl = \int_0^{2\pi} g(w(\varphi)) \cdot w'(\varphi)\, d\varphi,
               \quad w(\varphi) = w_0 + r(\cos\varphi, \sin\varphi)  \qquad (3.12)

    by the periodic trapezoidal rule (spectrally accurate for smooth fields: for the gradient of a smooth
    function the result is zero to round-off). By Stokes, it equals the integral of the curl
    :math:`\partial_1 g_2 - \partial_2 g_1` over the disc, about :math:`\pi r^2` times the curl at the centre
    for a small circle. ``field`` maps a (2,) float64 tensor to a (2,) tensor.
    """
    check_positive("radius", radius)
    check_int("n_points", n_points, 4)
    phi = torch.arange(n_points, dtype=torch.float64) * (2 * math.pi / n_points)
    total = 0.0
    for angle in phi:
        direction = torch.stack([torch.cos(angle), torch.sin(angle)])
        tangent = radius * torch.stack([-torch.sin(angle), torch.cos(angle)])
        total += float(field(center + radius * direction) @ tangent)
    return total * (2 * math.pi / n_points)


def plane_field(net: TwoLayerNet, steepness: float, objective, coords=((0, 0, 0), (2, 0, 0))):
    r"""The gradient of ``objective`` restricted to a plane of two weights, as a function of those two weights.

    ``coords`` names the two weights as (parameter index in (w1, b1, w2, b2), row, column); the default
    picks :math:`W_{1,00}` and :math:`W_{2,00}`. ``objective`` is one of :func:`expected_objective`,
    :func:`deterministic_objective`, :func:`smooth_objective`. Returns ``field(point) -> (2,)``.
    """

    def field(point: torch.Tensor) -> torch.Tensor:
        params = [p.detach().clone() for p in net.parameters()]
        for (index, *where), value in zip(coords, point):
            params[index][tuple(where[: params[index].ndim])] = value
        params = [p.requires_grad_(True) for p in params]
        grads = torch.autograd.grad(objective(net, params, steepness), params)
        return torch.stack([grads[index][tuple(where[: grads[index].ndim])] for index, *where in coords])

    return field


def plane_point(net: TwoLayerNet, coords=((0, 0, 0), (2, 0, 0))) -> torch.Tensor:
    """Current values of the two weights named by ``coords`` (see :func:`plane_field`), (2,) float64."""
    params = net.parameters()
    return torch.stack([params[i][tuple(w[: params[i].ndim])].detach().double() for i, *w in coords])


def smooth_objective(net: TwoLayerNet, params: list[torch.Tensor], steepness: float) -> torch.Tensor:
    """J of the network with the Heaviside replaced by F(steepness v) in the forward pass: a smooth function."""
    w1, b1, w2, b2 = params
    h = escape_probability(net.x @ w1.T + b1 - THRESHOLD, steepness)
    o = escape_probability(h @ w2.T + b2 - THRESHOLD, steepness)
    return (o @ net.c).mean()


def chain_network(w1: float = 1.1, w2: float = 0.9) -> TwoLayerNet:
    r"""The smallest non-conservative case: x = 1 -> one hidden -> one output, J = o (no biases).

    In the plane :math:`(W_1, W_2)` with the hidden neuron spiking (:math:`W_1 > 1`), the surrogate field is
    :math:`g = (\sigma'_o W_2 \sigma'_h,\; \sigma'_o)` with :math:`\sigma'_h = \sigma'(W_1 - \vartheta)` and
    :math:`\sigma'_o = \sigma'(W_2 - \vartheta)`; its curl :math:`\partial_{W_1} g_2 - \partial_{W_2} g_1 =
    -\sigma'_h (\sigma'_o + W_2 \sigma''_o)` is not zero. (:math:`g_2` does not depend on :math:`W_1` because
    the forward pass uses :math:`H(v_h) = 1`, while :math:`g_1` depends on :math:`W_2`.)
    """
    t = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return TwoLayerNet(w1=t(float(w1)).reshape(1, 1), b1=t(0.0), w2=t(float(w2)).reshape(1, 1), b2=t(0.0),
                       c=t(1.0), x=t(1.0).reshape(1, 1))


def curl_at(field, point: torch.Tensor, h: float = 1e-4) -> float:
    r"""Central-difference curl :math:`\partial_1 g_2 - \partial_2 g_1` of a 2-D field at ``point``."""
    e1 = torch.tensor([h, 0.0], dtype=torch.float64)
    e2 = torch.tensor([0.0, h], dtype=torch.float64)
    d1g2 = (field(point + e1)[1] - field(point - e1)[1]) / (2 * h)
    d2g1 = (field(point + e2)[0] - field(point - e2)[0]) / (2 * h)
    return float(d1g2 - d2g1)
