"""The ledger read for the page: checked first, then each entry decoded once, with only what the page shows.

The page is published (GitHub Pages, an artifact), so it is built only from a ledger whose every
entry's hash and link hold: a history edited after the fact is refused rather than shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

from provenance.errors import InputError
from provenance.ledger.checkpoint import checkpoint_path, load_checkpoint
from provenance.ledger.links import check_links
from provenance.reading import input_lines


class EntryTest(msgspec.Struct):
    """A test as an entry lists it."""

    nodeid: str
    result: str
    duration_seconds: float
    p_fail: float | None = None


class EntryCounts(msgspec.Struct):
    """The run's counts (`flaky`: passed on a rerun, counted in `passed`)."""

    total: int
    passed: int
    failed: int
    skipped: int
    errors: int
    flaky: int = 0


class Entry(msgspec.Struct):
    """What the page shows of one ledger entry; msgspec skips the rest without building it."""

    seq: int
    run_id: str
    recorded_at: str
    conclusion: str
    counts: EntryCounts
    tests: list[EntryTest]
    run_attempt: int = 1
    repository: str | None = None
    branch: str | None = None
    commit: str | None = None
    walltime_seconds: float | None = None
    dataset_id: list[str] = msgspec.field(default_factory=list)
    dataset_checksum: list[str | None] = msgspec.field(default_factory=list)


def checked(path: Path) -> tuple[int, str]:
    """The number of entries and the head, once every hash and link holds (and the checkpoint beside it).

    A ledger that does not verify is bad input for the page: one line naming the entry.
    """
    if not path.is_file():
        raise InputError("expected an existing ledger file", source=str(path), field="--ledger")
    beside = checkpoint_path(path)
    checkpoints = [load_checkpoint(beside)] if beside.is_file() else []
    found = check_links(path, *checkpoints)
    if found.problem is not None:
        where = f"line {found.line}" if found.line else "--ledger"
        raise InputError(f"does not verify ({found.problem}); run `provenance verify`", source=str(path), field=where)
    if found.entries == 0:
        raise InputError("expected at least one entry (the ledger is empty)", source=str(path), field="--ledger")
    return found.entries, found.head


_DECODER = msgspec.json.Decoder(Entry)


def entries(path: Path) -> Iterator[Entry]:
    """Every entry in ledger order, one at a time (an entry of a large suite is megabytes)."""
    for number, line in enumerate(input_lines(path), start=1):
        if not line.strip():
            continue
        try:
            yield _DECODER.decode(line)
        except (msgspec.DecodeError, RecursionError):
            raise InputError("not a ledger entry the page can read", source=str(path), field=f"line {number}") from None


# Result codes, as the page draws and filters them; anything else counts as a skip.
CODES = {"pass": ord("p"), "fail": ord("f"), "error": ord("e"), "skip": ord("s")}
_SKIP = CODES["skip"]


@dataclass(frozen=True)
class Columns:
    """One entry's tests as arrays, each test once (the last listing of a test an entry lists twice).

    `test` is each test's position in the catalog; `p_fail` is NaN where no prediction was recorded;
    `decided` marks the tests that passed or failed (not skipped), `failed` those that failed or errored.
    """

    entry: Entry
    test: npt.NDArray[np.intp]
    code: npt.NDArray[np.uint8]
    seconds: npt.NDArray[np.float64]
    p_fail: npt.NDArray[np.float64]
    decided: npt.NDArray[np.bool_]
    failed: npt.NDArray[np.bool_]


class Catalog:
    """Every test seen, numbered in the order it first appeared."""

    def __init__(self) -> None:
        self.positions: dict[str, int] = {}
        self.names: list[str] = []

    def columns(self, entry: Entry) -> Columns:
        """The entry's tests as arrays; tests not seen before are numbered here."""
        tests = entry.tests
        get = self.positions.get
        found = [get(t.nodeid) for t in tests]
        if None in found:
            for k, position in enumerate(found):
                if position is None:
                    name = tests[k].nodeid
                    found[k] = self.positions.setdefault(name, len(self.names))
                    if found[k] == len(self.names):
                        self.names.append(name)
        test = np.array(found, dtype=np.intp)
        code = np.array([CODES.get(t.result, _SKIP) for t in tests], dtype=np.uint8)
        seconds = np.array([t.duration_seconds for t in tests], dtype=np.float64)
        p_fail = np.array([np.nan if t.p_fail is None else t.p_fail for t in tests], dtype=np.float64)
        if len(set(found)) != len(found):  # a test listed twice: keep its last listing
            _, first_from_end = np.unique(test[::-1], return_index=True)
            keep = np.sort(len(test) - 1 - first_from_end)
            test, code, seconds, p_fail = test[keep], code[keep], seconds[keep], p_fail[keep]
        failed = (code == CODES["fail"]) | (code == CODES["error"])
        return Columns(entry, test, code, seconds, p_fail, code != _SKIP, failed)
