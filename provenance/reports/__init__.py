"""Test reports: find the files, detect each one's format from its content, parse it.

One parser per format behind `parse_report`; the pipeline never needs to know which ran.
"""

from __future__ import annotations

import glob
import hashlib
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import ValidationError

from provenance.reading import glob_files, read_input
from provenance.reports import ctrf, junit, pytest_json, reportlog
from provenance.reports.common import (
    ParsedReport,
    ReportError,
    file_of_nodeid,
    outside_the_project,
    project_location,
)
from provenance.reports.locate import Locator
from provenance.schemas import MAX_SECONDS, ReportFormat, ReportSource, TestResult
from provenance.workspace import linked_out

__all__ = ["LoadedReport", "ReportError", "display_path", "find_reports", "load_report"]


@dataclass
class LoadedReport:
    """A parsed report and the description of its file for the evidence."""

    parsed: ParsedReport
    source: ReportSource


def find_reports(patterns: tuple[str, ...], workspace: Path) -> list[Path]:
    """Every file the patterns name (globs, `**` included), in a stable order, without repeats."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        base = Path(pattern) if Path(pattern).is_absolute() else workspace / pattern
        if glob.has_magic(pattern):
            for match in glob_files(str(base), workspace, setting="report"):
                found[_not_linked_out(match, workspace)] = None
        elif base.is_dir():
            raise ReportError("expected a report file, found a directory", source=pattern, field="report")
        elif base.exists():
            found[_not_linked_out(base, workspace)] = None
    return list(found)


def _not_linked_out(path: Path, workspace: Path) -> Path:
    """Refuse a report inside the checkout that is a symlink to a file outside it."""
    shown = linked_out(path, workspace)
    if shown is not None:
        raise ReportError("is a symlink that leads outside the workspace", source=shown, field="report")
    return path


def load_report(path: Path, workspace: Path) -> LoadedReport | None:
    """Read, hash and parse one report; None when the file is empty (no report was written)."""
    shown = display_path(path, workspace)
    data = read_input(path, shown=shown)
    if not data:
        return None
    content = _CONTENT.search(data)
    if content is None:
        raise ReportError("contains only whitespace; expected a test report", source=shown)
    start = content.start()
    head = data[start : start + 4096]

    def locator_for(rootdir: str | None) -> Locator:
        return Locator(workspace, path.parent, rootdir)

    report_format = _detect(head, shown)
    digest, size = hashlib.sha256(data).hexdigest(), len(data)
    if report_format is ReportFormat.JUNIT_XML:
        try:
            parsed = junit.parse(data, shown, locator_for(None))
        except ET.ParseError as exc:
            line, column = exc.position
            raise ReportError(f"not well-formed XML at line {line}, column {column}", source=shown) from None
        except LookupError as exc:  # an XML declaration naming an encoding Python does not know
            raise ReportError(f"not readable XML ({exc})", source=shown) from None
    elif report_format is ReportFormat.REPORTLOG:
        parsed = reportlog.parse(data.splitlines(), shown, locator_for(None))
    elif report_format is ReportFormat.CTRF:
        parsed = ctrf.parse(data, shown, locator_for(None))
    else:
        parsed = pytest_json.parse(data, shown, locator_for)
    _plausible_times(parsed, shown)
    parsed.tests = _in_the_project(parsed.tests, Locator(workspace, path.parent, None))
    return LoadedReport(parsed=parsed, source=_describe(parsed, shown, digest, size))


def _plausible_times(parsed: ParsedReport, shown: str) -> None:
    """Bad input for a duration past `MAX_SECONDS`, in any format (each reader has checked it is finite)."""
    if (parsed.walltime_seconds or 0.0) > MAX_SECONDS:
        raise ReportError(f"expected a session of at most {MAX_SECONDS:,.0f} s", source=shown, field="duration")
    for test in parsed.tests:
        if test.duration_seconds > MAX_SECONDS:
            raise ReportError(f"expected a test's duration of at most {MAX_SECONDS:,.0f} s (got "
                              f"{test.duration_seconds:.3g} s)", source=shown, field=test.nodeid)  # fmt: skip


def _in_the_project(tests: list[TestResult], locator: Locator) -> list[TestResult]:
    """Point a failure placed in a library or the interpreter at the project's own frame.

    pytest places a SyntaxError at `ast.py:50` and an import error in `importlib`; the annotation
    belongs on the project's line that has the error.
    """
    out = []
    for test in tests:
        if test.longrepr and test.file and outside_the_project(test.file):
            found = project_location(test.longrepr, locator.is_file)
            if found is not None:
                file, own = locator.relative(found[0]), file_of_nodeid(test.nodeid)
                if file.startswith("/") and file.endswith("/" + own):  # the sources are not at hand
                    file = own
                test = replace(test, file=file, line=found[1] if found[1] > 0 else None)
        out.append(test)
    return out


_CONTENT = re.compile(rb"[^\xef\xbb\xbf \t\r\n]")  # anything but a BOM's bytes and whitespace


def _detect(head: bytes, shown: str) -> ReportFormat:
    if head.startswith(b"<"):
        return ReportFormat.JUNIT_XML
    if head.startswith(b"{"):
        if b'"$report_type"' in head.split(b"\n", 1)[0]:
            return ReportFormat.REPORTLOG
        if ctrf.looks_like_ctrf(head):
            return ReportFormat.CTRF
        return ReportFormat.PYTEST_JSON
    raise ReportError(
        "not a test report: expected pytest-json-report JSON, JUnit XML, pytest-reportlog JSON lines or CTRF JSON",
        source=shown,
    )


def _describe(parsed: ParsedReport, shown: str, digest: str, size: int) -> ReportSource:
    """The file's digest and session figures; workers are inferred when the report does not say."""
    test_time = math.fsum(t.duration_seconds for t in parsed.tests)
    workers, inferred = parsed.workers, False
    if workers is None and parsed.walltime_seconds:
        ratio = (test_time - 1.0) / (parsed.walltime_seconds * 1.05)  # inf for a walltime of 5e-324 s
        workers = max(1, min(len(parsed.tests), math.ceil(ratio) if math.isfinite(ratio) else len(parsed.tests)))
        inferred = True
    try:
        return ReportSource(
            path=shown,
            format=parsed.format,
            sha256=digest,
            size=size,
            tests=len(parsed.tests),
            exit_status=parsed.exit_status,
            walltime_seconds=parsed.walltime_seconds,
            test_time_seconds=test_time,
            workers=workers,
            workers_inferred=inferred,
        )
    except ValidationError as exc:  # the walltime rule
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ReportError(message, source=shown, field="duration") from None


def display_path(path: Path, workspace: Path) -> str:
    """A path as the user named it: relative to the workspace when inside it."""
    try:
        return path.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return str(path)
