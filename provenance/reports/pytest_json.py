"""pytest-json-report: one JSON object with `tests`, `collectors`, `exitcode` and `duration`."""

from __future__ import annotations

import ast
import math
from typing import Any

from provenance.reports.common import (
    OUTCOME_BY_NAME,
    ParsedReport,
    ReportError,
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
        report.tests.append(_test(test, f"tests[{index}]", source, locator))
    return report


def _test(test: Any, where: str, source: str, locator: Locator) -> TestResult:
    if not isinstance(test, dict):
        raise ReportError("expected an object", source=source, field=where)
    nodeid = test.get("nodeid")
    if not isinstance(nodeid, str) or not nodeid:
        raise ReportError("expected a non-empty string", source=source, field=f"{where}.nodeid")
    outcome = OUTCOME_BY_NAME.get(test.get("outcome"))  # type: ignore[arg-type]
    if outcome is None:
        expected = ", ".join(OUTCOME_BY_NAME)
        raise ReportError(
            f"expected one of {expected} (got {test.get('outcome')!r})", source=source, field=f"{where}.outcome"
        )
    duration = 0.0
    failed_phase: str | None = None
    for phase in _PHASES:
        stage = test.get(phase)
        if stage is None:
            continue
        if not isinstance(stage, dict):
            raise ReportError("expected an object", source=source, field=f"{where}.{phase}")
        duration += _optional_float(stage, "duration", source, f"{where}.{phase}") or 0.0
        if failed_phase is None and stage.get("outcome") in ("failed", "skipped") and outcome is not Outcome.PASSED:
            failed_phase = phase
    file: str | None = locator.relative(file_of_nodeid(nodeid))
    lineno = test.get("lineno")
    line = lineno + 1 if isinstance(lineno, int) and not isinstance(lineno, bool) else None
    message: str | None = None
    longrepr: str | None = None
    if failed_phase is not None:
        stage = test[failed_phase]
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
        nodeid=nodeid,
        outcome=outcome,
        duration=duration,
        file=file,
        line=line,
        phase=failed_phase,
        message=message,
        longrepr=longrepr,
    )


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
    return make_result(
        nodeid=nodeid or "<session>",
        outcome=Outcome.ERROR,
        duration=0.0,
        file=file,
        line=None,
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
