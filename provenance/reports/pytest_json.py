"""pytest-json-report: one JSON object with `tests`, `collectors`, `exitcode` and `duration`."""

from __future__ import annotations

import ast
import math
from typing import Any

from provenance.reports.common import (
    OUTCOME_BY_NAME,
    ParsedReport,
    ReportError,
    crash_location,
    error_message,
    file_of_nodeid,
    first_line,
    make_result,
)
from provenance.reports.locate import Locator
from provenance.schemas import Outcome, ReportFormat, TestResult

_PHASES = ("setup", "call", "teardown")


def parse(data: Any, source: str, locator_for: Any) -> ParsedReport:
    """Read a decoded pytest-json-report document."""
    if not isinstance(data, dict) or not isinstance(data.get("tests", []), list):
        raise ReportError("expected a pytest-json-report object with a `tests` list", source=source, field="tests")
    locator: Locator = locator_for(data.get("root") if isinstance(data.get("root"), str) else None)
    report = ParsedReport(format=ReportFormat.PYTEST_JSON)
    report.exit_status = _optional_int(data, "exitcode", source)
    report.walltime_seconds = _optional_float(data, "duration", source)
    for index, collector in enumerate(data.get("collectors") or []):
        result = _collector(collector, f"collectors[{index}]", source, locator)
        if result is not None:
            report.tests.append(result)
    for index, test in enumerate(data.get("tests") or []):
        report.tests.extend(_test(test, f"tests[{index}]", source, locator))
    return report


def _test(test: Any, where: str, source: str, locator: Locator) -> list[TestResult]:
    """One result for the test, and a second, an error, when its teardown failed (as pytest counts)."""
    if not isinstance(test, dict):
        raise ReportError("expected an object", source=source, field=where)
    nodeid = test.get("nodeid")
    if not isinstance(nodeid, str) or not nodeid:
        raise ReportError("expected a non-empty string", source=source, field=f"{where}.nodeid")
    raw_outcome = test.get("outcome")
    outcome = OUTCOME_BY_NAME.get(raw_outcome) if isinstance(raw_outcome, str) else None
    if outcome is None:
        expected = ", ".join(OUTCOME_BY_NAME)
        raise ReportError(
            f"expected one of {expected} (got {test.get('outcome')!r})", source=source, field=f"{where}.outcome"
        )
    stages: dict[str, dict[str, Any]] = {}
    durations: dict[str, float] = {}
    for phase in _PHASES:
        stage = test.get(phase)
        if stage is None:
            continue
        if not isinstance(stage, dict):
            raise ReportError("expected an object", source=source, field=f"{where}.{phase}")
        stages[phase] = stage
        durations[phase] = _optional_float(stage, "duration", source, f"{where}.{phase}") or 0.0
    setup_failed = stages.get("setup", {}).get("outcome") == "failed"
    teardown_failed = not setup_failed and stages.get("teardown", {}).get("outcome") == "failed"
    if teardown_failed and outcome is Outcome.ERROR:
        # pytest-json-report reports the teardown's error as the test's outcome; pytest counts the
        # call's own outcome, and the teardown error besides.
        outcome = _CALL_OUTCOME.get(str(stages.get("call", {}).get("outcome")), Outcome.PASSED)
    lineno = test.get("lineno")
    file: str | None = locator.relative(file_of_nodeid(nodeid))
    line = lineno + 1 if isinstance(lineno, int) and not isinstance(lineno, bool) else None
    failed_phase = None
    if outcome not in (Outcome.PASSED, Outcome.XPASSED):
        failed_phase = next((p for p in ("setup", "call") if stages.get(p, {}).get("outcome") in _NOT_PASSED), None)
    duration = durations.get("setup", 0.0) + durations.get("call", 0.0)
    if not teardown_failed:  # a teardown that passed is part of the test's time
        duration += durations.get("teardown", 0.0)
    results = [_result(nodeid, outcome, duration, file, line, failed_phase, stages.get(failed_phase or ""), locator)]
    if teardown_failed:
        results.append(
            _result(nodeid, Outcome.ERROR, durations.get("teardown", 0.0), file, line, "teardown",
                    stages["teardown"], locator)
        )  # fmt: skip
    return results


_NOT_PASSED = ("failed", "skipped")
_CALL_OUTCOME = {"failed": Outcome.FAILED, "skipped": Outcome.SKIPPED, "passed": Outcome.PASSED}


def _result(
    nodeid: str,
    outcome: Outcome,
    duration: float,
    file: str | None,
    line: int | None,
    phase: str | None,
    stage: dict[str, Any] | None,
    locator: Locator,
) -> TestResult:
    """A result with the failure details of `stage`: the crash line, else the skip's location."""
    message: str | None = None
    longrepr: str | None = None
    if stage is not None:
        longrepr = _text(stage.get("longrepr"))
        crash = stage.get("crash") if isinstance(stage.get("crash"), dict) else None
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


def _collector(collector: Any, where: str, source: str, locator: Locator) -> TestResult | None:
    """A collector that failed is an error (a module that did not import); one that skipped, a skip."""
    if not isinstance(collector, dict):
        raise ReportError("expected an object", source=source, field=where)
    outcome_name = collector.get("outcome")
    if outcome_name not in ("failed", "skipped"):
        return None
    nodeid = collector.get("nodeid")
    if not isinstance(nodeid, str):
        raise ReportError("expected a string", source=source, field=f"{where}.nodeid")
    longrepr = _text(collector.get("longrepr"))
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


def _skip_reason(
    longrepr: str | None, file: str | None, line: int | None, locator: Locator
) -> tuple[str | None, str | None, int | None]:
    """A skip's longrepr is the repr of a (path, lineno, reason) tuple; that lineno is 1-based."""
    if not longrepr:
        return None, file, line
    try:
        value = ast.literal_eval(longrepr)
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


def _optional_float(data: dict[str, Any], key: str, source: str, where: str | None = None) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        field = f"{where}.{key}" if where else key
        raise ReportError(f"expected a non-negative number of seconds (got {value!r})", source=source, field=field)
    return float(value)


def _optional_int(data: dict[str, Any], key: str, source: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReportError(f"expected an integer (got {value!r})", source=source, field=key)
    return value
