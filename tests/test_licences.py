"""Every part of the course says under which licence it may be reused: the code, the text and
figures, and the models trained on data that carry terms of their own (SQuAD is CC BY-SA)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("CTXEMBED_SITE", ROOT / "_build" / "html"))
FOOTER_LICENCES = ("creativecommons.org/licenses/by/4.0", "opensource.org/license/mit",
                   "creativecommons.org/licenses/by-sa/4.0")


def test_the_code_is_mit_and_the_package_ships_its_licence():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'(?m)^license = "MIT"$', pyproject)
    assert re.search(r'(?m)^license-files = \["LICENSE"\]$', pyproject)


def test_the_text_licence_covers_text_figures_and_every_trained_artefact():
    text = (ROOT / "LICENSE-TEXT.md").read_text()
    assert "CC BY 4.0" in text and "text and figures" in text.lower()
    assert "CC BY-SA 4.0" in text and "`lib/finetune/artefacts/qa-*`" in text
    for model in ("lib/elmo/elmo_wordnet.pt", "lib/bert/mini_mlm.pt"):
        assert (ROOT / model).exists() and f"`{model}`" in text
    # every shipped artefact is either a QA one (CC BY-SA) or named by its task (MIT)
    for artefact in (ROOT / "lib" / "finetune" / "artefacts").glob("*.safetensors"):
        task = artefact.name.split("-")[0]
        assert task == "qa" or {"sentiment": "sentiment", "pos": "part-of-speech",
                                 "gloss": "`lib/finetune/artefacts/gloss-contrastive-*`"}[task] in text


def test_every_page_footer_states_the_licences():
    footer = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["extra_footer"]
    for link in FOOTER_LICENCES:
        assert link in footer, link
    assert "href=\"credits" not in footer       # a relative link breaks on pages in folders


def test_every_credited_model_and_data_set_names_its_licence():
    rows = [line for line in (ROOT / "credits.md").read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| What")]
    assert len(rows) >= 10
    for row in rows:
        licence = row.rstrip(" |").rsplit("|", 1)[1].strip()
        assert licence and "same as the course" not in licence, row


@pytest.mark.book
def test_the_built_pages_carry_the_licence_footer():
    pages = [SITE / "index.html", *sorted((SITE / "chapters").glob("*.html"))[:1]]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for link in FOOTER_LICENCES:
            assert re.search(re.escape(link), html), (page.name, link)
