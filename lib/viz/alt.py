"""Alt text for figures, generated from what each figure shows.

Screen readers and search engines see a figure only through its alt text. Rather than
writing one by hand for every figure (and letting it go stale when the figure changes),
:func:`describe_figure` reads it off the figure itself: titles, axis labels, the kind of
marks (heat map, scatter, bars, lines), how many there are, the range of the values, the
labelled rows or series. :func:`set_alt` replaces it with a sentence of your own.

:func:`install` makes every figure a notebook displays carry its alt text: IPython's PNG
formatter for matplotlib figures then writes it into the PNG itself (the standard
``Description`` text chunk) and into the output's metadata (``{"image/png": {"alt": ...}}``).
The book's Sphinx extension :mod:`ctxembed.viz.sphinx` copies it into the ``alt`` attribute
of the page's ``<img>``. :func:`ctxembed.viz.explorers.figure_output` puts it on the images of
the explorers' views. ``import ctxembed.viz`` calls :func:`install` when running in IPython.

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots()
>>> _ = ax.plot([0, 1, 2], [3.0, 2.0, 1.5], label="train"); _ = ax.set_title("Loss")
>>> _ = ax.set_xlabel("step"); _ = ax.set_ylabel("cross-entropy")
>>> describe_figure(fig)
'Line chart "Loss": cross-entropy against step, 1 line (train); train goes from 3 to 1.5.'
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import numpy as np

_ALT_ATTR = "_ctxembed_alt"
MAX_LIST = 8          # at most this many row / series names are listed


# --------------------------------------------------------------------------- #
# Describing a figure
# --------------------------------------------------------------------------- #
def set_alt(fig, text: str):
    """Give ``fig`` this alt text instead of the generated one. Returns ``fig``."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("set_alt needs a non-empty sentence saying what the figure shows.")
    setattr(fig, _ALT_ATTR, " ".join(text.split()))
    return fig


def figure_alt(fig) -> str:
    """The alt text of ``fig``: the one given with :func:`set_alt`, else :func:`describe_figure`."""
    return getattr(fig, _ALT_ATTR, None) or describe_figure(fig)


def _clean(text: str) -> str:
    text = re.sub(r"\$([^$]*)\$", r"\1", text or "")      # mathtext: keep the letters
    return " ".join(text.replace("\\", "").split())


def _num(x: float) -> str:
    return f"{x:.3g}"


def _names(items: Iterable[str], limit: int = MAX_LIST) -> str:
    items = [i for i in (_clean(s) for s in items) if i]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    return ", ".join(items)


def _tick_names(ticklabels) -> list[str]:
    return [_clean(t.get_text()) for t in ticklabels if _clean(t.get_text())]


def _is_colorbar(ax) -> bool:
    return hasattr(ax, "_colorbar") or ax.get_label() == "<colorbar>"


def _colorbar_label(fig, mappable) -> str:
    cb = getattr(mappable, "colorbar", None)
    if cb is not None and cb.ax.get_ylabel():
        return _clean(cb.ax.get_ylabel())
    if cb is not None and cb.ax.get_xlabel():
        return _clean(cb.ax.get_xlabel())
    return ""


def _legend_labels(ax) -> list[str]:
    legend = ax.get_legend()
    return [_clean(t.get_text()) for t in legend.get_texts()] if legend else []


def _describe_axes(ax) -> str:
    """One sentence (no final full stop) about one set of axes."""
    from matplotlib.collections import PathCollection, QuadMesh
    from matplotlib.container import BarContainer
    from matplotlib.image import AxesImage

    title = _clean(ax.get_title()) or _clean(ax.get_title(loc="left"))
    xlabel, ylabel = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
    named = f' "{title}"' if title else ""
    images = [im for im in ax.get_images() if isinstance(im, AxesImage)]
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    lines = [ln for ln in ax.get_lines() if np.size(ln.get_xdata()) > 1]
    parts = []
    if images or meshes:
        mappable = (images or meshes)[0]
        values = np.ma.masked_invalid(np.asarray(mappable.get_array(), dtype=float))
        shape = values.shape[:2] if values.ndim >= 2 else (values.size,)
        what = f"Heat map{named} of {shape[0]} × {shape[1]} values" if len(shape) == 2 \
            else f"Colour map{named}"
        if values.count():
            what += f" from {_num(values.min())} to {_num(values.max())}"
        label = _colorbar_label(ax.figure, mappable)
        if label:
            what += f" ({label})"
        parts.append(what)
        rows, cols = _tick_names(ax.get_yticklabels()), _tick_names(ax.get_xticklabels())
        if ylabel:
            parts.append(f"rows: {ylabel}")
        if rows:
            parts.append(f"rows {_names(rows)}")
        if xlabel:
            parts.append(f"columns: {xlabel}")
        if cols and cols != [str(i + 1) for i in range(len(cols))]:
            parts.append(f"columns {_names(cols)}")
        return "; ".join(parts)
    if bars:
        n = len(bars[0])
        horizontal = getattr(bars[0], "orientation", None) == "horizontal"
        kind = "Horizontal bar chart" if horizontal else "Bar chart"
        values = np.array([p.get_width() if horizontal else p.get_height()
                           for c in bars for p in c.patches], dtype=float)
        what = f"{kind}{named}: {n} bar{'s' if n != 1 else ''}"
        series = _legend_labels(ax) or [c.get_label() for c in bars if not c.get_label().startswith("_")]
        if len(bars) > 1:
            what += f" for each of {len(bars)} series ({_names(series)})"
        axis_label = xlabel if horizontal else ylabel
        if values.size:
            what += f", values from {_num(values.min())} to {_num(values.max())}"
            if axis_label:
                what += f" ({axis_label})"
        parts.append(what)
        cats = _tick_names(ax.get_yticklabels() if horizontal else ax.get_xticklabels())
        if cats:
            parts.append(f"{'rows' if horizontal else 'categories'} {_names(cats, 6)}")
        return "; ".join(parts)
    if scatters:
        n_points = sum(len(c.get_offsets()) for c in scatters)
        groups = [g for g in (_legend_labels(ax) or [c.get_label() for c in scatters]) if not g.startswith("_")]
        what = f"Scatter plot{named} of {n_points} point{'s' if n_points != 1 else ''}"
        if len(scatters) > 1 and groups:
            what += f" in {len(groups)} groups ({_names(groups)})"
        if xlabel or ylabel:
            what += f", {ylabel or 'y'} against {xlabel or 'x'}"
        return what
    if lines:
        labels = [_clean(ln.get_label()) for ln in lines if not ln.get_label().startswith("_")]
        what = f"Line chart{named}"
        if xlabel or ylabel:
            what += f": {ylabel or 'value'} against {xlabel or 'x'}"
        what += f", {len(lines)} line{'s' if len(lines) != 1 else ''}"
        if labels:
            what += f" ({_names(labels)})"
        trends = []
        for ln in lines[:4]:
            y = np.asarray(ln.get_ydata(), dtype=float)
            y = y[np.isfinite(y)]
            if y.size >= 2:
                name = _clean(ln.get_label()) if not ln.get_label().startswith("_") else "the line"
                trends.append(f"{name} goes from {_num(y[0])} to {_num(y[-1])}")
        if trends:
            what += "; " + "; ".join(trends)
        return what
    texts = [_clean(t.get_text()) for t in ax.texts if _clean(t.get_text())]
    if title or texts:
        return f"Panel{named}" + (f" with the text {_names(texts, 4)}" if texts else "")
    return ""


def _dedupe_labels(sentences: list[str]) -> list[str]:
    """Say "rows as in panel 1" instead of listing the same rows/columns again."""
    first: dict[str, int] = {}
    out = []
    for i, sentence in enumerate(sentences):
        parts = sentence.split("; ")
        for j, part in enumerate(parts):
            if j and part.startswith(("rows ", "columns ", "categories ")):
                if part in first:
                    parts[j] = f"{part.split(' ', 1)[0]} as in panel {first[part] + 1}"
                else:
                    first[part] = i
        out.append("; ".join(parts))
    return out


def describe_figure(fig) -> str:
    """A sentence or a few saying what ``fig`` shows, built from the figure's own content.

    Reads, for each set of axes (colour bars excluded): its title and axis labels, the kind
    of marks (heat map, bars, scatter points, lines), their number, the range of the values
    and the names of rows, categories, groups or series. Never returns an empty string.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str
    """
    axes = [ax for ax in fig.get_axes() if not _is_colorbar(ax) and ax.get_visible()]
    sentences = [s for s in (_describe_axes(ax) for ax in axes) if s]
    suptitle = _clean(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) else ""
    if len(sentences) > 1:
        sentences = _dedupe_labels(sentences)
        sentences = [f"Panel {i + 1}: {s[0].lower() + s[1:]}" for i, s in enumerate(sentences)]
    head = []
    if suptitle:
        head.append(f"{suptitle}" + (f" ({len(sentences)} panels)" if len(sentences) > 1 else ""))
    text = ". ".join(head + sentences)
    if not text:
        text = f"Chart with {len(axes)} set{'s' if len(axes) != 1 else ''} of axes"
    return text.rstrip(".") + "."


# --------------------------------------------------------------------------- #
# Rendering figures with their alt text
# --------------------------------------------------------------------------- #
def figure_png(fig, *, dpi: float | None = None, alt: str | None = None, **savefig_kw) -> bytes:
    """PNG bytes of ``fig`` with its alt text in the PNG's ``Description`` text chunk."""
    alt = alt or figure_alt(fig)
    buf = io.BytesIO()
    kw = {"format": "png", "bbox_inches": "tight", "metadata": {"Description": alt}}
    if dpi is not None:
        kw["dpi"] = dpi
    kw.update(savefig_kw)
    fig.savefig(buf, **kw)
    return buf.getvalue()


def png_description(data: bytes) -> str | None:
    """The ``Description`` text chunk of PNG ``data`` (what :func:`figure_png` wrote), or None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            text = getattr(im, "text", None) or im.info
            value = text.get("Description")
    except (OSError, ValueError, SyntaxError):   # not an image PIL can read
        return None
    return str(value) if value else None


def _png_formatter(fig):
    """IPython ``image/png`` formatter: the PNG the inline backend would make, plus alt text."""
    if not fig.axes and not fig.texts:
        return None
    from IPython.core.pylabtools import print_figure

    try:
        from matplotlib_inline.backend_inline import InlineBackend
        kw = dict(InlineBackend.instance().print_figure_kwargs)
    except (ImportError, AttributeError, RuntimeError):  # no inline backend: IPython's defaults
        kw = {"bbox_inches": "tight"}
    alt = figure_alt(fig)
    kw["metadata"] = {"Description": alt}
    data = print_figure(fig, "png", **kw)
    return data, {"alt": alt}


_png_formatter._ctxembed = True  # type: ignore[attr-defined]


def _ensure_formatter(shell) -> None:
    from matplotlib.figure import Figure

    fmt = shell.display_formatter.formatters["image/png"]
    current = fmt.type_printers.get(Figure)
    if not getattr(current, "_ctxembed", False):
        fmt.for_type(Figure, _png_formatter)


def install(shell=None) -> bool:
    """Make every matplotlib figure displayed in this IPython session carry its alt text.

    Registers :func:`_png_formatter` for :class:`matplotlib.figure.Figure` and re-registers
    it before each cell runs (``%matplotlib inline`` would otherwise replace it). Returns
    False outside IPython, where there is nothing to do.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    try:   # let the inline backend register its own formatters first
        import matplotlib.pyplot as plt
        plt.get_backend()
        import matplotlib_inline.backend_inline  # noqa: F401
    except ImportError:   # no inline backend: the formatter below is all there is
        pass
    _ensure_formatter(shell)
    if not getattr(shell, "_ctxembed_alt_hook", False):
        shell.events.register("pre_run_cell", lambda *a, **k: _ensure_formatter(shell))
        shell._ctxembed_alt_hook = True
    return True
