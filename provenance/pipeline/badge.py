"""The run's badge: a shields.io endpoint file, written beside the evidence without any network call.

Publish the file where shields.io can fetch it (a branch, GitHub Pages) and point
`https://img.shields.io/endpoint?url=<its raw URL>` at it; shields.io draws the badge from these
four fields (https://shields.io/badges/endpoint-badge).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provenance.schemas import Conclusion, TestCounts, Verdict
from provenance.workspace import atomic_write, pretty_json

# The colour says the verdict, so a badge never looks green on a run the gate failed.
COLOURS = {Conclusion.SUCCESS: "brightgreen", Conclusion.FAILURE: "red", Conclusion.NEUTRAL: "yellow"}
LABEL = "tests"


def badge(verdict: Verdict, counts: TestCounts) -> dict[str, Any]:
    """The endpoint document: `schemaVersion`, `label`, `message` (the counts) and `color` (the verdict)."""
    parts = [f"{counts.passed} passed"]
    parts += [f"{n} {word}" for n, word in ((counts.failed, "failed"), (counts.errors, "errors")) if n]
    if counts.skipped:
        parts.append(f"{counts.skipped} skipped")
    return {"schemaVersion": 1, "label": LABEL, "message": ", ".join(parts), "color": COLOURS[verdict.conclusion]}


def write_badge(path: Path, verdict: Verdict, counts: TestCounts) -> None:
    """Write the endpoint file atomically (a reader sees the old badge or the new, never half of one)."""
    atomic_write(path, pretty_json(badge(verdict, counts)))
