"""The append-only, hash-chained ledger: one canonical JSON line per run.

`entry_hash` is the sha256 of the RFC 8785 canonical JSON of the entry without `entry_hash`;
`prev` is the previous entry's hash (64 zeros for the first). Appends happen under an exclusive
lock and are fsynced; earlier lines are never rewritten.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import orjson

from provenance.errors import InputError, IntegrityError
from provenance.ledger.canonical import ZERO_HASH, body_hash, canonical, canonical_tests, hash_member, hash_without
from provenance.ledger.checkpoint import CHECKPOINT_TYPE, frontier_for
from provenance.ledger.merkle import Frontier
from provenance.reading import LineTooLong, max_input_bytes, read_line
from provenance.workspace import fsync_dir

if TYPE_CHECKING:  # the schemas (and pydantic) are imported only where an entry is written:
    from provenance.schemas import ExperimentLedgerEntry  # `verify` starts without them

_TAIL_BLOCK = 64 * 1024


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
        self.last_line = b""  # the line the last append wrote, newline included

    @property
    def frontier(self) -> Frontier:
        """The Merkle frontier of the entries so far.

        Taken from the checkpoint beside the ledger when it matches the head, else rebuilt once
        from the entry hashes.
        """
        if self._frontier is None:
            self._frontier = frontier_for(self.path, self.head.next_seq, self.head.prev)
        return self._frontier

    def checkpoint(
        self, created_at: datetime, run_id: str | None = None, branch_tip: str | None = None
    ) -> dict[str, Any]:
        """The checkpoint after the appends so far: size, head and Merkle root (and the frontier).

        On a ledger branch it names the commit the entries were appended on (`branch_tip`): the
        branch must descend from it from then on, which a history rewritten shorter does not.
        """
        frontier = self.frontier
        tip = {"branch_tip": branch_tip} if branch_tip else {}
        return tip | {
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
        body["tests"] = canonical_tests(entry.tests)
        template = canonical(body)
        del body  # its tests' fragment is as large as the line
        zero_member = hash_member(ZERO_HASH)
        digest, at = hash_without(template, zero_member)
        view = memoryview(template)
        line = b"".join((view[:at], hash_member(digest), view[at + len(zero_member) :], b"\n"))
        entry = entry.model_copy(update={"entry_hash": digest})
        written = 0
        while written < len(line):
            written += os.write(self._fd, line[written:])
        os.fsync(self._fd)
        self.last_line = line
        frontier.append(bytes.fromhex(entry.entry_hash))
        self.head = Head(next_seq=entry.seq + 1, prev=entry.entry_hash)
        return entry


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
    except (msgspec.DecodeError, RecursionError) as exc:
        raise IntegrityError(f"the last entry is not a ledger entry ({exc})", source=str(path)) from None
    seq, claimed = head.seq, head.entry_hash
    if body_hash(last, claimed) != claimed:
        raise IntegrityError(
            f"the last entry (seq {seq}) does not match its entry_hash: it was edited; "
            "run `provenance verify` to see the whole chain",
            source=str(path),
        )
    if seq < 0:
        raise IntegrityError(f"the last entry has an invalid seq {seq!r}", source=str(path))
    return Head(next_seq=seq + 1, prev=claimed)


def _quarantine_torn_tail(fd: int, path: Path) -> Path | None:
    """Move a torn last line aside so the ledger ends with a whole entry again.

    A write killed half-way leaves a partial last line. It is copied, whole, to a file of its own
    (`<ledger>.torn-<time>`) and fsynced, then the ledger is cut back to its last complete entry.
    Nothing is lost or silently mended: the caller reports where the torn bytes went. A last line
    that is a whole entry, its hash matching its bytes, lacks only its newline, which is written.
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
    if _whole_entry(torn):  # only its newline is missing (an editor, a tool): the entry is kept
        os.write(fd, b"\n")  # the descriptor appends
        os.fsync(fd)
        return None
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


def _whole_entry(line: bytes) -> bool:
    """Whether a line is a complete ledger entry: it decodes, and its `entry_hash` is the hash of its bytes."""
    try:
        claimed = msgspec.json.decode(line, type=_ChainFields).entry_hash
    except (msgspec.DecodeError, RecursionError):  # a torn tail can be anything, nested 50,000 deep too
        return False
    return body_hash(line, claimed) == claimed


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
            try:
                line = read_line(handle, max_input_bytes())
            except LineTooLong:
                raise _line_too_long(path) from None
            position += len(line)
            yield line


def lines_backwards(path: Path) -> Iterator[bytes]:
    """Every whole line, newest first, one at a time: for a question the latest entries answer."""
    if not path.is_file():
        return
    with path.open("rb") as handle:
        fd = handle.fileno()
        end = _newline_before(fd, os.fstat(fd).st_size, 1)  # a torn last line is left out
        while end > 0:
            start = _newline_before(fd, end - 1, 1)
            if end - start > max_input_bytes():
                raise _line_too_long(path)
            yield os.pread(fd, end - start, start)
            end = start


def _line_too_long(path: Path) -> InputError:
    """A ledger line is megabytes at most: one past the limit on inputs is not read."""
    return InputError(f"a line is longer than the {max_input_bytes() >> 20} MiB limit on inputs; see max-input-mb",
                      source=str(path))  # fmt: skip


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
