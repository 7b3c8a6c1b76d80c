"""The append-only, hash-chained ledger: one canonical JSON line per run.

`entry_hash` is the sha256 of the RFC 8785 canonical JSON of the entry without `entry_hash`;
`prev` is the previous entry's hash (64 zeros for the first). Appends happen under an exclusive
lock and are fsynced; earlier lines are never rewritten.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from pydantic import ValidationError

from provenance.errors import InputError, IntegrityError
from provenance.files import fsync_dir
from provenance.schemas import ZERO_HASH, ExperimentLedgerEntry

_TAIL_BLOCK = 64 * 1024


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON: the bytes every hash in the project is taken over."""
    return rfc8785.dumps(value)


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
    """Handed out under the lock: knows the head and appends exactly one entry."""

    def __init__(self, path: Path, fd: int, head: Head) -> None:
        self.path = path
        self.head = head
        self._fd = fd

    def append(self, fields: dict[str, Any]) -> ExperimentLedgerEntry:
        """Chain, hash, validate and durably write one entry; `fields` omits seq, prev and hash."""
        draft = {**fields, "seq": self.head.next_seq, "prev": self.head.prev, "entry_hash": ZERO_HASH}
        entry = ExperimentLedgerEntry.model_validate(draft)
        dumped = entry.model_dump(mode="json")
        entry = entry.model_copy(update={"entry_hash": entry_hash(dumped)})
        line = canonical(entry.model_dump(mode="json")) + b"\n"
        written = 0
        while written < len(line):
            written += os.write(self._fd, line[written:])
        os.fsync(self._fd)
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
        yield Appender(path, fd, _read_head(fd, path))
    finally:
        os.close(fd)  # closing releases the lock


def _read_head(fd: int, path: Path) -> Head:
    size = os.fstat(fd).st_size
    if size == 0:
        return Head(next_seq=0, prev=ZERO_HASH)
    last = _last_line(fd, size, path)
    try:
        fields = json.loads(last)
        if not isinstance(fields, dict):
            raise ValueError("not an object")
        seq, claimed = fields["seq"], fields["entry_hash"]
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"the last entry is not a ledger entry ({exc})", source=str(path)) from None
    if entry_hash(fields) != claimed:
        raise IntegrityError(
            f"the last entry (seq {seq}) does not match its entry_hash: it was edited; "
            "run `provenance verify` to see the whole chain",
            source=str(path),
        )
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise IntegrityError(f"the last entry has an invalid seq {seq!r}", source=str(path))
    return Head(next_seq=seq + 1, prev=claimed)


def _last_line(fd: int, size: int, path: Path) -> bytes:
    """The final line, reading backwards from the end in blocks; a torn tail is refused."""
    if os.pread(fd, 1, size - 1) != b"\n":
        raise IntegrityError(
            "ends with a partial entry (a torn write); it is kept for inspection and nothing was "
            "appended: run `provenance verify` to see where the whole entries end",
            source=str(path),
        )
    end = size - 1
    tail = b""
    while end > 0:
        start = max(0, end - _TAIL_BLOCK)
        tail = os.pread(fd, end - start, start) + tail
        end = start
        cut = tail.rfind(b"\n")
        if cut >= 0:
            return tail[cut + 1 :]
    return tail


@dataclass(frozen=True)
class Verification:
    """What `verify` found: the number of good entries and the first problem, if any."""

    entries: int
    head: str
    problem: str | None = None
    line: int | None = None


def verify(path: Path) -> Verification:
    """Recompute every hash and link; stop at the first entry that does not verify."""
    prev = ZERO_HASH
    count = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                return Verification(count, prev, "the last line is incomplete (a torn write)", number)
            try:
                fields = json.loads(raw)
                entry = ExperimentLedgerEntry.model_validate(fields)
            except (ValueError, ValidationError) as exc:
                detail = str(exc).splitlines()[0]
                return Verification(count, prev, f"not a valid ledger entry ({detail})", number)
            if entry.seq != count:
                return Verification(count, prev, f"seq is {entry.seq}, expected {count} (missing or reordered)", number)
            if entry.prev != prev:
                return Verification(count, prev, "prev does not match the previous entry's hash", number)
            if entry_hash(fields) != entry.entry_hash:
                return Verification(count, prev, "entry_hash does not match the entry's content (edited)", number)
            prev = entry.entry_hash
            count += 1
    return Verification(count, prev)


def read_tail(path: Path, count: int) -> list[dict[str, Any]]:
    """The last `count` whole entries, oldest first; reads backwards, so the cost follows `count`.

    A torn last line is left out (the append that follows reports it).
    """
    if count <= 0 or not path.is_file():
        return []
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        position = end
        chunk = b""
        while position > 0 and chunk.count(b"\n") <= count:
            step = min(_TAIL_BLOCK, position)
            position -= step
            handle.seek(position)
            chunk = handle.read(step) + chunk
    lines = chunk.split(b"\n")
    lines.pop()  # after the final newline: empty, or a torn entry
    if position > 0:
        lines = lines[1:]  # the first piece may start mid-line
    entries = []
    for raw in lines[-count:]:
        try:
            entries.append(json.loads(raw))
        except ValueError:
            raise IntegrityError(
                "a recent entry is not valid JSON; run `provenance verify`", source=str(path)
            ) from None
    return entries
