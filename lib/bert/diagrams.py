"""Diagrams of BERT's input representation and encoder layer, drawn with matplotlib.

Both are drawn when a page is built; the input-representation figure takes the real
tokenizer's pieces and segment ids, so it shows what the model is actually given.

Example
-------
>>> fig = input_representation_figure(["[CLS]", "hi", "[SEP]"], [0, 0, 0])   # doctest: +SKIP
>>> fig = encoder_layer_figure(hidden=384, heads=12, ffn=1536, layers=6)     # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

TOKEN, SEGMENT, POSITION, SUM = "#1f77b4", "#2ca02c", "#9467bd", "#555555"


def _box(ax, x, y, text, color, w, h, fontsize=8, alpha=0.18):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                fc=color, ec=color, lw=1.2, alpha=alpha))
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                fc="none", ec=color, lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def input_representation_figure(tokens: Sequence[str], segments: Sequence[int],
                                figsize=None, dpi: int = 90):
    """Token + segment + position embeddings, summed and normalised, for each piece.

    ``tokens``: the pieces ([CLS] .. [SEP] .. [SEP]); ``segments``: their token_type_ids.
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    n = len(tokens)
    fig, ax = plt.subplots(figsize=figsize or (max(6.5, 0.95 * n + 2.2), 4.2), dpi=dpi)
    rows = {"input": 4.0, "token": 3.0, "segment": 2.0, "position": 1.0, "sum": -0.2}
    for t, (tok, seg) in enumerate(zip(tokens, segments)):
        ax.text(t, rows["input"], tok, ha="center", va="center", fontsize=9,
                fontweight="bold")
        _box(ax, t, rows["token"], f"E[{tok}]", TOKEN, 0.86, 0.5, fontsize=7)
        _box(ax, t, rows["segment"], f"E_{'AB'[seg]}", SEGMENT, 0.86, 0.5)
        _box(ax, t, rows["position"], f"P_{t}", POSITION, 0.86, 0.5)
        for y in (2.5, 1.5):
            ax.text(t, y, "+", ha="center", va="center", fontsize=11)
        ax.annotate("", xy=(t, rows["sum"] + 0.3), xytext=(t, rows["position"] - 0.3),
                    arrowprops={"arrowstyle": "-|>", "color": SUM, "lw": 1.1})
    _box(ax, (n - 1) / 2, rows["sum"], "LayerNorm(token + segment + position)  ->  "
         "one vector per piece, into layer 1", SUM, n - 0.1, 0.5, fontsize=8, alpha=0.1)
    labels = {"token": ("token embedding\n(one row per piece\nof the vocabulary)", TOKEN),
              "segment": ("segment embedding\n(sentence A or B)", SEGMENT),
              "position": ("position embedding\n(one row per position)", POSITION)}
    for key, (text, color) in labels.items():
        ax.text(-0.7, rows[key], text, ha="right", va="center", fontsize=8, color=color)
    ax.set_xlim(-3.3, n - 0.4)
    ax.set_ylim(-0.7, 4.4)
    ax.axis("off")
    fig.tight_layout()
    return fig


def encoder_layer_figure(hidden: int, heads: int, ffn: int, layers: int,
                         figsize=(6.2, 6.0), dpi: int = 90):
    """One post-LN encoder layer: attention and feed-forward, each with residual + LayerNorm.

    The sizes are those of the model the page uses (read from its config).
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    d = hidden // heads
    boxes = [  # (y, text, colour)
        (0.0, f"input: one {hidden}-d vector per piece  (T x {hidden})", SUM),
        (1.3, (f"multi-head self-attention\n{heads} heads of {d} dims: softmax(QKᵀ/√{d} + mask) V,"
              "\nheads concatenated, output projection"), TOKEN),
        (2.7, "add & LayerNorm:  LN(x + attention(x))", SEGMENT),
        (4.0, f"feed-forward, each position on its own\n{hidden} → {ffn} (GELU) → {hidden}",
         POSITION),
        (5.3, "add & LayerNorm:  LN(x + FFN(x))", SEGMENT),
        (6.5, f"output (T x {hidden}): the input of the next layer", SUM),
    ]
    for y, text, color in boxes:
        _box(ax, 0, y, text, color, 4.6, 0.9 if "\n" in text else 0.6, fontsize=8.5)
    for (y0, *_), (y1, *_) in itertools.pairwise(boxes):
        h0 = 0.45 if y0 in (1.3, 4.0) else 0.3
        h1 = 0.45 if y1 in (1.3, 4.0) else 0.3
        ax.annotate("", xy=(0, y1 - h1), xytext=(0, y0 + h0),
                    arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.1})
    for y_from, y_to in ((0.3, 2.4), (3.0, 5.0)):       # residual connections
        ax.annotate("", xy=(2.3, y_to), xytext=(2.3, y_from),
                    arrowprops={"arrowstyle": "-|>", "color": SUM, "lw": 1.2, "ls": "--",
                                    "connectionstyle": "bar,fraction=0.25"})
        ax.text(3.15, (y_from + y_to) / 2, "residual", fontsize=8, color=SUM,
                rotation=90, va="center")
    ax.text(-2.9, 3.3, f"× {layers} layers", fontsize=10, rotation=90, va="center",
            ha="center", fontweight="bold")
    ax.plot([-2.6, -2.6], [0.9, 5.7], color="black", lw=1)
    ax.set_xlim(-3.2, 3.6)
    ax.set_ylim(-0.5, 7.0)
    ax.axis("off")
    ax.set_title("One encoder layer (post-LN, as in BERT)", fontsize=10)
    fig.tight_layout()
    return fig
