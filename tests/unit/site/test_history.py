"""The page is built only from a ledger whose every hash and link holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.site.build import page_data
from tests.support.entries import build_ledger
from tests.support.history import write_runs


def test_an_edited_entry_is_bad_input_naming_its_line(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    write_runs(ledger, [[("t.py::test_a", "fail", 0.1, None)]] * 3)
    lines = ledger.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"result":"fail"', b'"result":"pass"')
    ledger.write_bytes(b"".join(lines))
    with pytest.raises(InputError) as caught:
        page_data(ledger)
    assert caught.value.diagnosis() == (
        f"{ledger}: line 2: does not verify (entry_hash does not match the entry's content (edited)); "
        "run `provenance verify`"
    )


def test_a_ledger_cut_short_of_its_checkpoint_is_refused(tmp_path: Path) -> None:
    ledger = tmp_path / "ci_runs.jsonl"
    checkpoint = build_ledger(ledger, 4)
    (tmp_path / "ci_runs.jsonl.checkpoint.json").write_text(json.dumps(checkpoint))
    assert page_data(ledger)["ledger"]["entries"] == 4
    ledger.write_bytes(b"".join(ledger.read_bytes().splitlines(keepends=True)[:3]))
    with pytest.raises(InputError, match="truncated"):
        page_data(ledger)


def test_a_missing_or_empty_ledger_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="expected an existing ledger file"):
        page_data(tmp_path / "nothing.jsonl")
    (tmp_path / "empty.jsonl").write_bytes(b"")
    with pytest.raises(InputError, match="expected at least one entry"):
        page_data(tmp_path / "empty.jsonl")


def test_entries_with_no_tests_give_a_page_with_none(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    build_ledger(ledger, 3)  # 0, 1 or 3 tests a run
    data = page_data(ledger)
    assert data["ledger"]["entries"] == 3
    assert len(data["runs"]["seq"]) == 3
    assert data["flaky"] == [] and data["calibration"] is None and data["savings"] is None


def test_an_entry_appended_after_the_check_is_not_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from provenance.site import build as build_module

    ledger = tmp_path / "ledger.jsonl"
    write_runs(ledger, [[("t.py::test_a", "pass", 0.1, None)]] * 3)
    checked = build_module.checked

    def check_then_append(path: Path) -> tuple[int, str]:
        found = checked(path)
        with path.open("ab") as handle:  # another job appends (unchecked bytes) between the check and the read
            handle.write(path.read_bytes().splitlines(keepends=True)[-1])
        return found

    monkeypatch.setattr(build_module, "checked", check_then_append)
    data = page_data(ledger)
    assert data["ledger"]["entries"] == 3 and data["runs"]["seq"] == [0, 1, 2]
