from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from provenance.terminal import Progress, paint


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_and_erased() -> None:
    stream = Tty()
    with Progress("hashing", 3, stream, {}) as progress:
        for _ in range(3):
            progress.advance()
    text = stream.getvalue()
    assert "\rhashing: 1/3" in text and "\rhashing: 3/3" in text
    assert text.endswith("\r" + " " * len("\rhashing: 3/3") + "\r")


def test_no_progress_in_ci_or_when_redirected() -> None:
    for stream, env in ((Tty(), {"CI": "true"}), (io.StringIO(), {}), (Tty(), {"TERM": "dumb"})):
        with Progress("hashing", 3, stream, env) as progress:
            progress.advance(3)
        assert stream.getvalue() == ""


def test_colour_only_where_wanted() -> None:
    assert paint("FAILED", "failure", Tty(), {}) == "\x1b[1;31mFAILED\x1b[0m"
    assert paint("PASSED", "success", Tty(), {}) == "\x1b[1;32mPASSED\x1b[0m"
    assert paint("FAILED", "failure", Tty(), {"NO_COLOR": "1"}) == "FAILED"
    assert paint("FAILED", "failure", Tty(), {"CI": "true"}) == "FAILED"
    assert paint("FAILED", "failure", io.StringIO(), {}) == "FAILED"


def _backtest_on_a_terminal(history: Path, **env: str) -> bytes:
    """Run the real command with its stderr on a pseudo-terminal; returns what the terminal got."""
    leader, follower = pty.openpty()
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "NO_COLOR")}
    done = subprocess.run([sys.executable, "-m", "provenance", "backtest", "--history", str(history)],
                          stdout=subprocess.DEVNULL, stderr=follower, env={**base, **env}, timeout=60)  # fmt: skip
    os.close(follower)
    assert done.returncode == 0
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks)


def test_backtest_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    rows = ["Id;Name;Duration;LastRun;LastResults;Verdict;Cycle"]
    rows += [f"{c * 5 + t};t{t};1.5;;[];{int((c + t) % 7 == 0)};{c}" for c in range(40) for t in range(5)]
    history.write_text("\n".join(rows) + "\n")
    assert b"backtest: scored cycles: 30/30" in _backtest_on_a_terminal(history)
    assert _backtest_on_a_terminal(history, CI="true") == b""
