"""Small HTML views (tables, the self-check quiz) rendered from Jinja templates.

Every value a template inserts is escaped (autoescaping), so a token such as ``<unk>`` or a
sentence with ``&`` shows as written and cannot break the page; HTML made on purpose elsewhere
(the quiz's inline Markdown) is marked safe with :class:`markupsafe.Markup`. Templates are
written one element per line for reading; the whitespace between tags is dropped from the
output, so a view the explorers embed many times stays small.

Example
-------
>>> render('<td>{{ word }}</td>', word="<unk> & co")
'<td>&lt;unk&gt; &amp; co</td>'
"""

from __future__ import annotations

import functools
import re

from jinja2 import Environment, Template
from markupsafe import Markup

__all__ = ["Markup", "render"]

# a line break (and the indentation around it) between a tag or template tag and the next one
_BETWEEN_TAGS = re.compile(r"(?<=[>}])\s*\n\s*(?=[<{])")


@functools.cache
def _environment() -> Environment:
    return Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


@functools.lru_cache(maxsize=64)
def _template(source: str) -> Template:
    return _environment().from_string(_BETWEEN_TAGS.sub("", source.strip()))


def render(source: str, **context) -> str:
    """``source`` (a Jinja template) rendered with ``context``, every inserted value escaped."""
    return _template(source).render(**context)
