"""The course's text and labelled data, all installed offline from package registries.

- :mod:`~ctxembed.data.wordnet`   WordNet 3.0 for NLTK, and the one fast reader of its text
- :mod:`~ctxembed.data.corpus`    WordNet's glosses and examples as a tokenized LM corpus
- :mod:`~ctxembed.data.senses`    WordNet's sense-labelled example sentences
- :mod:`~ctxembed.data.polysemy`  the course's curated sentences for seven ambiguous words
- :mod:`~ctxembed.data.sentiment` human-rated movie-review sentences (and tweets, NYT, Amazon)
- :mod:`~ctxembed.data.brown_pos` the Brown corpus with universal part-of-speech tags
- :mod:`~ctxembed.data.squad`     SQuAD v1.1 question answering and its official metrics
- :mod:`~ctxembed.data.downloads` the cache of registry packages these are read from

``python -m ctxembed.data`` installs WordNet and builds the cached corpora, and
``python -m ctxembed.data.finetune_datasets`` fetches the fine-tuning data (the set-up runs both).
"""
