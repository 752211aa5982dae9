"""Attention drawn: heat maps, a grid of heads, and an explorer that works on the static site.

The weights come from :func:`ctxembed.bert.internals.attention_maps` (BERT's encoder written
out by hand, which equals the real model); this module only shows them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.models import Encoder, load_encoder
from ..viz.html import Markup, render
from .internals import attention_maps

__all__ = ["ATTENTION_SHADES", "attention_explorer", "attention_table_html", "plot_attention",
           "plot_head_grid"]


def plot_attention(tokens: Sequence[str], probs: np.ndarray, title: str = "", ax=None,
                   size: float = 3.4, dpi: int = 70):
    """Heat map of one head's attention, (T, T): rows are queries, columns keys. Returns the figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(size, size), dpi=dpi)
    else:
        fig = ax.figure
    ax.imshow(probs, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=7)
    ax.set_yticks(range(len(tokens)), tokens, fontsize=7)
    ax.set_xlabel("attends to (key)", fontsize=7)
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def plot_head_grid(tokens: Sequence[str], probs: np.ndarray, title: str = "",
                   cols: int = 4, cell: float = 2.55, dpi: int = 64):
    """Every head of one layer side by side: ``probs`` (A, T, T). Returns the figure.

    Token labels are written once per row (left) and once per column (bottom), so each
    map stays large enough to read the labels.
    """
    import matplotlib.pyplot as plt

    heads = probs.shape[0]
    rows = -(-heads // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell + 0.9, rows * cell + 0.7),
                             dpi=dpi, squeeze=False, sharex=True, sharey=True)
    for h, ax in enumerate(axes.flat):
        if h >= heads:
            ax.axis("off")
            continue
        ax.imshow(probs[h], cmap="Blues", vmin=0, vmax=1)
        ax.set_title(f"head {h + 1}", fontsize=9)
        ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=7.5)
        ax.set_yticks(range(len(tokens)), tokens, fontsize=7.5)
        ax.tick_params(length=0)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


ATTENTION_SHADES = 16   # shades of an attention table: weight 0, 1/15, ..., 1


def attention_table_html(tokens: Sequence[str], probs: np.ndarray, title: str = "") -> str:
    """One head's map, (T, T), as an HTML table of shaded cells.

    Text, not an image: the token labels are as legible as the page's own text. The
    shade has :data:`ATTENTION_SHADES` levels, each a CSS class, so that a view weighs a
    few kilobytes (the explorer embeds every view in the page).
    """
    top = ATTENTION_SHADES - 1
    levels = np.rint(np.clip(probs, 0, 1) * top).astype(int)
    shades = "".join(f".attn .a{v}{{background:#1f77b4{round(255 * v / top):02x}}}"
                     for v in range(1, ATTENTION_SHADES))
    return render(_ATTENTION_TABLE, tokens=list(tokens), title=title, shades=Markup(shades),
                  rows=[(query, levels[i].tolist()) for i, query in enumerate(tokens)])


# One CSS class per shade; a cell of weight 0 has none. Cells are left open (HTML allows it):
# the explorer embeds every view of a sentence in the page, so each byte counts many times.
_ATTENTION_TABLE = """
<style>.attn td{width:1.5em;height:1.5em;border:1px solid #eee;padding:0}.attn th{font-weight:normal;padding:1px 3px}.attn th.q{text-align:right}.attn th.k{writing-mode:vertical-rl;transform:rotate(180deg)}{{ shades }}</style>
<div style="font-size:0.85em"><b>{{ title }}</b>: rows attend to columns; darker = more weight<table class="attn" style="border-collapse:collapse;margin-top:4px">
<tr><th></th>{% for token in tokens %}<th class=k>{{ token }}</th>{% endfor %}</tr>
{% for query, levels in rows %}
<tr><th class=q>{{ query }}</th>{% for level in levels %}{% if level %}<td class=a{{ level }}>{% else %}<td>{% endif %}{% endfor %}</tr>
{% endfor %}
</table></div>
"""


def attention_explorer(sentences: Sequence[str], heads: Sequence[int] | None = None,
                       encoder: Encoder | str | None = None, dpi: int = 64):
    """Choose sentence, layer and head: all heads of the layer, and the chosen one enlarged.

    For each layer the explorer shows a grid of every head's map (matplotlib), and below
    it the chosen head as a large shaded table with legible token labels. Every view is
    computed when the cell runs and kept in ``widgets.Stack`` containers switched by
    ``jslink``, so the explorer also responds on the static web page, with no kernel.
    Views: ``len(sentences) x L`` grids and ``len(sentences) x L x len(heads)`` tables.

    Parameters
    ----------
    heads : sequence of int, optional
        0-based heads offered for enlarging (default: all of them).

    Returns
    -------
    ipywidgets.VBox
        ``box.grid_stacks`` / ``box.head_stacks``: per sentence, the Stack of layer grids
        and the Stack (per layer) of head Stacks; ``box.links``: the ``jslink`` objects.
    """
    import ipywidgets as widgets

    from ..viz.explorers import figure_output, linked_stack

    enc = load_encoder(encoder)
    n_layers = enc.num_layers
    heads = list(range(enc.model.config.num_attention_heads)) if heads is None else list(heads)
    sentence_dd = widgets.Dropdown(options=list(sentences), description="sentence",
                                   layout=widgets.Layout(width="95%"))
    layer_dd = widgets.Dropdown(options=[f"layer {i + 1}" for i in range(n_layers)],
                                description="layer")
    head_dd = widgets.Dropdown(options=[f"head {h + 1}" for h in heads],
                               description="enlarge")
    per_sentence, links, grid_stacks, head_stacks = [], [], [], []
    for s in sentences:
        tokens, probs = attention_maps(s, enc)
        grids = linked_stack(layer_dd, [
            figure_output(plot_head_grid(tokens, probs[layer, heads],
                                         f"layer {layer + 1}: all {len(heads)} heads", dpi=dpi))
            for layer in range(n_layers)])
        per_layer = []
        for layer in range(n_layers):
            tables = linked_stack(head_dd, [
                widgets.HTML(attention_table_html(tokens, probs[layer, h],
                                                  f"layer {layer + 1}, head {h + 1}"))
                for h in heads])
            links.append(tables.link)
            per_layer.append(tables)
        enlarged = linked_stack(layer_dd, per_layer)
        links += [grids.link, enlarged.link]
        grid_stacks.append(grids)
        head_stacks.append(enlarged)
        per_sentence.append(widgets.VBox([grids, enlarged]))
    sentence_stack = linked_stack(sentence_dd, per_sentence)
    links.append(sentence_stack.link)
    controls = [widgets.HBox([layer_dd, head_dd]), sentence_stack]
    box = widgets.VBox(([sentence_dd] if len(sentences) > 1 else []) + controls)
    box.links = links  # the client-side links, kept for inspection (tests)
    box.grid_stacks, box.head_stacks = grid_stacks, head_stacks
    return box
