"""Escaping untrusted text for GitHub-flavoured Markdown, so it stays text inside its cell.

Every character Markdown or HTML could act on becomes a numeric character reference, which
renders as itself; control characters become visible escapes. Nothing a test name contains can
open a tag, a link, a table cell, a code span or a new line.
"""

from __future__ import annotations

from provenance.text import escape_char, is_invisible

_SIGNIFICANT = "\\`*_[]|~:@<>&\"'#!$"
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in _SIGNIFICANT}


def inline(text: str, limit: int | None = None) -> str:
    """Escape text for one line of Markdown (a heading, a table cell, a `<summary>`)."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for char in text:
        if is_invisible(char):
            out.append("&#92;" + escape_char(char)[1:])
        else:
            out.append(_ENTITIES.get(ord(char), char))
    return "".join(out)


def preformatted(text: str, limit: int | None = None) -> str:
    """Escape text for a `<pre>` block: line breaks and tabs kept, everything else as `inline`."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"\n… [{len(text) - limit} more characters in the provenance file]"
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join("\t".join(inline(part) for part in line.split("\t")) for line in lines)


def code(text: str, limit: int | None = None) -> str:
    """Untrusted text shown as code: a `<code>` element with escaped content."""
    return f"<code>{inline(text, limit)}</code>"
