"""The job summary of a select step: what was chosen, what the budget buys, and why tests were skipped.

A reviewer who sees a short test run should not have to trust it: the summary shows the confidence
curve (the probability, under the model, of catching a failing run against the share of the suite's
time, as a Mermaid `xychart-beta` chart, which GitHub renders) with the chosen budget marked, how
many tests run or not for each reason, and the skipped tests most likely to fail. Node ids are
untrusted (a test's name is whatever its author wrote): each goes through `markdown.code`. The
chart holds only numbers this module formats.
"""

from __future__ import annotations

from collections import Counter

from provenance.github.markdown import code
from provenance.selection.budget import Budget, Reason, Selection
from provenance.selection.explain import (
    CURVE_STEP,
    Decision,
    budget_share,
    catch_probability,
    confidence_curve,
    cut_off,
    decisions,
)
from provenance.selection.plan import RankedBy
from provenance.text import plural

RISKIEST_SHOWN = 10  # the skipped tests most likely to fail, listed by name
_WORDS = {
    Reason.NEW: "new test",
    Reason.FAILED_LAST_RUN: "failed its last run",
    Reason.FILE_CHANGED: "its own file changed",
    Reason.RANKED: "ranked within the budget",
    Reason.EXPLORATION: "exploration (the least certain tests)",
    Reason.CONFIDENCE_TARGET: "needed for the confidence target",
    Reason.FULL_RUN: "full run",
    Reason.BELOW_CUT_OFF: "below the cut-off (failures per second)",
    Reason.DID_NOT_FIT: "did not fit in what was left of the budget",
}


def _percent(share: float) -> str:
    """A share as a percentage with one decimal: the chart's numbers, which a reader parses back."""
    return f"{share * 100:.1f}"


def chart(selection: Selection) -> str:
    """The confidence curve as a Mermaid `xychart-beta` block, the chosen budget as the one non-zero bar.

    The x-axis holds the shares 0%, 5%, ..., 100% and the selection's own share; the line is the
    curve at each, and the bar at the selection's share is the probability the selection itself
    catches a failing run (tests it took by exploration or past a test too long to fit can put it
    off the line).
    """
    chosen = budget_share(selection)
    steps = round(1.0 / CURVE_STEP)
    shares = sorted({round(i * CURVE_STEP, 6) for i in range(steps + 1)} | {chosen})
    # Two shares that print alike would be one category twice: the budget's own wins.
    labels: dict[str, float] = {}
    for share in shares:
        if _percent(share) not in labels or share == chosen:
            labels[_percent(share)] = share
    points = confidence_curve(selection, list(labels.values()))
    marked = _percent(catch_probability(selection.p_fail, selection.selected))
    line = ", ".join(_percent(point.p_catch) for point in points)
    bar = ", ".join(marked if label == _percent(chosen) else "0" for label in labels)
    return (
        "```mermaid\nxychart-beta\n"
        '    title "Failing runs caught against the share of suite time, the bar at the chosen budget"\n'
        f'    x-axis "share of expected suite time (%)" [{", ".join(labels)}]\n'
        '    y-axis "P(a failing run is caught) (%)" 0 --> 100\n'
        f"    bar [{bar}]\n    line [{line}]\n```\n"
    )


def _counts(explained: list[Decision]) -> str:
    """A table of how many tests run or not for each reason, and their expected time."""
    tests = Counter(d.reason for d in explained)
    seconds = {reason: sum(d.expected_seconds for d in explained if d.reason is reason) for reason in tests}
    rows = ["| Runs | Reason | Tests | Expected time |", "|---|---|---:|---:|"]
    for reason in Reason:
        if tests[reason]:
            runs = "no" if reason in (Reason.BELOW_CUT_OFF, Reason.DID_NOT_FIT) else "yes"
            rows.append(f"| {runs} | {_WORDS[reason]} (`{reason.value}`) | {tests[reason]} | {seconds[reason]:.2f} s |")
    return "\n".join(rows) + "\n"


def _riskiest(explained: list[Decision]) -> str:
    """The skipped tests most likely to fail: what a reviewer might want run by hand."""
    skipped = sorted((d for d in explained if not d.runs), key=lambda d: -d.p_fail)[:RISKIEST_SHOWN]
    if not skipped:
        return ""
    rows = [
        f"#### The {plural(len(skipped), 'skipped test')} most likely to fail\n",
        "| Test | P(fail) | Expected time | Failures per second | Why skipped |",
        "|---|---:|---:|---:|---|",
    ]
    rows += [
        f"| {code(d.test, 300)} | {d.p_fail:.4f} | {d.expected_seconds:.2f} s | {d.failures_per_second:.3g} "
        f"| {_WORDS[d.reason]} |"
        for d in skipped
    ]
    return "\n".join(rows) + "\n"


def render(selection: Selection, budget: Budget, audit_path: str, ranked_by: RankedBy = "model") -> str:
    """The whole select summary as Markdown (`ranked_by`: "model", or "reference" as `Plan.ranked_by` says)."""
    explained = decisions(selection, budget)
    n, chosen = len(selection.tests), int(selection.selected.sum())
    share = budget_share(selection)
    p_catch = catch_probability(selection.p_fail, selection.selected)
    head = f"## ✂️ Test selection: {chosen} of {plural(n, 'test')} ({share * 100:.1f}% of the suite's expected time)\n\n"
    if selection.full_run:
        lead = "Full run: every test runs (the first run, or every `full-run-every`-th).\n\n"
    else:
        under = "the model" if ranked_by == "model" else "the reference predictor"
        lead = (
            f"Budget: {budget.describe()}. Under {under}, a failing run is caught with probability "
            f"{p_catch:.4f}, and no skipped test fails with probability {selection.confidence:.4f}.\n\n"
        )
        if ranked_by == "reference":
            lead += (
                "Ranked as the reference predictor ranks (each test's failure rate shrunk toward the project's, "
                "per its last duration): over this project's failing runs so far, the model's own order has not "
                "yet reached the first failing test sooner, or has since fallen behind the reference's by more "
                "than chance gives.\n\n"
            )
        line = cut_off(selection)
        if line is not None:
            lead += (
                f"The cut-off: {line:.3g} expected failures per second, that of the last test the ranking took; "
                "a skipped test expected fewer, or did not fit in what was left of the budget.\n\n"
            )
    where = f"Why each test runs or not, with its probability: {code(audit_path)}.\n"
    return head + lead + chart(selection) + "\n" + _counts(explained) + "\n" + _riskiest(explained) + "\n" + where
