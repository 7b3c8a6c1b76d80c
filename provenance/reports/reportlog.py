"""pytest-reportlog: JSON lines of `TestReport`, `CollectReport` and `SessionFinish` records.

A test's phases arrive as separate `TestReport` lines; its outcome is derived as pytest's
terminal reporter derives it (a failed setup is an error, a skipped call with `wasxfail` is an
xfail, a passed call with `wasxfail` an xpass), and a failed teardown is an error of its own.

What real sessions add: pytest-rerunfailures writes a failed attempt as outcome `rerun` and runs
the test again (the last attempt is the test's outcome, every attempt's time its cost); the flaky
plugin runs a failed test again and writes no record of the failed call, so a test set up again
after a teardown with no call between was run again too (`boltons-flaky-plugin` in the corpus of
real sessions), while one that ran whole twice (`--keep-duplicates`, xdist's `--dist each`) was
not retried; a crashed xdist worker's test arrives as one failed phase `???`; a session stopped
inside a test (`pytest.exit`, Ctrl-C) leaves that test with a setup alone, which pytest does not
count; and a log without `SessionFinish` was cut short.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from provenance import reading
from provenance.reports.common import (
    MAX_MESSAGE_CHARS,
    ParsedReport,
    ReportError,
    crash_location,
    error_message,
    file_of_nodeid,
    first_line,
    make_result,
    trim,
    visible,
)
from provenance.reports.locate import Locator
from provenance.schemas import MAX_SECONDS, Outcome, Phase, ReportFormat, TestResult

_LAST_INSTANT = 253402300800  # 10000-01-01 as a Unix time: a `start` or `stop` past it (or at 0) is no time


@dataclass
class _Item:
    nodeid: str
    location: tuple[str, int] | None = None
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    duration: float = 0.0
    failed_subtests: list[dict[str, Any]] = field(default_factory=list)
    reruns: int = 0


def _add_subtest(record: dict[str, Any], items: dict[str, _Item]) -> None:
    """Subtests (pytest 9): a failing one fails its test; passing ones are not tests of their own."""
    nodeid = record.get("nodeid")
    if isinstance(nodeid, str) and record.get("outcome") == "failed":
        item = items.get(nodeid)
        if item is None:
            item = items[nodeid] = _Item(nodeid)
        item.failed_subtests.append(record)


def parse(lines: Iterable[bytes], source: str, locator: Locator) -> ParsedReport:
    """Read the JSON lines of a report log."""
    report = ParsedReport(format=ReportFormat.REPORTLOG)
    items: dict[str, _Item] = {}
    collect_results: list[TestResult] = []
    starts: list[float] = []
    stops: list[float] = []
    workers: set[str] = set()
    finished = False
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"line {number}"
        record = reading.loads(
            raw, source=source, field=where, error=ReportError
        )  # duplicate keys, deep nesting, huge integers refused
        if not isinstance(record, dict):
            raise ReportError("expected a JSON object", source=source, field=where)
        kind = record.get("$report_type")
        if kind == "TestReport":
            _add_phase(record, where, source, items, starts, stops, workers)
        elif kind == "SubTestReport":
            _add_subtest(record, items)
        elif kind == "CollectReport":
            result = _collect(record, where, source, locator)
            if result is not None:
                collect_results.append(result)
        elif kind == "SessionFinish":
            finished = True
            status = record.get("exitstatus")
            if isinstance(status, int) and not isinstance(status, bool):
                report.exit_status = status
    report.unfinished = not finished and bool(items or collect_results)
    report.stopped_in = [visible(item.nodeid) for item in items.values() if _stopped_inside(item)]
    report.tests = collect_results + [r for item in items.values() for r in _results(item, locator)]
    if starts and stops and max(stops) - min(starts) <= MAX_SECONDS:  # else some record's time is no time
        report.walltime_seconds = max(0.0, max(stops) - min(starts))
        report.started_at = datetime.fromtimestamp(min(starts), UTC)
    report.workers = len(workers) or None
    return report


def _add_phase(
    record: dict[str, Any],
    where: str,
    source: str,
    items: dict[str, _Item],
    starts: list[float],
    stops: list[float],
    workers: set[str],
) -> None:
    nodeid, when = record.get("nodeid"), record.get("when")
    if not isinstance(nodeid, str) or not nodeid:
        raise ReportError("expected a non-empty string", source=source, field=f"{where}, nodeid")
    if when == "???" and record.get("outcome") in ("failed", "rerun"):  # pytest-xdist: its worker crashed
        record, when = {**record, "when": "call"}, "call"
    if when not in ("setup", "call", "teardown"):
        raise ReportError(f"expected setup, call or teardown (got {when!r})", source=source, field=f"{where}, when")
    if record.get("outcome") not in ("passed", "failed", "skipped", "rerun"):
        raise ReportError(
            f"expected passed, failed, skipped or rerun (got {record.get('outcome')!r})",
            source=source,
            field=f"{where}, outcome",
        )
    item = items.get(nodeid)
    if item is None:
        item = items[nodeid] = _Item(nodeid)
    if record["outcome"] == "rerun":  # a failed attempt; the next one starts with its own setup
        item.reruns += 1
        item.phases.clear()
        item.duration += _duration(record)
        return
    if when == "setup" and "call" not in item.phases and "teardown" in item.phases:  # flaky hid a failed call
        item.reruns += 1
        item.phases.clear()
    location = record.get("location")
    if isinstance(location, list) and len(location) >= 2 and isinstance(location[0], str):
        item.location = (location[0], location[1] if isinstance(location[1], int) else -1)
    item.phases[when] = record
    item.duration += _duration(record)
    for key, bucket in (("start", starts), ("stop", stops)):
        value = record.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < _LAST_INSTANT:
            bucket.append(float(value))
    worker = record.get("worker_id")
    if isinstance(worker, str):
        workers.add(worker)


def _outcome(item: _Item) -> tuple[Outcome, Phase | None]:
    """The outcome pytest counts for setup and call; a failed teardown is counted apart."""
    setup, call = item.phases.get("setup"), item.phases.get("call")
    if setup is not None and setup["outcome"] == "failed":
        return Outcome.ERROR, "setup"
    if setup is not None and setup["outcome"] == "skipped":
        return (Outcome.XFAILED if "wasxfail" in setup else Outcome.SKIPPED), "setup"
    if call is None:
        return Outcome.PASSED, None
    xfail = "wasxfail" in call
    if call["outcome"] == "failed":
        return Outcome.FAILED, "call"
    if call["outcome"] == "skipped":
        return (Outcome.XFAILED if xfail else Outcome.SKIPPED), "call"
    return (Outcome.XPASSED if xfail else Outcome.PASSED), None


def _stopped_inside(item: _Item) -> bool:
    """Set up, and nothing after: the session stopped inside this test (pytest counts it neither way)."""
    return set(item.phases) == {"setup"} and item.phases["setup"]["outcome"] == "passed" and not item.failed_subtests


def _results(item: _Item, locator: Locator) -> list[TestResult]:
    if _stopped_inside(item):
        return []
    outcome, phase = _outcome(item)
    path, lineno = item.location or (file_of_nodeid(item.nodeid), -1)
    file: str | None = locator.relative(path)
    line: int | None = lineno + 1 if lineno >= 0 else None
    teardown = item.phases.get("teardown")
    # After a setup error the test is one error, as the other formats count it; after a skip in
    # setup, a failed teardown (a module fixture closing) is an error of its own, as pytest counts it.
    teardown_failed = teardown is not None and teardown["outcome"] == "failed" and outcome is not Outcome.ERROR
    if item.failed_subtests and outcome in (Outcome.PASSED, Outcome.XPASSED):
        outcome, phase = Outcome.FAILED, "call"  # unittest's subTest: the test itself reports a pass
    if item.reruns and outcome is Outcome.PASSED:
        outcome = Outcome.FLAKY
    results = [_result(item.nodeid, outcome, phase, item.phases.get(phase or ""), file, line, locator)]
    if item.failed_subtests:
        results[0] = _with_subtest_failures(results[0], item.failed_subtests, locator)
    if teardown_failed:
        results.append(_result(item.nodeid, Outcome.ERROR, "teardown", teardown, file, line, locator))
    # Durations: the teardown error carries its own; everything else stays with the test.
    teardown_time = _duration(teardown) if teardown_failed else 0.0
    results[0] = replace(results[0], duration_seconds=max(0.0, item.duration - teardown_time))
    if teardown_failed:
        results[1] = replace(results[1], duration_seconds=teardown_time)
    return results


def _result(
    nodeid: str,
    outcome: Outcome,
    phase: Phase | None,
    record: dict[str, Any] | None,
    file: str | None,
    line: int | None,
    locator: Locator,
) -> TestResult:
    message = longrepr = None
    if record is not None and phase is not None:
        message, longrepr, crash = _longrepr(record.get("longrepr"))
        if crash is not None:
            file, line = locator.relative(crash[0]), crash[1]
        if outcome is Outcome.XFAILED and record.get("wasxfail"):
            message = message or str(record["wasxfail"])
    return make_result(
        nodeid=nodeid, outcome=outcome, duration=0.0, file=file, line=line,
        phase=phase, message=message, longrepr=longrepr,
    )  # fmt: skip


def _with_subtest_failures(result: TestResult, failures: list[dict[str, Any]], locator: Locator) -> TestResult:
    """A test failed by its subtests points at the first failing subtest, and says how many failed."""
    message, longrepr, crash = _longrepr(failures[0].get("longrepr"))
    update: dict[str, Any] = {
        "message": trim(f"{len(failures)} subtest(s) failed; first: {message or 'failed'}", MAX_MESSAGE_CHARS),
        "longrepr": trim(longrepr),
    }
    if crash is not None:
        update["file"], update["line"] = locator.relative(crash[0]), crash[1] if crash[1] > 0 else None
    return replace(result, **update)


def _duration(record: dict[str, Any] | None) -> float:
    value = record.get("duration") if record else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf:
        return float(value)
    return 0.0


def _collect(record: dict[str, Any], where: str, source: str, locator: Locator) -> TestResult | None:
    outcome = record.get("outcome")
    if outcome not in ("failed", "skipped"):
        return None
    nodeid = record.get("nodeid")
    if not isinstance(nodeid, str):
        raise ReportError("expected a string", source=source, field=f"{where}, nodeid")
    message, longrepr, crash = _longrepr(record.get("longrepr"))
    file = locator.relative(file_of_nodeid(nodeid)) if nodeid else None
    line = None
    if crash is None and outcome == "failed":
        crash = crash_location(longrepr)  # the import line, from the traceback's text
    if crash is not None:
        file, line = locator.relative(crash[0]), crash[1]
    return make_result(
        nodeid=nodeid or "<session>",
        outcome=Outcome.ERROR if outcome == "failed" else Outcome.SKIPPED,
        duration=0.0,
        file=file,
        line=line,
        phase="collect",
        message=message or ("collection failed" if outcome == "failed" else None),
        longrepr=longrepr,
    )


def _longrepr(value: Any) -> tuple[str | None, str | None, tuple[str, int] | None]:
    """(headline, full text, crash location) from any of the shapes pytest serialises."""
    if value is None:
        return None, None, None
    if isinstance(value, str):
        return error_message(value), value, None
    if isinstance(value, list) and len(value) == 3:
        # A skip: [path, lineno (1-based), reason].
        path, lineno, reason = value
        reason_text = str(reason)
        crash = (path, lineno) if isinstance(path, str) and isinstance(lineno, int) else None
        return first_line(reason_text.removeprefix("Skipped: ")), reason_text, crash
    if isinstance(value, dict):
        crash_data: dict[str, Any] = value["reprcrash"] if isinstance(value.get("reprcrash"), dict) else {}
        text = _traceback_text(value)
        headline = crash_data.get("message")
        message = first_line(headline) if isinstance(headline, str) else None
        path, lineno = crash_data.get("path"), crash_data.get("lineno")
        crash = (path, lineno) if isinstance(path, str) and isinstance(lineno, int) else None
        return message or error_message(text), text, crash
    return first_line(str(value)), str(value), None


def _traceback_text(value: dict[str, Any]) -> str | None:
    """Rebuild the traceback pytest would print from its serialised entries."""
    traceback = value.get("reprtraceback")
    if not isinstance(traceback, dict):
        return None
    chunks: list[str] = []
    for entry in traceback.get("reprentries") or []:
        data = entry.get("data") if isinstance(entry, dict) else None
        if not isinstance(data, dict):
            continue
        lines = data.get("lines")
        if isinstance(lines, list):
            chunks.append("\n".join(str(line) for line in lines))
        location = data.get("reprfileloc")
        if isinstance(location, dict):
            chunks.append(f"\n{location.get('path')}:{location.get('lineno')}: {location.get('message')}")
    return "\n".join(chunks) or None
