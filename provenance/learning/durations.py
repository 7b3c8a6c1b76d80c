"""How long each test usually takes, from the ledger: the median of its recent passing runs.

A test that took more than `factor` times its recorded median, and more than the noise floor
longer than it, is slower than it used to be (`duration-regression`). Only passing runs count:
a failing test often stops early, and its time says nothing of how long the test takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from provenance.errors import IntegrityError
from provenance.ledger.chain import lines_backwards
from provenance.schemas import Result, SlowerTest, TestResult

HISTORY_RUNS = 50  # the latest ledger entries a median is taken over
MIN_RUNS = 3  # fewer recorded passing durations than this: no median, the test is not judged


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

    Read newest first, one entry at a time; a test with fewer than `MIN_RUNS` passing durations
    there has no median.
    """
    names = set(wanted)
    seen: dict[str, list[float]] = {}
    if not names or not path.is_file():
        return {}
    for count, raw in enumerate(lines_backwards(path)):
        if count >= runs:
            break
        try:
            entry = msgspec.json.decode(raw, type=_TimedRun)
        except msgspec.DecodeError:
            raise IntegrityError("an entry is not a valid ledger entry; run `provenance verify`",
                                 source=str(path)) from None  # fmt: skip
        for test in entry.tests:
            if test.result == Result.PASS and test.nodeid in names:
                seen.setdefault(test.nodeid, []).append(test.duration_seconds)
    return {
        nodeid: Median(float(np.median(durations)), len(durations))
        for nodeid, durations in seen.items()
        if len(durations) >= MIN_RUNS
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
