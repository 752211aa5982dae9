"""Train the shipped ELMo checkpoint: ``python tools/train_elmo.py [--time-budget S | --max-steps N]``.

See :mod:`ctxembed.elmo.training` for the options; the defaults are the shipped run's.
"""
import sys

from ctxembed.elmo.training import main

if __name__ == "__main__":
    main(sys.argv[1:])
