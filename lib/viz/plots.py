"""The figures the chapters draw. Each returns a matplotlib Figure."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def _short(text: str, width: int = 38) -> str:
    return textwrap.shorten(text, width=width, placeholder="…")


def similarity_heatmap(matrix, labels: Sequence[str], *, title: str = "", ax=None,
                       vmin: float | None = None, vmax: float = 1.0, annotate: bool = True):
    """Heatmap of an (n, n) similarity matrix with short row/column labels.

    Returns the Figure.
    """
    matrix = np.asarray(matrix)
    fig = ax.figure if ax is not None else plt.figure(figsize=(0.55 * len(labels) + 3.5,
                                                               0.45 * len(labels) + 1.2))
    ax = ax or fig.add_subplot()
    im = ax.imshow(matrix, cmap="viridis", vmin=vmin, vmax=vmax)
    short = [_short(label) for label in labels]
    ax.set_xticks(range(len(labels)), [str(i + 1) for i in range(len(labels))])
    ax.set_yticks(range(len(labels)), [f"{s}  {i + 1}" for i, s in enumerate(short)])
    if annotate and len(labels) <= 12:
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                value = matrix[i, j]
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if value > (im.norm.vmin + im.norm.vmax) / 2 else "white")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="cosine similarity")
    fig.tight_layout()
    return fig


def sense_scatter(points, senses: Sequence[str], *, title: str = "", ax=None, legend: bool = True):
    """Scatter of 2-D points, one colour per sense. Returns the Figure."""
    points = np.asarray(points)
    fig = ax.figure if ax is not None else plt.figure(figsize=(5, 4))
    ax = ax or fig.add_subplot()
    senses = np.asarray(list(senses))
    markers = "osD^vP*X"
    for k, sense in enumerate(sorted(set(senses.tolist()))):
        sel = senses == sense
        ax.scatter(points[sel, 0], points[sel, 1], s=30, marker=markers[k % len(markers)],
                   label=sense, alpha=0.8)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    if legend:
        ax.legend(fontsize=8, loc="best")
    return fig


def similarity_bars(scores_by_model: dict[str, Sequence[float]], labels: Sequence[str],
                    highlight: Sequence[bool] | None = None, *, title: str = "",
                    figsize=(6.5, 3.6)):
    """Horizontal bars: similarity of a reference use to other uses, per model.

    ``highlight[i]`` marks uses in the same sense as the reference (bold label).
    Returns the Figure.
    """
    n = len(labels)
    models = list(scores_by_model)
    fig, ax = plt.subplots(figsize=figsize)
    height = 0.8 / len(models)
    for k, model in enumerate(models):
        ax.barh(np.arange(n) + k * height, scores_by_model[model], height=height, label=model)
    ax.set_yticks(np.arange(n) + height * (len(models) - 1) / 2, [_short(s, 44) for s in labels],
                  fontsize=7)
    if highlight is not None:
        for tick, same in zip(ax.get_yticklabels(), highlight):
            tick.set_fontweight("bold" if same else "normal")
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("cosine similarity to the reference use")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
