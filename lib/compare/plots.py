"""The figures of chapter 5. Each returns a matplotlib Figure; colours are colour-blind safe.

Models get the Okabe-Ito palette (distinguishable with every common colour
vision deficiency) plus a distinct marker, so the figures also read in grey;
matrices use ``cividis``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..core.similarity import cosine_matrix

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")


def model_style(models: Sequence[str]) -> dict[str, dict]:
    """A colour and marker per model, the same in every figure of the chapter."""
    return {m: {"color": OKABE_ITO[k % len(OKABE_ITO)], "marker": MARKERS[k % len(MARKERS)]}
            for k, m in enumerate(models)}


def separation_dumbbells(table: pd.DataFrame, words: Sequence[str], models: Sequence[str], *,
                         title: str = ""):
    """Same-sense (filled) vs different-sense (open) mean cosine, per word and model.

    ``table`` is :func:`ctxembed.compare.polysemy.separation_table` output (columns
    ``model``, ``word``, ``same``, ``different``, ``d``).
    """
    style = model_style(models)
    fig, axes = plt.subplots(1, len(words), figsize=(3.1 * len(words), 0.45 * len(models) + 1.4),
                             sharey=True, squeeze=False)
    for ax, word in zip(axes[0], words):
        for k, m in enumerate(models):
            row = table[(table.model == m) & (table.word == word)].iloc[0]
            c = style[m]["color"]
            ax.plot([row.different, row.same], [k, k], color=c, lw=2)
            ax.scatter([row.same], [k], color=c, marker=style[m]["marker"], s=45, zorder=3)
            ax.scatter([row.different], [k], facecolor="white", edgecolor=c,
                       marker=style[m]["marker"], s=45, zorder=3)
            ax.annotate(f"d={row.d:.1f}", (max(row.same, row.different), k), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=7)
        ax.set_title(word)
        ax.set_xlabel("mean cosine of pairs of uses")
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].set_yticks(range(len(models)), models)
    axes[0, 0].invert_yaxis()
    axes[0, -1].scatter([], [], color="grey", label="same sense")
    axes[0, -1].scatter([], [], facecolor="white", edgecolor="grey", label="different senses")
    axes[0, -1].legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def sense_matrix(X, senses: Sequence[str]) -> pd.DataFrame:
    """Mean cosine between the uses of each pair of senses (diagonal: distinct pairs of one sense)."""
    S = cosine_matrix(X)
    senses = np.asarray(list(senses))
    names = list(dict.fromkeys(senses.tolist()))
    M = np.zeros((len(names), len(names)))
    for a, sa in enumerate(names):
        for b, sb in enumerate(names):
            block = S[np.ix_(senses == sa, senses == sb)]
            if a == b:
                block = block[~np.eye(len(block), dtype=bool)]
            M[a, b] = block.mean()
    return pd.DataFrame(M, index=names, columns=names)


def sense_matrices(matrices: Mapping[str, pd.DataFrame], *, title: str = ""):
    """One sense-by-sense heatmap per model, all on **one** colour scale (cividis, with a
    colour bar), so that a model whose cosines all sit in a narrow band does not look as
    separated as one whose same-sense and different-sense cosines lie far apart. Values are
    printed in the cells."""
    values = np.concatenate([M.to_numpy().ravel() for M in matrices.values()])
    lo, hi = float(values.min()), float(values.max())
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.0 * len(matrices) + 0.8, 3.0),
                             squeeze=False)
    image = None
    for ax, (model, M) in zip(axes[0], matrices.items()):
        image = ax.imshow(M.to_numpy(), cmap="cividis", vmin=lo, vmax=hi)
        ax.set_xticks(range(len(M)), M.columns, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(M)), M.index, fontsize=8)
        for i in range(len(M)):
            for j in range(len(M)):
                v = M.iat[i, j]
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if v > (lo + hi) / 2 else "white")
        ax.set_title(model, fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="mean cosine")
    return fig


def layer_curves(reports: Mapping[str, pd.DataFrame], columns: Sequence[str],
                 labels: Sequence[str] | None = None, *, static: Mapping[str, float] | None = None,
                 static_column: str | None = None):
    """One panel per measure, one line per model, x = relative depth (input 0 .. top 1).

    ``reports``: {model: :func:`ctxembed.compare.contextuality.contextuality_by_layer`}.
    ``static``: {model: value} drawn as dashed horizontal lines in the panel of
    ``static_column`` (e.g. GloVe's anisotropy).
    """
    labels = list(labels or columns)
    style = model_style(list(reports) + list(static or {}))
    fig, axes = plt.subplots(1, len(columns), figsize=(3.4 * len(columns), 3.2), squeeze=False)
    for ax, col, label in zip(axes[0], columns, labels):
        for m, rep in reports.items():
            depth = np.linspace(0, 1, len(rep))
            ax.plot(depth, rep[col], label=m, color=style[m]["color"], marker=style[m]["marker"])
        if static and col == static_column:
            for m, v in static.items():
                ax.axhline(v, ls="--", lw=1.2, color=style[m]["color"], label=f"{m} (static)")
        ax.set_xlabel("layer depth (0 = input, 1 = top)")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    if static_column in columns:
        axes[0, list(columns).index(static_column)].legend(fontsize=7)
    fig.tight_layout()
    return fig


def tradeoff(points: pd.DataFrame, x: str, y: str, *, xlabel: str, ylabel: str,
             logx: bool = True, chance: float | None = None):
    """Scatter of models (index) on two measured columns, each point labelled.

    Labels go right of their point, or left of it in the right third of the plot (so none
    is cut off at the edge); points that would share a label's place (close in both
    directions) get theirs above and below instead, so no two labels overlap."""
    style = model_style(list(points.index))
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    xs = np.log10(points[x].astype(float)) if logx else points[x].astype(float)
    ys = points[y].astype(float)
    x_span = max(float(np.ptp(xs)), 1e-9)
    y_span = max(float(np.ptp(ys)), 1e-9)
    placed = []
    for m, row in points.iterrows():
        ax.scatter(row[x], row[y], s=60, color=style[m]["color"], marker=style[m]["marker"])
        px, py = xs[m], ys[m]
        right = (px - xs.min()) / x_span > 2 / 3
        crowd = sum(abs(px - qx) < 0.25 * x_span and abs(py - qy) < 0.08 * y_span
                    for qx, qy in placed)
        placed.append((px, py))
        dy = (4, -12, 16, -24)[min(crowd, 3)]
        ax.annotate(m, (row[x], row[y]), xytext=(-6 if right else 6, dy),
                    textcoords="offset points", fontsize=8, ha="right" if right else "left")
    ax.margins(x=0.12, y=0.15)
    if chance is not None:
        ax.axhline(chance, ls=":", color="grey", label="chance")
        ax.legend(fontsize=7, loc="lower left")
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
