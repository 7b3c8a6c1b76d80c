"""Failure prediction learnt from the project's own history, incrementally.

The state is per-test sufficient statistics (runs, failures, runs and failures just after a
failure, decayed counts, typical durations, last outcome) and the project's running rates. A test's
history gives its failure probability through a family of predictors (`experts.py`: long-run rates
with priors of several strengths, the reference predictor among them; rates by last outcome, with
and without discounting a failure in a broken build; the last outcome alone; decayed rates; a rate
that follows the project's recent failure level), mixed by how well each has predicted this
project's past runs. Some projects' failures persist until fixed, others' are flaky, in some many
tests fail together; the mixture follows what the project's own history shows, instead of a
setting tuned to one of them.

A test's expected cost is the typical duration of its passing runs and of its failing ones, weighed
by its failure probability: each run's duration is averaged with the estimate before it, so that
one 0 s record (a coarse timer) does not put it first in a per-second ranking.

When a run names the files it changed, the model also learns what changes do (`changes.py`): a
test's probability is raised where the changed files broke it before, or where its name mentions one.
Selection ranks by probability per second once that order has reached the project's failing tests
sooner than the reference predictor's, and as the reference does before and wherever the
reference's has since done better beyond chance (`ranking.py`).

Each run updates the state once, so predicting and updating cost time in proportion to the tests
(and changed files) in the run, never to the length of the history. numpy only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from provenance.learning import experts, ranking
from provenance.learning.changes import Changes, usable
from provenance.learning.epistemic import MIN_SECONDS
from provenance.learning.experts import BROKEN_BUILD_SHARE, CONTEXTS, EXPERTS

FloatArray = npt.NDArray[np.float64]
MODEL_VERSION = "provenance-change-aware-7"
PRIOR_WEIGHT = experts.REFERENCE_PRIOR_WEIGHT
HISTORY_PRIOR_WEIGHTS = experts.PRIOR_WEIGHTS


# The per-test arrays, in the order of the state's `stats` rows.
PER_TEST = (
    "runs",
    "fails",
    "pass_duration",
    "fail_duration",
    "last_duration",
    "last_failed",
    "last_broken_build",
    "runs_after_failure",
    "fails_after_failure",
    "runs_after_any_failure",
    "fails_after_any_failure",
)
DECAYED = 2 * len(experts.DECAYS)  # rows of `Model.decayed`: the decayed runs, then the decayed failures


def _empty() -> FloatArray:
    return np.zeros(0)


@dataclass
class Model:
    """Per-test counts and durations, and the global counts they are shrunk toward."""

    names: list[str] = field(default_factory=list)
    runs: FloatArray = field(default_factory=_empty)
    fails: FloatArray = field(default_factory=_empty)
    # The typical duration of a test's passing runs and of its failing runs: each run's duration
    # averaged with the estimate before it (each run weighs half), so one run's timer glitch (a 0 s
    # record, a slow runner) moves a test's expected cost only halfway.
    pass_duration: FloatArray = field(default_factory=_empty)
    fail_duration: FloatArray = field(default_factory=_empty)
    last_duration: FloatArray = field(default_factory=_empty)
    # How far each cost estimate (the typical duration, the last one) missed the durations that
    # followed: the sum of squared differences of their logarithms. The better one is used.
    cost_error: FloatArray = field(default_factory=lambda: np.zeros(2))
    # Over the failing runs so far, how much sooner the reference's ranking reached the first failing
    # test than the model's own (a share of the run's time): the differences summed, their squares,
    # and 1.0 while the model's own order leads (`ranking.scored`).
    ranking_lead: FloatArray = field(default_factory=lambda: np.zeros(3))
    last_failed: FloatArray = field(default_factory=_empty)  # 1.0 where the test's last run failed
    last_broken_build: FloatArray = field(default_factory=_empty)  # 1.0 where that run was a broken build
    runs_after_failure: FloatArray = field(default_factory=_empty)  # after a failure not in a broken build
    fails_after_failure: FloatArray = field(default_factory=_empty)
    runs_after_any_failure: FloatArray = field(default_factory=_empty)
    fails_after_any_failure: FloatArray = field(default_factory=_empty)
    decayed: FloatArray = field(default_factory=lambda: np.zeros((DECAYED, 0)))
    total_runs: float = 0.0
    total_fails: float = 0.0
    total_runs_after_failure: float = 0.0
    total_fails_after_failure: float = 0.0
    total_runs_after_any_failure: float = 0.0
    total_fails_after_any_failure: float = 0.0
    recent_runs: float = 0.0  # test runs and failures, each cycle's counts decayed by `experts.RECENT_DECAY`
    recent_fails: float = 0.0
    # Each expert's loss so far (`experts.score`), a row per context of `experts.CONTEXTS`.
    expert_loss: FloatArray = field(default_factory=lambda: np.zeros((len(CONTEXTS), EXPERTS)))
    cycles: int = 0
    ledger_head: str = ""
    # Per ledger entry, oldest first and only the last few: the calibration totals of its
    # predictions (`BinTotals.to_row`), so the rolling window need not read the entries again.
    scored_runs: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    changes: Changes = field(default_factory=Changes)  # what changed files did (`changes.py`)
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {name: i for i, name in enumerate(self.names)}

    def _indices(self, tests: list[str]) -> npt.NDArray[np.intp]:
        """Indices of the tests in the state arrays, adding new tests with empty statistics."""
        idx, new = lookup(self._index, tests)
        if new:
            self.names.extend(new)
            grow = np.zeros(len(new))
            for name in PER_TEST:
                setattr(self, name, np.concatenate([getattr(self, name), grow]))
            self.decayed = np.hstack([self.decayed, np.zeros((DECAYED, len(new)))])
        return idx

    @property
    def global_rate(self) -> float:
        """The failure rate over every test run so far, with a weak prior at 1%."""
        return float(experts.shrunk(self.total_fails, self.total_runs, 0.01, 1.0))

    def predict(self, tests: list[str], changed_files: list[str] | None = None) -> FloatArray:
        """Failure probability of each test in the coming run.

        p from the test's history (the mixture), raised where the run's changes broke the test
        before: to (runs that changed f and broke it + 20p) / (runs that changed f + 20) for each
        changed file f; and for a test that mentions a changed file, that q to 1 − (1 − q)(1 − r),
        r the rate at which such tests broke (`changes.py`).
        """
        idx = self._indices(tests)
        return self._raised(tests, idx, self._history(idx), usable(changed_files))

    def _raised(self, tests: list[str], idx: npt.NDArray[np.intp], p: FloatArray, changed: list[str]) -> FloatArray:
        """The history part's `p` at `idx`, raised by what the `changed` files did before (`changes.py`)."""
        if not changed:
            return p
        own = np.zeros(len(self.names))
        own[idx] = p
        return self.changes.raised(tests, idx, own, changed, self.global_rate)

    def _snapshot(self, idx: npt.NDArray[np.intp]) -> experts.Snapshot:
        """What the experts read for these tests."""
        g = self.global_rate
        after, any_after = self.total_runs_after_failure, self.total_runs_after_any_failure
        fails_after, any_fails_after = self.total_fails_after_failure, self.total_fails_after_any_failure
        half = len(experts.DECAYS)
        return experts.Snapshot(
            runs=self.runs[idx], fails=self.fails[idx],
            last_failed=self.last_failed[idx] == 1, last_broken=self.last_broken_build[idx] == 1,
            focused_runs=self.runs_after_failure[idx], focused_fails=self.fails_after_failure[idx],
            any_runs=self.runs_after_any_failure[idx], any_fails=self.fails_after_any_failure[idx],
            decayed_runs=self.decayed[:half, idx], decayed_fails=self.decayed[half:, idx],
            global_rate=g,
            focused_again=float(experts.shrunk(fails_after, after, g, 1.0)),
            focused_fresh=float(experts.shrunk(self.total_fails - fails_after, self.total_runs - after, g, 1.0)),
            any_again=float(experts.shrunk(any_fails_after, any_after, g, 1.0)),
            any_fresh=float(experts.shrunk(self.total_fails - any_fails_after, self.total_runs - any_after, g, 1.0)),
            recent_rate=float(experts.shrunk(self.recent_fails, self.recent_runs, g, 1.0)),
        )  # fmt: skip

    def _history(self, idx: npt.NDArray[np.intp]) -> FloatArray:
        """The history part: the experts' probabilities mixed by their record in each test's context."""
        return experts.mix(experts.predictions(self._snapshot(idx)), self._contexts(idx), self.expert_loss)

    def _contexts(self, idx: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """Each test's context of `experts.CONTEXTS`, which the mixture keeps weights apart for."""
        return experts.contexts(self.last_failed[idx] == 1, self.last_broken_build[idx] == 1, self.fails[idx] > 0)

    def learnt(self) -> dict[str, Any]:
        """What the history part has learnt about the project, in words a reader can check."""
        weights = experts.weights(self.expert_loss)
        return {
            **{
                f"weights_{context.replace(' ', '_')}": {
                    n: round(float(w), 4) for n, w in zip(experts.NAMES, weights[k], strict=True) if w >= 5e-5
                }
                for k, context in enumerate(CONTEXTS)
            },
            "fails_again_rate": self.fails_again_rate,
            "mentioned_rate": self.mentioned_rate,
            "ranked_by": "reference" if self.ranks_as_reference else "model",
            "reference_ranking_lead": round(float(self.ranking_lead[0]), 4),
        }

    @property
    def fails_again_rate(self) -> float:
        """How often a test that failed its last run (not in a broken build) failed again (shrunk)."""
        fails, runs = self.total_fails_after_failure, self.total_runs_after_failure
        return float(experts.shrunk(fails, runs, self.global_rate, 1.0))

    @property
    def mentioned_rate(self) -> float:
        """How often a passing test broke when its name mentioned a changed file (shrunk)."""
        return self.changes.mentioned_rate(self.global_rate)

    def is_new(self, tests: list[str]) -> npt.NDArray[np.bool_]:
        """Which tests the model has never seen run."""
        return np.asarray(self.runs[self._indices(tests)] == 0)

    def failed_last_run(self, tests: list[str]) -> npt.NDArray[np.bool_]:
        """Which tests failed the last time they ran."""
        return np.asarray(self.last_failed[self._indices(tests)] == 1)

    def expected_seconds(self, tests: list[str], p_fail: FloatArray | None = None) -> FloatArray:
        """Each test's cost from past durations only, the median for new tests.

        The typical duration of its passing runs and of its failing runs, weighed by `p_fail` (a
        failing run can take far longer: a timeout, a traceback, pytest-rerunfailures' retries);
        or its last duration, whichever has predicted this project's durations better.
        """
        return self._expected(self._indices(tests), np.zeros(len(tests)) if p_fail is None else p_fail)

    def _expected(self, idx: npt.NDArray[np.intp], p_fail: FloatArray) -> FloatArray:
        """`expected_seconds` at the state's indices."""
        if self.cost_error[0] > self.cost_error[1]:
            return costs(self.last_duration, self.runs, idx)
        return self._typical(idx, p_fail)

    def ranking(self, tests: list[str], p_fail: FloatArray, seconds: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The probabilities and costs to rank by: `p_fail` and `seconds`, or the reference's (`ranking.py`)."""
        return self._reference(self._indices(tests)) if self.ranks_as_reference else (p_fail, seconds)

    @property
    def ranks_as_reference(self) -> bool:
        """Whether the model's own order has yet to lead, or has since fallen behind by more than chance gives."""
        return ranking.reference_leads(self.ranking_lead)

    def _reference(self, idx: npt.NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        """The reference predictor's probabilities and costs: the shrunk rate, the last duration."""
        p = experts.shrunk(self.fails[idx], self.runs[idx], self.global_rate, PRIOR_WEIGHT)
        return p, costs(self.last_duration, self.runs, idx)

    def _score_rankings(
        self, idx: npt.NDArray[np.intp], p: FloatArray, failed: npt.NDArray[np.bool_], durations: FloatArray
    ) -> None:
        """Add a failing run to the reference ranking's lead, from the predictions `p` made before it."""
        own = ranking.first_failure_share(p, self._expected(idx, p), failed, durations)
        reference = ranking.first_failure_share(*self._reference(idx), failed, durations)
        self.ranking_lead = ranking.scored(self.ranking_lead, own - reference)

    def _typical(self, idx: npt.NDArray[np.intp], p_fail: FloatArray) -> FloatArray:
        """The typical durations of passing and of failing runs weighed by `p_fail` (each the other where missing)."""
        on_pass = costs(np.where(self.runs > self.fails, self.pass_duration, self.fail_duration), self.runs, idx)
        on_fail = np.where(self.fails[idx] > 0, self.fail_duration[idx], on_pass)
        return np.asarray((1.0 - p_fail) * on_pass + p_fail * on_fail)

    def update(
        self,
        tests: list[str],
        failed: npt.NDArray[np.bool_],
        durations: FloatArray,
        changed_files: list[str] | None = None,
        predicted: FloatArray | None = None,
    ) -> None:
        """Learn from one finished run (`predicted`: what `predict` gave for it, when the caller has it)."""
        idx = self._indices(tests)
        changed = usable(changed_files)
        context, rows = self._contexts(idx), experts.predictions(self._snapshot(idx))
        p = experts.mix(rows, context, self.expert_loss)  # the history part's, before the run
        # Before anything is learnt, both rankings are the tests in the order given: no lead to score.
        if self.cycles and failed.any() and durations.sum() > 0:
            self._score_rankings(idx, self._raised(tests, idx, p, changed) if predicted is None else predicted,
                                 failed, durations)  # fmt: skip
        was_passing = self.last_failed[idx] == 0  # before this run: what `Changes.learn` counts from
        failing = int(failed.sum())
        broken_build = failing > BROKEN_BUILD_SHARE * len(tests)
        self._learn_history(idx, failed, broken_build, context, rows)
        self._learn_durations(idx, failed, durations, p)
        self.runs[idx] += 1.0
        self.fails[idx] += failed
        self.last_failed[idx] = failed
        self.total_runs += len(tests)
        self.total_fails += failing
        self.cycles += 1
        if changed and not broken_build:
            self.changes.learn(tests, idx, failed, was_passing, changed)

    def _learn_history(self, idx: npt.NDArray[np.intp], failed: npt.NDArray[np.bool_], broken_build: bool,
                       context: npt.NDArray[np.intp], rows: FloatArray) -> None:  # fmt: skip
        """Score each expert on the run (its `rows`, predicted before the run), then count the run."""
        experts.score(self.expert_loss, rows, context, failed)
        after_any = context > 1
        after_failure = context == 2
        self.runs_after_failure[idx] += after_failure
        self.fails_after_failure[idx] += after_failure & failed
        self.total_runs_after_failure += float(after_failure.sum())
        self.total_fails_after_failure += float((after_failure & failed).sum())
        self.runs_after_any_failure[idx] += after_any
        self.fails_after_any_failure[idx] += after_any & failed
        self.total_runs_after_any_failure += float(after_any.sum())
        self.total_fails_after_any_failure += float((after_any & failed).sum())
        half = len(experts.DECAYS)
        self.decayed[:half, idx], self.decayed[half:, idx] = experts.decay(
            self.decayed[:half, idx], self.decayed[half:, idx], failed
        )
        self.recent_runs = experts.RECENT_DECAY * self.recent_runs + len(idx)
        self.recent_fails = experts.RECENT_DECAY * self.recent_fails + float(failed.sum())
        self.last_broken_build[idx] = broken_build

    def _learn_durations(
        self, idx: npt.NDArray[np.intp], failed: npt.NDArray[np.bool_], durations: FloatArray, p: FloatArray
    ) -> None:
        """Score both cost estimates on the run's durations, then average each run into its outcome's typical one."""
        seen = self.runs[idx] > 0
        actual = np.log(seconds_floor(durations[seen]))
        for k, estimate in enumerate((self._typical(idx, p)[seen], self.last_duration[idx][seen])):
            self.cost_error[k] += float(((np.log(seconds_floor(estimate)) - actual) ** 2).sum())
        had = np.where(failed, self.fails[idx] > 0, self.runs[idx] > self.fails[idx])  # a run with this outcome
        before = np.where(failed, self.fail_duration[idx], self.pass_duration[idx])
        typical = np.where(had, (before + durations) / 2, durations)
        self.fail_duration[idx] = np.where(failed, typical, self.fail_duration[idx])
        self.pass_duration[idx] = np.where(failed, self.pass_duration[idx], typical)
        self.last_duration[idx] = durations

    def remember_scores(self, row: FloatArray, keep: int) -> None:
        """Keep the calibration totals of the run just learnt, and of at most `keep` runs in all."""
        rows = np.vstack([self.scored_runs, row]) if self.scored_runs.size else row.reshape(1, -1)
        self.scored_runs = rows[-keep:]

    def to_bytes(self) -> bytes:
        """The state as an npz archive (`state.encode`); the same state gives the same bytes."""
        from provenance.learning.state import encode

        return encode(self)

    @property
    def digest(self) -> str:
        """sha256 of the serialised state: the `model_hash` a provenance record names."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "model state") -> Model:
        """Load a state written by `to_bytes`."""
        from provenance.learning.state import decode

        return decode(data, source)

    def save(self, path: Path) -> None:
        """Write the state atomically."""
        from provenance.workspace import atomic_write

        atomic_write(path, self.to_bytes())

    @classmethod
    def load(cls, path: Path) -> Model:
        """Read a state file."""
        from provenance.reading import read_input

        return cls.from_bytes(read_input(path), str(path))


def lookup(index: dict[str, int], tests: list[str]) -> tuple[npt.NDArray[np.intp], list[str]]:
    """Each test's position in `index`, new tests added at its end; and the new tests, in order.

    One dictionary lookup per test when all are known, as in nearly every run.
    """
    idx = np.fromiter(map(index.get, tests, repeat(-1)), dtype=np.intp, count=len(tests))
    missing = np.flatnonzero(idx < 0).tolist()
    if not missing:
        return idx, []
    new = list(dict.fromkeys(tests[i] for i in missing))
    start = len(index)
    for offset, name in enumerate(new):
        index[name] = start + offset
    idx[missing] = [index[tests[i]] for i in missing]
    return idx, new


def costs(seconds: FloatArray, runs: FloatArray, idx: npt.NDArray[np.intp]) -> FloatArray:
    """Per-test `seconds` at `idx`; for a test never run, the median over the tests that ran (1 s if none).

    The median is taken only when a test at `idx` is new: learning from a run, every test has run.
    """
    new = runs[idx] == 0
    if not new.any():
        return np.asarray(seconds[idx])
    known = seconds[runs > 0]
    return np.where(new, float(np.median(known)) if known.size else 1.0, seconds[idx])


def seconds_floor(seconds: FloatArray) -> FloatArray:
    """Costs below 1 ms are taken as 1 ms so a per-second ranking stays finite."""
    return np.maximum(seconds, MIN_SECONDS)
