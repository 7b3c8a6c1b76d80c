"""The records the action writes, as pydantic models with the seed's validators.

What we write is strict (`extra="forbid"`, frozen); reports written by other tools are parsed
tolerantly in `provenance.reports` and only then turned into these records.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_RETENTION_YEARS = 5

_SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Record(BaseModel):
    """Base of everything we write: unknown fields are errors, values never change after creation."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Result(StrEnum):
    """The seed's `TestResult.result`: the four values every report format can express."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    @property
    def failed(self) -> bool:
        """Whether this result fails a run: a failure or an error."""
        return self in FAILED_RESULTS


# Also matches the plain strings of a ledger line read back: a StrEnum member equals its value.
FAILED_RESULTS = (Result.FAIL, Result.ERROR)
# No test or session of a CI job runs this long (GitHub stops a job after days): a duration past it
# in a report or a history is no measurement, and sums and ratios of it would overflow.
MAX_SECONDS = 1e6


class Outcome(StrEnum):
    """pytest's finer outcome, kept beside `Result` so nothing is lost in the mapping."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    XPASSED = "xpassed"
    FLAKY = "flaky"  # failed, then passed when pytest-rerunfailures ran it again: a pass, counted apart

    @property
    def result(self) -> Result:
        """Map as pytest's own JUnit XML does: an xfail is a skip, an xpass is a pass."""
        return _OUTCOME_TO_RESULT[self]


_OUTCOME_TO_RESULT = {
    Outcome.PASSED: Result.PASS,
    Outcome.XPASSED: Result.PASS,
    Outcome.FLAKY: Result.PASS,
    Outcome.FAILED: Result.FAIL,
    Outcome.ERROR: Result.ERROR,
    Outcome.SKIPPED: Result.SKIP,
    Outcome.XFAILED: Result.SKIP,
}


class Conclusion(StrEnum):
    """The run's verdict, as GitHub names check conclusions."""

    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


class ReportFormat(StrEnum):
    """The test report formats we read; detected from content, never from the file name."""

    PYTEST_JSON = "pytest-json-report"
    JUNIT_XML = "junit-xml"
    REPORTLOG = "pytest-reportlog"
    CTRF = "ctrf"


def utc_now() -> datetime:
    """The current time in UTC; one place so records never carry a naive timestamp."""
    return datetime.now(UTC)


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError("timestamps must be timezone-aware UTC")
    return value


def _check_git_sha(value: str | None) -> str | None:
    if value is not None and not _SHA_RE.match(value):
        raise ValueError("a git SHA is 40 (SHA-1) or 64 (SHA-256) lowercase hex digits")
    return value


Phase = Literal["setup", "call", "teardown", "collect"]


@dataclass
class TestResult:
    """One test item (or one collection error) and what happened to it.

    A dataclass rather than a model: a report may hold 100,000 of them, and a pydantic model costs
    about ten times the memory and time of one. Its rules are checked on every construction all
    the same; pydantic writes it inside `CIRun` like any model field. Not frozen, though nothing
    assigns to one once built (`dataclasses.replace` makes another): a frozen dataclass sets each
    field through `object.__setattr__`, four times the cost of building it. Not slotted either:
    orjson writes a dataclass that keeps its fields in a `__dict__` two to three times as fast
    (0.04-0.08 s against 0.11 s for 100,000), for 5 MB more.
    `line` is 1-based, the failure's line where known.
    """

    __test__ = False  # not a pytest test class

    nodeid: str
    result: Result
    outcome: Outcome
    duration_seconds: float
    file: str | None = None
    line: int | None = None
    phase: Phase | None = None
    message: str | None = None
    longrepr: str | None = None

    def __post_init__(self) -> None:
        if not self.nodeid:
            raise ValueError("nodeid must not be empty")
        if _OUTCOME_TO_RESULT[self.outcome] is not self.result:
            raise ValueError(f"result {self.result!r} contradicts outcome {self.outcome!r}")
        if not 0.0 <= self.duration_seconds < math.inf:  # also false for NaN
            raise ValueError("duration must be a finite, non-negative number of seconds")
        if self.line is not None and self.line < 1:
            raise ValueError("line is 1-based")


class TestCounts(Record):
    """Counts as pytest prints them; `failed + errors > 0` fails the gate."""

    __test__ = False

    total: int = Field(ge=0)
    passed: int = Field(ge=0)
    failed: int = Field(ge=0)
    skipped: int = Field(ge=0)
    errors: int = Field(ge=0)
    xfailed: int = Field(ge=0, description="included in skipped")
    xpassed: int = Field(ge=0, description="included in passed")
    flaky: int = Field(default=0, ge=0, description="included in passed: failed, then passed on a rerun")

    @classmethod
    def of(cls, tests: list[TestResult]) -> TestCounts:
        """Count a list of results."""
        results = [test.result for test in tests]
        outcomes = [test.outcome for test in tests]
        return cls(
            total=len(tests),
            passed=results.count(Result.PASS),
            failed=results.count(Result.FAIL),
            skipped=results.count(Result.SKIP),
            errors=results.count(Result.ERROR),
            xfailed=outcomes.count(Outcome.XFAILED),
            xpassed=outcomes.count(Outcome.XPASSED),
            flaky=outcomes.count(Outcome.FLAKY),
        )

    @model_validator(mode="after")
    def _adds_up(self) -> TestCounts:
        if self.passed + self.failed + self.skipped + self.errors != self.total:
            raise ValueError("passed + failed + skipped + errors must equal total")
        return self


class ReportSource(Record):
    """One report file that fed the run, with its digest so the evidence names exactly what was read."""

    path: str
    format: ReportFormat
    sha256: Sha256
    size: int = Field(ge=0)
    tests: int = Field(ge=0)
    exit_status: int | None = None
    walltime_seconds: float | None = Field(default=None, ge=0)
    test_time_seconds: float = Field(ge=0)
    workers: int | None = Field(default=None, ge=1)
    workers_inferred: bool = False

    @model_validator(mode="after")
    def _walltime_consistent(self) -> ReportSource:
        """Test time cannot exceed what the workers could spend in the walltime.

        Each of `workers` processes can spend at most the walltime on tests; 5% and one second
        of slack absorb clock granularity and per-test overhead measured outside the session.
        When the report does not say how many workers ran, `workers` is inferred from the
        ratio and flagged, rather than rejecting a legitimate parallel run.
        """
        if self.walltime_seconds is None or self.workers is None:
            return self
        allowed = self.workers * self.walltime_seconds * 1.05 + 1.0
        if self.test_time_seconds > allowed:
            raise ValueError(
                f"test durations add up to {self.test_time_seconds:.3f}s, more than {self.workers} "
                f"worker(s) can spend in a walltime of {self.walltime_seconds:.3f}s"
            )
        return self


class ChangedFile(Record):
    """A file the change touched, with its line counts (None for binary files)."""

    path: str
    added: int | None = Field(default=None, ge=0)
    deleted: int | None = Field(default=None, ge=0)


class GitInfo(Record):
    """What git says about the checkout; `status` is `unknown` when git could not tell."""

    status: Literal["ok", "unknown"]
    reason: str | None = None
    commit: str | None = None
    branch: str | None = None
    compare_base: str | None = None
    changed_files: list[ChangedFile] | None = None
    lines_added: int | None = None
    lines_deleted: int | None = None

    _sha = field_validator("commit", "compare_base")(_check_git_sha)


class DatasetLineage(Record):
    """A dataset the tests used and the digest it had (filled by the contracts stage)."""

    dataset_id: str
    path: str
    kind: Literal["file", "directory", "glob"]
    dataset_checksum: Sha256 | None
    expected_checksum: Sha256 | None
    size: int | None = Field(default=None, ge=0)
    nfiles: int | None = Field(default=None, ge=0)
    status: Literal["ok", "mismatch", "missing", "unverified"]
    problems: list[str] = Field(default_factory=list)


class ModelProvenance(Record):
    """Which failure-prediction model scored the run (filled by the model stage)."""

    model_hash: Sha256
    model_version: str


class CalibrationFigures(Record):
    """How well failure predictions matched the outcomes over some set of tests."""

    brier_score: float = Field(ge=0, le=1)
    ece: float = Field(ge=0, le=1)
    mce: float = Field(ge=0, le=1)
    n_samples: int = Field(ge=1)
    base_rate: float = Field(ge=0, le=1)


class CalibrationSummary(Record):
    """The calibration stage's result: this run alone, and the rolling window the gate uses."""

    run: CalibrationFigures | None
    window: CalibrationFigures
    window_runs: int = Field(ge=1, description="runs in the window, this one included")
    bins: int = Field(ge=1)
    mce_min_bin_count: int = Field(ge=1)
    bin_centers: list[float]
    mean_predicted: list[float]
    empirical_probs: list[float]
    bin_counts: list[int]


class Retention(Record):
    """How long the record must be kept; 5 years by default (a common regulatory minimum)."""

    retention_years: int = Field(default=DEFAULT_RETENTION_YEARS, ge=1)
    retain_until: datetime

    _utc = field_validator("retain_until")(_require_utc)


class CIRun(Record):
    """The seed's `CIRun`: where and on what the tests ran, and what happened."""

    run_id: str = Field(min_length=1)
    run_attempt: int = Field(default=1, ge=1)
    repository: str | None = None
    workflow: str | None = None
    job: str | None = None
    event_name: str | None = None
    actor: str | None = None
    ref: str | None = None
    sha: str | None = None
    pr_number: int | None = Field(default=None, ge=1)
    pr_base_sha: str | None = None
    pr_head_sha: str | None = None
    run_url: str | None = None
    # The job's own check run (`job.check_run_id`) and its page: which job of the run these tests were.
    check_run_id: int | None = Field(default=None, ge=1)
    check_run_url: str | None = None
    runner_os: str | None = None
    runner_arch: str | None = None
    git: GitInfo
    started_at: datetime | None = None
    recorded_at: datetime
    walltime_seconds: float | None = Field(default=None, ge=0)
    counts: TestCounts
    tests: list[TestResult]

    _sha = field_validator("sha", "pr_base_sha", "pr_head_sha")(_check_git_sha)
    _utc = field_validator("recorded_at")(_require_utc)

    @field_validator("started_at")
    @classmethod
    def _started_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _require_utc(value)

    @cached_property
    def failures(self) -> list[TestResult]:
        """The tests that failed or errored, in report order (kept: several stages ask)."""
        return [t for t in self.tests if t.result in FAILED_RESULTS]

    @model_validator(mode="after")
    def _counts_match_tests(self) -> CIRun:
        if self.counts != TestCounts.of(self.tests):
            raise ValueError("counts do not match the tests listed")
        return self


class LedgerPointer(Record):
    """Where the run's ledger entry sits; `prev` is the chain head the entry extends."""

    path: str
    seq: int = Field(ge=0)
    prev: Sha256


class SlowerTest(Record):
    """A test slower than `duration-regression` allows: this run's time against its recorded median."""

    nodeid: str
    seconds: float = Field(ge=0)
    median_seconds: float = Field(ge=0, description="over its passing runs among the ledger's latest")
    runs: int = Field(ge=1, description="how many recorded durations the median is of")


class Verdict(Record):
    """The conclusion and the reasons for it, so a reader never has to re-derive the gate."""

    conclusion: Conclusion
    reasons: list[str]
    gate_failed: bool
    known_failures: list[str] = Field(
        default_factory=list,
        description="with fail-on: regression, failing tests that also failed in the run compared with",
    )
    slower_tests: list[SlowerTest] = Field(
        default_factory=list, description="with duration-regression, tests slower than it allows, slowest first"
    )


class SelectionHindsight(Record):
    """What `select` would have chosen for this run, before it ran, and what that would have caught."""

    budget: str = Field(description="the budget as configured, e.g. `50% of the suite's time`")
    selected: int = Field(ge=0)
    tests: int = Field(ge=0)
    failing: int = Field(ge=0, description="tests that failed or errored in this run")
    caught: int = Field(ge=0, description="of those, how many the selection would have run")
    missed: list[str] = Field(default_factory=list, description="failing tests the selection would have skipped")
    seconds_selected: float = Field(ge=0, description="this run's time of the selected tests")
    seconds_total: float = Field(ge=0)

    @property
    def saved_fraction(self) -> float:
        """The share of this run's test time the selection would have saved."""
        return 1.0 - self.seconds_selected / self.seconds_total if self.seconds_total > 0 else 0.0


class CIProvenance(Record):
    """The per-run provenance file: one self-contained record an auditor can read alone."""

    schema_version: Literal["1.0"] = "1.0"
    tool: str
    tool_version: str
    run: CIRun
    verdict: Verdict
    reports: list[ReportSource]
    contracts_manifest: str | None = None
    datasets: list[DatasetLineage] = Field(default_factory=list)
    model: ModelProvenance | None = None
    calibration: CalibrationSummary | None = None
    selection_hindsight: SelectionHindsight | None = None
    retention: Retention
    ledger: LedgerPointer


@dataclass(slots=True)
class LedgerTest:
    """A test as the ledger keeps it: enough for the model to learn from, without the tracebacks.

    `p_fail` is the failure probability predicted before the outcome was known, when there was one.
    A dataclass for the reason `TestResult` is one; pydantic validates it when a ledger is read.
    """

    nodeid: str
    result: Result
    duration_seconds: float
    p_fail: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.duration_seconds < math.inf:
            raise ValueError("duration must be a finite, non-negative number of seconds")
        if self.p_fail is not None and not 0.0 <= self.p_fail <= 1.0:
            raise ValueError("p_fail must be a probability, between 0 and 1")


class ExperimentLedgerEntry(Record):
    """One line of the ledger: the run's summary, chained to the previous line by hash."""

    schema_version: Literal["1.0"] = "1.0"
    seq: int = Field(ge=0)
    prev: Sha256
    entry_hash: Sha256
    recorded_at: datetime
    run_id: str
    run_attempt: int = Field(ge=1)
    repository: str | None
    commit: str | None
    branch: str | None
    conclusion: Conclusion
    counts: TestCounts
    walltime_seconds: float | None
    tests: list[LedgerTest]
    changed_files: list[str] | None
    reports: list[Sha256]
    provenance_path: str
    provenance_sha256: Sha256
    dataset_id: list[str] = Field(default_factory=list)
    dataset_checksum: list[Sha256 | None] = Field(default_factory=list)
    model_hash: Sha256 | None = None
    model_version: str | None = None
    brier_score: float | None = None
    ece: float | None = None
    mce: float | None = None
    retention_until: datetime
    supersedes: int | None = Field(default=None, ge=0, description="seq of the entry this one corrects")
    correction_reason: str | None = None

    _utc = field_validator("recorded_at", "retention_until")(_require_utc)
    _commit = field_validator("commit")(_check_git_sha)
