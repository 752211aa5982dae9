"""The course's text and labelled data, all installed offline from package registries.

- :mod:`~ctxembed.data.wordnet`   WordNet 3.0 for NLTK, and the one fast reader of its text
- :mod:`~ctxembed.data.corpus`    WordNet's glosses and examples as a tokenized LM corpus
- :mod:`~ctxembed.data.senses`    WordNet's sense-labelled example sentences
- :mod:`~ctxembed.data.polysemy`  the course's curated sentences for seven ambiguous words

``python -m ctxembed.data`` installs WordNet and builds the cached corpora (the set-up runs it).
"""
