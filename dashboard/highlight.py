"""Search words marked in model text, safely (pure: no Streamlit). The text is escaped
first and only then are the matches wrapped in ``<mark>``, so a response holding
``<script>`` or Markdown shows those characters and runs nothing: the only markup in the
result is ours. A snippet keeps the first match in view when a text is long."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

SNIPPET_CHARS = 200
BEFORE_MATCH = 60  # characters kept before the first match in a snippet
STYLE = "white-space: pre-wrap; font-family: monospace; font-size: 0.85rem; margin: 0"
MARK_STYLE = "background: #ffe08a; padding: 0 1px"


def _pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    words = sorted({t.strip('"') for t in terms if t.strip('"')}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def snippet(text: str, terms: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """At most ``width`` characters of ``text`` around its first match of ``terms``
    (the start when none matches), with "…" where it was cut."""
    if len(text) <= width:
        return text
    pattern = _pattern(terms)
    found = pattern.search(text) if pattern else None
    start = max(0, found.start() - BEFORE_MATCH) if found else 0
    start = min(start, len(text) - width)
    piece = text[start : start + width]
    return ("… " if start > 0 else "") + piece + (" …" if start + width < len(text) else "")


def marked_html(text: str, terms: Sequence[str]) -> str:
    """``text`` as escaped HTML in a pre-wrapped block, every match of ``terms``
    (case-insensitive) inside ``<mark>``."""
    pattern = _pattern(terms)
    parts, at = [], 0
    for m in pattern.finditer(text) if pattern else ():
        parts.append(escape(text[at : m.start()]))
        parts.append(f'<mark style="{MARK_STYLE}">{escape(m.group(0))}</mark>')
        at = m.end()
    parts.append(escape(text[at:]))
    return f'<div style="{STYLE}">{"".join(parts) or "(empty)"}</div>'
