"""``python -m ctxembed.data``: install WordNet and build the cached corpora (set-up, CI warm-up)."""

from __future__ import annotations

import time

from .corpus import load_corpus
from .senses import sense_labelled_dataset, wordnet_usages
from .wordnet import install_wordnet, synset_texts


def main() -> None:
    start = time.perf_counter()
    print(f"WordNet 3.0 for NLTK in {install_wordnet()}: {len(synset_texts()):,} synsets")
    corpus = load_corpus()
    print(f"WordNet corpus: {len(corpus.train):,} train / {len(corpus.valid):,} valid sentences, "
          f"{corpus.num_tokens('train'):,} train tokens")
    print(f"WordNet usages for the probes: {len(wordnet_usages()):,}; "
          f"sense-labelled sentences: {len(sense_labelled_dataset()):,} "
          f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
