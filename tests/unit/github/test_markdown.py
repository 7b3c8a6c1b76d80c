from __future__ import annotations

import re

import cmarkgfm
import pytest
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
    # Only entities may contain '&' and ';' and '#', and the empty comment that stops an address
    # autolink its '<', '!' and '>'; strip them, then nothing active is left.
    bare = re.sub(r"&#\d+;|<!---->", "", escaped)
    assert not (_ACTIVE & set(bare))


def _cell(text: str) -> str:
    """`text` in a table cell, as GitHub renders a summary (cmark-gfm, its extensions, raw HTML kept)."""
    table = f"| test |\n|---|\n| {code(text)} |\n"
    return cmarkgfm.github_flavored_markdown_to_html(table, options=cmarkgfm.cmark.Options.CMARK_OPT_UNSAFE)


@pytest.mark.parametrize("text", [
    "sign in at www.evil-login.example/github/session", "WWW.evil.example", "see https://evil.example/x",
    "http://a.b", "ftp://a.b", "mail admin@evil.example", "xmpp:a@b.example", "mailto:a@b.example",
    "<a href='https://evil.example'>x</a>", "[click](https://evil.example)", "![x](https://evil.example/p.png)",
])  # fmt: skip
def test_no_link_is_rendered_from_a_test_name(text: str) -> None:
    assert "<a" not in _cell(text) and "<img" not in _cell(text)


@given(st.text(alphabet=st.sampled_from("aw.@:/|`<>[]()!*_~\\ x-"), max_size=40))
def test_a_test_name_renders_as_its_own_text_in_one_cell(text: str) -> None:
    rendered = _cell(text)
    assert "<a" not in rendered and rendered.count("<td>") == 1
