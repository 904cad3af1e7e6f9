"""Live demo of notebook 05: the surrogate Lyapunov spectrum of a recurrent LIF network.

Move the recurrent gain and the surrogate steepness; the demo recomputes a small spectrum (k leading
exponents) for both reset conventions on the same network and inputs.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ..config import by_mode
from ..spectra import SNNSetup, snn_spectrum
from ..widgets import FloatSlider, demo


@demo(
    gain=FloatSlider(0.0, 6.0, 1.0, step=0.1, description="recurrent gain g"),
    steepness=FloatSlider(1.0, 100.0, 10.0, step=0.05, description="surrogate steepness", log=True),
)
def spectrum_demo(gain: float, steepness: float):
    """Spectra (exponent against index) for the zero and the subtract reset at the chosen gain and steepness."""
    n_hidden, n_steps, k = by_mode(quick=24, standard=64), by_mode(quick=150, standard=400), 8
    fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    beta = None
    for reset, color in (("zero", "C0"), ("subtract", "C3")):
        setup = SNNSetup(n_hidden=n_hidden, gain=gain, steepness=steepness, reset=reset)
        res = snn_spectrum(setup, k=k, batch=1, n_steps=n_steps, transient=n_steps // 5)
        i = np.arange(1, k + 1)
        ax.plot(i, res["exponents"], "o-", color=color, ms=4,
                label=rf"{reset} reset: $\lambda_1$ = {res['lambda1']:+.3f}, rate {res['rate']:.2f}/step")
        beta = setup.params().beta
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.axhline(math.log(beta), color="k", ls=":", lw=0.8, label=r"$\log\beta$ (leak only)")
    ax.set(xlabel="index i", ylabel=r"$\lambda_i$ (1/step)",
           title=f"{n_hidden} LIF neurons, g = {gain:.2g}, steepness {steepness:.3g}, T = {n_steps}")
    ax.legend(fontsize=8)
    return fig
