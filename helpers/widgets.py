"""Live controls: a demo is a plain function of a few parameters that draws a figure, plus its sliders.

A notebook cell stays one line, ``show(lif_demo)``; the tests can move every slider of every registered
demo to its minimum, maximum and default and check that the figure has no NaN
(:func:`all_demos`, :func:`figure_is_finite`).

Writing a demo (in a module of :mod:`helpers.demos`)::

    @demo(tau_mem=FloatSlider(1e-3, 50e-3, 10e-3, step=1e-3, description="tau_mem (s)"),
          reset=Choice(("zero", "subtract"), "zero"))
    def lif_demo(tau_mem, reset):
        fig, ax = plt.subplots()
        ...
        return fig

Every slider uses ``continuous_update=False``: the demo runs when the slider is released.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class FloatSlider:
    """A float parameter in [min, max] with a default (and optionally a log scale)."""

    min: float
    max: float
    default: float
    step: float | None = None
    description: str = ""
    log: bool = False

    def __post_init__(self):
        if not self.min <= self.default <= self.max:
            raise ValueError(f"slider default {self.default} outside [{self.min}, {self.max}]")

    def values(self):
        return [self.min, self.max, self.default]

    def widget(self, name):
        import ipywidgets as w

        label = self.description or name
        if self.log:
            return w.FloatLogSlider(
                value=self.default, base=10, min=math.log10(self.min), max=math.log10(self.max),
                step=self.step or 0.05, description=label, continuous_update=False,
                style={"description_width": "initial"},
            )
        step = self.step or (self.max - self.min) / 100
        return w.FloatSlider(
            value=self.default, min=self.min, max=self.max, step=step, description=label,
            continuous_update=False, readout_format=".3g", style={"description_width": "initial"},
        )


@dataclass
class IntSlider:
    """An integer parameter in [min, max] with a default."""

    min: int
    max: int
    default: int
    step: int = 1
    description: str = ""

    def __post_init__(self):
        if not self.min <= self.default <= self.max:
            raise ValueError(f"slider default {self.default} outside [{self.min}, {self.max}]")

    def values(self):
        return [self.min, self.max, self.default]

    def widget(self, name):
        import ipywidgets as w

        return w.IntSlider(
            value=self.default, min=self.min, max=self.max, step=self.step, description=self.description or name,
            continuous_update=False, style={"description_width": "initial"},
        )


@dataclass
class Choice:
    """A choice among options (a dropdown or toggle)."""

    options: tuple
    default: Any
    description: str = ""

    def __post_init__(self):
        if self.default not in self.options:
            raise ValueError(f"choice default {self.default!r} not in {self.options}")

    def values(self):
        return list(self.options)

    def widget(self, name):
        import ipywidgets as w

        return w.Dropdown(options=list(self.options), value=self.default, description=self.description or name,
                          style={"description_width": "initial"})


@dataclass
class Demo:
    """A demo function and its controls."""

    fn: Callable
    controls: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__name__}"

    def defaults(self) -> dict:
        return {name: control.default for name, control in self.controls.items()}

    def settings_to_check(self):
        """Each control at each of its checked values (min, max, default or every option), the rest at default."""
        for name, control in self.controls.items():
            for value in control.values():
                yield {**self.defaults(), name: value}

    def __call__(self, **kwargs):
        return self.fn(**{**self.defaults(), **kwargs})


_REGISTRY: dict[str, Demo] = {}


def demo(**controls):
    """Decorator: register ``fn`` as a demo with the given controls (``name=FloatSlider(...)``, ...)."""

    def register(fn):
        d = Demo(fn, controls)
        _REGISTRY[d.name] = d
        fn.demo = d
        return fn

    return register


def show(fn_or_demo, **fixed):
    """Display the demo with its sliders (in JupyterLab); ``fixed`` pins some arguments.

    Returns the ``ipywidgets.interactive`` object. Outside a notebook (or in quick mode under nbval) the
    demo still runs once at its defaults, so the cell's output is the default figure.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    d = fn_or_demo.demo if hasattr(fn_or_demo, "demo") else fn_or_demo
    kwargs = {name: c.widget(name) for name, c in d.controls.items() if name not in fixed}
    kwargs.update({name: w.fixed(value) for name, value in fixed.items()})

    def run(**values):
        fig = d.fn(**values)
        if fig is not None:
            plt.show()

    ui = w.interactive(run, **kwargs)
    display(ui)
    return ui


def all_demos() -> dict[str, Demo]:
    """Import every module of :mod:`helpers.demos` and return the registry of demos."""
    import helpers.demos as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    return dict(_REGISTRY)


def figure_is_finite(fig) -> bool:
    """True if every line, collection and image in ``fig`` holds only finite data (no NaN, no inf)."""
    for ax in fig.axes:
        for line in ax.get_lines():
            for data in (line.get_xdata(), line.get_ydata()):
                arr = np.asarray(data, dtype=float)
                if arr.size and not np.isfinite(arr).all():
                    return False
        for coll in ax.collections:
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if offsets.size and not np.isfinite(offsets).all():
                return False
        for image in ax.get_images():
            arr = np.ma.masked_invalid(np.asarray(image.get_array(), dtype=float))
            if np.ma.count_masked(arr):
                return False
        for patch in ax.patches:
            arr = np.asarray(patch.get_path().vertices, dtype=float)
            if arr.size and not np.isfinite(arr).all():
                return False
    return True
