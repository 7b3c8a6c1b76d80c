"""The run as a CTRF report (Common Test Report Format), for the tools that read CTRF.

One CTRF test per result the run recorded, in the order recorded: its status (an error is
`failed`, an xfail `skipped`), pytest's finer outcome in `rawStatus` (`<phase>_error` for an error,
so `provenance` reads the file back to the same counts), its duration in whole milliseconds, the
failure's message, traceback, file and line, `flaky` for a pass after a failed attempt, and the
failure probability predicted before the run in `extra.p_fail`. The summary's counts are those
of the tests written; `results.extra.provenance` names the verdict and the records this run wrote.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from provenance import __version__
from provenance.pipeline.inputs import Inputs
from provenance.schemas import CIProvenance, Outcome, Result, TestResult
from provenance.workspace import atomic_write, pretty_json

SPEC_VERSION = "0.0.0"  # the version of ctrf-schema-0.0.json, CTRF's published schema, that this follows
_STATUS = {Result.PASS: "passed", Result.FAIL: "failed", Result.ERROR: "failed", Result.SKIP: "skipped"}


def write_ctrf(
    path: Path | None,
    inputs: Inputs,
    provenance: CIProvenance,
    predictions: dict[str, float],
    provenance_path: str,
    provenance_sha256: str,
) -> str:
    """Write the run as CTRF to `path` (resolved with the run's other destinations), atomically.

    Returns the path as the settings name it (the `ctrf-path` output); "" when none was asked for.
    """
    if path is None:
        return ""
    tool = tool_of([loaded.parsed.tool for loaded in inputs.reports])
    atomic_write(path, pretty_json(ctrf_report(provenance, predictions, tool, provenance_path, provenance_sha256)))
    return inputs.settings.ctrf_out or ""


def ctrf_report(
    provenance: CIProvenance, predictions: dict[str, float], tool: str, provenance_path: str, provenance_sha256: str
) -> dict[str, Any]:
    """The CTRF document of a recorded run; the same run gives the same document, byte for byte."""
    run = provenance.run
    tests = [_test(test, predictions.get(test.nodeid)) for test in run.tests]
    start = run.started_at or (run.recorded_at - timedelta(seconds=run.walltime_seconds or 0.0))
    start_ms = _milliseconds(start)
    duration_ms = round((run.walltime_seconds or 0.0) * 1000)
    summary: dict[str, Any] = {"tests": len(tests)}
    summary |= {status: sum(1 for test in tests if test["status"] == status)
                for status in ("passed", "failed", "skipped", "pending", "other")}  # fmt: skip
    summary |= {
        "flaky": sum(1 for test in tests if test.get("flaky")),
        "start": start_ms,
        "stop": start_ms + duration_ms,
        "duration": duration_ms,
    }
    return {
        "reportFormat": "CTRF",
        "specVersion": SPEC_VERSION,
        "reportId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"provenance:{provenance_sha256}")),
        "runId": run.run_id,
        "timestamp": run.recorded_at.isoformat().replace("+00:00", "Z"),
        "generatedBy": f"provenance {__version__}",
        "results": {
            "tool": {"name": tool},
            "summary": summary,
            "tests": tests,
            "environment": _environment(provenance),
            "extra": {"provenance": {
                "conclusion": provenance.verdict.conclusion.value,
                "reasons": provenance.verdict.reasons,
                "provenance_path": provenance_path,
                "provenance_sha256": provenance_sha256,
                "ledger_seq": provenance.ledger.seq,
                "counts": run.counts.model_dump(mode="json"),
            }},
        },
    }  # fmt: skip


def _test(test: TestResult, p_fail: float | None) -> dict[str, Any]:
    """One result as a CTRF test: nothing is written that the result does not hold."""
    out: dict[str, Any] = {
        "name": test.nodeid,
        "status": _STATUS[test.result],
        "duration": round(test.duration_seconds * 1000),
        "rawStatus": f"{test.phase or 'call'}_error" if test.outcome is Outcome.ERROR else test.outcome.value,
    }
    suite = test.nodeid.split("[", 1)[0].split("::")[:-1]
    if suite:
        out["suite"] = suite
    known = {"message": test.message, "trace": test.longrepr, "filePath": test.file, "line": test.line}
    out |= {key: value for key, value in known.items() if value is not None}
    if test.outcome is Outcome.FLAKY:
        out["flaky"] = True
    extra: dict[str, Any] = {}
    if test.phase is not None:
        extra["phase"] = test.phase
    if p_fail is not None and math.isfinite(p_fail):
        extra["p_fail"] = p_fail
    if extra:
        out["extra"] = extra
    return out


def _environment(provenance: CIProvenance) -> dict[str, Any]:
    """Where and on what the tests ran: the repository, commit, branch and the workflow run."""
    run = provenance.run
    found = {
        "repositoryName": run.repository,
        "commit": run.sha,
        "branchName": run.git.branch,
        "buildName": run.workflow,
        "buildId": run.run_id,
        "buildUrl": run.run_url,
        "osPlatform": run.runner_os,
    }
    return {key: value for key, value in found.items() if value}


def _milliseconds(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def tool_of(tools: list[str | None]) -> str:
    """The tool the reports came from: pytest for pytest's formats, a CTRF report's own tool otherwise."""
    names = sorted({name or "pytest" for name in tools})
    return ", ".join(names) if names else "pytest"
