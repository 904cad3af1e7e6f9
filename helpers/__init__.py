"""helpers: the importable package of the course on surrogate gradient flossing in spiking networks.

Modules (each with one job):

- :mod:`helpers.surrogate`  surrogate spike functions and their derivatives
- :mod:`helpers.neurons`    the LIF neuron (``LIFParams``, ``simulate_lif``)
- :mod:`helpers.inputs`     Poisson input spike trains
- :mod:`helpers.models`     recurrent and multi-layer SNNs implementing the dynamical-system protocol
- :mod:`helpers.lyapunov`   Lyapunov spectra by the QR method, differentiable
- :mod:`helpers.systems`    reference systems with known exponents
- :mod:`helpers.gradients`  backpropagated error norms and long-term Jacobians
- :mod:`helpers.config`     run modes (``SGF_MODE``) and device selection
- :mod:`helpers.plotting`, :mod:`helpers.widgets`, :mod:`helpers.demos`  figures and live controls
"""

__version__ = "0.1.0"
