"""DuckDB, embedded: the connection every export and query uses, and SQL over Parquet and ledgers.

A query sees one view, `results`: the exported Parquet files of a directory and the rows of
ledgers read directly, in the same columns. Before the user's SQL runs, the connection is locked down: it may read those
files and nothing else, write nothing, and load no extension (DuckDB would otherwise fetch one
from the network when a query names it).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from provenance.errors import InputError, one_line
from provenance.export.columns import COLUMNS, STAGED, rows_sql
from provenance.export.entries import StagedBatch, staged_batches


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory database that loads no extension on its own and shows times in UTC."""
    connection = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def literal(text: str) -> str:
    """A SQL string literal: quotes doubled, so a path cannot end it."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Answer:
    """A query's result: its column names and rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def parquet_files(directory: Path) -> list[Path]:
    """The Parquet files under an export directory; a link anywhere in it, or no directory, is bad input.

    Listed here rather than by DuckDB's glob, so a link planted in the directory is refused, and
    so the query may be allowed exactly these files.
    """
    try:
        mode = directory.lstat().st_mode
    except OSError:
        raise InputError(
            "expected an export directory (written by `provenance export`)", source=str(directory)
        ) from None
    if not stat.S_ISDIR(mode):
        raise InputError("expected an export directory, not a link or a file", source=str(directory))
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        for name in [*dirs, *files]:
            path = Path(root) / name
            if path.is_symlink():
                raise InputError("is a symlink; an export directory holds none", source=str(path))
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # an export's temporary directory
        found += [Path(root) / name for name in files if name.endswith(".parquet") and not name.startswith(".")]
    return sorted(found)


def load_ledgers(connection: duckdb.DuckDBPyConnection, ledgers: Sequence[Path], workspace: Path | None) -> str:
    """Read each ledger (verified) into a table of rows; the name of a relation of them all."""
    connection.execute(f"CREATE TEMP TABLE ledger_rows AS SELECT * FROM ({empty_rows()})")
    with tempfile.TemporaryDirectory(prefix="provenance-query-") as staging:
        for ledger in ledgers:
            for batch in staged_batches(ledger, Path(staging), workspace=workspace):
                read_staged(connection, batch, ledger, f"INSERT INTO ledger_rows {rows_sql(staged(batch))}")
    return "ledger_rows"


def staged(batch: StagedBatch) -> str:
    """DuckDB's JSON reader over a staged batch, every key it reads typed."""
    columns = "{" + ", ".join(f"{literal(key)}: {literal(kind)}" for key, kind in STAGED.items()) + "}"
    return (f"read_json({literal(str(batch.path))}, format = 'newline_delimited', columns = {columns}, "
            f"maximum_object_size = {batch.longest_line + 1})")  # fmt: skip


def read_staged(connection: duckdb.DuckDBPyConnection, batch: StagedBatch, ledger: Path, sql: str) -> int:
    """Run `sql`, which reads `batch`; a value of the wrong type in an entry is bad input naming the ledger.

    The entries' own fields were checked when they were staged; what DuckDB still parses are the
    tests, so a failure here is a test of some entry in the batch. Returns the count the statement
    reports (the rows a COPY wrote), or 0.
    """
    try:
        done = connection.execute(sql).fetchone()
    except duckdb.Error as exc:
        raise InputError(
            f"entries {batch.first_seq}-{batch.last_seq}: a test is not as a ledger records it "
            f"({one_line(' '.join(str(exc).split()), 300)})",
            source=str(ledger),
        ) from None
    return int(done[0]) if done and isinstance(done[0], int) else 0


def empty_rows() -> str:
    """A SELECT of no rows in the exported columns and types."""
    return "SELECT " + ", ".join(f'CAST(NULL AS {kind}) AS "{name}"' for name, kind, _ in COLUMNS) + " LIMIT 0"


def query(sql: str, directories: Sequence[Path], ledgers: Sequence[Path], workspace: Path | None) -> Answer:
    """Run `sql` over the view `results`: the Parquet under `directories` and the rows of `ledgers`."""
    connection = connect()
    try:
        sources = [load_ledgers(connection, ledgers, workspace)] if ledgers else []
        files = [str(path.resolve()) for directory in directories for path in parquet_files(directory)]
        if files:
            listed = "[" + ", ".join(literal(f) for f in files) + "]"
            connection.execute(f"SET allowed_paths = {listed}")
            # Each file holds its partition's columns itself: the path is only where it is kept.
            sources.append(f"read_parquet({listed}, hive_partitioning = false, union_by_name = true)")
        relation = " UNION ALL BY NAME ".join(f"SELECT * FROM {source}" for source in sources) or empty_rows()
        connection.execute(f"CREATE TEMP VIEW results AS {relation}")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        return _run(connection, sql)
    finally:
        connection.close()


def _run(connection: duckdb.DuckDBPyConnection, sql: str) -> Answer:
    """The user's SQL; DuckDB's message, on one line, when it fails."""
    try:
        result = connection.execute(sql)
        columns = [column[0] for column in result.description or []]
        return Answer(columns, result.fetchall())
    except duckdb.Error as exc:
        raise InputError(f"the query failed: {one_line(' '.join(str(exc).split()), 500)}", field="SQL") from None


def rows_of(answer: Answer) -> Iterator[dict[str, Any]]:
    """The rows as mappings of column name to value."""
    for row in answer.rows:
        yield dict(zip(answer.columns, row, strict=True))
