"""Sense discovery without labels: cluster a word's uses, compare with the gold senses.

:func:`cluster_uses` groups unit-normalised use vectors with agglomerative clustering
(average linkage, cosine distance; scikit-learn) for every k from 2 to ``k_max`` and
keeps the k with the highest **silhouette score** (cosine), the stated criterion. The
clusters are compared with the gold senses by the adjusted Rand index (ARI: 1 =
identical partitions, 0 = what random clusters score).

:func:`discovery_evaluation` does it for the course's curated words and for every
WordNet word with at least 6 example sentences over at least two senses;
:func:`cluster_explorer` shows the clusters of several words on the static site (one
precomputed view per word, switched in the browser).

Example
-------
>>> import ctxembed
>>> from sklearn.metrics import adjusted_rand_score
>>> from ctxembed.data.polysemy import polysemy_sentences
>>> spring = polysemy_sentences().query("word == 'spring'")    # 8 uses each: season, coil, water
>>> found = cluster_uses(ctxembed.word_vectors(list(spring.sentence), list(spring.form)))
>>> found.k, round(found.silhouette, 2)
(2, 0.29)
>>> round(adjusted_rand_score(spring.sense, found.labels), 2)
0.55
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.similarity import unit_vectors
from .vectors import use_vectors


@dataclass
class Clustering:
    """Clusters of a word's uses: ``labels`` (n,), the chosen ``k``, its silhouette and the
    silhouette of every k tried (``scores``: k -> silhouette)."""

    labels: np.ndarray
    k: int
    silhouette: float
    scores: dict = field(default_factory=dict)


def cluster_uses(X, k_max: int = 6, k_min: int = 2) -> Clustering:
    """Cluster use vectors ``X`` (n, d), choosing k in ``k_min..k_max`` by silhouette.

    Needs at least 3 uses (a silhouette needs 2 <= k <= n - 1).
    """
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    X = unit_vectors(X)
    n = len(X)
    if n < 3:
        raise ValueError(f"Need at least 3 uses to choose a number of clusters (got {n}).")
    scores, labelings = {}, {}
    for k in range(k_min, min(k_max, n - 1) + 1):
        labels = AgglomerativeClustering(n_clusters=k, metric="cosine",
                                         linkage="average").fit_predict(X)
        if len(set(labels)) < 2:
            continue
        scores[k] = float(silhouette_score(X, labels, metric="cosine"))
        labelings[k] = labels
    best = max(scores, key=lambda k: (scores[k], -k))
    return Clustering(labelings[best], best, scores[best], scores)


def discover_senses(sentences, word, k_max: int = 6, **vector_options) -> Clustering:
    """Cluster the uses of ``word`` in ``sentences`` (see :func:`cluster_uses`)."""
    return cluster_uses(use_vectors(list(sentences), word, **vector_options), k_max=k_max)


def _curated() -> pd.DataFrame:
    from ..data.polysemy import polysemy_sentences

    data = polysemy_sentences()
    return pd.DataFrame({"lemma": data.word, "sentence": data.sentence, "word": data.form,
                         "sense": data.sense})


def _wordnet_groups(min_uses: int = 6) -> pd.DataFrame:
    from .evaluation import wordnet_wsd_data

    data = wordnet_wsd_data(min_examples=1)
    sizes = data.groupby("lemma").size()
    keep = sizes[sizes >= min_uses].index
    return data[data.lemma.isin(keep)][["lemma", "sentence", "word", "sense"]]


def discovery_evaluation(source: str = "curated", *, features: str = "contextual",
                         layers="last", k_max: int = 6) -> pd.DataFrame:
    """ARI of the discovered clusters against the gold senses, one row per word.

    Parameters
    ----------
    source : {"curated", "wordnet"}
        The course's curated sentences (7 words, 2-3 senses, 16-24 uses each) or WordNet's
        example sentences (words with >= 6 examples over >= 2 senses).
    features : "contextual" or a static baseline (see :mod:`ctxembed.wsd.vectors`)

    Returns
    -------
    DataFrame with ``lemma``, ``n``, ``gold_k``, ``k`` (chosen), ``silhouette``, ``ari``
    and ``ari_gold_k`` (ARI when told the gold number of senses).
    """
    from sklearn.metrics import adjusted_rand_score

    data = _curated() if source == "curated" else _wordnet_groups()
    X = use_vectors(list(data.sentence), list(data.word), features=features, layers=layers)
    rows = []
    for lemma, idx in data.groupby("lemma", sort=True).indices.items():
        gold = data.sense.to_numpy()[idx]
        if len(set(gold)) < 2:
            continue
        found = cluster_uses(X[idx], k_max=k_max)
        gold_k = len(set(gold))
        at_gold = cluster_uses(X[idx], k_min=gold_k, k_max=gold_k) if gold_k < len(idx) else found
        rows.append((lemma, len(idx), gold_k, found.k, found.silhouette,
                     adjusted_rand_score(gold, found.labels), adjusted_rand_score(gold, at_gold.labels)))
    return pd.DataFrame(rows, columns=["lemma", "n", "gold_k", "k", "silhouette", "ari", "ari_gold_k"])


def cluster_figure(sentences, senses, X, clustering: Clustering, *, title: str = ""):
    """A 2-D view (PCA) of a word's uses: colour = discovered cluster, marker = gold sense."""
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score

    X = unit_vectors(X)
    P = PCA(n_components=2, random_state=0).fit_transform(X)
    senses = np.asarray(list(senses))
    fig, ax = plt.subplots(figsize=(5.2, 3.6), dpi=80)
    markers = "osD^vP*X"
    cmap = plt.get_cmap("tab10")
    for m, sense in enumerate(sorted(set(senses.tolist()))):
        sel = senses == sense
        ax.scatter(P[sel, 0], P[sel, 1], c=[cmap(int(c) % 10) for c in clustering.labels[sel]],
                   marker=markers[m % len(markers)], s=42, edgecolors="k", linewidths=0.4,
                   label=f"gold: {sense}")
    ari = adjusted_rand_score(senses, clustering.labels)
    ax.set_title(f"{title}  k={clustering.k} (silhouette {clustering.silhouette:.2f}), "
                 f"ARI {ari:.2f}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, loc="best", title="colour = cluster", title_fontsize=7)
    fig.tight_layout()
    return fig


def cluster_explorer(words=None, *, k_max: int = 6, layers="last"):
    """An explorer of the discovered senses of the course's curated words.

    One view per word (PCA of its uses, coloured by cluster, marker by gold sense),
    computed now and switched by a dropdown in the browser
    (:func:`ctxembed.viz.explorers.linked_stack`), so it works on the static site.

    Returns
    -------
    ipywidgets.VBox ``(dropdown, stack)``; ``box.results`` holds each word's
    :class:`Clustering` and ``box.ari`` its adjusted Rand index against the gold senses.
    """
    import ipywidgets as widgets
    from sklearn.metrics import adjusted_rand_score

    from ..viz.explorers import figure_output, linked_stack

    data = _curated()
    words = sorted(data.lemma.unique()) if words is None else list(words)
    views, results, ari = [], {}, {}
    # the vectors of all curated uses at once, exactly as discovery_evaluation computes them
    X_all = use_vectors(list(data.sentence), list(data.word), layers=layers)
    for w in words:
        sel = (data.lemma == w).to_numpy()
        sub = data[sel]
        if sub.empty:
            raise ValueError(f"No curated sentences for {w!r}: use some of "
                             f"{', '.join(sorted(data.lemma.unique()))}.")
        X = X_all[sel]
        found = cluster_uses(X, k_max=k_max)
        results[w] = found
        ari[w] = float(adjusted_rand_score(sub.sense, found.labels))
        views.append(figure_output(cluster_figure(sub.sentence, sub.sense, X, found, title=w)))
    dropdown = widgets.Dropdown(options=words, index=0, description="Word:")
    box = widgets.VBox([dropdown, linked_stack(dropdown, views)])
    box.results, box.ari = results, ari
    return box
