"""A verified ledger's entries in batches, as columns DuckDB reads without a copy of each test in Python.

Every line is checked as `run` checks the ledger it extends (`ledger.links`: each entry's hash over
its bytes, its link and seq) in the same pass that reads it, so what is exported is exactly what
was verified. The tests of an entry, most of its bytes, are handed to DuckDB as the JSON text the
ledger holds; DuckDB parses them. Where the run's provenance file is at hand and matches the
digest the ledger holds, the workflow's name, the run's page and each test's pytest outcome are
taken from it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import orjson

from provenance.errors import InputError
from provenance.ledger.links import BrokenLink, linked_lines
from provenance.reading import read_input
from provenance.workspace import resolve_inside

# A batch is handed to DuckDB once it holds this many bytes of ledger lines.
BATCH_BYTES = 128 * 1024 * 1024


class _Entry(msgspec.Struct):
    """The fields of a ledger entry the export reads; the tests are kept as the JSON text they are."""

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

# The columns of a batch, in the order DuckDB is handed them (see columns.ROWS_SQL).
FIELDS = (
    "seq", "entry_hash", "ledger_id", "recorded_at", "run_id", "run_attempt", "repository", "commit", "branch",
    "conclusion", "walltime_seconds", "tests", "provenance_sha256", "dataset_ids", "dataset_checksums",
    "model_hash", "model_version", "supersedes", "workflow", "run_url", "repository_url",
)  # fmt: skip


@dataclass
class EntryBatch:
    """Entries as columns: one list per field of `FIELDS`, one item per entry."""

    values: dict[str, list[Any]] = field(default_factory=lambda: {name: [] for name in FIELDS})
    ledger_id: str = ""  # the ledger's first entry hash
    size: int = 0  # bytes of ledger lines
    first_seq: int = 0
    last_seq: int = -1

    def __len__(self) -> int:
        return len(self.values["seq"])

    def arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        """The columns as numpy arrays, which DuckDB scans in place."""
        return {name: np.array(items, dtype=object) for name, items in self.values.items()}


@dataclass(frozen=True)
class RunDetails:
    """What a run's provenance file adds to its ledger entry."""

    workflow: str | None
    run_url: str | None
    repository_url: str | None
    tests: str | None  # the entry's tests as JSON, each with its pytest `outcome`


NO_DETAILS = RunDetails(None, None, None, None)


def verified_batches(path: Path, exported: Mapping[str, tuple[int, str]] | None = None, *,
                     workspace: Path | None = None) -> Iterator[EntryBatch]:  # fmt: skip
    """The ledger's entries not yet exported, in batches, each line checked before it is read.

    `exported` maps a ledger (named by its first entry's hash) to the last entry exported from it
    (its seq and hash): only the entries after it are read, and it must still be in the ledger as
    it was; a ledger rewritten or cut below that point is refused. A line that does not verify is
    bad input naming the ledger and the line. With `workspace`, provenance files are looked for
    there (the path each entry records is relative to it).
    """
    batch = EntryBatch()
    head: tuple[int, str] | None = None
    count = 0
    try:
        for seq, digest, raw in linked_lines(path):
            count = seq + 1
            if seq == 0:
                head = (exported or {}).get(digest)
                batch = EntryBatch(ledger_id=digest, first_seq=0 if head is None else head[0] + 1)
            if head is not None and seq <= head[0]:
                if seq == head[0] and digest != head[1]:
                    raise _rewritten(path, seq)
                continue
            _add(batch, _decode(raw, path, seq), workspace)
            batch.size += len(raw)
            batch.last_seq = seq
            if batch.size >= BATCH_BYTES:
                yield batch
                batch = EntryBatch(ledger_id=batch.ledger_id, first_seq=seq + 1)
    except BrokenLink as broken:
        raise InputError(f"line {broken.line}: {broken.problem}; nothing exported from a ledger that does not "
                         "verify (run `provenance verify`)", source=str(path)) from None  # fmt: skip
    if head is not None and count <= head[0]:
        raise _rewritten(path, head[0])
    if len(batch):
        yield batch


def _rewritten(path: Path, seq: int) -> InputError:
    return InputError(
        f"entry {seq}, the last one exported before, is no longer in the ledger as it was: the ledger was cut or "
        "rewritten since; export it to a new directory",
        source=str(path),
    )


def _decode(raw: bytes, path: Path, seq: int) -> _Entry:
    try:
        return _DECODER.decode(raw)
    except msgspec.DecodeError as exc:
        raise InputError(f"entry {seq} is not a ledger entry ({exc})", source=str(path)) from None


def _add(batch: EntryBatch, entry: _Entry, workspace: Path | None) -> None:
    details = NO_DETAILS if workspace is None else run_details(workspace, entry)
    tests = details.tests or bytes(entry.tests).decode()
    row = (
        entry.seq, entry.entry_hash, batch.ledger_id, entry.recorded_at, entry.run_id, entry.run_attempt,
        entry.repository, entry.commit, entry.branch, entry.conclusion, entry.walltime_seconds, tests,
        entry.provenance_sha256, orjson.dumps(entry.dataset_id).decode(), orjson.dumps(entry.dataset_checksum).decode(),
        entry.model_hash, entry.model_version, entry.supersedes, details.workflow, details.run_url,
        details.repository_url,
    )  # fmt: skip
    for name, value in zip(FIELDS, row, strict=True):
        batch.values[name].append(value)


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
        workflow, run_url = run.get("workflow"), run.get("run_url")
        listed = orjson.loads(bytes(entry.tests))
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return NO_DETAILS
    tests = [{**test, "outcome": outcomes.get(test["nodeid"])} for test in listed]
    return RunDetails(workflow, run_url, repository_url(run_url, entry.repository), orjson.dumps(tests).decode())


def repository_url(run_url: str | None, repository: str | None) -> str | None:
    """The repository's page, the run's page up to `/actions/runs/` when that names the repository."""
    if not run_url or not repository:
        return None
    found = re.match(rf"(https?://[^/\s]+(?:/[^/\s]+)*?/{re.escape(repository)})/actions/runs/[0-9]+(?:/|$)", run_url)
    return found.group(1) if found else None
