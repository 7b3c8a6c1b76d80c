"""Escaping untrusted text for GitHub-flavoured Markdown, so it stays text inside its cell.

Every character Markdown or HTML could act on becomes a numeric character reference, which
renders as itself; control characters become visible escapes. Nothing a test name contains can
open a tag, a link (GitHub's autolinks included), a table cell, a code span or a new line.
"""

from __future__ import annotations

from provenance.text import escape_char, is_invisible

_SIGNIFICANT = "\\`*_[]|~:@<>&\"'#!$"
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in _SIGNIFICANT}
# GitHub's autolinks: `:` as an entity stops `https://…`, and `.` as one after `www` stops `www.…`,
# since those are looked for within one run of plain text; an address (`a@b.example`, `xmpp:a@b.c`)
# is found across entities, and only a comment before its `@` stops it.
_ENTITIES[ord("@")] = "<!---->&#64;"


def inline(text: str, limit: int | None = None) -> str:
    """Escape text for one line of Markdown (a heading, a table cell, a `<summary>`)."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for i, char in enumerate(text):
        if is_invisible(char):
            out.append("&#92;" + escape_char(char)[1:])
        elif char == "." and text[max(0, i - 3) : i].lower() == "www":
            out.append("&#46;")
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
