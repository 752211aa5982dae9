"""ipywidgets explorers that keep working on the static site, with no kernel.

Every view is drawn when the notebook runs (at build time for the site) and
kept in a :class:`ipywidgets.Stack`; the control is linked to the stack with
:func:`ipywidgets.jslink`, which runs in the browser. So the explorer responds
in Jupyter, Binder and Colab, and on the published pages too.

Example
-------
>>> import matplotlib.pyplot as plt
>>> def draw(k):
...     fig, ax = plt.subplots(); ax.plot(range(k)); return fig
>>> view_switcher({f"{k} points": k for k in (2, 3)}, draw)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display


def figure_output(fig) -> widgets.Output:
    """An Output widget showing ``fig`` (closed afterwards, so it is not shown twice)."""
    out = widgets.Output()
    with out:
        display(fig)
    plt.close(fig)
    return out


def linked_stack(control: widgets.Widget, views) -> widgets.Stack:
    """A Stack of ``views`` whose visible child follows ``control``, in the browser.

    ``control`` is a selection widget (Dropdown, ToggleButtons...: linked by
    ``"index"``, since ipywidgets 8 cannot sync a Dropdown's ``"value"``) or an
    integer slider (linked by ``"value"``, which must then count from 0). The
    :func:`ipywidgets.jslink` object is kept as ``stack.link``. Several stacks
    may follow one control (e.g. one "layer" dropdown for every sentence).
    """
    trait = "value" if isinstance(control, (widgets.IntSlider, widgets.BoundedIntText)) else "index"
    stack = widgets.Stack(list(views), selected_index=0)
    stack.link = widgets.jslink((control, trait), (stack, "selected_index"))
    return stack


def view_switcher(views: Mapping[str, Any], draw: Callable[[Any], Any] | None = None, *,
                  description: str = "View:", width: str = "32em") -> widgets.VBox:
    """A dropdown that switches between precomputed views.

    Parameters
    ----------
    views : mapping label -> value
        One entry per view. ``draw(value)`` makes its matplotlib Figure; when
        ``draw`` is None the values must already be widgets.
    draw : callable, optional
    description : str
        The dropdown's label.

    Returns
    -------
    ipywidgets.VBox
        ``children == (dropdown, stack)``. The dropdown is linked to the stack
        by ``"index"`` (ipywidgets 8 cannot sync a Dropdown's ``"value"``).
    """
    if not views:
        raise ValueError("view_switcher needs at least one view.")
    labels = list(views)
    children = [figure_output(draw(views[k])) if draw else views[k] for k in labels]
    dropdown = widgets.Dropdown(options=labels, index=0, description=description,
                                style={"description_width": "initial"},
                                layout=widgets.Layout(width=width))
    return widgets.VBox([dropdown, linked_stack(dropdown, children)])
