"""The comparison table of chapter 5, built from measured numbers, and the advice it implies.

Each cell is a :class:`Cell`: the text shown, the number behind it (when there
is one) and its **source** (measured in the chapter, counted from the loaded
model, or read from the model's documentation / training record). The
recommendation (:func:`recommend`) is computed from the numbers, not typed, so
a changed measurement changes the advice.

Example
-------
>>> doc = Cell("as its model card says", "documentation")
>>> minilm = ModelFacts(name="MiniLM", family="BERT", layer="L6", self_similarity=0.43,
...                     sense_accuracy=0.89, chance=0.5, sense_gap=0.09, oov_rate=0.0,
...                     pieces_per_word=1.2, words_per_second=2_000, parameters=22_700_000,
...                     training_data=doc, architecture=doc, fine_tuning=doc)
>>> glove = ModelFacts(name="GloVe", family="static", layer="static", self_similarity=None,
...                    sense_accuracy=0.5, chance=0.5, sense_gap=0.0, oov_rate=0.021,
...                    words_per_second=900_000, parameters=20_000_000,
...                    training_data=doc, architecture=doc, fine_tuning=doc)
>>> table = summary_table({"MiniLM": minilm, "GloVe": glove})
>>> table.values.shape                                   # rows ROWS x one column per model
(9, 2)
>>> table.values.loc["speed"].tolist(), table.sources.loc["speed"].tolist()
(['2,000 words/s', '900,000 words/s'], ['measured: this build', 'measured: this build'])
>>> table.values.loc["best use", "GloVe"]
'huge volumes, word-type questions (similar words, analogies)'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

ROWS = ("context", "polysemy", "OOV", "speed", "size", "training data", "architecture",
        "fine-tuning", "best use")


@dataclass(frozen=True)
class Cell:
    """One cell of the summary table."""

    text: str
    source: str
    number: float | None = None


@dataclass
class ModelFacts:
    """What the chapter measured (or read) about one model.

    Numbers
    -------
    self_similarity : anisotropy-corrected self-similarity at ``layer`` (None for static models,
        whose vector is the same in every context by construction)
    sense_accuracy, chance : nearest-sense-centroid leave-one-out accuracy and its chance level
    above_chance : (low, high), the paired 95% interval of accuracy minus chance over the
        same uses (None when not measured: the model then counts as not shown to read context)
    sense_gap : mean same-sense minus different-sense cosine over the test words
    oov_rate : share of held-out word tokens the model has no own vector for
    pieces_per_word : WordPiece models only: mean pieces per word (None otherwise)
    words_per_second, parameters : throughput and size
    Text (with sources): training_data, architecture, fine_tuning
    """

    name: str
    family: str
    layer: str
    self_similarity: float | None
    sense_accuracy: float
    chance: float
    sense_gap: float
    oov_rate: float
    words_per_second: float
    parameters: int
    training_data: Cell
    architecture: Cell
    fine_tuning: Cell
    pieces_per_word: float | None = None
    above_chance: tuple[float, float] | None = None
    sources: dict = field(default_factory=dict)

    @property
    def contextual(self) -> bool:
        return self.self_similarity is not None


@dataclass(frozen=True)
class SummaryTable:
    """``values`` and ``sources``: two DataFrames, rows :data:`ROWS` x models; ``cells`` the Cells."""

    cells: dict

    @property
    def values(self) -> pd.DataFrame:
        return self._frame("text")

    @property
    def sources(self) -> pd.DataFrame:
        return self._frame("source")

    def _frame(self, attr: str) -> pd.DataFrame:
        models = list(dict.fromkeys(m for _, m in self.cells))
        return pd.DataFrame([[getattr(self.cells[(r, m)], attr) for m in models] for r in ROWS],
                            index=list(ROWS), columns=models)

    def to_html(self) -> str:
        """The table with each cell's source in small print under its value."""
        from ..viz.html import render

        models = list(dict.fromkeys(m for _, m in self.cells))
        return render(_SUMMARY_TABLE, models=models,
                      rows=[(r, [self.cells[(r, m)] for m in models]) for r in ROWS])


_SUMMARY_TABLE = """
<table class='summary-table'><thead><tr><th></th>{% for model in models %}<th>{{ model }}</th>{% endfor %}</tr></thead><tbody>
{% for row, cells in rows %}
<tr><th>{{ row }}</th>
{% for cell in cells %}
<td>{{ cell.text }}<br><small style='color:#555'>{{ cell.source }}</small></td>
{% endfor %}
</tr>
{% endfor %}
</tbody></table>
"""


def _source(facts: ModelFacts, key: str, default: str) -> str:
    return facts.sources.get(key, default)


def _cells(f: ModelFacts) -> dict[str, Cell]:
    if f.contextual:
        context = Cell(f"yes: self-similarity {f.self_similarity:.2f} at {f.layer} "
                       "(anisotropy-corrected)",
                       _source(f, "context", "measured: contextuality section"), f.self_similarity)
    else:
        context = Cell("no: one vector per word, whatever the sentence",
                       "by construction (self-similarity 1)", 1.0)
    polysemy = Cell(f"sense accuracy {f.sense_accuracy:.0%} (chance {f.chance:.0%}); "
                    f"same−different gap {f.sense_gap:+.2f}",
                    _source(f, "polysemy", "measured: polysemy section"), f.sense_accuracy)
    if f.pieces_per_word is not None:
        oov = Cell(f"{f.oov_rate:.1%} unknown (word pieces: {f.pieces_per_word:.2f} per word)",
                   _source(f, "OOV", "measured: held-out text"), f.oov_rate)
    else:
        oov = Cell(f"{f.oov_rate:.1%} of held-out words unknown",
                   _source(f, "OOV", "measured: held-out text"), f.oov_rate)
    return {
        "context": context,
        "polysemy": polysemy,
        "OOV": oov,
        "speed": Cell(f"{f.words_per_second:,.0f} words/s",
                      _source(f, "speed", "measured: this build"), f.words_per_second),
        "size": Cell(f"{f.parameters / 1e6:.1f}M parameters",
                     _source(f, "size", "counted: loaded model"), float(f.parameters)),
        "training data": f.training_data,
        "architecture": f.architecture,
        "fine-tuning": f.fine_tuning,
    }


def recommend(facts: Mapping[str, ModelFacts]) -> list[tuple[str, str, str]]:
    """Which model to use for what, decided from the measured numbers.

    Rules (each picks the best model by a measured value):

    1. *Meaning in context* (word senses, anything where the sentence changes a word's
       meaning): highest sense accuracy.
    2. *Smallest model that still reads context*: among contextual models whose sense
       accuracy is above chance by a paired interval (``above_chance`` excludes zero), the
       fewest parameters.
    3. *Huge volumes of text, word-type questions* (similar words, analogies, features
       for a fast baseline): among the models within a factor 10 of the highest
       throughput, the one with the lowest out-of-vocabulary rate.
    4. *Rare and unseen words*: lowest out-of-vocabulary rate, ties broken by accuracy.

    Returns
    -------
    list of (need, model name, reason), reason quoting the numbers.
    """
    if not facts:
        raise ValueError("recommend needs the facts of at least one model.")
    fs = list(facts.values())
    out = []
    best = max(fs, key=lambda f: f.sense_accuracy)
    out.append(("meaning in context (senses, sentence-dependent meaning)", best.name,
                f"highest sense accuracy, {best.sense_accuracy:.0%} against chance {best.chance:.0%}"))
    readers = [f for f in fs if f.contextual and f.above_chance is not None
               and f.above_chance[0] > 0]
    if readers:
        small = min(readers, key=lambda f: f.parameters)
        if small.name != best.name:
            low, high = small.above_chance
            out.append(("a small model that still reads context", small.name,
                        (f"fewest parameters ({small.parameters / 1e6:.1f}M) among contextual "
                         f"models above chance by a paired 95% interval "
                         f"({small.sense_accuracy:.0%}, {100 * low:+.1f} to {100 * high:+.1f} "
                         "points over chance)")))
    fastest = max(f.words_per_second for f in fs)
    quick = [f for f in fs if f.words_per_second * 10 >= fastest]     # same order of magnitude
    fast = min(quick, key=lambda f: (round(f.oov_rate, 4), -f.words_per_second))
    slowest_ctx = min((f.words_per_second for f in fs if f.contextual), default=None)
    speedup = f", {fast.words_per_second / slowest_ctx:,.0f}x the slowest contextual model" \
        if slowest_ctx and not fast.contextual else ""
    out.append(("huge volumes, word-type questions (similar words, analogies)", fast.name,
                (f"{fast.words_per_second:,.0f} words/s{speedup}, and the fewest unknown words "
                 f"({fast.oov_rate:.1%}) among the fastest models")))
    rare = min(fs, key=lambda f: (round(f.oov_rate, 4), -f.sense_accuracy))
    out.append(("rare and unseen words", rare.name,
                (f"lowest out-of-vocabulary rate ({rare.oov_rate:.1%}) and, among those, the "
                 "highest sense accuracy")))
    return out


def _dominated_by(f: ModelFacts, fs: list[ModelFacts]) -> ModelFacts | None:
    """A model at least as good as ``f`` on sense accuracy, OOV rate and speed, better on one."""
    for g in fs:
        if g is f:
            continue
        at_least = (g.sense_accuracy >= f.sense_accuracy and g.oov_rate <= f.oov_rate
                    and g.words_per_second >= f.words_per_second)
        better = (g.sense_accuracy > f.sense_accuracy or g.oov_rate < f.oov_rate
                  or g.words_per_second > f.words_per_second)
        if at_least and better:
            return g
    return None


def best_use(facts: Mapping[str, ModelFacts], recommendations=None) -> dict[str, Cell]:
    """The "best use" row: the needs each model was recommended for, else why none."""
    recs = recommend(facts) if recommendations is None else recommendations
    fs = list(facts.values())
    out = {}
    for name, f in facts.items():
        needs = [need for need, who, _ in recs if who == name]
        if needs:
            out[name] = Cell("; ".join(needs), "derived: recommendation rules from the rows above")
            continue
        dom = _dominated_by(f, fs)
        if dom is not None:
            text = f"none here: {dom.name} is as accurate, as fast and covers as many words"
        else:
            better = max(fs, key=lambda g: g.sense_accuracy)
            text = (f"none here: a trade-off ({f.words_per_second:,.0f} words/s, sense accuracy "
                    f"{f.sense_accuracy:.0%} vs {better.name}'s {better.sense_accuracy:.0%}); "
                    "useful to learn from")
        out[name] = Cell(text, "derived: recommendation rules from the rows above")
    return out


def summary_table(facts: Mapping[str, ModelFacts]) -> SummaryTable:
    """The chapter's summary table (rows :data:`ROWS`, one column per model)."""
    if not facts:
        raise ValueError("summary_table needs the facts of at least one model.")
    cells = {}
    uses = best_use(facts)
    for name, f in facts.items():
        for row, cell in {**_cells(f), "best use": uses[name]}.items():
            cells[(row, name)] = cell
    return SummaryTable(cells)
