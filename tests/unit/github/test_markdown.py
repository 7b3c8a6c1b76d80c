from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from provenance.github.markdown import code, inline, preformatted

_ACTIVE = set("\\`*_[]|~:@<>&\"'#!$\n\r")


def test_markup_becomes_text() -> None:
    assert inline("<b>x</b> | *y*") == "&#60;b&#62;x&#60;/b&#62; &#124; &#42;y&#42;"
    assert inline("a\nb\u202ec\x1b[31m") == "a&#92;x0ab&#92;u202ec&#92;x1b&#91;31m"
    assert code("`x`") == "<code>&#96;x&#96;</code>"


def test_limit_shortens_with_an_ellipsis() -> None:
    assert inline("abcdef", limit=4) == "abc…"


def test_preformatted_keeps_lines_and_closes_nothing() -> None:
    text = preformatted("line 1\n</pre><script>alert(1)</script>\n\tindent")
    assert text.split("\n")[0] == "line 1"
    assert "</pre>" not in text and "<script>" not in text
    assert text.split("\n")[2].startswith("\t")


@given(st.text())
def test_inline_output_has_no_active_character(text: str) -> None:
    escaped = inline(text)
    # Only entities may contain '&' and ';' and '#'; strip them, then nothing active is left.
    bare = re.sub(r"&#\d+;", "", escaped)
    assert not (_ACTIVE & set(bare))
