"""What changed against the base branch, and which tests became slower: read from the ledger before the append.

The pull-request comment says what a change did to the tests: the failures it brought, the ones
it fixed, those still failing, the flaky ones and the tests slower than `duration-regression`
allows, each against the last recorded run of the pull request's base branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from provenance.choices import CommentMode
from provenance.config import Settings
from provenance.learning.durations import recorded_medians, slower_than_usual
from provenance.learning.history import last_run_on
from provenance.schemas import FAILED_RESULTS, Outcome, Result, SlowerTest, TestResult


@dataclass(frozen=True)
class BaseChanges:
    """A run against the base branch's last recorded run (`base_run_id` None: there was none)."""

    base_branch: str | None
    base_run_id: str | None
    new_failures: list[TestResult] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    still_failing: list[TestResult] = field(default_factory=list)
    flaky: list[TestResult] = field(default_factory=list)

    def any(self, slower: list[SlowerTest]) -> bool:
        """Whether anything changed worth a comment: a new failure, a fix, a flaky test or a slower one."""
        return bool(self.new_failures or self.fixed or self.flaky or slower)


def read_before_append(settings: Settings, base_branch: str | None, tests: list[TestResult],
                       ledger_path: Path) -> tuple[list[SlowerTest], BaseChanges | None]:  # fmt: skip
    """The slower tests (with `duration-regression`) and, for the comment, the changes against the base."""
    commenting = settings.comment is not CommentMode.OFF
    changes = against_base(base_branch, tests, ledger_path) if commenting else None
    return slower_tests(settings, tests, ledger_path), changes


def slower_tests(settings: Settings, tests: list[TestResult], ledger_path: Path) -> list[SlowerTest]:
    """The tests slower than `duration-regression` allows (none when it is off), against the ledger so far."""
    threshold = settings.duration_regression
    if threshold is None:
        return []
    medians = recorded_medians(ledger_path, (t.nodeid for t in tests if t.result is Result.PASS))
    return slower_than_usual(tests, medians, threshold.factor, threshold.floor_seconds)


def against_base(base_branch: str | None, tests: list[TestResult], ledger_path: Path) -> BaseChanges:
    """New failures, fixes, failures still there and flaky tests against the base's last recorded run.

    Without a base branch or a recorded run of it every failure is new and nothing is fixed. The
    ledger keeps each test's result, not its reruns, so every flaky test of this run is listed.
    """
    previous = last_run_on(ledger_path, (base_branch,)) if base_branch else None
    failing = list({t.nodeid: t for t in tests if t.result in FAILED_RESULTS}.values())
    before = previous.failing if previous else frozenset()
    passing = {t.nodeid for t in tests if t.result is Result.PASS}
    return BaseChanges(
        base_branch=base_branch,
        base_run_id=previous.run_id if previous else None,
        new_failures=[t for t in failing if t.nodeid not in before],
        fixed=sorted(before & passing - {t.nodeid for t in failing}),
        still_failing=[t for t in failing if t.nodeid in before],
        flaky=[t for t in tests if t.outcome is Outcome.FLAKY],
    )
