import numpy as np
import pytest

import ctxembed
from ctxembed import UnknownWordError, WordNotFoundError
from ctxembed.static import context_average_vectors, static_word_vectors


def test_static_vector_is_the_same_in_every_context():
    rows = static_word_vectors(["I'll bank the money.", "The river bank is muddy."], "bank")
    np.testing.assert_array_equal(rows[0], rows[1])
    np.testing.assert_array_equal(rows[0], ctxembed.static_vector("Bank"))


def test_glove_neighbours_and_analogy():
    glove = ctxembed.load_glove()
    assert len(glove) == 400_000 and glove.vector_size == 50
    assert "banks" in [w for w, _ in glove.most_similar("bank", topn=5)]
    assert glove.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"


def test_unknown_word_is_a_clear_error():
    with pytest.raises(UnknownWordError, match="not in the static vocabulary"):
        ctxembed.static_vector("qwzxbanktrz")
    with pytest.raises(WordNotFoundError):
        static_word_vectors(["No such word here."], "bank")


def test_context_average_leaves_the_target_out():
    glove = ctxembed.load_glove()
    v = context_average_vectors(["the bank river"], "bank")[0]
    np.testing.assert_allclose(v, (glove["the"] + glove["river"]) / 2, atol=1e-6)


@pytest.mark.slow
def test_word2vec_is_reproducible_across_processes():
    """Same seed, same vectors, even though Python randomises str hashes per process."""
    import os
    import subprocess
    import sys

    code = ("from ctxembed.static import train_word2vec;"
            "wv = train_word2vec([['the', 'river', 'bank'], ['a', 'bank', 'loan']] * 30,"
            " vector_size=8, min_count=1, epochs=2, seed=3);"
            "print(' '.join(f'{x:.6f}' for x in wv['bank']))")
    runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, PYTHONHASHSEED=seed)) for seed in ("1", "2")]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs[0] == outputs[1] and len(outputs[0].split()) == 8
