"""How long each test usually takes, from the ledger: the median of its recent passing runs.

A test that took more than `factor` times its recorded median, and more than the noise floor
longer than it, is slower than it used to be (`duration-regression`). Only passing runs count:
a failing test often stops early, and its time says nothing of how long the test takes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

from provenance.errors import IntegrityError
from provenance.ledger.chain import lines_backwards
from provenance.schemas import Result, SlowerTest, TestResult

HISTORY_RUNS = 50  # the latest ledger entries a median is taken over
MIN_RUNS = 3  # fewer recorded passing durations than this: no median, the test is not judged
_PASS = Result.PASS.value


@dataclass(frozen=True)
class Median:
    """A test's recorded median duration and how many runs it is of."""

    seconds: float
    runs: int


class _Timed(msgspec.Struct):
    nodeid: str
    result: str
    duration_seconds: float


class _TimedRun(msgspec.Struct):
    tests: list[_Timed]


def recorded_medians(path: Path, wanted: Iterable[str], runs: int = HISTORY_RUNS) -> dict[str, Median]:
    """The median passing duration of each `wanted` test over the ledger's last `runs` entries.

    Read newest first, one entry at a time, into a runs-by-tests matrix (NaN where a test did not
    pass or did not run), whose column medians numpy takes at once; a test with fewer than
    `MIN_RUNS` passing durations there has no median.
    """
    names = set(wanted)
    if not names or not path.is_file():
        return {}
    columns: dict[str, int] = {}
    rows: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]] = []
    last: list[str] | None = None
    where = np.empty(0, np.intp)
    for raw in itertools.islice(lines_backwards(path), runs):
        try:
            entry = msgspec.json.decode(raw, type=_TimedRun)
        except msgspec.DecodeError:
            raise IntegrityError("an entry is not a valid ledger entry; run `provenance verify`",
                                 source=str(path)) from None  # fmt: skip
        passed = [t for t in entry.tests if t.result == _PASS]
        ids = [t.nodeid for t in passed]
        if ids != last:  # consecutive runs mostly pass the same tests in the same order: their columns are kept
            where = np.fromiter((columns.setdefault(n, len(columns)) for n in ids), np.intp, len(ids))
            last = ids
        rows.append((where, np.fromiter((t.duration_seconds for t in passed), np.float64, len(passed))))
    matrix = np.full((len(rows), len(columns)), np.nan)
    for row, (where, seconds) in enumerate(rows):
        matrix[row, where] = seconds
    counts = np.count_nonzero(~np.isnan(matrix), axis=0)
    enough = counts >= MIN_RUNS
    medians = np.full(len(columns), np.nan)
    if enough.any():
        medians[enough] = np.nanmedian(matrix[:, enough], axis=0)
    return {
        nodeid: Median(float(medians[column]), int(counts[column]))
        for nodeid, column in columns.items()
        if enough[column] and nodeid in names
    }


def slower_than_usual(
    tests: Iterable[TestResult], medians: dict[str, Median], factor: float, floor_seconds: float
) -> list[SlowerTest]:
    """The passing tests more than `factor` times and more than `floor_seconds` slower than their median.

    Slowest first (by the time they added); a test run twice in the run (several reports) counts once,
    at its longer time.
    """
    longest: dict[str, float] = {}
    for test in tests:
        if test.result is Result.PASS and test.nodeid in medians:
            longest[test.nodeid] = max(longest.get(test.nodeid, 0.0), test.duration_seconds)
    slower = [
        SlowerTest(nodeid=nodeid, seconds=seconds, median_seconds=medians[nodeid].seconds,
                   runs=medians[nodeid].runs)
        for nodeid, seconds in longest.items()
        if seconds > factor * medians[nodeid].seconds and seconds - medians[nodeid].seconds > floor_seconds
    ]  # fmt: skip
    return sorted(slower, key=lambda s: (-(s.seconds - s.median_seconds), s.nodeid))
