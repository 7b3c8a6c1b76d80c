"""The run as plain text for a terminal or a CI log; control characters made visible."""

from __future__ import annotations

from provenance.pipeline import RunOutcome
from provenance.schemas import Result
from provenance.text import plural, printable

MAX_LISTED = 50
_MARKS = {"success": "PASSED", "failure": "FAILED", "neutral": "NO RESULTS"}


def render_text(outcome: RunOutcome) -> str:
    """A compact report: verdict, counts, failures with their location, where the records went."""
    run = outcome.provenance.run
    counts = run.counts
    verdict = outcome.verdict
    lines = [
        f"{_MARKS[verdict.conclusion.value]}: {printable('; '.join(verdict.reasons))}",
        f"  {plural(counts.total, 'test')}: {counts.passed} passed, {counts.failed} failed, "
        f"{plural(counts.errors, 'error')}, {counts.skipped} skipped in {run.walltime_seconds or 0:.2f} s"
        + (f" ({counts.flaky} flaky: passed on a rerun)" if counts.flaky else ""),
    ]
    failures = run.failures
    for test in failures[:MAX_LISTED]:
        label = "ERROR " if test.result is Result.ERROR else "FAILED"
        where = f" ({test.file}:{test.line})" if test.file and test.line else ""
        message = f" - {test.message}" if test.message else ""
        lines.append(printable(f"  {label} {test.nodeid}{where}{message}"))
    if len(failures) > MAX_LISTED:
        lines.append(f"  ... and {len(failures) - MAX_LISTED} more (all in the provenance file)")
    for slow in verdict.slower_tests[:MAX_LISTED]:
        lines.append(printable(f"  SLOWER {slow.nodeid}: {slow.seconds:.2f} s, its recorded median "
                               f"{slow.median_seconds:.2f} s over {plural(slow.runs, 'run')}"))  # fmt: skip
    for dataset in outcome.provenance.datasets:
        detail = "; ".join(dataset.problems) if dataset.problems else (dataset.dataset_checksum or "")
        lines.append(printable(f"  dataset {dataset.dataset_id} ({dataset.path}): {dataset.status} {detail}"))
    calibration = outcome.provenance.calibration
    if calibration is not None:
        window = calibration.window
        lines.append(
            f"  calibration over {calibration.window_runs} run(s), {window.n_samples} predictions: "
            f"Brier {window.brier_score:.4f}, ECE {window.ece:.4f}, MCE {window.mce:.4f}"
        )
    seen = outcome.provenance.selection_hindsight
    if seen is not None:
        lines.append(
            f"  selection in hindsight ({seen.budget}): {seen.selected} of {seen.tests} tests, "
            f"{seen.saved_fraction:.0%} of the time saved, {seen.caught} of {seen.failing} failing tests caught"
        )
    for warning in outcome.warnings:
        lines.append(printable(f"  warning: {warning}"))
    lines.append(f"  provenance: {outcome.provenance_path} (sha256 {outcome.provenance_sha256})")
    lines.append(f"  ledger: {outcome.ledger_path} entry {outcome.entry.seq} ({outcome.entry.entry_hash})")
    return "\n".join(lines) + "\n"
