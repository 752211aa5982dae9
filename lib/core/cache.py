"""The course's one cache folder: ``$CTXEMBED_CACHE``, else ``~/.cache/ctxembed``.

Data downloads, the compiled encoder and the WSD caches all live under it (each in its
own subfolder), so one variable moves them all, and deleting the folder resets the course.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "CTXEMBED_CACHE"


def course_cache_dir() -> Path:
    """``$CTXEMBED_CACHE`` when set, else ``~/.cache/ctxembed`` (not created here)."""
    env = os.environ.get(ENV)
    return Path(env) if env else Path.home() / ".cache" / "ctxembed"
