"""The job summary: the verdict and what to do first, then counts, failures and the provenance trail.

GitHub refuses a step summary over 1 MiB, counting what earlier writes of the same step left in
`GITHUB_STEP_SUMMARY`: failure details are added while they fit and the rest is named in a
visible notice, and `fit` cuts whatever still does not fit, with a line saying where the whole is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provenance.github import timing
from provenance.github.commands import append_file
from provenance.github.links import failure_url
from provenance.github.markdown import code, inline, preformatted
from provenance.pipeline import RunOutcome
from provenance.schemas import Conclusion, Outcome, Result, TestResult
from provenance.text import is_are, plural

SUMMARY_LIMIT_BYTES = 1024 * 1024
_DETAIL_CHARS = 4000
_FLAKY_LISTED = 50
_ICONS = {Conclusion.SUCCESS: "✅", Conclusion.FAILURE: "❌", Conclusion.NEUTRAL: "⚠️"}
_TITLES = {
    Conclusion.SUCCESS: "Tests passed",
    Conclusion.FAILURE: "Tests failed",
    Conclusion.NEUTRAL: "No test results",
}


def render(outcome: RunOutcome, limit_bytes: int = SUMMARY_LIMIT_BYTES, site_url: str | None = None) -> str:
    """The whole summary as Markdown, never larger than `limit_bytes` when encoded.

    It reads like a verdict: the verdict, then the failing tests, then the counts, the datasets,
    the calibration and the provenance trail. Failure details are added while they fit. With
    `site_url` (the `site-url` setting, an https address checked by the settings), the verdict links
    the history page.
    """
    failures = outcome.provenance.run.failures
    head = _verdict(outcome) + (
        f"[Test history]({site_url}): every run, flaky tests, calibration.\n\n" if site_url else ""
    )
    head += timing.slower(outcome)
    tail = _counts(outcome) + timing.slowest(outcome) + _datasets(outcome) + _calibration(outcome)
    tail += _hindsight(outcome) + _provenance(outcome)
    budget = limit_bytes - len((head + tail).encode()) - 512
    known = set(outcome.verdict.known_failures)
    groups = [("Failing tests", failures)]
    if known:  # fail-on: regression: the new failures first, then those that failed before
        groups = [("New failures", [t for t in failures if t.nodeid not in known]),
                  ("Known failures", [t for t in failures if t.nodeid in known])]  # fmt: skip
    details: list[str] = []
    for title, tests in groups:
        if tests:
            budget = _failure_details(title, tests, budget, outcome, details)
    return head + "".join(details) + _flaky(outcome) + tail


def _failure_details(title: str, failures: list[TestResult], budget: int, outcome: RunOutcome,
                     out: list[str]) -> int:  # fmt: skip
    """A heading and each failure's details while they fit in `budget` bytes; the budget left."""
    out.append(f"### {title} ({len(failures)})\n\n")
    shown = 0
    whole_at = outcome.provenance_path
    for test in failures:
        block = _failure(test, failure_url(outcome, test))
        size = len(block.encode())
        if size > budget:
            break
        out.append(block)
        budget -= size
        shown += 1
    if (more := len(failures) - shown) > 0:
        out.append(
            f"> [!NOTE]\n> {plural(more, 'more failing test')} {is_are(more)} not shown here: a job summary "
            f"is limited to 1 MiB. All of them are listed in {code(whole_at)}.\n\n"
        )
    return budget


def append_to_step_summary(path: Path, render: Callable[[int], str], whole_at: str) -> None:
    """Append what `render` makes of the room left, cut to fit: earlier writes of this step count too."""
    used = path.stat().st_size if path.exists() else 0
    append_file(path, fit(render(max(0, SUMMARY_LIMIT_BYTES - used)), used, whole_at))


def fit(text: str, used: int, whole_at: str, limit: int = SUMMARY_LIMIT_BYTES) -> str:
    """`text` when `used` bytes already in the step summary plus its UTF-8 size stay within `limit`.

    Otherwise its start, cut on a character boundary, and a last line naming where the whole is;
    nothing at all when not even that line fits.
    """
    data = text.encode()
    if used + len(data) <= limit:
        return text
    note = (
        f"\n\n> [!NOTE]\n> The summary is cut here: GitHub keeps at most 1 MiB of summary a step. "
        f"The whole is in {code(whole_at)}.\n"
    )
    room = limit - used - len(note.encode())
    if room < 0:
        return ""
    return data[:room].decode(errors="ignore") + note


def nothing_recorded(reason: str) -> str:
    """The summary of a run without a test report: what is missing, and that nothing was recorded."""
    return (
        f"## {_ICONS[Conclusion.NEUTRAL]} {_TITLES[Conclusion.NEUTRAL]}\n\n**{inline(reason, 2000)}**\n\n"
        "> **What to do:** check that the test step wrote its report where the `report` input points (for "
        "pytest: `--json-report --json-report-file=report.json`). Nothing was recorded: no ledger entry, no "
        "provenance file.\n"
    )


def _flaky(outcome: RunOutcome) -> str:
    """The tests that failed and then passed on a rerun: they pass the gate, and deserve a look."""
    flaky = [t for t in outcome.provenance.run.tests if t.outcome == Outcome.FLAKY]
    if not flaky:
        return ""
    lines = [f"### Flaky tests ({len(flaky)})\n", "They failed, then passed when pytest ran them again:\n"]
    lines += [f"- {code(t.nodeid, 300)}" for t in flaky[:_FLAKY_LISTED]]
    if len(flaky) > _FLAKY_LISTED:
        lines.append(f"- … and {len(flaky) - _FLAKY_LISTED} more (all in {code(outcome.provenance_path)})")
    return "\n".join(lines) + "\n\n"


def _verdict(outcome: RunOutcome) -> str:
    verdict = outcome.verdict
    run = outcome.provenance.run
    title = "No new failures" if verdict.known_failures and verdict.conclusion is Conclusion.NEUTRAL else None
    lines = [f"## {_ICONS[verdict.conclusion]} {title or _TITLES[verdict.conclusion]}\n"]
    lines.append("**" + inline("; ".join(verdict.reasons)) + "**\n")
    where = [f"{run.counts.total} tests in {run.walltime_seconds or 0:.2f} s"]
    if run.git.commit:
        where.append("commit " + code(run.git.commit[:12]))
    if run.git.branch:
        where.append("on " + code(run.git.branch, 100))
    if run.pr_number:
        where.append(f"(PR #{run.pr_number})")
    lines.append(" · ".join(where) + "\n")
    if verdict.conclusion is Conclusion.FAILURE:
        action = "fix the failing tests listed below"
        if any(t.phase == "collect" for t in run.tests):
            action += " (a test module that cannot be imported runs none of its tests)"
        if verdict.gate_failed:
            lines.append(f"> **What to do:** {action}. This step fails, so a required check blocks the merge.\n")
        else:
            lines.append(f"> **What to do:** {action}. `fail-on: none` is set, so this step does not fail.\n")
    elif title:
        lines.append(
            "> **What to do:** nothing blocks the merge: every failing test here failed in the run compared with "
            "as well (`fail-on: regression`). They are listed under Known failures.\n"
        )
    elif verdict.conclusion is Conclusion.NEUTRAL:
        lines.append(
            "> **What to do:** check that the test step wrote its report where the `report` input points "
            "(for pytest: `--json-report --json-report-file=report.json`).\n"
        )
    for warning in outcome.warnings:
        lines.append(f"> [!WARNING]\n> {inline(warning, 2000)}\n")
    return "\n".join(lines) + "\n"


def _counts(outcome: RunOutcome) -> str:
    counts = outcome.provenance.run.counts
    xpassed = f" ({counts.xpassed} unexpectedly passed)" if counts.xpassed else ""
    xfailed = f" ({plural(counts.xfailed, 'expected failure')})" if counts.xfailed else ""
    flaky = f" ({counts.flaky} flaky: passed on a rerun)" if counts.flaky else ""
    rows = [
        "| Result | Tests |",
        "|:--|--:|",
        f"| ✅ Passed | {counts.passed}{xpassed}{flaky} |",
        f"| ❌ Failed | {counts.failed} |",
        f"| 💥 Errors | {counts.errors} |",
        f"| ⏭️ Skipped | {counts.skipped}{xfailed} |",
        f"| **Total** | **{counts.total}** |",
        f"| ⏱️ Time | {outcome.provenance.run.walltime_seconds or 0:.2f} s |",
    ]
    return "\n".join(rows) + "\n\n"


def _datasets(outcome: RunOutcome) -> str:
    """Each dataset of the contracts manifest: what it is, its digest, and whether it matched."""
    record = outcome.provenance
    if record.contracts_manifest is None:
        return ""
    icons = {"ok": "✅", "mismatch": "❌", "missing": "❓", "unverified": "⚠️"}
    rows = [
        f"### Datasets ({code(record.contracts_manifest)})\n",
        "| | Dataset | Path | sha256 | Size | Files |",
        "|:--|:--|:--|:--|--:|--:|",
    ]
    for d in record.datasets:
        digest = code(d.dataset_checksum[:16]) + "…" if d.dataset_checksum else "—"
        size = f"{d.size:,}" if d.size is not None else "—"
        rows.append(
            f"| {icons[d.status]} {d.status} | {inline(d.dataset_id, 100)} | {code(d.path, 200)} | {digest} | {size} "
            f"| {d.nfiles if d.nfiles is not None else '—'} |"
        )
    problems = [f"- {inline(d.dataset_id, 100)}: {inline('; '.join(d.problems), 500)}" for d in record.datasets
                if d.problems]  # fmt: skip
    return "\n".join(rows + (["", *problems] if problems else [])) + "\n\n"


def _calibration(outcome: RunOutcome) -> str:
    """The prediction quality over the window, and a reliability chart GitHub renders (Mermaid)."""
    summary = outcome.provenance.calibration
    if summary is None:
        return ""
    rows = [
        f"### Failure predictions: calibration over the last {summary.window_runs} run(s)\n",
        "| | Brier | ECE | MCE | Predictions | Failure rate |",
        "|:--|--:|--:|--:|--:|--:|",
    ]
    for label, figures in (("This run", summary.run), ("Window", summary.window)):
        if figures is not None:
            rows.append(
                f"| {label} | {figures.brier_score:.4f} | {figures.ece:.4f} | {figures.mce:.4f} | "
                f"{figures.n_samples} | {figures.base_rate:.2%} |"
            )
    rows.append(
        f"\n{summary.bins} equal-width bins; MCE leaves out bins with fewer than {summary.mce_min_bin_count} "
        "predictions. Bars: observed failure rate per bin; line: mean predicted probability (on the "
        "diagonal when calibrated).\n"
    )
    labels = ", ".join(f'"{c:.2f}"' for c in summary.bin_centers)
    observed = ", ".join(f"{v:.4f}" for v in summary.empirical_probs)
    predicted = ", ".join(f"{v:.4f}" for v in summary.mean_predicted)
    rows += [
        "```mermaid",
        "xychart-beta",
        '    title "Reliability: observed vs predicted failure rate"',
        f'    x-axis "Predicted failure probability (bin centre)" [{labels}]',
        '    y-axis "Failure rate" 0 --> 1',
        f"    bar [{observed}]",
        f"    line [{predicted}]",
        "```\n",
        f"<sub>Predictions per bin: {', '.join(str(c) for c in summary.bin_counts)}</sub>\n\n",
    ]
    return "\n".join(rows)


def _hindsight(outcome: RunOutcome) -> str:
    """What a selection before this run would have saved and caught: the evidence for `mode: select`."""
    seen = outcome.provenance.selection_hindsight
    if seen is None:
        return ""
    caught = f"caught **{seen.caught} of {seen.failing}** failing tests" if seen.failing else "had no failure to catch"
    text = (
        f"### Test selection in hindsight\n\nAt a budget of {inline(seen.budget)}, `provenance select` would have run "
        f"**{seen.selected} of {seen.tests}** tests before this run, {_duration(seen.seconds_selected)} of its "
        f"{_duration(seen.seconds_total)} (**{seen.saved_fraction:.0%} saved**), and {caught}.\n"
    )
    if seen.missed:
        shown = ", ".join(code(name, limit=200) for name in seen.missed[:10])
        more = f" and {len(seen.missed) - 10} more" if len(seen.missed) > 10 else ""
        text += f"\nIt would have skipped: {shown}{more}.\n"
    return text + "\n"


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _failure(test: TestResult, url: str | None = None) -> str:
    icon = "💥" if test.result is Result.ERROR else "❌"
    what = f" ({test.phase})" if test.phase in ("setup", "teardown", "collect") else ""
    message = f": {inline(test.message, 300)}" if test.message else ""
    parts = [f"<details><summary>{icon} {code(test.nodeid, 300)}{what}{message}</summary>\n\n"]
    if test.file:
        where = code(test.file + (f":{test.line}" if test.line else ""), 300)
        parts.append(f"at [{where}]({url})\n\n" if url else f"at {where}\n\n")
    if test.longrepr:
        parts.append(f"<pre>{preformatted(test.longrepr, _DETAIL_CHARS)}</pre>\n\n")
    parts.append("</details>\n\n")
    return "".join(parts)


def _provenance(outcome: RunOutcome) -> str:
    record = outcome.provenance
    run = record.run
    rows = ["### Provenance\n", "| Record | Value |", "|:--|:--|"]
    if run.repository:
        rows.append(f"| Repository | {inline(run.repository)} |")
    rows.append(f"| Commit | {code(run.git.commit or run.sha or 'unknown')} |")
    if run.git.branch:
        rows.append(f"| Branch | {code(run.git.branch, 200)} |")
    if run.pr_number:
        rows.append(f"| Pull request | #{run.pr_number} |")
    if run.git.changed_files is not None:
        rows.append(
            f"| Changed files | {len(run.git.changed_files)} (+{run.git.lines_added} / "
            f"−{run.git.lines_deleted}) against {code((run.git.compare_base or '')[:12])} |"
        )
    if run.run_url:
        rows.append(f"| Workflow run | [{inline(run.run_id)}]({run.run_url}) |")
    else:
        rows.append(f"| Run | {code(run.run_id)} |")
    for report in record.reports:
        rows.append(
            f"| Report | {code(report.path, 200)} ({report.format.value}, sha256 {code(report.sha256[:16])}…) |"
        )
    rows.append(f"| Provenance file | {code(outcome.provenance_path)} (sha256 {code(outcome.provenance_sha256)}) |")
    rows.append(
        f"| Ledger | {code(outcome.ledger_path)}, entry {outcome.entry.seq}, hash {code(outcome.entry.entry_hash)} |"
    )
    rows.append(
        f"| Merkle root | {code(outcome.checkpoint['merkle_root'])} over "
        f"{plural(outcome.checkpoint['size'], 'entry', 'entries')} |"
    )
    if record.model is not None:
        rows.append(f"| Model | {code(record.model.model_version)}, state {code(record.model.model_hash[:16])}… |")
    if record.datasets:
        ok = sum(d.status == "ok" for d in record.datasets)
        rows.append(f"| Datasets | {ok} of {len(record.datasets)} match {code(record.contracts_manifest or '')} |")
    rows.append(f"| Retention | until {record.retention.retain_until.date().isoformat()} |")
    return "\n".join(rows) + "\n"
