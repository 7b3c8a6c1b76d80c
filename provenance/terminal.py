"""What a person at a terminal sees beyond the plain text: colour and progress.

Both appear only on an interactive terminal: never in CI logs (`CI` set), never when the output is
redirected, and colour never when `NO_COLOR` is set (https://no-color.org) or `TERM` is `dumb`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import TextIO

_COLOURS = {"success": "32", "failure": "31", "neutral": "33"}  # green, red, yellow: legible on dark and light


def interactive(stream: TextIO, env: Mapping[str, str]) -> bool:
    """A person is watching this stream: a terminal, outside CI."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not env.get("CI") and env.get("TERM") != "dumb"


def paint(text: str, conclusion: str, stream: TextIO, env: Mapping[str, str]) -> str:
    """`text` in bold and the conclusion's colour, when colour is wanted on this stream."""
    if not interactive(stream, env) or env.get("NO_COLOR") or conclusion not in _COLOURS:
        return text
    return f"\x1b[1;{_COLOURS[conclusion]}m{text}\x1b[0m"


class Progress:
    """`label: done/total` rewritten in place at most ten times a second, then erased."""

    def __init__(self, label: str, total: int, stream: TextIO, env: Mapping[str, str]) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.enabled = interactive(stream, env) and total > 1
        self.done = 0
        self._shown_at = 0.0
        self._width = 0

    def advance(self, steps: int = 1) -> None:
        """Count `steps` more done; redraw when a tenth of a second has passed, and at the end."""
        self.done += steps
        now = time.monotonic()
        if self.enabled and (now - self._shown_at >= 0.1 or self.done == self.total):
            text = f"\r{self.label}: {self.done}/{self.total}"
            self._width = max(self._width, len(text))
            self.stream.write(text)
            self.stream.flush()
            self._shown_at = now

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
