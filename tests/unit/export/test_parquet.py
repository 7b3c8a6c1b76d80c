"""The Parquet export: incremental (only the entries the directory lacks), each ledger once however often
it is named, a run's own entry alone (the action's `export`), and the files named for what they hold."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from provenance.export.engine import query
from provenance.export.parquet import export
from provenance.export.state import load_state
from provenance.ledger.chain import open_for_append
from tests.support.entries import build_ledger, entry_fields

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def grow(ledger: Path, runs: int, tests: int = 2) -> None:
    with open_for_append(ledger) as appender:
        for run in range(runs):
            appender.append(entry_fields(f"later-{run}", tests=tests))


def count(directory: Path) -> tuple[int, int]:
    (row,) = query('SELECT count(*), count(DISTINCT "provenance.ledger.seq") FROM results', [directory], [], None).rows
    return int(row[0]), int(row[1])


def test_a_second_export_writes_only_the_new_entries(tmp_path: Path) -> None:
    ledger, out = tmp_path / "l.jsonl", tmp_path / "out"
    build_ledger(ledger, 6)
    first = export([ledger], out, NOW)
    rows_before = count(out)
    grow(ledger, 3)
    second = export([ledger], out, NOW)
    (done,) = second.ledgers
    assert (done.entries, done.first_seq, done.last_seq, done.rows) == (3, 6, 8, 6)
    assert second.files and all(re.search(r"/[0-9a-f]{16}-000000000006-\d+\.parquet$", f) for f in second.files)
    assert set(first.files).isdisjoint(second.files)
    assert count(out) == (rows_before[0] + 6, 9)
    lines = ledger.read_text().splitlines()
    (recorded,) = load_state(out).values()
    assert recorded.head == (8, json.loads(lines[8])["entry_hash"])
    assert export([ledger], out, NOW).rows == 0


def test_a_ledger_named_twice_is_exported_once(tmp_path: Path) -> None:
    ledger, out = tmp_path / "l.jsonl", tmp_path / "out"
    build_ledger(ledger, 5)
    result = export([ledger, ledger], out, NOW)
    assert [item.entries for item in result.ledgers] == [5, 0]
    assert count(out)[1] == 5


def test_a_runs_own_entry_alone_from_the_line_it_appended(tmp_path: Path) -> None:
    ledger, out = tmp_path / "l.jsonl", tmp_path / "out"
    build_ledger(ledger, 4)
    with open_for_append(ledger) as appender:
        appender.append(entry_fields("this-run", tests=7))
        line = appender.last_line
    assert line == ledger.read_bytes().splitlines(keepends=True)[-1]
    result = export([ledger], out, NOW, appended=line)
    first = json.loads(ledger.read_text().splitlines()[0])["entry_hash"]
    assert [(item.ledger_id, item.entries, item.first_seq, item.rows) for item in result.ledgers] == [(first, 1, 4, 7)]
    assert count(out) == (7, 1)
    ids = query('SELECT DISTINCT "provenance.ledger.id" FROM results', [out], [], None).rows
    assert ids == [(first,)]
    # Only the line is read: the earlier entries are not checked again (the run checked them under the lock).
    ledger.write_bytes(ledger.read_bytes().replace(b'"run_id":"run-1"', b'"run_id":"run-9"'))
    assert export([ledger], tmp_path / "again", NOW, appended=line).rows == 7


def test_a_query_over_nothing_has_the_columns_and_no_rows(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    answer = query("SELECT * FROM results", [tmp_path / "empty"], [], None)
    assert answer.rows == [] and answer.columns[0] == "cicd.pipeline.name" and answer.columns[-1] == "date"
