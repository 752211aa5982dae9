"""The course's instructor tools, kept out of the student's ``ctxembed`` package.

Students install the course library (``ctxembed``) on Colab, Binder or their own machine; an
instructor also installs this package (``pip install -e ./instructor`` in a clone; ``make book``
does it):

=================================  ============================================================
``ctxembed_instructor.exercises``  ``ctxembed-exercises``: the student notebooks, reference
                                   solutions and autograder zips, built from the masters
``ctxembed_instructor.grading``    ``ctxembed-grade``: sandboxed autograding of a class's
                                   submissions
``ctxembed_instructor.paths``      where the masters, the generated notebooks and the zips live
=================================  ============================================================

See ``instructors.md`` (the book's grading page).
"""
