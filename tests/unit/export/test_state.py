"""The export directory's record of what it holds: read back as written; anything else is one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.export.state import STATE_FILE, Exported, load_state, save_state


def test_written_then_read_back(tmp_path: Path) -> None:
    state = {"a" * 64: Exported(41, "b" * 64, "ci_runs.jsonl", "2026-12-07T04:00:00Z")}
    save_state(tmp_path, state)
    assert load_state(tmp_path) == state
    assert load_state(tmp_path / "new") == {}


@pytest.mark.parametrize(
    ("document", "said"),
    [
        ([], "expected an export record"),
        ({"type": "other", "ledgers": {}}, "expected an export record"),
        ({"type": "provenance-export-state/v1", "ledgers": {"xyz": {}}}, "ledgers.xyz: expected a ledger's first"),
        (
            {"type": "provenance-export-state/v1", "ledgers": {"a" * 64: {"seq": -1, "entry_hash": "b" * 64}}},
            "expected seq",
        ),
        (
            {"type": "provenance-export-state/v1", "ledgers": {"a" * 64: {"seq": True, "entry_hash": "b" * 64}}},
            "expected seq",
        ),
        (
            {"type": "provenance-export-state/v1", "ledgers": {"a" * 64: {"seq": 1, "entry_hash": "B" * 64}}},
            "expected seq",
        ),
    ],
)
def test_a_damaged_record_is_bad_input_naming_the_field(tmp_path: Path, document: object, said: str) -> None:
    (tmp_path / STATE_FILE).write_text(json.dumps(document))
    with pytest.raises(InputError) as raised:
        load_state(tmp_path)
    assert STATE_FILE in raised.value.diagnosis() and said in raised.value.diagnosis()
