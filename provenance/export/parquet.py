"""`export`: a ledger's new entries as Parquet files, Hive-partitioned by repository and date.

All of it or nothing: every ledger is read and verified, and its rows written into a temporary
directory inside the destination, before anything there changes; the files then move into their
partitions (renames within one file system) and the record of what the directory holds is
replaced last. An export killed before that record leaves at most files named for entries the
record does not claim, and the next export replaces them (their names say which ledger and
entries they hold). One export at a time per directory (a lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from provenance.errors import InputError
from provenance.export.columns import PARTITIONS, rows_sql
from provenance.export.engine import connect, literal, read_staged, staged
from provenance.export.entries import StagedBatch, appended_batch, staged_batches
from provenance.export.state import Exported, load_state, save_state, stamp
from provenance.workspace import fsync_dir, writable_path

LOCK_FILE = ".provenance-export.lock"
_TEMP_PREFIX = ".export-tmp-"
# <ledger id, 16 hex digits>-<first seq of the batch, 12 digits>-<DuckDB's index>.parquet
_PART = re.compile(r"([0-9a-f]{16})-([0-9]{12})-[0-9]+\.parquet")


@dataclass(frozen=True)
class LedgerExport:
    """What one ledger added to the directory."""

    ledger: str
    ledger_id: str
    entries: int
    first_seq: int | None
    last_seq: int | None
    rows: int


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: per ledger, and the files in all."""

    directory: str
    ledgers: list[LedgerExport]
    files: list[str]

    @property
    def rows(self) -> int:
        """Rows written in all."""
        return sum(item.rows for item in self.ledgers)


def export(ledgers: Sequence[Path], directory: Path, now: datetime, workspace: Path | None = None,
           appended: bytes | None = None) -> ExportResult:  # fmt: skip
    """Export the entries of `ledgers` that `directory` does not hold yet.

    `directory` must already be resolved for writing (no link on the way). With `appended`, the line
    a run has just appended to the one ledger, only that entry is exported, whatever the directory
    held (the action's run exports its own entry). Provenance files are looked for under `workspace`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        _remove_leftovers(directory)
        state = load_state(directory)
        temp = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=directory))
        try:
            done = [_write_ledger(ledger, temp, state, now, workspace, appended) for ledger in ledgers]
            files = _move_into_place(temp, directory, done)
            save_state(directory, state)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
    return ExportResult(str(directory), done, files)


def _write_ledger(ledger: Path, temp: Path, state: dict[str, Exported], now: datetime,
                  workspace: Path | None, appended: bytes | None) -> LedgerExport:  # fmt: skip
    """Verify one ledger and write its new rows under `temp`; record its new head in `state`."""
    exported = {key: item.head for key, item in state.items()}
    staging = temp / ".staging"
    staging.mkdir(exist_ok=True)
    connection = connect()
    entries, rows, first, last, ledger_id = 0, 0, None, None, ""
    try:
        batches = (staged_batches(ledger, staging, exported, workspace=workspace) if appended is None
                   else appended_batch(ledger, appended, staging, workspace))  # fmt: skip
        for batch in batches:
            ledger_id = batch.ledger_id
            rows += _copy(connection, batch, ledger, temp)
            entries += batch.entries
            first = batch.first_seq if first is None else first
            last = batch.last_seq
            state[ledger_id] = Exported(last, batch.last_hash, ledger.name, stamp(now))
    finally:
        connection.close()
    return LedgerExport(str(ledger), ledger_id, entries, first, last, rows)


def _copy(connection: duckdb.DuckDBPyConnection, batch: StagedBatch, ledger: Path, temp: Path) -> int:
    """Write one batch's rows as Parquet under `temp`, partitioned; the number of rows."""
    pattern = f"{batch.ledger_id[:16]}-{batch.first_seq:012d}-{{i}}"
    # The partition columns stay in the files too: each file is whole without its path (for other loaders).
    options = ", ".join((
        "FORMAT parquet", "COMPRESSION zstd", f"PARTITION_BY ({', '.join(PARTITIONS)})", "WRITE_PARTITION_COLUMNS true",
        f"FILENAME_PATTERN {literal(pattern)}", "OVERWRITE_OR_IGNORE true",
    ))  # fmt: skip
    copy = f"COPY ({rows_sql(staged(batch))}) TO {literal(str(temp))} ({options})"
    return read_staged(connection, batch, ledger, copy)


def _move_into_place(temp: Path, directory: Path, done: list[LedgerExport]) -> list[str]:
    """Move the new files into their partitions, after removing what an interrupted export left.

    Every destination is checked (no link on the way) before the first file moves.
    """
    new = [(path, path.relative_to(temp)) for path in _parts(temp)]
    targets = [writable_path(directory, relative, "export directory") for _, relative in new]
    starts = {item.ledger_id[:16]: item.first_seq for item in done if item.first_seq is not None}
    for stale in _parts(directory):
        found = _PART.fullmatch(stale.name)
        if found and found.group(1) in starts and int(found.group(2)) >= starts[found.group(1)]:
            stale.unlink()
    for (path, _), target in zip(new, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
    for parent in {target.parent for target in targets}:
        fsync_dir(parent)
    fsync_dir(directory)
    return sorted(relative.as_posix() for _, relative in new)


def _parts(root: Path) -> Iterator[Path]:
    """The Parquet files under `root`, its hidden directories (an export's temporary one) left out."""
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(".parquet"):
                yield Path(current) / name


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One export at a time into a directory."""
    lock = writable_path(directory, LOCK_FILE, "export directory")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise InputError(f"cannot lock the export directory ({exc.strerror})", source=str(directory)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _remove_leftovers(directory: Path) -> None:
    """Temporary directories of exports that were killed (none is running: the lock is held)."""
    for leftover in directory.glob(_TEMP_PREFIX + "*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                leftover.unlink()
