"""Instructor grading for the course's otter-grader exercises.

``ctxembed-grade grade SUBMISSIONS -a ch01_static_vs_contextual`` grades a folder of notebooks,
each in its own sandboxed process (time and memory limits, protected files, no subprocesses),
in parallel, and writes a gradebook CSV and one feedback file per student. See
``instructors.md`` (the grading page of the book).
"""

from .runner import (
    STATUS_DOC,
    Assignment,
    Grader,
    Result,
    SandboxUnavailable,
    load_assignment,
)

__all__ = [
    "STATUS_DOC",
    "Assignment",
    "Grader",
    "Result",
    "SandboxUnavailable",
    "grade_folder",
    "load_assignment",
]


def __getattr__(name: str):
    # imported on first use: `python -m ctxembed_instructor.grading.cli` must not find cli imported already
    if name == "grade_folder":
        from .cli import grade_folder

        return grade_folder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
