"""``python -m ctxembed.elmo train [...]``: train the course's ELMo (see :mod:`ctxembed.elmo.training`)."""

import sys

from .training import main

if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[1:] if args[:1] == ["train"] else args)
