"""Diagrams of the biLM, drawn with matplotlib when a page is built.

Example
-------
>>> fig = bilm_figure("the bank closed".split())   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

FORWARD, BACKWARD, EMBED, TARGET = "#1f77b4", "#d95f02", "#777777", "#222222"


def _box(ax, x, y, text, color, w=0.82, h=0.42, fontsize=9, fill=True):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                fc=color if fill else "white", ec=color, lw=1.4,
                                alpha=0.18 if fill else 1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color="black")


def _arrow(ax, x0, y0, x1, y1, color, lw=1.3, style="-|>"):
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                arrowprops={"arrowstyle": style, "color": color, "lw": lw, "shrinkA": 2, "shrinkB": 2})


def bilm_figure(words: Sequence[str], figsize=(9.5, 5.6), dpi: int = 90):
    """The two language models of ELMo on one sentence, with the shifts of their targets.

    Top panel: the forward LM. Its state at position t has read tokens 0..t (the token
    itself included) and predicts token t+1. Bottom panel: the backward LM. Its state at t
    has read tokens t..n+1 and predicts token t-1. Both read the same token embeddings
    (layer 0). So no state is ever asked for a token it has read.
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    tokens = ["<bos>", *words, "<eos>"]
    n = len(tokens)
    fig, axes = plt.subplots(2, 1, figsize=figsize, dpi=dpi)
    for ax, forward in zip(axes, (True, False)):
        color = FORWARD if forward else BACKWARD
        arrow = r"\overrightarrow" if forward else r"\overleftarrow"
        y_in, y_emb, y_h, y_out = 0.0, 1.0, 2.1, 3.2
        for t, tok in enumerate(tokens):
            _box(ax, t, y_in, tok, TARGET, fill=False)
            _box(ax, t, y_emb, "e(" + tok + ")" if len(tok) < 8 else "e(.)", EMBED)
            _arrow(ax, t, y_in + 0.22, t, y_emb - 0.22, EMBED)
            _box(ax, t, y_h, rf"${arrow}{{h}}_{{{t}}}$", color, fontsize=11)
            _arrow(ax, t, y_emb + 0.22, t, y_h - 0.22, EMBED)
            nxt = t + 1 if forward else t - 1
            if 0 <= nxt < n:
                # the recurrence: the state passes to the next position it reads
                x0, x1 = (t + 0.42, t + 0.58) if forward else (t - 0.42, t - 0.58)
                _arrow(ax, x0, y_h, x1, y_h, color, lw=1.8)
                _box(ax, t, y_out, ("next: " if forward else "prev: ") + tokens[nxt],
                     color, w=0.9, h=0.38, fontsize=8)
                _arrow(ax, t, y_h + 0.22, t, y_out - 0.2, color)
        title = ("forward LM: reads left to right; the state at t predicts token t+1"
                 if forward else
                 "backward LM: reads right to left; the state at t predicts token t-1")
        ax.set_title(title, fontsize=9.5, color=color, loc="left")
        ax.text(-0.7, y_emb, "shared\nembedding\n(layer 0)", ha="right", va="center",
                fontsize=8, color=EMBED)
        ax.text(-0.7, y_h, "LSTM states\n(layers 1, 2)", ha="right", va="center",
                fontsize=8, color=color)
        ax.text(-0.7, y_out, "target\n(shifted)", ha="right", va="center", fontsize=8,
                color=color)
        ax.set_xlim(-2.2, n - 0.4)
        ax.set_ylim(-0.4, 3.6)
        ax.axis("off")
    fig.tight_layout()
    return fig
