"""Making untrusted text visible: control and format characters shown as escapes, never acted on."""

from __future__ import annotations

import re
import unicodedata

# Cc: C0/C1 controls (ESC, CR, LF...); Cf: format characters such as bidi overrides and
# zero-width joiners; Zl/Zp: the Unicode line and paragraph separators.
_INVISIBLE = frozenset(("Cc", "Cf", "Zl", "Zp"))


def is_invisible(char: str) -> bool:
    """True for characters that can move the cursor, reorder text or hide in plain sight."""
    return unicodedata.category(char) in _INVISIBLE


def escape_char(char: str) -> str:
    r"""`\x1b`, `\u202e`: how an invisible character is shown."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Text safe to print on a terminal or into a CI log line."""
    return "".join(escape_char(c) if is_invisible(c) else c for c in text)


# GitHub's token formats (classic and fine-grained personal, OAuth, app installation, user-to-server,
# refresh): a token pasted into the wrong setting is recognised wherever it is echoed.
_GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")


def redact(text: str) -> str:
    """Text with anything shaped like a GitHub token replaced by `***`."""
    return _GITHUB_TOKEN.sub("***", text)


def printable_lines(text: str) -> str:
    """Like `printable`, but line breaks and tabs stay: for multi-line messages (annotations, tracebacks)."""
    return "".join(c if c in "\n\t" or not is_invisible(c) else escape_char(c) for c in text)


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 error`, `2 errors`: a count in words that agree in number (`many` for an irregular plural)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def is_are(count: int) -> str:
    """The verb that agrees with `count`: `1 test is`, `2 tests are`."""
    return "is" if count == 1 else "are"
