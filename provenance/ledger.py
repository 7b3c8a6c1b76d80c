"""The append-only, hash-chained ledger: one canonical JSON line per run.

`entry_hash` is the sha256 of the RFC 8785 canonical JSON of the entry without `entry_hash`;
`prev` is the previous entry's hash (64 zeros for the first). Appends happen under an exclusive
lock and are fsynced; earlier lines are never rewritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import operator
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import msgspec
import orjson
import rfc8785

from provenance import merkle
from provenance.errors import InputError, IntegrityError
from provenance.files import fsync_dir, read_json
from provenance.merkle import Frontier

if TYPE_CHECKING:  # the schemas (and pydantic) are imported only where an entry is written or checked strictly:
    from provenance.schemas import ExperimentLedgerEntry, LedgerTest  # `verify` starts without them

ZERO_HASH = "0" * 64  # the `prev` of the first entry
_TAIL_BLOCK = 64 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON: the bytes every hash in the project is taken over.

    orjson with sorted keys writes exactly RFC 8785's bytes for strings, booleans, null, ASCII
    keys and integers below 2^53, and for floats once integral ones are written as integers and
    the rest lie where both use plain decimal notation (1e-5 <= |x| < 1e16) or both use the same
    exponent notation (|x| < 1e-6, |x| >= 1e21: `1.5e-7`, `1e+21`). Any other number is written by
    the `rfc8785` package, the reference, as a fragment; a value with a non-ASCII key (sorted
    differently) is encoded by it whole. The tests compare the two.
    """
    prepared = _orjson_ready(value)
    if prepared is _UNSAFE:
        return rfc8785.dumps(value)
    return orjson.dumps(prepared, option=orjson.OPT_SORT_KEYS)


_UNSAFE = object()


_AS_IS = (str, bool, type(None))  # written identically by orjson and RFC 8785


def _number(value: float) -> float | orjson.Fragment:
    """A number as orjson must be handed it to write RFC 8785's bytes."""
    if isinstance(value, float):
        magnitude = abs(value)
        if value.is_integer():
            if magnitude < 2**53:
                return int(value)
            if magnitude >= 1e21:
                return value
        elif magnitude < 1e-6 or 1e-5 <= magnitude < 1e16:
            return value
    elif abs(value) < 2**53:
        return value
    else:
        value = float(value)  # what such an integer is once read in ES: a double
    # Where ES and orjson lay the digits out differently (1e-6 <= |x| < 1e-5 and 1e16 <= |x| < 1e21:
    # ES in plain decimals, orjson in exponent notation), or an integral float beyond 2^53.
    return _reference_number(value)


def _reference_number(value: float) -> orjson.Fragment:
    """rfc8785's bytes for a number, for orjson to write as they are."""
    return orjson.Fragment(_reference_bytes(value))


@functools.lru_cache(maxsize=1 << 16)
def _reference_bytes(value: float) -> bytes:
    """rfc8785's bytes for a number, remembered: it takes about 10 µs, and a run's values repeat.

    The predicted p_fail of stable tests falls below 1e-5 as their history grows, and tests with
    the same history share one value (in a 100,000-test benchmark, 98,000 of them).
    """
    return rfc8785.dumps(value)


def _orjson_ready(value: Any) -> Any:
    """`value` with every number as `_number` gives it, or `_UNSAFE` where only rfc8785 is exact.

    Strings, booleans and null are passed through without a call, as they are most of a ledger entry.
    """
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return _number(value)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not (type(key) is str and key.isascii()):
                return _UNSAFE
            if type(item) in _AS_IS:
                out[key] = item
                continue
            ready = _orjson_ready(item)
            if ready is _UNSAFE:
                return _UNSAFE
            out[key] = ready
        return out
    if isinstance(value, list):
        items = []
        for item in value:
            ready = item if type(item) in _AS_IS else _orjson_ready(item)
            if ready is _UNSAFE:
                return _UNSAFE
            items.append(ready)
        return items
    return value


def entry_hash(fields: dict[str, Any]) -> str:
    """The hash an entry must carry: over all of its fields except `entry_hash` itself."""
    body = {key: value for key, value in fields.items() if key != "entry_hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True)
class Head:
    """The last entry's position: the next entry gets `seq + 1` and `prev = entry_hash`."""

    next_seq: int
    prev: str


class Appender:
    """Handed out under the lock: knows the head and appends exactly one entry.

    `quarantined` names the file a torn tail was moved to before this append, if there was one.
    """

    def __init__(self, path: Path, fd: int, head: Head, quarantined: Path | None = None) -> None:
        self.path = path
        self.head = head
        self.quarantined = quarantined
        self._fd = fd
        self._frontier: Frontier | None = None

    @property
    def frontier(self) -> Frontier:
        """The Merkle frontier of the entries so far.

        Taken from the checkpoint beside the ledger when it matches the head, else rebuilt once
        from the entry hashes.
        """
        if self._frontier is None:
            self._frontier = _frontier_for(self.path, self.head)
        return self._frontier

    def checkpoint(self, created_at: datetime, run_id: str | None = None) -> dict[str, Any]:
        """The checkpoint after the appends so far: size, head and Merkle root (and the frontier)."""
        frontier = self.frontier
        return {
            "type": CHECKPOINT_TYPE,
            "ledger": self.path.name,
            "size": frontier.size,
            "head": self.head.prev,
            "merkle_root": frontier.root(),
            "created_at": created_at.isoformat().replace("+00:00", "Z"),
            "run_id": run_id,
            "frontier": frontier.to_json(),
        }

    def append(self, fields: dict[str, Any]) -> ExperimentLedgerEntry:
        """Chain, hash, validate and durably write one entry; `fields` omits seq, prev and hash."""
        from provenance.schemas import ExperimentLedgerEntry

        frontier = self.frontier  # loaded before the write, so it holds exactly the entries before
        draft = {**fields, "seq": self.head.next_seq, "prev": self.head.prev, "entry_hash": ZERO_HASH}
        entry = ExperimentLedgerEntry.model_validate(draft)
        # One canonical encoding: the body is the line without its `entry_hash` member (as `verify`
        # reads it), and the real hash then takes the zero hash's place.
        body = entry.model_dump(mode="json", exclude={"tests"})
        body["tests"] = _canonical_tests(entry.tests)
        template = canonical(body)
        del body  # its tests' fragment is as large as the line
        zero_member = _hash_member(ZERO_HASH)
        digest, at = _hash_without(template, zero_member)
        view = memoryview(template)
        line = b"".join((view[:at], _hash_member(digest), view[at + len(zero_member) :], b"\n"))
        entry = entry.model_copy(update={"entry_hash": digest})
        written = 0
        while written < len(line):
            written += os.write(self._fd, line[written:])
        os.fsync(self._fd)
        frontier.append(bytes.fromhex(entry.entry_hash))
        self.head = Head(next_seq=entry.seq + 1, prev=entry.entry_hash)
        return entry


def _canonical_tests(tests: list[LedgerTest]) -> orjson.Fragment:
    """An entry's tests in canonical form, written directly: an entry may hold 100,000 of them.

    The keys are listed in RFC 8785's order; a test checks the line against `canonical` of the
    whole entry dumped by pydantic, so a field added to `LedgerTest` and not here fails it.
    """
    return orjson.Fragment(
        orjson.dumps(
            [
                {
                    "duration_seconds": _number(t.duration_seconds),
                    "nodeid": t.nodeid,
                    "p_fail": None if t.p_fail is None else _number(t.p_fail),
                    "result": t.result,
                }
                for t in tests
            ]
        )
    )


@contextmanager
def open_for_append(path: Path) -> Iterator[Appender]:
    """Lock the ledger (creating it if needed), check its tail, and yield an `Appender`."""
    created = not path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"cannot open the ledger for appending ({exc.strerror})", source=str(path)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if created:
            fsync_dir(path.parent)
        quarantined = _quarantine_torn_tail(fd, path)
        yield Appender(path, fd, _read_head(fd, path), quarantined)
    finally:
        os.close(fd)  # closing releases the lock


class _ChainFields(msgspec.Struct):
    seq: int
    entry_hash: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


def _read_head(fd: int, path: Path) -> Head:
    size = os.fstat(fd).st_size
    if size == 0:
        return Head(next_seq=0, prev=ZERO_HASH)
    last = _last_line(fd, size, path)
    try:  # only the chain fields are decoded: the hash over the line's bytes vouches for the rest
        head = msgspec.json.decode(last, type=_ChainFields)
    except msgspec.DecodeError as exc:
        raise IntegrityError(f"the last entry is not a ledger entry ({exc})", source=str(path)) from None
    seq, claimed = head.seq, head.entry_hash
    if _body_hash(last, claimed) != claimed:
        raise IntegrityError(
            f"the last entry (seq {seq}) does not match its entry_hash: it was edited; "
            "run `provenance verify` to see the whole chain",
            source=str(path),
        )
    if seq < 0:
        raise IntegrityError(f"the last entry has an invalid seq {seq!r}", source=str(path))
    return Head(next_seq=seq + 1, prev=claimed)


CHECKPOINT_TYPE = "provenance-ledger-checkpoint/v1"


def checkpoint_path(ledger: Path) -> Path:
    """The latest checkpoint, kept beside the ledger."""
    return ledger.with_name(ledger.name + ".checkpoint.json")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint file; anything malformed is bad input naming the file and the field."""
    data = read_json(path)
    if not isinstance(data, dict) or data.get("type") != CHECKPOINT_TYPE:
        raise InputError(f"expected a ledger checkpoint ({CHECKPOINT_TYPE})", source=str(path), field="type")
    for key, kind in (("size", int), ("head", str), ("merkle_root", str)):
        if not isinstance(data.get(key), kind):
            raise InputError(f"expected {kind.__name__}", source=str(path), field=key)
    return data


def _frontier_for(path: Path, head: Head) -> Frontier:
    beside = checkpoint_path(path)
    if beside.is_file():
        with contextlib.suppress(ValueError):  # a damaged checkpoint is rebuilt below from the ledger
            saved = json.loads(beside.read_bytes())
            frontier = Frontier.from_json(saved.get("frontier"))
            if frontier.size == head.next_seq and saved.get("head") == head.prev:
                return frontier
    frontier = Frontier()
    with path.open("rb") as handle:
        for line in handle:
            if line.endswith(b"\n"):
                frontier.append(bytes.fromhex(json.loads(line)["entry_hash"]))
    return frontier


def _quarantine_torn_tail(fd: int, path: Path) -> Path | None:
    """Move a torn last line aside so the ledger ends with a whole entry again.

    A write killed half-way leaves a partial last line. It is copied, whole, to a file of its own
    (`<ledger>.torn-<time>`) and fsynced, then the ledger is cut back to its last complete entry.
    Nothing is lost or silently mended: the caller reports where the torn bytes went.
    """
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return None
    end = size
    start = size
    while start > 0:
        step = min(_TAIL_BLOCK, start)
        block = os.pread(fd, step, start - step)
        cut = block.rfind(b"\n")
        if cut >= 0:
            start = start - step + cut + 1
            break
        start -= step
    torn = os.pread(fd, end - start, start)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    keep = path.with_name(f"{path.name}.torn-{stamp}")
    with keep.open("xb") as handle:
        handle.write(torn)
        handle.flush()
        os.fsync(handle.fileno())
    os.ftruncate(fd, start)
    os.fsync(fd)
    fsync_dir(path.parent)
    return keep


def _last_line(fd: int, size: int, path: Path) -> bytes:
    """The final line, reading backwards from the end in blocks; a torn tail is refused."""
    if os.pread(fd, 1, size - 1) != b"\n":
        raise IntegrityError(
            "ends with a partial entry (a torn write); it is kept for inspection and nothing was "
            "appended: run `provenance verify` to see where the whole entries end",
            source=str(path),
        )
    end = size - 1
    start = _newline_before(fd, end, 1)
    return os.pread(fd, end - start, start)


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
        canonical_line = _is_line_of(raw, _canonical_entry(fields))
    else:
        written = _as_orjson_writes_it(fields)
        canonical_line = (_is_line_of(raw, written)
                          or _is_line_of(raw, _small_test_numbers_as_es(written, fields.get("tests")))
                          or _is_line_of(raw, _canonical_entry(fields)))  # fmt: skip
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
    numbers_exact = {key: _number(value) if type(value) is float else value for key, value in fields.items()}
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
            written = written.replace(b":" + orjson.dumps(value) + b",", b":" + _reference_bytes(value) + b",")
    return written


_DURATION, _P_FAIL = operator.itemgetter("duration_seconds"), operator.itemgetter("p_fail")


def _canonical_entry(fields: dict[str, Any]) -> bytes:
    """`canonical(fields)`, with the tests, most of a large line, encoded as the writer encodes them.

    The generic walk of `canonical` takes twice as long over 100,000 tests; `strict` compares every
    line with this, and the default check each line the faster comparisons did not match.
    """
    tests = _plain_tests(fields.get("tests"))
    return canonical(fields if tests is None else {**fields, "tests": tests})


_TEST_KEYS = {"duration_seconds", "nodeid", "p_fail", "result"}
_NUMBERS = (float, int)  # not bool


def _plain_tests(tests: Any) -> orjson.Fragment | None:
    """Tests as `_canonical_tests` writes them, or None unless each is a plain ledger test."""
    if type(tests) is not list:
        return None
    out = []
    for test in tests:
        if type(test) is not dict or test.keys() != _TEST_KEYS:
            return None
        duration, nodeid, p_fail, result = test["duration_seconds"], test["nodeid"], test["p_fail"], test["result"]
        if (type(nodeid) is not str or type(result) is not str or type(duration) not in _NUMBERS
                or (p_fail is not None and type(p_fail) not in _NUMBERS)):  # fmt: skip
            return None
        out.append({"duration_seconds": _number(duration), "nodeid": nodeid,
                    "p_fail": None if p_fail is None else _number(p_fail), "result": result})  # fmt: skip
    return orjson.Fragment(orjson.dumps(out))


def _body_hash(raw: bytes, claimed: str) -> str:
    """sha256 of the canonical entry without `entry_hash` ("" when the line does not hold `claimed`)."""
    return _hash_without(raw, _hash_member(claimed))[0]


def _hash_member(digest: str) -> bytes:
    return b'"entry_hash":"' + digest.encode() + b'",'


def _hash_without(line: bytes, member: bytes) -> tuple[str, int]:
    """sha256 of a canonical line (its newline aside) with `member` cut out, and where it was.

    In a canonical line the entry without `entry_hash` is the line with the `"entry_hash":"…",`
    member cut out: keys are sorted, it is never the last, and no string value can hold it with
    its quotes unescaped. The line can be megabytes: it is hashed through views, not copied.
    ("", -1) when the member is not there.
    """
    at = line.find(member)
    if at < 0:
        return "", -1
    view = memoryview(line)
    end = len(line) - 1 if line.endswith(b"\n") else len(line)
    hasher = hashlib.sha256(view[:at])
    hasher.update(view[at + len(member) : end])
    return hasher.hexdigest(), at


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
    return _Checked(None, fields["seq"], fields["prev"], claimed, _body_hash(raw, claimed) == claimed)


# A ledger this large is checked by a process per core, a slice of lines each: each line is checked
# on its own, and only the links between lines (seq, prev, the Merkle frontier) are followed in order.
PARALLEL_FROM_BYTES = 64 << 20
SLICE_BYTES = 16 << 20


def _checked_lines(path: Path, strict: bool) -> Iterator[_Checked]:
    """Every line checked on its own, in order, until the first with a problem of its own."""
    size = path.stat().st_size
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if size < PARALLEL_FROM_BYTES or workers < 2:
        yield from _checked_in(str(path), 0, size, strict)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    starts = _slice_starts(path, size)
    try:
        pool = ProcessPoolExecutor(workers)
    except (OSError, NotImplementedError):  # no pool here: multiprocessing's semaphores are missing
        yield from _checked_in(str(path), 0, size, strict)
        return
    try:
        slices = pool.map(_check_slice, [str(path)] * len(starts), starts, [*starts[1:], size], [strict] * len(starts))
        for start in starts:
            try:
                checked = next(slices)
            except BrokenProcessPool:  # a worker died (out of memory, killed): the rest in this process
                yield from _checked_in(str(path), start, size, strict)
                return
            yield from checked
    finally:
        pool.shutdown(cancel_futures=True)


def _checked_in(path: str, start: int, end: int, strict: bool) -> Iterator[_Checked]:
    """The lines that start in [start, end), checked, up to the first with a problem."""
    with open(path, "rb") as handle:
        handle.seek(start)
        at = start
        while at < end:
            raw = handle.readline()
            if not raw:
                return
            at += len(raw)
            checked = _check(raw, strict)
            yield checked
            if checked.problem is not None:
                return


def _check_slice(path: str, start: int, end: int, strict: bool) -> list[_Checked]:
    """`_checked_in` in a worker process: its results go back whole."""
    return list(_checked_in(path, start, end, strict))


def _slice_starts(path: Path, size: int) -> list[int]:
    """Where slices of about `SLICE_BYTES` start: each at the start of a line."""
    starts = [0]
    with path.open("rb") as handle:
        while starts[-1] + SLICE_BYTES < size:
            handle.seek(starts[-1] + SLICE_BYTES)
            handle.readline()  # the rest of the line the boundary falls in
            if handle.tell() >= size:
                break
            starts.append(handle.tell())
    return starts


def read_tail(path: Path, count: int) -> list[dict[str, Any]]:
    """The last `count` whole entries, oldest first; a torn last line is left out (the next append reports it)."""
    entries = []
    for raw in tail_lines(path, count):
        try:
            entries.append(orjson.loads(raw))
        except orjson.JSONDecodeError:
            raise IntegrityError(
                "a recent entry is not valid JSON; run `provenance verify`", source=str(path)
            ) from None
    return entries


def tail_lines(path: Path, count: int) -> Iterator[bytes]:
    """The last `count` whole lines, oldest first, one at a time.

    Where they start is found reading backwards in blocks, so the cost follows `count`, and only
    one line is held at a time: an entry of a large suite is megabytes.
    """
    if count <= 0 or not path.is_file():
        return
    with path.open("rb") as handle:
        fd = handle.fileno()
        end = _newline_before(fd, os.fstat(fd).st_size, 1)  # a torn last line is left out
        position = _newline_before(fd, end - 1, count) if end > 0 else 0
        handle.seek(position)
        while position < end:
            line = handle.readline()
            position += len(line)
            yield line


def _newline_before(fd: int, end: int, count: int) -> int:
    """The offset just after the `count`-th newline before `end`, counting back in blocks; 0 when there are fewer."""
    position = end
    while position > 0:
        step = min(_TAIL_BLOCK, position)
        block = os.pread(fd, step, position - step)
        at = len(block)
        while (at := block.rfind(b"\n", 0, at)) >= 0:
            count -= 1
            if count == 0:
                return position - step + at + 1
        position -= step
    return 0


def prove(path: Path, seq: int) -> dict[str, Any]:
    """An inclusion proof for entry `seq`: the entry, its audit path and the root of the whole ledger."""
    result = verify(path)
    if result.problem is not None:
        raise IntegrityError(f"line {result.line}: {result.problem}; no proof from a ledger that does not verify",
                             source=str(path))  # fmt: skip
    if not 0 <= seq < result.entries:
        raise InputError(f"no entry with seq {seq}; the ledger holds 0 to {result.entries - 1}", field="--seq")
    leaves: list[bytes] = []
    entry: dict[str, Any] = {}
    with path.open("rb") as handle:
        for number, line in enumerate(handle):
            fields = json.loads(line)
            leaves.append(bytes.fromhex(fields["entry_hash"]))
            if number == seq:
                entry = fields
    return {
        "type": "provenance-inclusion-proof/v1",
        "ledger": path.name,
        "tree_size": len(leaves),
        "leaf_index": seq,
        "merkle_root": result.merkle_root,
        "audit_path": merkle.inclusion_proof(leaves, seq),
        "entry": entry,
    }


def check_proof(proof: Any, checkpoint: dict[str, Any] | None, source: str = "proof") -> str | None:
    """What is wrong with an inclusion proof, or None when the entry is provably in the ledger."""
    try:
        entry = proof["entry"]
        index, size, path = int(proof["leaf_index"]), int(proof["tree_size"]), list(proof["audit_path"])
        claimed_root = str(proof["merkle_root"])
        claimed_hash = str(entry["entry_hash"])
    except (KeyError, TypeError, ValueError):
        raise InputError("expected a proof from `provenance prove`", source=source) from None
    if entry_hash(entry) != claimed_hash:
        return "the entry does not match its entry_hash: it was edited"
    if entry.get("seq") != index:
        return f"the entry's seq {entry.get('seq')} is not the proof's leaf index {index}"
    try:
        computed = merkle.root_from_proof(bytes.fromhex(claimed_hash), index, size, path)
    except ValueError as exc:
        return f"the audit path does not fit the tree: {exc}"
    if computed != claimed_root:
        return "the audit path does not lead to the proof's Merkle root"
    if checkpoint is not None and (checkpoint["size"], checkpoint["merkle_root"]) != (size, claimed_root):
        return (
            f"the proof is for a tree of {size} entries with root {claimed_root}, the checkpoint records "
            f"{checkpoint['size']} entries with root {checkpoint['merkle_root']}"
        )
    return None
