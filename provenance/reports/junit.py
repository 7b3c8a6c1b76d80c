"""JUnit XML as pytest's `--junitxml` writes it (and the common dialects of other runners)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

from provenance.reports.common import (
    ParsedReport,
    ReportError,
    crash_location,
    error_message,
    first_line,
    make_result,
    passed,
)
from provenance.reports.locate import Locator
from provenance.schemas import Outcome, Phase, ReportFormat, TestResult

_SKIP_TUPLE = re.compile(r"^(?P<path>.+?):(?P<line>[0-9]{1,9}): (?P<reason>.*)$", re.DOTALL)


def parse(data: bytes, source: str, locator: Locator) -> ParsedReport:
    """Read JUnit XML: `<testsuites>` (suites at any depth) or a lone `<testsuite>`.

    The file is read as a stream of elements and each `<testcase>` is dropped once read, so the
    tree of a large report is never held whole. Raises `ET.ParseError` on malformed XML.
    """
    report = ParsedReport(format=ReportFormat.JUNIT_XML)
    walltime: float | None = None
    open_elements: list[ET.Element] = []  # from the root down to the current element
    any_depth = False  # whether suites below the root count: under <testsuites> they do
    modules: Modules = {}
    for event, element in _events(data):
        if event == "start":
            if not open_elements:
                if element.tag not in ("testsuites", "testsuite"):
                    raise ReportError(f"expected <testsuites> or <testsuite> as the root element, got <{element.tag}>",
                                      source=source)  # fmt: skip
                any_depth = element.tag == "testsuites"
            open_elements.append(element)
            if element.tag == "testsuite" and (any_depth or len(open_elements) == 1):
                walltime = (walltime or 0.0) + _seconds(element.get("time"), source, "testsuite")
                stamp = _timestamp(element.get("timestamp"))
                if stamp is not None and (report.started_at is None or stamp < report.started_at):
                    report.started_at = stamp
            continue
        open_elements.pop()
        if element.tag != "testcase" or not open_elements:
            continue
        suite = open_elements[-1]
        if suite.tag != "testsuite" or not (any_depth or len(open_elements) == 1):
            continue
        if element.get("classname") == "pytest" and element.get("name") == "internal":
            report.exit_status = 3  # pytest's INTERNALERROR, written as a pseudo test case
        elif not element.get("classname") and not element.get("name") and len(element) == 0:
            report.unfinished = True  # the test a session stopped in (`pytest.exit`, Ctrl-C): not counted
        else:
            report.tests.extend(_case(element, source, locator, modules))
        del suite[:]  # read: let it go
    report.tests = _pass_before_teardown_errors(_without_rerun_attempts(report.tests))
    report.walltime_seconds = walltime
    return report


# expat scans an unfinished token again at each chunk it is fed: at `ET.iterparse`'s 16 KiB a time,
# one 40 MB attribute took 90 s. A chunk that completes nothing doubles the next one, so a huge
# token is scanned a few times, not thousands; small chunks otherwise keep the tree held small.
_CHUNK = 16 << 10


def _events(data: bytes) -> Iterator[tuple[str, ET.Element]]:
    """`ET.iterparse`'s start and end events, in chunks that grow while a token is unfinished."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    view, offset, size = memoryview(data), 0, _CHUNK
    while offset < len(data):
        parser.feed(bytes(view[offset : offset + size]))
        offset += size
        events = parser.read_events()
        first = next(events, None)
        if first is None:
            size *= 2
            continue
        size = _CHUNK
        yield first  # type: ignore[misc]
        yield from events  # type: ignore[misc]
    parser.close()
    yield from parser.read_events()  # type: ignore[misc]


_WORKER_CRASHED = re.compile(r"worker '[^']*' crashed while running")


def _without_rerun_attempts(results: list[TestResult]) -> list[TestResult]:
    """pytest-rerunfailures: each attempt before the last is written as one more empty `<testcase>`.

    So a passed result whose node id comes again later in the report was an attempt, not a test.
    """
    last = {r.nodeid: i for i, r in enumerate(results)}
    if len(last) == len(results):
        return results  # nearly every report
    attempts = {r.nodeid for i, r in enumerate(results) if r.outcome is Outcome.PASSED and last[r.nodeid] > i}
    kept = [r for i, r in enumerate(results) if not (r.nodeid in attempts and i < last[r.nodeid])]
    # A test that was run again and passed in the end is flaky: a pass, counted apart.
    return [replace(r, outcome=Outcome.FLAKY) if r.nodeid in attempts and r.outcome is Outcome.PASSED else r
            for r in kept]  # fmt: skip


def _pass_before_teardown_errors(results: list[TestResult]) -> list[TestResult]:
    """pytest writes a test that passed and then failed in teardown as one `<error>` testcase.

    pytest counts such a test as passed and as an error; a test that failed before its teardown
    did is written as two testcases, so only a teardown error with no other result for its node
    id stands for a passed call.
    """
    if not any(r.phase == "teardown" for r in results):
        return results  # nearly every report
    main = {r.nodeid for r in results if r.phase != "teardown"}
    out: list[TestResult] = []
    for result in results:
        if result.phase == "teardown" and result.nodeid not in main:
            out.append(passed(result.nodeid, result.duration_seconds, result.file, result.line))
            result = replace(result, duration_seconds=0.0)
            main.add(result.nodeid)
        out.append(result)
    return out


def _case(case: ET.Element, source: str, locator: Locator, modules: Modules) -> list[TestResult]:
    classname = case.get("classname") or ""
    name = case.get("name") or ""
    if not classname and not name:
        raise ReportError("a <testcase> has neither classname nor name", source=source, field="testcase@name")
    time = case.get("time")
    duration = _seconds(time, source, "testcase", name) if time else 0.0
    file_attr = case.get("file")
    line_attr = case.get("line") or ""
    digits = line_attr.isascii() and line_attr.isdigit() and len(line_attr) <= 9  # not "²", nor 5,000 digits
    line = int(line_attr) + 1 if digits else None
    if not classname:
        # pytest writes collection errors and module-level skips as a testcase with an empty
        # classname and the module's dotted path as its name; a module collected twice (as a test
        # module and for doctests) gets one child element per collection, as pytest counts them.
        file, nodeid = _nodeid(name, "", file_attr, locator, modules)
        return [
            _detail(nodeid, Outcome.ERROR if child.tag == "error" else Outcome.SKIPPED, 0.0, file, None, child,
                    "collect", locator)
            for child in case
            if child.tag in ("error", "skipped")
        ]  # fmt: skip
    file, nodeid = _nodeid(classname, name, file_attr, locator, modules)
    if len(case) == 0:  # nothing but the test case: it passed (most of a large report)
        return [passed(nodeid, duration, file, line)]
    errors = case.findall("error")
    teardown = [e for e in errors if "on teardown" in (e.get("message") or "")]
    others = [e for e in errors if e not in teardown]
    failure, skipped = case.find("failure"), case.find("skipped")
    results: list[TestResult] = []
    if others and _WORKER_CRASHED.search(others[0].get("message") or ""):  # pytest-xdist; pytest counts a failure
        results.append(_detail(nodeid, Outcome.FAILED, duration, file, line, others[0], "call", locator))
    elif others:
        phase: Phase = "setup" if "on setup" in (others[0].get("message") or "") else "call"
        results.append(_detail(nodeid, Outcome.ERROR, duration, file, line, others[0], phase, locator))
    elif failure is not None:  # several <failure> elements are failed subtests: still one test
        results.append(_detail(nodeid, Outcome.FAILED, duration, file, line, failure, "call", locator))
    elif skipped is not None:
        xfail = skipped.get("type") == "pytest.xfail"
        outcome = Outcome.XFAILED if xfail else Outcome.SKIPPED
        results.append(_detail(nodeid, outcome, duration, file, line, skipped, "call", locator))
    elif not teardown:  # only <system-out> and the like
        results.append(passed(nodeid, duration, file, line))
    if teardown:
        spent = 0.0 if results else duration
        results.append(_detail(nodeid, Outcome.ERROR, spent, file, line, teardown[0], "teardown", locator))
    return results


def _detail(
    nodeid: str,
    outcome: Outcome,
    duration: float,
    file: str | None,
    line: int | None,
    element: ET.Element,
    phase: Phase,
    locator: Locator,
) -> TestResult:
    """A result with the message, traceback and crash location of a failure, error or skip element."""
    longrepr = element.text or None
    message = element.get("message")
    if outcome is Outcome.SKIPPED or outcome is Outcome.XFAILED:
        match = _SKIP_TUPLE.match(longrepr or "")
        if match:
            file, line = locator.relative(match.group("path")), int(match.group("line"))
        message = (message or "").removeprefix("Skipped: ") or first_line(longrepr)
    else:
        crash = crash_location(longrepr)
        if crash is not None:
            file, line = locator.relative(crash[0]), crash[1]
        if phase == "collect":  # the attribute only says "collection failure"
            message = error_message(longrepr) or message
        else:
            message = _clean_message(message) or error_message(longrepr)
    return make_result(
        nodeid=nodeid, outcome=outcome, duration=duration, file=file, line=line,
        phase=phase, message=message, longrepr=longrepr,
    )  # fmt: skip


Modules = dict[tuple[str, str | None], tuple[str, str]]
_DOCTEST_FILES = (".txt", ".rst", ".md")  # what `--doctest-glob` is given (pytest's own default is test*.txt)


def _nodeid(dotted: str, name: str, file_attr: str | None, locator: Locator, modules: Modules) -> tuple[str, str]:
    """The file and pytest's node id, from `classname` (module path plus classes) and `name`.

    The split of a `classname` is worked out once (`modules` keeps it): a report repeats each many times.
    A doctest file (`--doctest-glob`) is named by its own name, which may hold dots: `docs/a.b.rst` is
    `classname="docs.a.b.rst" name="a.b.rst"`.
    """
    if name.endswith(_DOCTEST_FILES) and (dotted == name or dotted.endswith("." + name)):
        folder = dotted[: -len(name)].rstrip(".").replace(".", "/")
        text_file = f"{folder}/{name}" if folder else name
        if locator.is_file(text_file):
            return locator.relative(text_file), f"{text_file}::{name}"
    known = modules.get((dotted, file_attr))
    if known is None:
        known = modules[(dotted, file_attr)] = _split_classname(dotted, file_attr, locator)
    file, head = known
    return file, f"{head}::{name}" if name else head


def _split_classname(dotted: str, file_attr: str | None, locator: Locator) -> tuple[str, str]:
    """The module's file, and the node id up to the test's name (`path.py::Class`).

    The module is the longest dotted prefix that is a file in the workspace; when none is,
    classes are taken to be the trailing parts that start with a capital letter, as pytest
    names them.
    """
    parts = dotted.split(".")
    split = None
    if file_attr:
        module_parts = file_attr.removesuffix(".py").replace("\\", "/").split("/")
        if parts[: len(module_parts)] == module_parts:
            split = len(module_parts)
    if split is None:
        for end in range(len(parts), 0, -1):
            candidate = "/".join(parts[:end]) + ".py"
            if locator.is_file(candidate):
                split = end
                break
    if split is None:
        split = next((i for i, part in enumerate(parts) if part[:1].isupper()), len(parts)) or len(parts)
    module = "/".join(parts[:split]) + ".py"
    return locator.relative(module), "::".join([module, *parts[split:]])


def _clean_message(message: str | None) -> str | None:
    """Pytest wraps setup and teardown errors as: failed on setup with "<message>"."""
    if not message:
        return None
    match = re.match(r'^failed on (?:setup|teardown) with "(.*)"$', message, re.DOTALL)
    return first_line(match.group(1) if match else message)


def _seconds(value: str | None, source: str, element: str, name: str | None = None) -> float:
    """An element's `time` (an error names the field as `testcase[<name>]@time`: built only then)."""
    if value is None or value == "":
        return 0.0
    try:
        seconds = float(value)
        problem = None if 0.0 <= seconds < math.inf else "a non-negative number"  # also NaN
    except ValueError:
        problem = "a number"
    if problem is not None:
        field = f"{element}[{name}]@time" if name is not None else f"{element}@time"
        raise ReportError(f"expected {problem} of seconds (got {value!r})", source=source, field=field)
    return seconds


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        return None  # a local time without offset says nothing reliable
    try:
        return stamp.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+05:00 is before the first instant there is
        return None
