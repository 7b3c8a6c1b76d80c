"""pytest-json-report: one JSON object with `tests`, `collectors`, `exitcode` and `duration`.

msgspec decodes the document straight into the few fields we read: keywords, metadata and the
rest are skipped without being built, which takes a fraction of the time and memory of a dict
per JSON object. The fields are typed `Any` and checked here, so that the tolerance and the
messages stay ours.
"""

from __future__ import annotations

import ast
import re
import sys
from typing import Annotated, Any

import msgspec

from provenance.reports.common import (
    OUTCOME_BY_NAME,
    ParsedReport,
    ReportError,
    crash_location,
    decode_report,
    error_message,
    file_of_nodeid,
    first_line,
    make_result,
    passed,
    visible,
)
from provenance.reports.locate import Locator
from provenance.schemas import Outcome, Phase, ReportFormat, TestResult

# A duration: finite (NaN and infinity reach us only through the standard parser) and not negative.
_Seconds = Annotated[float, msgspec.Meta(ge=0, le=sys.float_info.max)]


class _Stage(msgspec.Struct):
    """One phase of a test: setup, call or teardown."""

    duration: _Seconds | None = None
    outcome: Any = None
    crash: Any = None
    longrepr: Any = None


class _Test(msgspec.Struct):
    nodeid: Any = None
    outcome: Any = None
    lineno: Any = None
    setup: _Stage | None = None
    call: _Stage | None = None
    teardown: _Stage | None = None


class _Collector(msgspec.Struct):
    nodeid: Any = None
    outcome: Any = None
    longrepr: Any = None


class _Report(msgspec.Struct):
    tests: list[_Test] = []
    collectors: list[_Collector] | None = None
    root: Any = None
    exitcode: Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)] | None = None
    duration: _Seconds | None = None


def parse(data: bytes, source: str, locator_for: Any) -> ParsedReport:
    """Read a pytest-json-report document."""
    document = decode_report(data, source, _Report, _misshapen)
    locator: Locator = locator_for(document.root if isinstance(document.root, str) else None)
    report = ParsedReport(format=ReportFormat.PYTEST_JSON)
    report.exit_status = document.exitcode
    report.walltime_seconds = document.duration
    for index, collector in enumerate(document.collectors or []):
        result = _collector(collector, f"collectors[{index}]", source, locator)
        if result is not None:
            report.tests.append(result)
    for index, test in enumerate(document.tests):
        results = _test(test, index, source, locator)
        if not results:  # the session stopped inside this test
            report.stopped_in.append(visible(test.nodeid))
        report.tests.extend(results)
    return report


def _misshapen(exc: msgspec.ValidationError, source: str) -> ReportError:
    """msgspec says "Expected `object`, got `int` - at `$.tests[0]`": the field goes where ours go."""
    message, _, where = str(exc).partition(" - at `$")
    field = where.rstrip("`").lstrip(".") or None
    if field is not None and field.endswith("duration"):
        message = "expected a non-negative number of seconds, or null"
    return ReportError(message[:1].lower() + message[1:], source=source, field=field)


def _test(test: _Test, index: int, source: str, locator: Locator) -> list[TestResult]:
    """One result for the test, and a second, an error, when its teardown failed (as pytest counts)."""
    nodeid = test.nodeid
    if not nodeid or type(nodeid) is not str:
        raise ReportError("expected a non-empty string", source=source, field=f"tests[{index}].nodeid")
    setup, call, teardown = test.setup, test.call, test.teardown
    if (
        test.outcome == "passed"
        and setup is not None
        and setup.outcome == "passed"
        and call is None
        and teardown is None
    ):
        return []  # the session stopped inside this test (`pytest.exit`, Ctrl-C): pytest counts it neither way
    name = test.outcome
    if name == "rerun" or (type(name) is str and name.startswith("subtests ")):
        # pytest-rerunfailures: the stages are the last attempt's, which decides; `subtests passed`
        # (pytest -q) is the test's own outcome with its subtests' beside it.
        name = _last_attempt(setup, call)
    elif teardown is not None and teardown.outcome == "skipped" and call is not None and call.outcome != "skipped":
        # An xfail (or skip) at teardown overwrites the outcome pytest-json-report writes: the call's
        # decides (a strict unexpected pass fails; a call that passed in a test written xfailed is an xpass).
        name = "xpassed" if call.outcome == "passed" and test.outcome == "xfailed" else call.outcome
    outcome = OUTCOME_BY_NAME.get(name) if type(name) is str else None
    if outcome is Outcome.PASSED and test.outcome == "rerun":
        outcome = Outcome.FLAKY
    if outcome is None:
        expected = ", ".join(OUTCOME_BY_NAME)
        raise ReportError(
            f"expected one of {expected} (got {test.outcome!r})", source=source, field=f"tests[{index}].outcome"
        )
    duration = ((setup and setup.duration) or 0.0) + ((call and call.duration) or 0.0)
    teardown_seconds = (teardown and teardown.duration) or 0.0
    setup_failed = setup is not None and setup.outcome == "failed"
    teardown_failed = not setup_failed and teardown is not None and teardown.outcome == "failed"
    if not teardown_failed:  # a teardown that passed is part of the test's time
        duration += teardown_seconds
    lineno = test.lineno
    line = lineno + 1 if type(lineno) is int and lineno >= 0 else None
    file = locator.relative(file_of_nodeid(nodeid)) or None
    if outcome is Outcome.PASSED and not teardown_failed:
        # Nearly every test of a large report: nothing to keep but the facts.
        return [passed(nodeid, duration, file, line)]
    if teardown_failed and outcome is Outcome.ERROR:
        # pytest-json-report reports the teardown's error as the test's outcome; pytest counts the
        # call's own outcome (the setup's, where a skip in setup left no call), and the teardown error besides.
        stage = call if call is not None else setup
        outcome = _CALL_OUTCOME.get(str(stage.outcome) if stage else "", Outcome.PASSED)
    failed_phase: Phase | None = None
    failed_stage = None
    if outcome not in (Outcome.PASSED, Outcome.XPASSED):
        candidates: tuple[tuple[Phase, _Stage | None], ...] = (("setup", setup), ("call", call))
        for phase, stage in candidates:
            if stage is not None and stage.outcome in _NOT_PASSED:
                failed_phase, failed_stage = phase, stage
                break
    results = [_result(nodeid, outcome, duration, file, line, failed_phase, failed_stage, locator)]
    if teardown_failed:
        results.append(_result(nodeid, Outcome.ERROR, teardown_seconds, file, line, "teardown", teardown, locator))
    return results


_NOT_PASSED = ("failed", "skipped")


def _last_attempt(setup: _Stage | None, call: _Stage | None) -> str:
    """The outcome pytest counts for a test whose report outcome does not say it (a rerun, subtests)."""
    if setup is not None and setup.outcome == "failed":
        return "error"
    stage = call if call is not None else setup
    return str(stage.outcome) if stage is not None and stage.outcome in _NOT_PASSED else "passed"


_CALL_OUTCOME = {"failed": Outcome.FAILED, "skipped": Outcome.SKIPPED, "passed": Outcome.PASSED}


def _result(
    nodeid: str,
    outcome: Outcome,
    duration: float,
    file: str | None,
    line: int | None,
    phase: Phase | None,
    stage: _Stage | None,
    locator: Locator,
) -> TestResult:
    """A result with the failure details of `stage`: the crash line, else the skip's location."""
    message: str | None = None
    longrepr: str | None = None
    if stage is not None:
        longrepr = _text(stage.longrepr)
        crash = stage.crash if isinstance(stage.crash, dict) else None
        if crash is not None:
            message = first_line(_text(crash.get("message")))
            if isinstance(crash.get("path"), str) and isinstance(crash.get("lineno"), int):
                file, line = locator.relative(crash["path"]), crash["lineno"]
        elif outcome is Outcome.SKIPPED:
            message, file, line = _skip_reason(longrepr, file, line, locator)
        else:
            message = error_message(longrepr)
    return make_result(
        nodeid=nodeid, outcome=outcome, duration=duration, file=file, line=line,
        phase=phase, message=message, longrepr=longrepr,
    )  # fmt: skip


def _collector(collector: _Collector, where: str, source: str, locator: Locator) -> TestResult | None:
    """A collector that failed is an error (a module that did not import); one that skipped, a skip."""
    outcome_name = collector.outcome
    if outcome_name not in ("failed", "skipped"):
        return None
    nodeid = collector.nodeid
    if not isinstance(nodeid, str):
        raise ReportError("expected a string", source=source, field=f"{where}.nodeid")
    longrepr = _text(collector.longrepr)
    file = locator.relative(file_of_nodeid(nodeid)) if nodeid else None
    if outcome_name == "skipped":
        message, file, line = _skip_reason(longrepr, file, None, locator)
        return make_result(
            nodeid=nodeid or "<session>",
            outcome=Outcome.SKIPPED,
            duration=0.0,
            file=file,
            line=line,
            phase="collect",
            message=message,
            longrepr=longrepr,
        )
    crash = crash_location(longrepr)  # the import line, from the traceback's text
    line = None
    if crash is not None:
        file, line = locator.relative(crash[0]), crash[1]
    return make_result(
        nodeid=nodeid or "<session>",
        outcome=Outcome.ERROR,
        duration=0.0,
        file=file,
        line=line,
        phase="collect",
        message=error_message(longrepr) or "collection failed",
        longrepr=longrepr,
    )


# The repr of a skip's tuple when its strings hold no quote or backslash to unescape: most skips.
_PLAIN_SKIP = re.compile(r"\('([^'\\]*)', ([0-9]{1,9}), '([^'\\]*)'\)")


def _skip_reason(
    longrepr: str | None, file: str | None, line: int | None, locator: Locator
) -> tuple[str | None, str | None, int | None]:
    """A skip's longrepr is the repr of a (path, lineno, reason) tuple; that lineno is 1-based."""
    if not longrepr:
        return None, file, line
    plain = _PLAIN_SKIP.fullmatch(longrepr)
    try:
        value = (plain[1], int(plain[2]), plain[3]) if plain else ast.literal_eval(longrepr)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return first_line(longrepr), file, line
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[2], str):
        path, lineno, reason = value
        if isinstance(path, str) and isinstance(lineno, int):
            return first_line(reason), locator.relative(path), lineno
        return first_line(reason), file, line
    return first_line(longrepr), file, line


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
