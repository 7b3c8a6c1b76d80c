"""CTRF (Common Test Report Format): one JSON object whose `results` hold the tool, a summary and the tests.

The document is checked against CTRF's published schema (`ctrf_schema`); one that breaks it is
refused, naming the field. Each CTRF test is its final attempt: `passed`, `failed`, `skipped`,
`pending` or `other`, with the earlier attempts in `retryAttempts`. A test that passed after a
failed attempt (`flaky`, or a failed attempt, or retries where `flaky` is not said) is flaky: a
pass, counted apart. `pending` and `other` (a test written but not run: jest's `todo`, `disabled`)
are skips.

From pytest (`tool.name` "pytest"), `rawStatus` says more, and is read as pytest counts: pytest-json-ctrf
writes `setup_failed` for an error in setup (an error), `teardown_failed` for a test whose teardown
failed after its call passed (a pass and an error), `xfailed` for an expected failure (a skip).
`provenance run --ctrf-out` writes `<phase>_error` for an error and `xpassed` for an unexpected pass.
A pytest test that started and never stopped (`stop` 0: `pytest.exit`, Ctrl-C) is not counted, as
pytest does not count it, and the session did not finish.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import get_args

import msgspec
from msgspec import UNSET

from provenance.reports.common import (
    ParsedReport,
    ReportError,
    crash_location,
    decode_report,
    error_message,
    file_of_nodeid,
    make_result,
    passed,
    visible,
)
from provenance.reports.ctrf_schema import STATUSES, Document, Test
from provenance.reports.locate import Locator
from provenance.schemas import Outcome, Phase, ReportFormat, TestResult

_PHASES: tuple[Phase, ...] = get_args(Phase)
_BY_STATUS = {"passed": Outcome.PASSED, "failed": Outcome.FAILED, "skipped": Outcome.SKIPPED,
              "pending": Outcome.SKIPPED, "other": Outcome.SKIPPED}  # fmt: skip
_PYTEST_RAW = {"xfailed": Outcome.XFAILED, "xpassed": Outcome.XPASSED}
_MS = 1000.0


def parse(data: bytes, source: str, locator: Locator) -> ParsedReport:
    """Read a CTRF document; one that breaks the schema is a `ReportError` naming the field."""
    document = decode_report(data, source, Document, schema_error, "expected a JSON object (a CTRF report)")
    results = document.results
    pytest = results.tool.name.lower() == "pytest"
    report = ParsedReport(format=ReportFormat.CTRF, tool=results.tool.name)
    workers: set[str] = set()
    for test in results.tests:
        if pytest and _never_stopped(test):
            report.unfinished = True  # the session stopped inside this test: pytest counts it neither way
            report.stopped_in.append(visible(test.name))
            continue
        report.tests.extend(_results(test, pytest, locator))
        worker = _worker(test)
        if worker:
            workers.add(worker)
    start, stop = results.summary.start, results.summary.stop
    if 0 < start <= stop:
        report.walltime_seconds = (stop - start) / _MS
        report.started_at = _moment(start)
    report.workers = len(workers) or None
    return report


_WORDS = (
    (re.compile(r"`float` that's a multiple of 1\.0"), "an integer"),
    (re.compile(r"`float` >= 0\.0"), "a non-negative integer"),
    (re.compile(r"`float` >= 1\.0"), "an integer of at least 1"),
    (re.compile(r"`float`"), "a number"),
    (re.compile(r"`str` matching regex .*"), "a MAJOR.MINOR.PATCH version"),
    (re.compile(r"`str` of length >= 1"), "a non-empty string"),
)


def schema_error(exc: msgspec.ValidationError, source: str) -> ReportError:
    """msgspec's "Expected `str`, got `int` - at `$.results.tests[0].name`" as our one line: the field named."""
    message, _, where = str(exc).partition(" - at `$")
    field = where.rstrip("`").lstrip(".") or None
    enum = re.fullmatch(r"Invalid enum value (?P<got>.*)", message)
    if enum is not None:
        allowed = '"CTRF"' if field == "reportFormat" else ", ".join(STATUSES)
        message = f"expected {allowed} (got {enum['got']})"
    for pattern, words in _WORDS:
        message = pattern.sub(words, message)
    message = message[:1].lower() + message[1:]
    return ReportError(f"breaks the CTRF schema: {message}", source=source, field=field)


def _worker(test: Test) -> str | None:
    """Where the test ran: pytest-json-ctrf's `extra.worker` (an xdist worker), else `threadId`."""
    worker = test.extra.get("worker") if test.extra is not UNSET else None
    if isinstance(worker, str):
        return worker
    return test.thread_id if test.thread_id is not UNSET else None


def _never_stopped(test: Test) -> bool:
    """pytest-json-ctrf's mark of a test whose setup passed and nothing came after: it started, its stop is 0.

    A test whose xdist worker crashed has a stop of 0 too, but failed: pytest counts that failure.
    """
    started = test.start is not UNSET and test.start > 0
    return test.status == "passed" and started and test.stop is not UNSET and test.stop == 0


def _results(test: Test, pytest: bool, locator: Locator) -> list[TestResult]:
    """One result for the test; two (a pass and an error) for pytest's teardown failure after a pass."""
    nodeid = test.name
    seconds = max(0.0, test.duration / _MS)
    file = locator.relative(test.file_path) if test.file_path is not UNSET and test.file_path else None
    if file is None and pytest:
        file = locator.relative(file_of_nodeid(nodeid))
    line = int(test.line) if test.line is not UNSET and test.line > 0 else None
    outcome, phase = _outcome(test, pytest)
    if outcome is Outcome.PASSED:
        return [passed(nodeid, seconds, file, line)]
    trace = test.trace if test.trace is not UNSET else None
    message = (test.message if test.message is not UNSET else None) or error_message(trace)
    if outcome in (Outcome.FAILED, Outcome.ERROR):
        crash = crash_location(trace)
        if crash is not None:
            file, line = locator.relative(crash[0]), crash[1]
    if phase == "teardown" and test.raw_status == "teardown_failed":
        error = make_result(nodeid=nodeid, outcome=Outcome.ERROR, duration=0.0, file=file, line=line,
                            phase="teardown", message=message, longrepr=trace)  # fmt: skip
        return [passed(nodeid, seconds, error.file, error.line), error]
    return [make_result(nodeid=nodeid, outcome=outcome, duration=seconds, file=file, line=line, phase=phase,
                        message=message, longrepr=trace)]  # fmt: skip


def _outcome(test: Test, pytest: bool) -> tuple[Outcome, Phase | None]:
    """Our outcome for a CTRF status, with pytest's finer one where its `rawStatus` says it."""
    raw = test.raw_status if test.raw_status is not UNSET else ""
    if pytest and raw in _PYTEST_RAW:
        return _PYTEST_RAW[raw], ("call" if raw == "xfailed" else None)
    if pytest and test.status == "failed":
        when, _, what = raw.partition("_")
        if what in ("failed", "error") and when in _PHASES and (what == "error" or when != "call"):
            return Outcome.ERROR, when
    outcome = _BY_STATUS[test.status]
    if outcome is Outcome.PASSED and _was_flaky(test):
        return Outcome.FLAKY, None
    return outcome, ("call" if outcome is not Outcome.PASSED else None)


def _was_flaky(test: Test) -> bool:
    """Passed after a failed attempt: said outright, shown by an attempt, or implied by retries."""
    if test.flaky is not UNSET:
        return test.flaky
    attempts = test.retry_attempts if test.retry_attempts is not UNSET else []
    retries = test.retries if test.retries is not UNSET else 0
    return any(a.status == "failed" for a in attempts) or retries > 0


def _moment(milliseconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(milliseconds / _MS, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def looks_like_ctrf(head: bytes) -> bool:
    """A JSON object with CTRF's own members: `reportFormat` or `specVersion`, or `results` holding `tool`.

    pytest-json-report has none of them at its top; a CTRF report with them but broken is then
    refused for what breaks the schema, not taken for another format.
    """
    return _CTRF_MEMBER.search(head) is not None


_CTRF_MEMBER = re.compile(rb'"(?:reportFormat|specVersion)"\s*:|^\{\s*"results"\s*:|"results"\s*:\s*\{\s*"tool"\s*:')
