"""Verification of a whole ledger: every line canonical, every hash and link, the Merkle root.

A large ledger is checked by a process per core, a slice of lines each; the links between lines
are followed in order in the calling process, so the first problem found is the first in the file.
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from provenance.ledger.canonical import ZERO_HASH, body_hash, canonical_entry, exact_number, reference_bytes
from provenance.ledger.merkle import Frontier
from provenance.reading import LineTooLong, max_input_bytes, open_input, read_line

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Verification:
    """What `verify` found: the number of good entries, their Merkle root, and the first problem."""

    entries: int
    head: str
    merkle_root: str
    problem: str | None = None
    line: int | None = None


def verify(path: Path, checkpoint: dict[str, Any] | None = None, strict: bool = False) -> Verification:
    """Recompute every hash, link and the Merkle root; stop at the first entry that does not verify.

    With a checkpoint from an earlier run, the ledger must still hold at least that many entries
    and its first `size` entries must give the checkpoint's head and Merkle root, which detects a
    truncated ledger and one rewritten with a consistent chain.
    """
    frontier = Frontier()
    result = _verify_chain(path, frontier, checkpoint, strict)
    if result.problem is not None or checkpoint is None:
        return result
    if result.entries < checkpoint["size"]:
        return Verification(
            result.entries, result.head, result.merkle_root,
            f"the ledger has {result.entries} entries but the checkpoint recorded {checkpoint['size']}: truncated",
        )  # fmt: skip
    return result


def _check_line(raw: bytes, strict: bool) -> tuple[dict[str, Any] | None, str | None]:
    """Parse one line; it must be the canonical form of its content (so every byte counts).

    A line is first compared with orjson's encoding of its content, sorted (`_as_orjson_writes_it`):
    RFC 8785's for the values our writer puts in a ledger; then with that encoding with the tests'
    numbers between 1e-6 and 1e-5 laid out as RFC 8785 does (most lines of a stable suite's long
    history); when both differ, the RFC 8785 encoder decides. orjson lays out some floats otherwise
    (`1.0`, and `8e-6` or `2e+16` where ES writes plain digits); the top-level ones are made exact
    first, but a line forged with such a number inside (a test's duration) and a hash recomputed
    over its bytes would pass the first comparison: with `strict`, every line is compared with the
    RFC 8785 encoding alone, and the entry is also checked against the schema.
    """
    try:
        fields = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(fields, dict):
        return None, "not a JSON object"
    seq, prev, claimed = fields.get("seq"), fields.get("prev"), fields.get("entry_hash")
    if not (isinstance(seq, int) and not isinstance(seq, bool) and isinstance(prev, str) and isinstance(claimed, str)
            and _HEX64.fullmatch(prev) and _HEX64.fullmatch(claimed)):  # fmt: skip
        return None, "not a ledger entry (seq, prev and entry_hash are required)"
    if strict:
        canonical_line = _is_line_of(raw, canonical_entry(fields))
    else:
        written = _as_orjson_writes_it(fields)
        canonical_line = (_is_line_of(raw, written)
                          or _is_line_of(raw, _small_test_numbers_as_es(written, fields.get("tests")))
                          or _is_line_of(raw, canonical_entry(fields)))  # fmt: skip
    if not canonical_line:
        # Same content, other bytes (a number or an escape written differently): still an edit.
        return None, "the line is not the canonical form of its content (edited)"
    if strict:
        from pydantic import ValidationError

        from provenance.schemas import ExperimentLedgerEntry

        try:
            ExperimentLedgerEntry.model_validate(fields)
        except ValidationError as exc:
            return None, f"not a valid ledger entry ({str(exc).splitlines()[0]})"
    return fields, None


def _is_line_of(raw: bytes, encoded: bytes) -> bool:
    """Whether `raw` is `encoded` and a newline (compared in place: a line can be megabytes)."""
    return len(raw) == len(encoded) + 1 and raw.startswith(encoded) and raw.endswith(b"\n")


def _as_orjson_writes_it(fields: dict[str, Any]) -> bytes:
    """The entry as orjson encodes it, sorted, its top-level numbers laid out as RFC 8785 does.

    Those are the few (a Brier score of 8e-6, which orjson writes in exponent notation) that
    would otherwise send an entry of 100,000 tests through the exact encoder.
    """
    numbers_exact = {key: exact_number(value) if type(value) is float else value for key, value in fields.items()}
    return orjson.dumps(numbers_exact, option=orjson.OPT_SORT_KEYS)


def _small_test_numbers_as_es(written: bytes, tests: Any) -> bytes:
    """`written` with the tests' numbers between 1e-6 and 1e-5 as RFC 8785 lays them out (b"" unless plain tests).

    A long history of a stable suite predicts most tests such a p_fail (`0.0000085`, which orjson
    writes `8.5e-6`), a few distinct values: each is replaced where it stands as a test's field
    (`:8.5e-6,`). A replacement inside a string would change the content, which the line's own
    parse contradicts, so a line equal to the result is canonical as far as `written` is.
    """
    if type(tests) is not list:
        return b""
    try:
        values = {*map(_DURATION, tests), *map(_P_FAIL, tests)}
    except (TypeError, KeyError):  # not dicts with these fields, or a value that is not a number
        return b""
    for value in values:
        if type(value) is float and 1e-6 <= abs(value) < 1e-5:
            written = written.replace(b":" + orjson.dumps(value) + b",", b":" + reference_bytes(value) + b",")
    return written


_DURATION, _P_FAIL = operator.itemgetter("duration_seconds"), operator.itemgetter("p_fail")


def _verify_chain(
    path: Path, frontier: Frontier, checkpoint: dict[str, Any] | None, strict: bool = False
) -> Verification:
    prev = ZERO_HASH
    count = 0
    expected_size = checkpoint["size"] if checkpoint is not None else -1
    expected = (checkpoint["head"], checkpoint["merkle_root"]) if checkpoint is not None else None

    def bad(problem: str, line: int) -> Verification:
        return Verification(count, prev, frontier.root(), problem, line)

    for number, line in enumerate(_checked_lines(path, strict), start=1):
        if line.problem is not None:
            return bad(line.problem, number)
        if line.seq != count:
            return bad(f"seq is {line.seq}, expected {count} (missing or reordered)", number)
        if line.prev != prev:
            return bad("prev does not match the previous entry's hash", number)
        if not line.hash_matches:
            return bad("entry_hash does not match the entry's content (edited)", number)
        prev = line.entry_hash
        count += 1
        frontier.append(bytes.fromhex(prev))
        if count == expected_size and (prev, frontier.root()) != expected:
            return bad(
                f"the first {count} entries do not match the checkpoint's head and Merkle root: "
                "the ledger was rewritten", number,
            )  # fmt: skip
    return Verification(count, prev, frontier.root())


class _Checked(NamedTuple):
    """What one line says on its own: its problem if it has one, else its links and whether its hash holds."""

    problem: str | None
    seq: int = -1
    prev: str = ""
    entry_hash: str = ""
    hash_matches: bool = False


def _check(raw: bytes, strict: bool) -> _Checked:
    if not raw.endswith(b"\n"):
        return _Checked("the last line is incomplete (a torn write)")
    fields, problem = _check_line(raw, strict)
    if problem is not None or fields is None:
        return _Checked(problem or "not a valid ledger entry")
    claimed = fields["entry_hash"]
    return _Checked(None, fields["seq"], fields["prev"], claimed, body_hash(raw, claimed) == claimed)


# A ledger this large is checked by a process per core, a slice of lines each: each line is checked
# on its own, and only the links between lines (seq, prev, the Merkle frontier) are followed in order.
PARALLEL_FROM_BYTES = 64 << 20
SLICE_BYTES = 16 << 20


def _checked_lines(path: Path, strict: bool) -> Iterator[_Checked]:
    """Every line checked on its own, in order, until the first with a problem of its own."""
    size = path.stat().st_size
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    limit = max_input_bytes()  # passed on: a worker process does not share the setting
    if size < PARALLEL_FROM_BYTES or workers < 2:
        yield from _checked_in(str(path), 0, size, strict, limit)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    starts = _slice_starts(path, size)
    try:
        pool = ProcessPoolExecutor(workers)
    except (OSError, NotImplementedError):  # no pool here: multiprocessing's semaphores are missing
        yield from _checked_in(str(path), 0, size, strict, limit)
        return
    try:
        count = len(starts)
        slices = pool.map(
            _check_slice, [str(path)] * count, starts, [*starts[1:], size], [strict] * count, [limit] * count
        )
        for start in starts:
            try:
                checked = next(slices)
            except BrokenProcessPool:  # a worker died (out of memory, killed): the rest in this process
                yield from _checked_in(str(path), start, size, strict, limit)
                return
            yield from checked
    finally:
        pool.shutdown(cancel_futures=True)


def _checked_in(path: str, start: int, end: int, strict: bool, limit: int) -> Iterator[_Checked]:
    """The lines that start in [start, end), checked, up to the first with a problem.

    No line is read past `limit` bytes: a ledger entry is megabytes at most, a 1 GiB line is not one.
    """
    with open_input(path, whole=False) as handle:
        handle.seek(start)
        at = start
        while at < end:
            try:
                raw = read_line(handle, limit)
            except LineTooLong:
                yield _Checked(f"the line is longer than the {limit >> 20} MiB limit on inputs (max-input-mb)")
                return
            if not raw:
                return
            at += len(raw)
            checked = _check(raw, strict)
            yield checked
            if checked.problem is not None:
                return


def _check_slice(path: str, start: int, end: int, strict: bool, limit: int) -> list[_Checked]:
    """`_checked_in` in a worker process: its results go back whole."""
    return list(_checked_in(path, start, end, strict, limit))


def _slice_starts(path: Path, size: int) -> list[int]:
    """Where slices of about `SLICE_BYTES` start: each at the start of a line."""
    starts = [0]
    with path.open("rb") as handle:
        while starts[-1] + SLICE_BYTES < size:
            handle.seek(starts[-1] + SLICE_BYTES)
            while (rest := handle.readline(SLICE_BYTES)) and not rest.endswith(b"\n"):
                pass  # the rest of the line the boundary falls in, however long, a slice at a time
            if handle.tell() >= size:
                break
            starts.append(handle.tell())
    return starts
