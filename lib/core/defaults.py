"""The packaged default encoder's name, importable without torch (the command line's refusals
and cache keys need it before any model loads)."""

DEFAULT_MODEL = "all-MiniLM-L6-v2"
