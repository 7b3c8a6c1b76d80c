"""The gate: what fails a run and why, and what to warn about when it passes (pure)."""

from __future__ import annotations

from provenance.choices import FailOn, IfNoReport
from provenance.pipeline.inputs import Inputs
from provenance.schemas import CalibrationSummary, Conclusion, TestCounts, TestResult, Verdict
from provenance.text import plural

# What pytest's exit status means when the counts alone would not say it.
_EXIT_MEANINGS = {2: "interrupted", 3: "an internal error", 4: "a usage error"}


def decide(inputs: Inputs, tests: list[TestResult], calibration: CalibrationSummary | None = None) -> Verdict:
    """The gate: what fails the run, and why.

    Failures and errors fail; a missing report or an interrupted session never passes; calibration
    over the window beyond `max-ece` or `max-brier` fails.
    """
    settings = inputs.settings
    counts = TestCounts.of(tests)
    reasons: list[str] = []
    failed = False
    neutral = False
    if not inputs.reports:
        reasons.append(no_report_reason(inputs))
        failed = settings.if_no_report is IfNoReport.FAIL
        neutral = not failed
    sessions = session_problems(inputs)
    reasons += sessions
    failed = failed or bool(sessions)
    if counts.failed or counts.errors:
        reasons.append(plural(counts.failed, "test") + " failed, " + plural(counts.errors, "error"))
        failed = True
    if inputs.contracts is not None and inputs.contracts.blocks:
        failures = inputs.contracts.failures
        reasons.append(
            f"{plural(len(failures), 'dataset')} failed the contract: " + "; ".join(r.describe() for r in failures)
        )
        failed = True
    if calibration is not None:
        window = calibration.window
        for name, value, limit in (
            ("ECE", window.ece, settings.max_ece),
            ("Brier score", window.brier_score, settings.max_brier),
        ):
            if limit is not None and value > limit:
                reasons.append(
                    f"{name} {value:.4f} over the last {calibration.window_runs} runs exceeds the limit {limit:g}"
                )
                failed = True
    if inputs.reports and counts.total == 0:
        reasons.append("the reports contain no tests")
        if settings.if_no_report is IfNoReport.FAIL:
            failed = True
        else:
            neutral = True
    if failed:
        conclusion = Conclusion.FAILURE
    elif neutral:
        conclusion = Conclusion.NEUTRAL
    else:
        conclusion = Conclusion.SUCCESS
        reasons.append(f"{plural(counts.passed, 'test')} passed, none failed")
    return Verdict(
        conclusion=conclusion,
        reasons=reasons,
        gate_failed=conclusion is Conclusion.FAILURE and settings.fail_on is not FailOn.NONE,
    )


def session_problems(inputs: Inputs) -> list[str]:
    """What the reports say of the sessions themselves: interrupted, crashed, or cut short."""
    problems = []
    for loaded in inputs.reports:
        status = loaded.parsed.exit_status
        if status in _EXIT_MEANINGS:
            problems.append(f"pytest exited with status {status} ({_EXIT_MEANINGS[status]}) in {loaded.source.path}")
        elif loaded.parsed.unfinished:
            problems.append(f"the session in {loaded.source.path} did not finish (stopped, killed, or a plugin failed)")
    return problems


def warnings_for(inputs: Inputs) -> list[str]:
    """What the user should know even when the run passes."""
    warnings = []
    if not inputs.reports:
        warnings.append(no_report_reason(inputs))
    elif inputs.unmatched:
        warnings.append("no report matched " + ", ".join(inputs.unmatched))
    warnings.extend(inputs.report_notes)
    if inputs.contracts is not None and inputs.contracts.failures and not inputs.contracts.blocks:
        warnings.extend(
            f"dataset {r.dataset_id} failed its contract (block_on_mismatch is off): {r.describe()}"
            for r in inputs.contracts.failures
        )
    if inputs.git.status == "unknown":
        warnings.append(f"git metadata unknown: {inputs.git.reason}")
    return warnings


def no_report_reason(inputs: Inputs) -> str:
    """Why there is no report to read: none matched, or the files are empty."""
    if inputs.empty:
        return "the test report is empty: " + ", ".join(inputs.empty)
    return "no test report found at " + ", ".join(inputs.unmatched or inputs.settings.report)
