"""The change-aware part of the model: what the files a run changed did to its tests before.

Two things are learnt from the runs that name their changed files:

- per file, how often it changed and which tests it broke in those runs (co-failures: tests that
  failed having passed their run before). A test's probability in a run that changes file f is at
  least its rate of breaking in the runs that changed f, shrunk toward its probability from its
  history by a prior of weight 20: most changes to a file break none of the tests that broke with
  it once, so one co-failure moves a test a little, repeated ones a lot;
- over the tests that had passed their run before, how often one broke when its node id mentioned a
  changed source file's name (`mentions.py`): that rate r, shrunk toward the global one. A test that
  mentions a changed file is taken to fail from its history or from the change, independently: its
  probability p becomes 1 − (1 − p)(1 − r). (r counts the breaks its history explains too, so this
  errs high.) Raising each to r alone would rank alike every mentioned test whose history is below r
  wherever a change touches most of a project (a project named for its package: every test mentions
  it), and the history's order among them (a test added last week before one that has passed a
  hundred runs) would be lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from provenance.learning.experts import REFERENCE_PRIOR_WEIGHT, shrunk
from provenance.learning.mentions import mentioned

FloatArray = npt.NDArray[np.float64]
CO_FAILURE_PRIOR_WEIGHT = 20.0
# What a run's changes did is not learnt from a run that changed more files than this (a sweeping
# change says little about any one of them) or from a broken build (it says nothing about any one
# test). A co-failure ties one file to one test, so it is learnt only from a focused failure: one
# test or at most a tenth of them failing, and at most 10,000 (file, test) pairs.
MAX_CHANGED_FILES = 100
FOCUSED_FAILURE_SHARE = 0.1
MAX_CO_FAILURES_PER_RUN = 10_000


def usable(changed_files: list[str] | None) -> list[str]:
    """The run's changed files, sorted and once each; none when it names none or too many to learn from."""
    changed = sorted(set(changed_files or ()))
    return changed if len(changed) <= MAX_CHANGED_FILES else []


@dataclass
class Changes:
    """Runs in which each file changed, per file the tests (state indices) it broke and how often; mentions."""

    files: list[str] = field(default_factory=list)
    file_changes: FloatArray = field(default_factory=lambda: np.zeros(0))
    co_failures: dict[int, dict[int, float]] = field(default_factory=dict)
    mentioned_runs: float = 0.0
    mentioned_fails: float = 0.0
    _file_index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._file_index = {name: i for i, name in enumerate(self.files)}

    def mentioned_rate(self, global_rate: float) -> float:
        """How often a passing test broke when its name mentioned a changed file (shrunk toward `global_rate`)."""
        return float(shrunk(self.mentioned_fails, self.mentioned_runs, global_rate, REFERENCE_PRIOR_WEIGHT))

    def raised(
        self, tests: list[str], idx: npt.NDArray[np.intp], own: FloatArray, changed: list[str], global_rate: float
    ) -> FloatArray:
        """`own` at `idx`, raised where the changed files broke a test before or its name mentions one (see above).

        `own` is every test's probability from its history, indexed as the state is; `idx` are the
        positions of `tests` in it.
        """
        p = np.maximum(own[idx], self._co_failure_rates(changed, own)[idx])
        named = mentioned(tests, changed)
        if not named.any():
            return p
        return np.where(named, 1.0 - (1.0 - p) * (1.0 - self.mentioned_rate(global_rate)), p)

    def _co_failure_rates(self, changed: list[str], own: FloatArray) -> FloatArray:
        """Per test in the state, its highest rate of breaking in the runs that changed one of these files.

        Each rate is shrunk toward the test's own probability (`own`, per test in the state).
        """
        rates = np.zeros(len(own))
        for column in (self._file_index[f] for f in changed if f in self._file_index):
            for test, count in self.co_failures.get(column, {}).items():
                rate = shrunk(count, self.file_changes[column], own[test], CO_FAILURE_PRIOR_WEIGHT)
                rates[test] = max(rates[test], float(rate))
        return rates

    def learn(
        self,
        tests: list[str],
        idx: npt.NDArray[np.intp],
        failed: npt.NDArray[np.bool_],
        was_passing: npt.NDArray[np.bool_],
        changed: list[str],
    ) -> None:
        """Count the run's mentions, and its co-failures when its failures were focused.

        A change breaks tests that were passing: failures carried over from the run before are
        not the change's doing, so neither count takes them.
        """
        named = mentioned(tests, changed) & was_passing
        self.mentioned_runs += float(named.sum())
        self.mentioned_fails += float((named & failed).sum())
        broken = failed & was_passing
        focused = failed.sum() <= max(1.0, FOCUSED_FAILURE_SHARE * len(tests))  # one failure, or at most a tenth
        if focused and len(changed) * int(broken.sum()) <= MAX_CO_FAILURES_PER_RUN:
            self._learn_co_failures(idx[broken].tolist(), changed)

    def _learn_co_failures(self, failing: list[int], changed: list[str]) -> None:
        """Count the run against each file it changed, and its failing tests against those files."""
        new = [f for f in changed if f not in self._file_index]
        for f in new:
            self._file_index[f] = len(self.files)
            self.files.append(f)
        if new:
            self.file_changes = np.concatenate([self.file_changes, np.zeros(len(new))])
        columns = [self._file_index[f] for f in changed]
        self.file_changes[columns] += 1.0
        for column in columns if failing else []:
            counts = self.co_failures.setdefault(column, {})
            for test in failing:
                counts[test] = counts.get(test, 0.0) + 1.0
