"""Notebook 08 (spiking spoken digits): the live control.

Flossing strength and the number of layers on a small live network driven by real (synthetic SHD-layout)
spike inputs: the surrogate spectrum and the BPTT signal before and after a short flossing episode.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..config import by_mode
from ..widgets import FloatSlider, IntSlider, demo


@lru_cache(maxsize=1)
def _live_inputs():
    """A small batch of binned synthetic SHD-layout samples (written once per session into a temp folder)."""
    from ..data import load_shd, make_synthetic_shd

    root = Path(tempfile.mkdtemp(prefix="sgf_n08_demo_"))
    make_synthetic_shd(root, n_train=20, n_test=10, n_classes=10, seed=0)
    data = load_shd(root, "train", dt=20e-3, duration=1.0, pool=20, download=False)
    x, y = data[np.arange(len(data))]
    return x, y


@demo(strength=FloatSlider(0.0, 1.0, 0.5, step=0.05, description="flossing strength"),
      layers=IntSlider(1, 3, 1, description="layers"))
def flossing_layers_demo(strength, layers):
    """Flossing (lr = strength x 0.02, a few updates) of a 1-3 layer network: spectrum and BPTT signal."""
    from ..digits import build_model, gradient_profile, nonzero_prefix, settings_for, surrogate_spectrum
    from ..flossing import FlossingConfig, floss

    x, y = _live_inputs()
    s = settings_for("synthetic", hidden=by_mode(quick=16, standard=24, full=32),
                     multilayer_hidden=(by_mode(quick=12, standard=16, full=24),) * 2)
    kind = "recurrent" if layers == 1 else "multilayer"
    model = build_model(kind, x.shape[-1], 10, s, seed=0, input_var=float(x.var(0).mean()),
                        n_layers=layers if layers > 1 else None)
    k = min(4, model.state_dim)
    xb, yb = x[:4], y[:4]
    spec0 = surrogate_spectrum(model, xb, k, 10)
    grad0 = gradient_profile(model, xb, yb)
    n_updates = by_mode(quick=4, standard=8, full=8)
    if strength > 0:
        cfg = FlossingConfig(k=k, seq_len=x.shape[1], transient=10, batch_size=4, lr=0.02 * strength)
        sampler = lambda b, t, g=None: x[torch.randint(len(x), (b,), generator=g)][:, :t]  # noqa: E731
        floss(model, sampler, n_updates, cfg, generator=torch.Generator().manual_seed(1))
    spec1 = surrogate_spectrum(model, xb, k, 10)
    grad1 = gradient_profile(model, xb, yb)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    idx = np.arange(1, k + 1)
    axes[0].plot(idx, spec0, "o--", label="before")
    axes[0].plot(idx, spec1, "o-", label=f"after {n_updates if strength > 0 else 0} flossing updates")
    axes[0].axhline(0, color="k", lw=0.5)
    axes[0].set(xlabel="index i", ylabel=r"$\lambda_i$ (1/step)", title=f"{layers} layer(s), strength {strength:.2f}")
    axes[0].legend(fontsize=8)
    for g, ls, lab in ((grad0, "--", "before"), (grad1, "-", "after")):
        axes[1].semilogy(nonzero_prefix(g), ls=ls, label=lab)
    axes[1].set(xlabel="time step t", ylabel=r"$\|\partial L/\partial h_t\|$", title="BPTT signal (eq. 8.5)")
    axes[1].legend(fontsize=8)
    return fig
