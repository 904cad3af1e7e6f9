"""The notebooks' live demos, one module per notebook (``nNN_topic.py``).

Each module registers its demos with :func:`helpers.widgets.demo`; :func:`helpers.widgets.all_demos`
imports them all (the widget tests move every slider of every demo to its extremes).
"""
