"""Alt text generated from what a figure shows, and how it reaches the page (ctxembed.viz.alt).

What a reader of the site relies on: a screen reader announces what each figure shows (its
kind, title, axes, the number of marks and their range, the names of rows or series), not
"figure"; figures in explorers carry it too; the colour maps stay readable for colour-blind
readers.
"""

from __future__ import annotations

import base64
import html
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from ctxembed.viz import alt
from ctxembed.viz.explorers import figure_image_html, figure_output, view_switcher
from ctxembed.viz.plots import sense_scatter, similarity_bars, similarity_heatmap

SENTENCES = ["I paid the cheque into the bank.", "We sat on the river bank.",
             "The bank raised its rates.", "A grassy bank sloped down."]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_heatmap_alt_names_kind_title_size_range_and_rows():
    m = np.array([[1.0, 0.2, 0.9, 0.3], [0.2, 1.0, 0.1, 0.8], [0.9, 0.1, 1.0, 0.2], [0.3, 0.8, 0.2, 1.0]])
    text = alt.describe_figure(similarity_heatmap(m, SENTENCES, title="MiniLM", vmin=0))
    assert text.startswith('Heat map "MiniLM" of 4 × 4 values from 0.1 to 1')
    assert "cosine similarity" in text and "river bank" in text


def test_scatter_alt_counts_points_and_names_groups():
    fig = sense_scatter(np.arange(20.0).reshape(10, 2), ["finance"] * 6 + ["river"] * 4, title="bank")
    assert alt.describe_figure(fig) == 'Scatter plot "bank" of 10 points in 2 groups (finance, river).'


def test_bars_alt_names_series_and_value_range():
    fig = similarity_bars({"GloVe": [0.9, 0.5], "MiniLM": [0.8, 0.2]}, SENTENCES[:2], [True, False],
                          title="reference")
    text = alt.describe_figure(fig)
    assert text.startswith('Horizontal bar chart "reference": 2 bars for each of 2 series (GloVe, MiniLM)')
    assert "from 0.2 to 0.9" in text and "cosine similarity to the reference use" in text


def test_line_alt_gives_axes_and_where_each_line_goes():
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [3.0, 2.0, 1.5], label="train")
    ax.plot([0, 1, 2], [3.1, 2.5, 2.4], label="validation")
    ax.set_xlabel("step"), ax.set_ylabel("cross-entropy"), ax.legend()
    text = alt.describe_figure(fig)
    assert "cross-entropy against step, 2 lines (train, validation)" in text
    assert "train goes from 3 to 1.5" in text and "validation goes from 3.1 to 2.4" in text


def test_panels_are_numbered_and_repeated_rows_not_listed_twice():
    fig, axes = plt.subplots(1, 2)
    m = np.eye(4)
    similarity_heatmap(m, SENTENCES, title="GloVe", ax=axes[0])
    similarity_heatmap(m, SENTENCES, title="MiniLM", ax=axes[1])
    fig.suptitle("Uses of bank")
    text = alt.describe_figure(fig)
    assert text.startswith("Uses of bank (2 panels). Panel 1: heat map \"GloVe\"")
    assert "Panel 2: heat map \"MiniLM\"" in text and "rows as in panel 1" in text


def test_set_alt_overrides_and_refuses_empty_text():
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    alt.set_alt(fig, "  The loss falls   steadily. ")
    assert alt.figure_alt(fig) == "The loss falls steadily."
    with pytest.raises(ValueError, match="non-empty sentence"):
        alt.set_alt(fig, " ")


def test_alt_text_travels_inside_the_png():
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [1, 2])
    data = alt.figure_png(fig)
    assert alt.png_description(data) == alt.describe_figure(fig)
    assert alt.png_description(b"not a png") is None


def test_explorer_views_are_images_with_alt_text_and_compact():
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.barh(range(17), np.linspace(0, 1, 17))
    ax.set_title("reference use")
    html_ = figure_image_html(fig)
    m = re.match(r'<img src="data:image/webp;base64,([^"]+)" alt="([^"]+)" width="\d+" height="\d+"', html_)
    assert m, html_[:200]
    assert 'Horizontal bar chart "reference use": 17 bars' in html.unescape(m.group(2))
    assert len(base64.b64decode(m.group(1))) < 25_000, "a view should stay small (lossless WebP)"
    assert not plt.get_fignums(), "the figure is closed once drawn"
    with pytest.raises(ValueError, match="fmt must be"):
        fig2, _ = plt.subplots()
        figure_image_html(fig2, fmt="bmp")


def test_view_switcher_views_carry_alt_text():
    def draw(k):
        fig, ax = plt.subplots()
        ax.plot(range(k), label=f"{k} points")
        ax.set_title(f"k={k}")
        return fig

    box = view_switcher({"two": 2, "three": 3}, draw, description="Points:")
    dropdown, stack = box.children
    assert dropdown.description == "Points:"
    alts = [html.unescape(re.search(r'alt="([^"]+)"', v.value).group(1)) for v in stack.children]
    assert alts == ['Line chart "k=2", 1 line (2 points); 2 points goes from 0 to 1.',
                    'Line chart "k=3", 1 line (3 points); 3 points goes from 0 to 2.']
    assert isinstance(figure_output(draw(2)).value, str)


def test_colour_maps_are_readable_for_colour_blind_readers():
    """Sequential, perceptually uniform maps (viridis/cividis), no red-green; groups differ by marker."""
    fig = similarity_heatmap(np.eye(3), SENTENCES[:3])
    assert fig.axes[0].get_images()[0].get_cmap().name in {"viridis", "cividis"}
    fig = sense_scatter(np.arange(12.0).reshape(6, 2), ["a", "a", "b", "b", "c", "c"])
    markers = {tuple(map(tuple, c.get_paths()[0].vertices.round(3))) for c in fig.axes[0].collections}
    assert len(markers) == 3, "each group has its own marker shape, not only its own colour"


def test_install_outside_ipython_does_nothing(monkeypatch):
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)   # whatever ran before
    assert alt.install() is False
