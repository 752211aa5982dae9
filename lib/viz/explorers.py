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
>>> box = view_switcher({f"{k} points": k for k in (2, 3)}, draw)
>>> [type(w).__name__ for w in box.children], box.children[0].options
(['Dropdown', 'Stack'], ('2 points', '3 points'))
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt

from .html import render

# Each view's image travels inside the page's embedded widget state (base64), so its size is
# the page's weight: lossless WebP is about a third of the PNG at the same resolution.
VIEW_FORMAT = "webp"
VIEW_DPI = 90


def figure_image_html(fig, *, alt: str | None = None, dpi: float = VIEW_DPI,
                      fmt: str = VIEW_FORMAT) -> str:
    """``<img>`` HTML of ``fig`` (a data URI) with its alt text; closes the figure.

    ``fmt`` is ``"webp"`` (lossless, the default), ``"png"`` or ``"jpeg"``; ``alt`` defaults
    to :func:`ctxembed.viz.alt.figure_alt` (generated from what the figure shows).
    """
    from .alt import figure_alt

    alt = alt or figure_alt(fig)
    buf = io.BytesIO()
    kw: dict[str, Any] = {"format": fmt, "dpi": dpi, "bbox_inches": "tight"}
    if fmt == "webp":
        kw["pil_kwargs"] = {"lossless": True, "method": 6}
    elif fmt in ("jpeg", "jpg"):
        kw["pil_kwargs"] = {"quality": 85}
    elif fmt == "png":
        kw["metadata"] = {"Description": alt}
    else:
        raise ValueError(f"figure_image_html: fmt must be 'webp', 'png' or 'jpeg', not {fmt!r}.")
    fig.savefig(buf, **kw)
    plt.close(fig)
    width, height = _image_size(buf.getvalue(), fmt)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    mime = "image/jpeg" if fmt == "jpg" else f"image/{fmt}"
    return render('<img src="data:{{ mime }};base64,{{ data }}" alt="{{ alt }}" width="{{ width }}" '
                  'height="{{ height }}" style="max-width:100%;height:auto">',
                  mime=mime, data=data, alt=alt, width=width, height=height)


def _image_size(data: bytes, fmt: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size


def figure_output(fig, *, alt: str | None = None, dpi: float = VIEW_DPI,
                  fmt: str = VIEW_FORMAT) -> widgets.HTML:
    """A widget showing ``fig`` as an image with alt text (closed afterwards, shown once).

    The image is a compact data URI (lossless WebP by default, see :func:`figure_image_html`)
    inside an :class:`ipywidgets.HTML`, so the view renders the same in Jupyter and on the
    static site, and screen readers read what the figure shows.
    """
    return widgets.HTML(figure_image_html(fig, alt=alt, dpi=dpi, fmt=fmt))


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
