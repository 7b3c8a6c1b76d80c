"""Test histories the model learns from: the ledger, and the ATCS CSV format of the literature.

Both become a list of `Cycle`s in order: one per CI run (or ATCS `Cycle`), with each test once.
A test that ran several times in a cycle (several builds) is collapsed to "failed if any run
failed", its durations summed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec
import numpy as np
import numpy.typing as npt

from provenance.errors import InputError, IntegrityError
from provenance.ledger.chain import lines_backwards, tail_lines
from provenance.reading import input_lines, open_input, read_input
from provenance.schemas import FAILED_RESULTS, MAX_SECONDS


@dataclass(frozen=True)
class Cycle:
    """One run of the suite: which tests ran, which failed, how long each took."""

    cycle: int
    tests: list[str]
    failed: npt.NDArray[np.bool_]
    durations: npt.NDArray[np.float64]
    changed_files: list[str] | None = None


def collapse(cycle: int, rows: list[tuple[str, bool, float]], changed: list[str] | None) -> Cycle:
    """One cycle from (test, failed, duration) rows: failed if any row failed, durations summed."""
    names = [row[0] for row in rows]
    if len(set(names)) == len(names):  # the usual case: each test once
        failed = np.array([row[1] for row in rows], dtype=bool)
        return Cycle(cycle, names, failed, np.array([row[2] for row in rows], dtype=np.float64), changed)
    merged: dict[str, tuple[bool, float]] = {}
    for name, failed_once, duration in rows:
        before = merged.get(name)
        merged[name] = (failed_once, duration) if before is None else (before[0] or failed_once, before[1] + duration)
    names = list(merged)
    return Cycle(
        cycle=cycle,
        tests=names,
        failed=np.fromiter((merged[n][0] for n in names), dtype=bool, count=len(names)),
        durations=np.fromiter((merged[n][1] for n in names), dtype=np.float64, count=len(names)),
        changed_files=changed,
    )


def read_atcs(path: Path) -> list[Cycle]:
    """`Id;Name;Duration;LastRun;LastResults;Verdict;Cycle`, `;`-separated; extra columns ignored.

    An optional `ChangedFiles` column gives the files a cycle changed (space-separated paths, on any
    of its rows; the union is taken). Without it the cycles carry no changed files.
    """
    try:
        text = read_input(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot be read ({exc})", source=str(path)) from None
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    try:
        return _atcs_cycles(reader, path)
    except csv.Error as exc:  # a field past the csv module's limit, a NUL
        raise InputError(f"not an ATCS CSV ({exc})", source=str(path), field=f"line {reader.line_num}") from None


def _atcs_cycles(reader: csv.DictReader[str], path: Path) -> list[Cycle]:
    """The cycles of an ATCS history, read row by row."""
    missing = {"Name", "Duration", "Verdict", "Cycle"} - set(reader.fieldnames or [])
    if missing:
        raise InputError(f"expected the ATCS columns; missing {', '.join(sorted(missing))}", source=str(path))
    by_cycle: dict[int, list[tuple[str, bool, float]]] = {}
    changed: dict[int, set[str]] | None = {} if "ChangedFiles" in (reader.fieldnames or []) else None
    for row in reader:
        line = reader.line_num
        try:
            cycle = int(row["Cycle"])
            duration = float(row["Duration"])
            verdict = int(row["Verdict"])
        except (TypeError, ValueError):
            raise InputError("expected integer Cycle and Verdict and a number Duration", source=str(path),
                             field=f"line {line}") from None  # fmt: skip
        if verdict not in (0, 1) or not 0 <= duration <= MAX_SECONDS:  # also NaN
            raise InputError(f"expected Verdict 0 or 1 and a Duration of 0 to {MAX_SECONDS:,.0f} seconds",
                             source=str(path), field=f"line {line}")  # fmt: skip
        by_cycle.setdefault(cycle, []).append((row["Name"], verdict == 1, duration))
        if changed is not None:
            changed.setdefault(cycle, set()).update((row["ChangedFiles"] or "").split())
    return [collapse(cycle, by_cycle[cycle], None if changed is None else sorted(changed[cycle]))
            for cycle in sorted(by_cycle)]  # fmt: skip


class _RecordedTest(msgspec.Struct):
    nodeid: str
    result: str
    # A chain that verifies vouches for the bytes, not for the figures: they are checked as read.
    duration_seconds: Annotated[float, msgspec.Meta(ge=0, le=1e12)]
    p_fail: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None


class _RecordedRun(msgspec.Struct):
    """What the model learns from in a ledger entry; msgspec skips the rest without building it."""

    seq: int
    tests: list[_RecordedTest]
    changed_files: list[str] | None = None


def read_ledger(path: Path) -> list[Cycle]:
    """Every ledger entry as a cycle, in ledger order (`seq`)."""
    cycles = []
    for number, line in enumerate(input_lines(path), start=1):  # no line past the limit on inputs
        if not line.strip():
            continue
        try:
            entry = msgspec.json.decode(line, type=_RecordedRun)
        except msgspec.ValidationError as exc:  # a figure out of its range, as `Expected ... - at $.tests[0].p_fail`
            raise InputError(f"not a ledger entry ({exc})", source=str(path), field=f"line {number}") from None
        except (msgspec.DecodeError, RecursionError):
            raise InputError("not a ledger entry", source=str(path), field=f"line {number}") from None
        cycles.append(_cycle(entry))
    return cycles


def recent_predictions(path: Path, count: int) -> Iterator[tuple[Cycle, dict[str, float]]]:
    """The last `count` ledger entries, oldest first, each as a cycle with the predictions made before it.

    One entry at a time: an entry of a large suite is megabytes.
    """
    for raw in tail_lines(path, count):
        try:
            entry = msgspec.json.decode(raw, type=_RecordedRun)
        except msgspec.DecodeError:
            raise IntegrityError("a recent entry is not a valid ledger entry; run `provenance verify`",
                                 source=str(path)) from None  # fmt: skip
        yield _cycle(entry), {t.nodeid: t.p_fail for t in entry.tests if t.p_fail is not None}


@dataclass(frozen=True)
class PreviousRun:
    """The last recorded run of a branch: which of its tests failed, to tell new failures from known ones."""

    run_id: str
    branch: str
    failing: frozenset[str]


class _Branch(msgspec.Struct):
    branch: str | None = None


class _BranchRun(msgspec.Struct):
    run_id: str
    tests: list[_RecordedTest]


def last_run_on(path: Path, branches: tuple[str, ...]) -> PreviousRun | None:
    """The last recorded run of the first of `branches` that has one (the run's own branch, then its base).

    Read newest first, an entry's tests decoded only when its branch is one asked for.
    """
    found: dict[str, PreviousRun] = {}
    for raw in lines_backwards(path):
        try:
            branch = msgspec.json.decode(raw, type=_Branch).branch
            if branch is None or branch not in branches or branch in found:
                continue
            entry = msgspec.json.decode(raw, type=_BranchRun)
        except msgspec.DecodeError:
            raise IntegrityError("an entry is not a valid ledger entry; run `provenance verify`",
                                 source=str(path)) from None  # fmt: skip
        failing = frozenset(t.nodeid for t in entry.tests if t.result in FAILED_RESULTS)
        found[branch] = PreviousRun(entry.run_id, branch, failing)
        if branch == branches[0]:
            break
    return next((found[b] for b in branches if b in found), None)


def _cycle(entry: _RecordedRun) -> Cycle:
    rows = [(t.nodeid, t.result in FAILED_RESULTS, t.duration_seconds) for t in entry.tests]
    return collapse(entry.seq, rows, entry.changed_files)


def detect_format(path: Path) -> str:
    """`ledger` when the file starts with a JSON object, `atcs` for a `;`-separated header."""
    with open_input(path, whole=False) as handle:
        first = handle.readline(65536)
    if not first.strip() or first.lstrip().startswith(b"{"):
        return "ledger"
    if b";" in first:
        return "atcs"
    raise InputError("expected a ledger (JSON lines) or an ATCS CSV (`;`-separated, with a header line)",
                     source=str(path))  # fmt: skip
