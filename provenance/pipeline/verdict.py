"""The gate: what fails a run and why, and what to warn about when it passes (pure)."""

from __future__ import annotations

from provenance.choices import FailOn, IfNoReport
from provenance.config import Settings
from provenance.learning.history import PreviousRun
from provenance.pipeline.inputs import Inputs
from provenance.schemas import (
    FAILED_RESULTS,
    CalibrationSummary,
    Conclusion,
    SlowerTest,
    TestCounts,
    TestResult,
    Verdict,
)
from provenance.text import plural

# What pytest's exit status means when the counts alone would not say it.
_EXIT_MEANINGS = {2: "interrupted", 3: "an internal error", 4: "a usage error"}


def decide(
    inputs: Inputs,
    tests: list[TestResult],
    calibration: CalibrationSummary | None = None,
    previous: PreviousRun | None = None,
    slower: list[SlowerTest] | None = None,
) -> Verdict:
    """The gate: what fails the run, and why.

    Failures and errors fail (with `fail-on: regression`, only those not failing in the `previous` run); a
    missing report or an interrupted session never passes; calibration beyond `max-ece` or `max-brier` over
    the window fails, and so do `slower` tests under `fail-on: duration-regression`.
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
    known: list[str] = []
    if counts.failed or counts.errors:
        reason, new_failures, known = failing_tests(tests, counts, settings.fail_on, previous)
        reasons.append(reason)
        failed = failed or new_failures
        neutral = True  # failures known before: no pass, but no gate failed either
    if inputs.contracts is not None and inputs.contracts.blocks:
        failures = inputs.contracts.failures
        reasons.append(
            f"{plural(len(failures), 'dataset')} failed the contract: " + "; ".join(r.describe() for r in failures)
        )
        failed = True
    over = calibration_over_limits(calibration, settings.max_ece, settings.max_brier) + slower_reasons(settings, slower)
    reasons += over
    failed = failed or bool(over)
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
        known_failures=known,
        slower_tests=slower or [],
    )


def slower_reasons(settings: Settings, slower: list[SlowerTest] | None) -> list[str]:
    """With `fail-on: duration-regression`, the tests slower than `duration-regression` allows, as a reason."""
    limit = settings.duration_regression
    if not slower or settings.fail_on is not FailOn.DURATION_REGRESSION or limit is None:
        return []
    return [f"{plural(len(slower), 'test')} took more than {limit.factor:g}x their recorded median and over "
            f"{limit.floor_seconds:g} s longer"]  # fmt: skip


def calibration_over_limits(
    calibration: CalibrationSummary | None, max_ece: float | None, max_brier: float | None
) -> list[str]:
    """The calibration figures over the window that exceed their limits, each as a reason."""
    if calibration is None:
        return []
    window = calibration.window
    return [
        f"{name} {value:.4f} over the last {calibration.window_runs} runs exceeds the limit {limit:g}"
        for name, value, limit in (("ECE", window.ece, max_ece), ("Brier score", window.brier_score, max_brier))
        if limit is not None and value > limit
    ]


def failing_tests(
    tests: list[TestResult], counts: TestCounts, fail_on: FailOn, previous: PreviousRun | None
) -> tuple[str, bool, list[str]]:
    """Why the failing tests fail the run (or not): the reason, whether any is new, the known ones.

    Under `fail-on: regression` a failure is new unless the test failed in the `previous` run (the
    branch's last, else its base's); with no such run to compare with, every failure is new.
    """
    reason = plural(counts.failed, "test") + " failed, " + plural(counts.errors, "error")
    if fail_on is not FailOn.REGRESSION:
        return reason, True, []
    if previous is None:
        return reason + " (no earlier run of this branch or its base to compare with: each counts as new)", True, []
    failing = list(dict.fromkeys(t.nodeid for t in tests if t.result in FAILED_RESULTS))
    known = [nodeid for nodeid in failing if nodeid in previous.failing]
    new = len(failing) - len(known)
    compared = f"run {previous.run_id} of {previous.branch}"
    if new:
        return f"{reason}: {plural(new, 'new failure')}, {len(known)} known from {compared}", True, known
    return f"{reason}, each failing in {compared} already: no new failure", False, known


def session_problems(inputs: Inputs) -> list[str]:
    """What the reports say of the sessions themselves: interrupted, crashed, or cut short."""
    problems = []
    for loaded in inputs.reports:
        status = loaded.parsed.exit_status
        if status in _EXIT_MEANINGS:
            problems.append(f"pytest exited with status {status} ({_EXIT_MEANINGS[status]}) in {loaded.source.path}"
                            + _inside(loaded.parsed.stopped_in))  # fmt: skip
        elif status == 1 and not any(t.result in FAILED_RESULTS for t in loaded.parsed.tests):
            # pytest failed the session for something this report does not show as a failing test:
            # never pass what pytest failed.
            problems.append(f"pytest exited with status 1 (tests failed) in {loaded.source.path}, "
                            "yet no test in it failed")  # fmt: skip
        elif loaded.parsed.unfinished:
            problems.append(f"the session in {loaded.source.path} did not finish (stopped, killed, or a plugin failed)"
                            + _inside(loaded.parsed.stopped_in))  # fmt: skip
    return problems


def _inside(tests: list[str], shown: int = 3) -> str:
    """The tests a session stopped inside (the first few) as ", inside TEST", or nothing."""
    if not tests:
        return ""
    more = f" and {plural(len(tests) - shown, 'other')}" if len(tests) > shown else ""
    return ", inside " + ", ".join(tests[:shown]) + more


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
