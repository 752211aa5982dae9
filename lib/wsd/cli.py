"""``ctxembed-wsd "sentence" word``: the sense of a word in a sentence, from the command line.

Prints the sense (a WordNet synset), its gloss and the system's confidence, then the
other senses: what :func:`ctxembed.wsd.default_system` answers. With the default centroid
method and the sense table built (``python -m ctxembed.wsd prepare``, part of the course's
set-up) it takes the quick path, :class:`ctxembed.wsd.sense_table.QuickWSD`: one word's row
of the table and the TorchScript encoder, nothing else heavy imported, so a fresh process
answers in about the time Python takes to import torch. ``--help`` and refused input
(an empty sentence, a word the sentence lacks, a word WordNet lacks) answer before torch
is loaded.

Examples::

    ctxembed-wsd "The dog's bark woke the baby." bark
    ctxembed-wsd "She hid the key under the mat." key --top 5
    ctxembed-wsd "Spring came early." spring --json
    python -m ctxembed.wsd serve            # the same over HTTP (127.0.0.1 only)
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ctxembed-wsd",
        description="Word-sense disambiguation with contextual embeddings: which WordNet "
                    "sense of WORD does SENTENCE use?")
    p.add_argument("sentence", help="the sentence, quoted")
    p.add_argument("word", help="the word to disambiguate, as written in the sentence")
    p.add_argument("--occurrence", type=int, default=0,
                   help="which occurrence when the word repeats (0 = first, -1 = last)")
    p.add_argument("--method", default="centroid", choices=("centroid", "knn", "logreg"))
    p.add_argument("--top", type=int, default=3, help="how many senses to list (default 3)")
    p.add_argument("--json", action="store_true", help="print the prediction as JSON")
    return p


def format_prediction(p, top: int = 3) -> str:
    """The human-readable answer the command prints."""
    lines = [f"{p.word!r} in {p.sentence!r}",
             f"  sense:      {p.sense}",
             f"  gloss:      {p.gloss}",
             f"  confidence: {p.confidence:.2f}   (cosine to the sense: {p.similarity:.2f})"]
    if p.unknown:
        lines.append("  note:       this use matches none of the known senses well: "
                     "possibly a sense WordNet lacks")
    others = [a for a in p.alternatives if a[0] != p.sense][: max(top - 1, 0)]
    if others:
        lines.append("  next:       " + "; ".join(f"{s} ({c:.2f})" for s, c in others))
    return "\n".join(lines)


def _system(method: str):
    """The quick path when it can answer (centroid method, table built), else the full system."""
    if method == "centroid":
        from .sense_table import QuickWSD, table_ready

        if table_ready():
            return QuickWSD(threads=2)
        print("ctxembed-wsd: note: the sense table is not built, so this answer fits the word "
              "first (seconds); `python -m ctxembed.wsd prepare` builds it once.", file=sys.stderr)
    _limit_threads()
    from .wordnet_system import default_system

    return default_system(method)


def _limit_threads() -> None:
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from ..core.words import find_word

    try:
        find_word(args.sentence, args.word, args.occurrence)    # refused before any model loads
        p = _system(args.method).disambiguate(args.sentence, args.word, args.occurrence)
    except (ValueError, LookupError, TypeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"ctxembed-wsd: error: {message}", file=sys.stderr)
        return 2
    print(json.dumps(p.to_dict(), indent=2) if args.json else format_prediction(p, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
