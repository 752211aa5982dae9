"""Instructor grading for the course's otter-grader exercises.

``ctxembed-grade grade SUBMISSIONS -a ch01_static_vs_contextual`` grades a folder of notebooks,
each in its own sandboxed process (time and memory limits, protected files, no subprocesses),
in parallel, and writes a gradebook CSV and one feedback file per student. See
``docs-dev/grading.md``.
"""

from .cli import grade_folder
from .runner import STATUS_DOC, Assignment, Grader, Result, load_assignment

__all__ = ["Assignment", "Grader", "Result", "STATUS_DOC", "grade_folder", "load_assignment"]
