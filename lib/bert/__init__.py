"""BERT opened up (chapter 3).

- :mod:`~ctxembed.bert.internals`  BERT's encoder written out by hand (embeddings, attention,
                                   layer), checked against the real MiniLM; attention weights
- :mod:`~ctxembed.bert.attention_views`  attention drawn: heat maps, the heads of a layer, and
                                   an explorer that works on the static site
- :mod:`~ctxembed.bert.subwords`   WordPiece, byte-level BPE and Unigram trained on the same
                                   texts, and what they do to them (pieces per word, [UNK])
- :mod:`~ctxembed.bert.mlm`        80/10/10 masking, static vs dynamic masking, and a small
                                   BERT trained with masked-LM
                                   (``python -m ctxembed.bert train`` writes ``mini_mlm.pt``)
- :mod:`~ctxembed.bert.nsp`        next-sentence prediction pairs from Brown's documents, and
                                   the topic cues that solve most of them

Example
-------
>>> from ctxembed.bert import internals, mlm
>>> internals.max_diff_per_layer("The bank raised its rates.")   # doctest: +SKIP
"""
