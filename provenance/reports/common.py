"""What every report parser shares: the parsed shape, text helpers and the bounds we keep."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import msgspec

from provenance import reading
from provenance.errors import InputError
from provenance.schemas import Outcome, Phase, ReportFormat, Result, TestResult

# A traceback longer than this is cut (with a notice) so one pathological test cannot blow up
# the evidence file, the ledger or the summary. 64 KiB keeps every real traceback we have seen.
MAX_LONGREPR_CHARS = 64 * 1024
MAX_MESSAGE_CHARS = 1000

# pytest ends a traceback with "path:lineno: ExceptionType"; the last such line is the crash.
_CRASH_LINE = re.compile(r"^(?P<path>[^\s:][^:\n]*?):(?P<line>[0-9]{1,9}):(?: (?P<what>.*))?$", re.MULTILINE)


@dataclass
class ParsedReport:
    """One report file, read into our records, with the session facts the verdict needs."""

    format: ReportFormat
    tests: list[TestResult] = field(default_factory=list)
    exit_status: int | None = None
    walltime_seconds: float | None = None
    workers: int | None = None
    started_at: datetime | None = None
    # The session did not finish: a report log without `SessionFinish` (pytest killed, a plugin
    # crashed at the end), or JUnit's nameless test case for the test a session stopped in. Such a
    # run never passes.
    unfinished: bool = False
    # The tests the session stopped inside (a timeout's `os._exit`, a crash, `pytest.exit`, Ctrl-C),
    # where the report names them: counted neither way, but named in the verdict.
    stopped_in: list[str] = field(default_factory=list)
    # The tool that ran the tests, where the report names it (CTRF's `tool.name`); else pytest.
    tool: str | None = None


class ReportError(InputError):
    """A report that cannot be read; names the report and the field at fault."""


# Line numbers past this are not a source file's: a number a 64-bit writer cannot take is refused.
_MAX_LINE = 2**31 - 1
# Line and paragraph separators: invisible, yet they split a line wherever text is split into lines.
_SEPARATORS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029"})


def visible(text: str) -> str:
    """A name (node id, file) as it can be written and shown: lone surrogates and U+2028/U+2029 escaped.

    A JSON report may hold a lone surrogate, which no UTF-8 writer accepts; it is kept as the text
    of its escape (a backslash, `ud800`), so the test stays recognisable and nothing fails on it.
    """
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8").translate(_SEPARATORS)


def _text(text: str | None) -> str | None:
    if text is None or text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def trim(text: str | None, limit: int = MAX_LONGREPR_CHARS) -> str | None:
    """Bound a text field, saying how much was cut."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit} more characters cut]"


def first_line(text: str | None) -> str | None:
    """The headline of a message: its first non-blank line, bounded."""
    if not text:
        return None
    for line in text.splitlines():
        if line.strip():
            return trim(line.strip(), MAX_MESSAGE_CHARS)
    return None


def crash_location(longrepr: str | None) -> tuple[str, int] | None:
    """The last `path:lineno:` line of a pytest traceback, where the failure happened."""
    if not longrepr:
        return None
    found = None
    for match in _CRASH_LINE.finditer(longrepr[-20000:]):
        found = match
    if found is None:
        return None
    return found.group("path"), int(found.group("line"))


# Python's own frame lines (`File "x.py", line 7`, as a SyntaxError shows where it is), and the
# places no project keeps its code: an installed package, the standard library, frozen modules.
_PY_FRAME = re.compile(r'File "(?P<path>[^"\n]+)", line (?P<line>[0-9]{1,9})')
_NOT_THE_PROJECT = re.compile(r"site-packages/|dist-packages/|/lib/python\d|^<frozen |hostedtoolcache/|^\.\./")


def outside_the_project(path: str) -> bool:
    """A path in an installed package, the standard library, or above the rootdir."""
    return _NOT_THE_PROJECT.search(path) is not None


def project_location(longrepr: str | None, is_project_file: Callable[[str], bool]) -> tuple[str, int] | None:
    """The last place in a traceback that is the project's code, not the interpreter's or a library's.

    A file the workspace holds wins; without the sources at hand (a report read elsewhere), the
    last frame outside installed packages and the standard library. None when there is none.
    """
    if not longrepr:
        return None
    tail = longrepr[-20000:]
    found = sorted(
        [(m.start(), m.group("path"), int(m.group("line"))) for m in _CRASH_LINE.finditer(tail)]
        + [(m.start(), m.group("path"), int(m.group("line"))) for m in _PY_FRAME.finditer(tail)]
    )
    ours = [(path, line) for _, path, line in found if not outside_the_project(path)]
    in_workspace = [(path, line) for path, line in ours if is_project_file(path)]
    chosen = in_workspace or ours
    return chosen[-1] if chosen else None


def error_message(longrepr: str | None) -> str | None:
    """The `E   ` lines pytest prints for the exception, else the traceback's first line."""
    if not longrepr:
        return None
    errors = [line[1:].strip() for line in longrepr.splitlines() if line.startswith("E ")]
    if errors:
        return trim(" ".join(e for e in errors if e), MAX_MESSAGE_CHARS)
    return first_line(longrepr)


def file_of_nodeid(nodeid: str) -> str:
    """The file part of a pytest node id: everything before the first `::`.

    A parameter id may contain `::` or brackets, but only after the first `::` (the path's own
    separator), so the first one always ends the path, whatever follows.
    """
    return nodeid.split("::", 1)[0]


OUTCOME_BY_NAME = {outcome.value: outcome for outcome in Outcome}


def passed(nodeid: str, duration: float, file: str | None, line: int | None) -> TestResult:
    """A test that passed: nearly every test of a large report, so nothing but the facts."""
    line = line if line is None or 0 < line <= _MAX_LINE else None
    return TestResult(visible(nodeid), Result.PASS, Outcome.PASSED, duration, visible(file) if file else None, line)


def make_result(
    *,
    nodeid: str,
    outcome: Outcome,
    duration: float,
    file: str | None,
    line: int | None,
    phase: Phase | None = None,
    message: str | None = None,
    longrepr: str | None = None,
) -> TestResult:
    """Build a `TestResult`, keeping only the failure details of tests that did not pass."""
    keep_details = outcome not in (Outcome.PASSED, Outcome.XPASSED)
    return TestResult(
        nodeid=visible(nodeid),
        result=outcome.result,
        outcome=outcome,
        duration_seconds=max(0.0, duration),
        file=visible(file) if file else None,
        line=line if line and 0 < line <= _MAX_LINE else None,
        phase=phase if keep_details else None,
        message=_text(trim(message, MAX_MESSAGE_CHARS)) if keep_details else None,
        longrepr=_text(trim(longrepr)) if keep_details else None,
    )


_Decoded = TypeVar("_Decoded")


def decode_report(data: bytes, source: str, into: type[_Decoded],
                  misshapen: Callable[[msgspec.ValidationError, str], ReportError],
                  not_an_object: str | None = None) -> _Decoded:  # fmt: skip
    """msgspec decodes straight into `into`, for speed; what it cannot decode, the strict reader explains.

    The fast path does not look for duplicate keys (the last one counts): a strict parse of a large
    report takes several times as long. NaN, integers beyond 64 bits, deep nesting and malformed JSON
    go to the strict reader (`reading.loads`), which refuses duplicate keys, deep nesting and huge
    integers. With `not_an_object`, a document that is not a JSON object is refused with that message.
    """
    try:
        return msgspec.json.decode(data, type=into)
    except msgspec.ValidationError as exc:
        raise misshapen(exc, source) from None
    except msgspec.DecodeError:
        pass
    except RecursionError:
        raise ReportError("nested too deeply to be a test report", source=source) from None
    loaded = reading.loads(data, source=source, error=ReportError)
    if not_an_object is not None and not isinstance(loaded, dict):
        raise ReportError(not_an_object, source=source)
    try:
        return msgspec.convert(loaded, into)
    except msgspec.ValidationError as exc:
        raise misshapen(exc, source) from None
