"""The exported columns: what a Parquet file holds is what `columns.COLUMNS` and docs/export.md say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from provenance.export.columns import COLUMNS, PARTITIONS
from provenance.export.engine import connect, literal
from provenance.export.parquet import export
from tests.support.entries import build_ledger

DOCS = Path(__file__).resolve().parents[3] / "docs" / "export.md"


def test_the_files_hold_the_declared_columns_and_types(tmp_path: Path) -> None:
    build_ledger(tmp_path / "l.jsonl", 12)
    result = export([tmp_path / "l.jsonl"], tmp_path / "out", datetime.now(UTC))
    assert result.files and all(name.startswith("repository=acme%2Fsample/date=2026-11-28/") for name in result.files)
    connection = connect()
    described = connection.execute(
        f"DESCRIBE SELECT * FROM read_parquet({literal(str(tmp_path / 'out' / result.files[0]))})"
    ).fetchall()
    stored = [(name, kind) for name, kind, *_ in described]
    assert stored == [(name, kind) for name, kind, _ in COLUMNS]  # the partitions' columns in the files too
    assert [name for name, _, _ in COLUMNS][-2:] == list(PARTITIONS)


def test_the_docs_list_every_column() -> None:
    text = DOCS.read_text()
    for name, kind, _ in COLUMNS:
        assert f"| `{name}` | `{kind}` |" in text, name
