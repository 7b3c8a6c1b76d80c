"""A verified ledger's entries, staged in batches as files DuckDB reads in parallel.

Every line is checked as `run` checks the ledger it extends (`ledger.links`: each entry's hash over
its bytes, its link and seq) in the same pass that reads it, and the verified bytes are what is
staged: DuckDB never reads the ledger itself, which may grow or change after the check. Each staged
line wraps the entry as the ledger holds it, unparsed (its tests, most of its bytes, are parsed by
DuckDB's JSON reader on every core), with what the export adds: the ledger's id and, where the
run's provenance file is at hand and matches the digest the ledger holds, the workflow's name, the
run's page and each test's pytest outcome.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import msgspec
import orjson

from provenance.errors import InputError
from provenance.ledger.links import BrokenLink, first_entry_hash, linked_lines
from provenance.reading import read_input
from provenance.workspace import resolve_inside

# A batch is handed to DuckDB once it holds this many bytes of ledger lines.
BATCH_BYTES = 128 * 1024 * 1024


class _Entry(msgspec.Struct):
    """The fields of a ledger entry the export reads, checked for their types; the tests are left unparsed."""

    seq: int
    entry_hash: str
    recorded_at: str
    run_id: str
    run_attempt: int
    repository: str | None
    commit: str | None
    branch: str | None
    conclusion: str
    walltime_seconds: float | None
    tests: msgspec.Raw
    provenance_path: str
    provenance_sha256: str
    dataset_id: list[str] = []
    dataset_checksum: list[str | None] = []
    model_hash: str | None = None
    model_version: str | None = None
    supersedes: int | None = None


_DECODER = msgspec.json.Decoder(_Entry)


@dataclass(frozen=True)
class StagedBatch:
    """Verified entries of one ledger, staged in `path` (one JSON object per line, see `staged_line`)."""

    path: Path
    ledger_id: str  # the ledger's first entry hash
    first_seq: int
    last_seq: int
    last_hash: str
    entries: int
    longest_line: int  # bytes: what DuckDB's reader must accept as one object


@dataclass(frozen=True)
class RunDetails:
    """What a run's provenance file adds to its ledger entry."""

    workflow: str | None
    run_url: str | None
    repository_url: str | None
    outcomes: list[str | None] | None  # each test's pytest outcome, in the order of the entry's tests


NO_DETAILS = RunDetails(None, None, None, None)


def staged_batches(path: Path, staging: Path, exported: Mapping[str, tuple[int, str]] | None = None, *,
                   workspace: Path | None = None) -> Iterator[StagedBatch]:  # fmt: skip
    """The ledger's entries not yet exported, verified and staged in files under `staging`, in batches.

    `exported` maps a ledger (named by its first entry's hash) to the last entry exported from it
    (its seq and hash): only the entries after it are staged, and it must still be in the ledger as
    it was; a ledger rewritten or cut below that point is refused. A line that does not verify is
    bad input naming the ledger and the line. With `workspace`, provenance files are looked for
    there (the path each entry records is relative to it). Each batch's file is removed once the
    next batch is asked for.
    """
    writer = _Writer(staging)
    head: tuple[int, str] | None = None
    count, ledger_id = 0, ""
    try:
        for seq, digest, raw in linked_lines(path):
            count = seq + 1
            if seq == 0:
                ledger_id = digest
                head = (exported or {}).get(digest)
            if head is not None and seq <= head[0]:
                if seq == head[0] and digest != head[1]:
                    raise _rewritten(path, seq)
                continue
            entry = _decode(raw, path, f"entry {seq}")
            details = NO_DETAILS if workspace is None else run_details(workspace, entry)
            writer.add(staged_line(ledger_id, details, raw), seq, digest)
            if writer.size >= BATCH_BYTES:
                yield from writer.flush(ledger_id)
    except BrokenLink as broken:
        writer.close()
        raise InputError(f"line {broken.line}: {broken.problem}; nothing exported from a ledger that does not "
                         "verify (run `provenance verify`)", source=str(path)) from None  # fmt: skip
    except BaseException:
        writer.close()
        raise
    if head is not None and count <= head[0]:
        raise _rewritten(path, head[0])
    yield from writer.flush(ledger_id)


def appended_batch(ledger: Path, line: bytes, staging: Path, workspace: Path | None) -> Iterator[StagedBatch]:
    """The entry a run has just appended, staged alone from the line it wrote.

    The run checked every hash and link of the ledger under its lock before appending, and wrote
    this line itself: the ledger is not read again but for its first line, whose hash names it.
    """
    entry = _decode(line, ledger, "the entry appended")
    ledger_id = entry.entry_hash if entry.seq == 0 else first_entry_hash(ledger) or ""
    writer = _Writer(staging)
    writer.add(staged_line(ledger_id, run_details(workspace, entry) if workspace else NO_DETAILS, line),
               entry.seq, entry.entry_hash)  # fmt: skip
    yield from writer.flush(ledger_id)


class _Writer:
    """The staging file being filled, and what it holds so far."""

    def __init__(self, staging: Path) -> None:
        self.staging, self.batches = staging, 0
        self.out: BinaryIO | None = None
        self.size = self.entries = self.longest = 0
        self.first_seq, self.last_seq, self.last_hash = 0, -1, ""

    @property
    def path(self) -> Path:
        return self.staging / f"batch-{self.batches}.jsonl"

    def add(self, line: bytes, seq: int, digest: str) -> None:
        if self.out is None:
            self.out = self.path.open("xb")
            self.size = self.entries = self.longest = 0
            self.first_seq = seq
        self.out.write(line)
        self.size += len(line)
        self.entries += 1
        self.longest = max(self.longest, len(line))
        self.last_seq, self.last_hash = seq, digest

    def flush(self, ledger_id: str) -> Iterator[StagedBatch]:
        """The batch so far, if any; its file is removed when the caller asks for more."""
        if self.out is None:
            return
        self.out.close()
        self.out = None
        batch = StagedBatch(self.path, ledger_id, self.first_seq, self.last_seq, self.last_hash, self.entries,
                            self.longest)  # fmt: skip
        self.batches += 1
        try:
            yield batch
        finally:
            batch.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove a batch not handed out (the ledger failed its check part-way)."""
        if self.out is not None:
            self.out.close()
            self.out = None
            self.path.unlink(missing_ok=True)


def staged_line(ledger_id: str, details: RunDetails, raw: bytes) -> bytes:
    """One staged line: the export's own fields, then the entry as the ledger holds it under `entry`."""
    own = orjson.dumps({"ledger_id": ledger_id, "workflow": details.workflow, "run_url": details.run_url,
                        "repository_url": details.repository_url, "outcomes": details.outcomes})  # fmt: skip
    return own[:-1] + b',"entry":' + raw.rstrip(b"\r\n") + b"}\n"


def _rewritten(path: Path, seq: int) -> InputError:
    return InputError(
        f"entry {seq}, the last one exported before, is no longer in the ledger as it was: the ledger was cut or "
        "rewritten since; export it to a new directory",
        source=str(path),
    )


def _decode(raw: bytes, path: Path, what: str) -> _Entry:
    try:
        return _DECODER.decode(raw)
    except msgspec.DecodeError as exc:
        raise InputError(f"{what} is not a ledger entry ({exc})", source=str(path)) from None


def run_details(workspace: Path, entry: _Entry) -> RunDetails:
    """The workflow, run page and each test's pytest outcome from the entry's provenance file, if it matches.

    The ledger holds the file's sha256: a file that differs (another run's, edited) adds nothing.
    """
    try:
        path = resolve_inside(workspace, entry.provenance_path, "provenance_path")
        if not path.is_file():
            return NO_DETAILS
        data = read_input(path)
    except InputError:
        return NO_DETAILS
    if hashlib.sha256(data).hexdigest() != entry.provenance_sha256:
        return NO_DETAILS
    try:
        run = orjson.loads(data)["run"]
        outcomes = {str(test["nodeid"]): str(test["outcome"]) for test in run["tests"]}
        workflow, run_url = _text(run.get("workflow")), _text(run.get("run_url"))
        listed = [outcomes.get(str(test["nodeid"])) for test in orjson.loads(bytes(entry.tests))]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return NO_DETAILS
    return RunDetails(workflow, run_url, repository_url(run_url, entry.repository), listed)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def repository_url(run_url: str | None, repository: str | None) -> str | None:
    """The repository's page, the run's page up to `/actions/runs/` when that names the repository."""
    if not run_url or not repository:
        return None
    found = re.match(rf"(https?://[^/\s]+(?:/[^/\s]+)*?/{re.escape(repository)})/actions/runs/[0-9]+(?:/|$)", run_url)
    return found.group(1) if found else None
