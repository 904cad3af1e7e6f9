"""helpers: the importable package of the course on surrogate gradient flossing in spiking networks.

Modules (each with one job):

- :mod:`helpers.surrogate`   surrogate spike functions and their derivatives (peak-1 family)
- :mod:`helpers.neurons`     the LIF neuron (``LIFParams``, ``simulate_lif``)
- :mod:`helpers.inputs`      Poisson input spike trains
- :mod:`helpers.models`      recurrent and multi-layer SNNs implementing the dynamical-system protocol
- :mod:`helpers.fast`        the fused BPTT path (same equations, about 3x faster) and
  :mod:`helpers.batched`     several independent networks (seeds) trained as one
- :mod:`helpers.lyapunov`    Lyapunov spectra by the QR method, differentiable
- :mod:`helpers.systems`     reference systems with known exponents
- :mod:`helpers.gradients`   backpropagated error norms and long-term Jacobians
- :mod:`helpers.flossing`    the flossing loss, gradient paths, pre-flossing and schedules
  (more schedules in :mod:`helpers.schedules`)
- :mod:`helpers.tasks`       delayed XOR and copy with spike-coded inputs
- :mod:`helpers.training`    the one training loop (clipping, flossing, evaluation, checkpoints)
- :mod:`helpers.data`        SHD through tonic, SHD-layout files, the cochlea encoder, FSDD conversion
- :mod:`helpers.digits`      spoken-digit experiments and efficiency metrics
- :mod:`helpers.theory`      the escape-noise neuron and the Gygax & Zenke checks
- :mod:`helpers.spectra`     sweeps and plots of notebook 05
- :mod:`helpers.config`      run modes (``SGF_MODE``) and device selection
- :mod:`helpers.provenance`  what results files record (commit, versions) and atomic writes
- :mod:`helpers.plotting`, :mod:`helpers.widgets`, :mod:`helpers.demos`  figures and live controls
"""

__version__ = "0.1.0"
