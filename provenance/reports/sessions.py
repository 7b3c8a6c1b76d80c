"""One session, one count: reports of the same pytest session are read once, different ones merged.

pytest can write one session in four formats at once, and `report: "*.json,*.xml"` then names it
several times; adding them up would multiply every count. Shards of a matrix and xdist workers'
files are different sessions: their tests are disjoint, and they are merged.
"""

from __future__ import annotations

from provenance.reports import LoadedReport
from provenance.schemas import ReportFormat

# Where one session was written several times, the richest report is read: the JSON report and
# the report log record the exit status and every phase's duration; JUnit XML neither; CTRF from
# pytest-json-ctrf neither, nor collection errors, nor a teardown error after a failure or skip.
_PREFERENCE = {ReportFormat.PYTEST_JSON: 0, ReportFormat.REPORTLOG: 1, ReportFormat.JUNIT_XML: 2, ReportFormat.CTRF: 3}
# Two reports whose node ids overlap this much describe one session (a rerun or an interrupt can
# make the sets differ a little); shards and workers' files share none.
SAME_SESSION_OVERLAP = 0.5


def one_per_session(reports: list[LoadedReport]) -> tuple[list[LoadedReport], list[str]]:
    """The reports to count, one per session, and what was done, in words (empty for one report)."""
    if len(reports) < 2:
        return reports, []
    ranked = sorted(reports, key=lambda r: _PREFERENCE.get(r.source.format, 3))
    kept: list[tuple[LoadedReport, set[str], list[str]]] = []
    for report in ranked:
        ids = {t.nodeid for t in report.parsed.tests}
        for _, other_ids, duplicates in kept:
            if ids and other_ids and len(ids & other_ids) >= SAME_SESSION_OVERLAP * min(len(ids), len(other_ids)):
                duplicates.append(report.source.path)
                break
        else:
            kept.append((report, ids, []))
    notes = [
        f"{', '.join(duplicates)} {'describes' if len(duplicates) == 1 else 'describe'} the same pytest session as "
        f"{report.source.path}: only {report.source.path} is counted"
        for report, _, duplicates in kept
        if duplicates
    ]
    sessions = [r.source.path for r, ids, _ in kept if ids]
    if len(sessions) > 1:
        notes.append(f"{len(sessions)} reports of different sessions (shards or workers) were merged: "
                     + ", ".join(sessions))  # fmt: skip
    empty = [r.source.path for r, ids, _ in kept if not ids]
    if empty and len(kept) > 1:  # which session it belongs to cannot be told, nor does it matter to a count
        notes.append(f"{', '.join(empty)} {'holds' if len(empty) == 1 else 'hold'} no test")
    order = {id(r): i for i, r in enumerate(reports)}  # counted in the order they were named
    return sorted((r for r, _, _ in kept), key=lambda r: order[id(r)]), notes
