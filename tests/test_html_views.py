"""The HTML views the pages show (attention tables, neighbour tables, the summary table, the
self-check, figure images): whatever text they carry, a token like ``<unk>``, a sentence with
``&`` or an author's ``<script>``, shows as written and cannot change the page."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from IPython import display

from ctxembed import book
from ctxembed.bert.attention_views import attention_table_html
from ctxembed.compare.summary import ROWS, Cell, SummaryTable
from ctxembed.elmo.explorer import neighbours_html
from ctxembed.viz.explorers import figure_image_html
from ctxembed.viz.html import Markup, render

HOSTILE = '<script>alert("x")</script> & \'co\''


def _no_raw_script(html: str) -> None:
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_render_escapes_values_but_keeps_markup():
    assert render("<p>{{ a }} {{ b }}</p>", a="<b>", b=Markup("<b>x</b>")) == "<p>&lt;b&gt; <b>x</b></p>"


def test_templates_drop_the_line_breaks_between_tags_only():
    assert render("<ul>\n  <li>{{ x }}</li>\n</ul>", x="a b") == "<ul><li>a b</li></ul>"
    assert render("<p>one\ntwo</p>") == "<p>one\ntwo</p>", "text keeps its own line breaks"


def test_attention_table_escapes_tokens_and_shades_by_weight():
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    html = attention_table_html(["[CLS]", HOSTILE], probs, title=HOSTILE)
    _no_raw_script(html.replace("<style>", "").replace("</style>", ""))
    assert html.count("<td class=a15>") == 1 and html.count("<td class=a8>") == 2
    assert html.count("<td>") == 1


def test_neighbour_and_summary_tables_escape_their_text():
    _no_raw_script(neighbours_html([(HOSTILE, 0.5, HOSTILE)], HOSTILE))
    cells = {(r, m): Cell(HOSTILE, HOSTILE) for r in ROWS for m in ("GloVe", HOSTILE)}
    html = SummaryTable(cells).to_html()
    _no_raw_script(html)
    assert html.count("<tr>") == len(ROWS) + 1 and html.count("<td>") == 2 * len(ROWS)


def test_the_self_check_renders_markdown_and_escapes_raw_html(monkeypatch):
    shown = []
    monkeypatch.setattr(display, "display", lambda obj: shown.append(obj.data))
    book.quiz([book.mc(f"Is *this* {HOSTILE}?", {"yes `code`": "Right. because", "no": "No."}),
               book.numeric("How many?", 3, tolerance=0.5, feedback="Right: three")])
    [html] = shown
    _no_raw_script(html)
    assert "<em>this</em>" in html and "<code>code</code>" in html
    assert "Question 2." in html and "anything from 2.5 to 3.5 counts" in html
    assert html.count("<details>") == 3


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_a_figure_image_carries_its_alt_text_escaped(fmt):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    html = figure_image_html(fig, alt=HOSTILE, fmt=fmt)
    assert html.startswith(f'<img src="data:image/{fmt};base64,')
    assert 'alt="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;co&#39;"' in html
