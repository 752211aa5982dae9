"""Nearest neighbours of ELMo vectors, and an explorer that works without a kernel.

A *pool* holds every token of some reference sentences with its three ELMo layers.
The neighbours of a word's vector at layer ``j`` are the pool tokens whose layer-``j``
vectors are closest in cosine; one row per distinct word, shown with the context it
came from. At layer 0 (the context-free embedding) the neighbours are the same in every
sentence; at layers 1 and 2 they follow the context.

The explorer precomputes every (sentence, layer) view at build time into nested
:class:`ipywidgets.Stack` s linked to two dropdowns with :func:`ipywidgets.jslink`, so it
also works on the static site.

Example
-------
>>> from ctxembed.data.polysemy import polysemy_sentences
>>> from ctxembed.elmo import layer_vectors, load_elmo
>>> model, vocab = load_elmo()
>>> pool = build_pool(model, vocab, list(polysemy_sentences().sentence[:60]))
>>> v = layer_vectors(model, vocab, "we walked along the bank of the river", "bank")
>>> [(w, round(cos, 2), context) for w, cos, context
...  in nearest_words(pool, v[2], layer=2, k=3, exclude="bank")]   # doctest: +NORMALIZE_WHITESPACE
[('key', 0.85, 'i lost the [key] to my front door'),
 ('mortgage', 0.85, 'the bank approved our [mortgage] after a long wait'),
 ('grassy', 0.85, 'a picnic on the [grassy] bank of the river')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.similarity import unit_vectors
from ..viz.html import render


@dataclass
class Pool:
    """Reference tokens: ``words[i]`` from sentence ``sent_ids[i]``; ``vectors`` (layers, N, dim), unit-norm."""

    words: list[str]
    positions: list[int]
    sent_ids: np.ndarray
    sentences: list[list[str]]
    vectors: np.ndarray


def build_pool(model, vocab, sentences: Sequence[str], skip_unknown: bool = True) -> Pool:
    """Run ELMo over ``sentences`` and keep every in-vocabulary alphabetic token."""
    from .vectors import sentence_layers

    words, positions, sids, vecs, toks = [], [], [], [], []
    for k, (tokens, layers) in enumerate(sentence_layers(model, vocab, sentences)):
        toks.append(tokens)
        for i, t in enumerate(tokens):
            if t.isalpha() and (t in vocab or not skip_unknown):
                words.append(t)
                positions.append(i)
                sids.append(k)
                vecs.append(layers[:, i])
    V = unit_vectors(np.stack(vecs, 1), dtype=np.float32)
    return Pool(words, positions, np.array(sids), toks, V)


def _snippet(tokens: list[str], i: int, width: int = 4) -> str:
    left = " ".join(tokens[max(0, i - width): i])
    right = " ".join(tokens[i + 1: i + 1 + width])
    return f"{left} [{tokens[i]}] {right}".strip()


def nearest_words(pool: Pool, vector: np.ndarray, layer: int, k: int = 8,
                  exclude: str | None = None) -> list[tuple[str, float, str]]:
    """The ``k`` nearest distinct words to ``vector`` at ``layer``: (word, cosine, context)."""
    v = unit_vectors(vector)
    sims = pool.vectors[layer] @ v
    out, seen = [], {exclude}
    for i in np.argsort(-sims):
        w = pool.words[i]
        if w in seen:
            continue
        seen.add(w)
        out.append((w, float(sims[i]), _snippet(pool.sentences[pool.sent_ids[i]], pool.positions[i])))
        if len(out) == k:
            break
    return out


def neighbours_html(rows: list[tuple[str, float, str]], title: str) -> str:
    """A small HTML table of :func:`nearest_words` rows."""
    return render(_NEIGHBOURS_TABLE, rows=rows, title=title)


_NEIGHBOURS_TABLE = """
<div style='font-size:90%'><p>{{ title }}</p><table>
<tr><th>neighbour</th><th>cosine</th><th>its context in the pool</th></tr>
{% for word, cosine, context in rows %}
<tr><td><b>{{ word }}</b></td><td>{{ "%.2f"|format(cosine) }}</td><td style='color:#555'>{{ context }}</td></tr>
{% endfor %}
</table></div>
"""


def neighbour_explorer(model, vocab, queries: Sequence[tuple[str, str]], pool: Pool, k: int = 8):
    """Dropdowns (sentence, layer) over precomputed neighbour tables; works on the static site.

    Parameters
    ----------
    queries : list of (sentence, word)
    pool : Pool
        Reference tokens to search (e.g. from validation sentences).

    Returns
    -------
    ipywidgets.VBox
    """
    import ipywidgets as widgets

    from ..viz.explorers import linked_stack
    from .vectors import layer_vectors

    layer_names = ["layer 0 (token embedding)", "layer 1 (LSTM 1)", "layer 2 (LSTM 2)"]
    pick_sentence = widgets.Dropdown(options=[f"{w}: {s}" for s, w in queries], description="sentence",
                                     layout=widgets.Layout(width="95%"))
    pick_layer = widgets.Dropdown(options=layer_names, description="layer")
    inner = []
    for sentence, word in queries:
        vecs = layer_vectors(model, vocab, sentence, word)
        views = [widgets.HTML(neighbours_html(nearest_words(pool, vecs[j], j, k, exclude=word),
                                              f'"{word}" in: {sentence}  ({layer_names[j]})'))
                 for j in range(3)]
        inner.append(linked_stack(pick_layer, views))
    outer = linked_stack(pick_sentence, inner)
    return widgets.VBox([pick_sentence, pick_layer, outer])
