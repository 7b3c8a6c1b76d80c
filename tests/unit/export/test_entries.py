"""Reading a ledger for export: every line verified in the pass that reads it, in batches of any size,
the entries already exported skipped, and the provenance file's details taken only when it matches."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from provenance.errors import InputError
from provenance.export import entries
from provenance.export.entries import repository_url, staged_batches
from tests.support.entries import build_ledger


def staged(ledger: Path, staging: Path, *args: Any, **kwargs: Any) -> list[tuple[entries.StagedBatch, list[Any]]]:
    """Each batch with the lines of its file, read before the next batch is asked for (which removes it)."""
    staging.mkdir(exist_ok=True)
    found = []
    for batch in staged_batches(ledger, staging, *args, **kwargs):
        found.append((batch, [json.loads(line) for line in batch.path.read_text().splitlines()]))
    assert not list(staging.iterdir())  # every staged file removed
    return found


def seqs(batches: list[tuple[entries.StagedBatch, list[Any]]]) -> list[int]:
    return [line["entry"]["seq"] for _, lines in batches for line in lines]


def test_every_entry_once_in_order_whatever_the_batch_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / "l.jsonl"
    build_ledger(ledger, 30)
    whole = staged(ledger, tmp_path / "s")
    monkeypatch.setattr(entries, "BATCH_BYTES", 2000)
    small = staged(ledger, tmp_path / "s")
    assert len(whole) == 1 and len(small) > 3
    assert seqs(whole) == seqs(small) == list(range(30))
    assert [b.first_seq for b, _ in small] == [lines[0]["entry"]["seq"] for _, lines in small]
    assert [b.last_seq for b, _ in small] == [lines[-1]["entry"]["seq"] for _, lines in small]
    assert sum(b.entries for b, _ in small) == 30
    lines = ledger.read_text().splitlines()
    first = json.loads(lines[0])["entry_hash"]
    assert {b.ledger_id for b, _ in small} == {first}
    assert {line["ledger_id"] for _, staged_lines in small for line in staged_lines} == {first}
    assert small[-1][0].last_hash == json.loads(lines[-1])["entry_hash"]
    assert [line["entry"] for line in whole[0][1]] == [json.loads(line) for line in lines]  # the entry as it is


def test_only_what_follows_the_last_export_and_it_must_still_be_there(tmp_path: Path) -> None:
    ledger = tmp_path / "l.jsonl"
    build_ledger(ledger, 10)
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    first = lines[0]["entry_hash"]
    staging = tmp_path / "s"
    after = staged(ledger, staging, {first: (6, lines[6]["entry_hash"])})
    assert seqs(after) == [7, 8, 9] and after[0][0].first_seq == 7
    assert staged(ledger, staging, {first: (9, lines[9]["entry_hash"])}) == []
    assert seqs(staged(ledger, staging, {"f" * 64: (6, "0" * 64)})) == list(range(10))  # another ledger's
    with pytest.raises(InputError, match="entry 6, the last one exported before"):
        staged(ledger, staging, {first: (6, "e" * 64)})
    with pytest.raises(InputError, match="entry 12, the last one exported before"):
        staged(ledger, staging, {first: (12, "e" * 64)})


def test_a_line_that_does_not_verify_names_the_ledger_and_line_and_stages_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "l.jsonl"
    build_ledger(ledger, 5)
    ledger.write_text(ledger.read_text().replace('"run_id":"run-3"', '"run_id":"run-9"'))
    staging = tmp_path / "s"
    staging.mkdir()
    with pytest.raises(InputError) as raised:
        list(staged_batches(ledger, staging))
    assert raised.value.diagnosis().startswith(f"{ledger}: line 4: entry_hash does not match")
    assert not list(staging.iterdir())


def test_details_come_only_from_a_provenance_file_that_matches(tmp_path: Path) -> None:
    ledger = tmp_path / "l.jsonl"
    build_ledger(ledger, 1)
    line = json.loads(ledger.read_text())
    entry = entries._DECODER.decode(ledger.read_bytes().strip())
    provenance = tmp_path / line["provenance_path"]
    provenance.parent.mkdir(parents=True)
    tests = [{"nodeid": t["nodeid"], "outcome": "flaky"} for t in reversed(line["tests"])]
    document = {"run": {"workflow": "CI", "run_url": "https://ghe.example/acme/sample/actions/runs/5/attempts/2",
                        "tests": tests}}  # fmt: skip
    provenance.write_text(json.dumps(document))
    assert entries.run_details(tmp_path, entry) == entries.NO_DETAILS  # the ledger holds another digest
    digest = hashlib.sha256(provenance.read_bytes()).hexdigest()
    matching = entries._DECODER.decode(ledger.read_bytes().strip().replace(b"b" * 64, digest.encode()))
    details = entries.run_details(tmp_path, matching)
    assert (details.workflow, details.repository_url) == ("CI", "https://ghe.example/acme/sample")
    assert details.outcomes == ["flaky"] * len(line["tests"])  # in the entry's order, whatever the file's


@pytest.mark.parametrize(
    ("url", "repository", "expected"),
    [
        ("https://github.com/acme/web/actions/runs/12", "acme/web", "https://github.com/acme/web"),
        ("https://github.com/acme/web/actions/runs/12/attempts/3", "acme/web", "https://github.com/acme/web"),
        ("https://ghe.example/prefix/acme/web/actions/runs/12", "acme/web", "https://ghe.example/prefix/acme/web"),
        ("https://github.com/other/repo/actions/runs/12", "acme/web", None),
        ("https://github.com/acme/web/pulls/12", "acme/web", None),
        (None, "acme/web", None),
        ("https://github.com/acme/web/actions/runs/12", None, None),
    ],
)
def test_the_repository_page_is_the_run_page_up_to_its_runs(url: str | None, repository: str | None,
                                                             expected: str | None) -> None:  # fmt: skip
    assert repository_url(url, repository) == expected
