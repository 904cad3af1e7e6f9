"""Every live demo runs at each slider's minimum, maximum and default (and every option of a choice)
without error and draws no NaN or infinity."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from helpers.widgets import all_demos, figure_is_finite

DEMOS = all_demos()
CASES = [(name, settings) for name, d in sorted(DEMOS.items()) for settings in d.settings_to_check()]


def test_every_notebook_with_a_demo_module_registers_a_demo():
    assert len(DEMOS) >= 1


@pytest.mark.parametrize("name,settings", CASES, ids=[f"{n.split('.')[-1]}-{s}" for n, s in CASES])
def test_demo_at_slider_extremes(name, settings):
    fig = DEMOS[name].fn(**settings)
    try:
        assert fig is not None, f"{name} must return its matplotlib Figure"
        assert figure_is_finite(fig), f"{name} drew NaN or inf with {settings}"
    finally:
        plt.close("all")


def test_sliders_do_not_update_continuously():
    for d in DEMOS.values():
        for name, control in d.controls.items():
            widget = control.widget(name)
            if hasattr(widget, "continuous_update"):
                assert widget.continuous_update is False, f"{d.name}: slider {name} updates continuously"
