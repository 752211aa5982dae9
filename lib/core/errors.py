"""Errors that say what to do. Each is also the built-in error a generic handler expects
(``OSError`` for a model that cannot be loaded, ``ValueError`` for bad input, ``KeyError``
for a word outside a vocabulary), so such handlers keep working."""


class ModelUnavailableError(OSError):
    """A model cannot be loaded here (offline, unknown name, missing package)."""


class WordNotFoundError(ValueError):
    """The word asked for does not occur in the sentence (or not that many times)."""


class EmptyInputError(ValueError):
    """An empty sentence, an empty list of sentences or an empty word."""


class UnknownWordError(KeyError):
    """A word that the static vocabulary does not contain."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""
