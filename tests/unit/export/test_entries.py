"""Reading a ledger for export: every line verified in the pass that reads it, in batches of any size,
the entries already exported skipped, and the provenance file's details taken only when it matches."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.export import entries
from provenance.export.entries import repository_url, verified_batches
from tests.support.entries import build_ledger


def seqs(batches: list[entries.EntryBatch]) -> list[int]:
    return [seq for batch in batches for seq in batch.values["seq"]]


def test_every_entry_once_in_order_whatever_the_batch_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / "l.jsonl"
    build_ledger(ledger, 30)
    whole = list(verified_batches(ledger))
    monkeypatch.setattr(entries, "BATCH_BYTES", 2000)
    small = list(verified_batches(ledger))
    assert len(whole) == 1 and len(small) > 3
    assert seqs(whole) == seqs(small) == list(range(30))
    assert [b.first_seq for b in small] == [b.values["seq"][0] for b in small]
    first = json.loads(ledger.read_text().splitlines()[0])["entry_hash"]
    assert {b.ledger_id for b in small} == {first}
    lines = ledger.read_text().splitlines()
    assert whole[0].values["tests"] == [json.dumps(json.loads(line)["tests"], separators=(",", ":"))
                                        for line in lines]  # fmt: skip


def test_only_what_follows_the_last_export_and_it_must_still_be_there(tmp_path: Path) -> None:
    ledger = tmp_path / "l.jsonl"
    build_ledger(ledger, 10)
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    first = lines[0]["entry_hash"]
    after = list(verified_batches(ledger, {first: (6, lines[6]["entry_hash"])}))
    assert seqs(after) == [7, 8, 9] and after[0].first_seq == 7
    assert list(verified_batches(ledger, {first: (9, lines[9]["entry_hash"])})) == []
    assert seqs(list(verified_batches(ledger, {"f" * 64: (6, "0" * 64)}))) == list(range(10))  # another ledger's
    with pytest.raises(InputError, match="entry 6, the last one exported before"):
        list(verified_batches(ledger, {first: (6, "e" * 64)}))
    with pytest.raises(InputError, match="entry 12, the last one exported before"):
        list(verified_batches(ledger, {first: (12, "e" * 64)}))


def test_a_line_that_does_not_verify_names_the_ledger_and_line(tmp_path: Path) -> None:
    ledger = tmp_path / "l.jsonl"
    build_ledger(ledger, 5)
    ledger.write_text(ledger.read_text().replace('"run_id":"run-3"', '"run_id":"run-9"'))
    with pytest.raises(InputError) as raised:
        list(verified_batches(ledger))
    assert raised.value.diagnosis().startswith(f"{ledger}: line 4: entry_hash does not match")


def test_details_come_only_from_a_provenance_file_that_matches(tmp_path: Path) -> None:
    ledger = tmp_path / "l.jsonl"
    build_ledger(ledger, 1)
    line = json.loads(ledger.read_text())
    entry = entries._DECODER.decode(ledger.read_bytes().strip())
    provenance = tmp_path / line["provenance_path"]
    provenance.parent.mkdir(parents=True)
    tests = [{"nodeid": t["nodeid"], "outcome": "flaky"} for t in line["tests"]]
    document = {"run": {"workflow": "CI", "run_url": "https://ghe.example/acme/sample/actions/runs/5/attempts/2",
                        "tests": tests}}  # fmt: skip
    provenance.write_text(json.dumps(document))
    assert entries.run_details(tmp_path, entry) == entries.NO_DETAILS  # the ledger holds another digest
    digest = hashlib.sha256(provenance.read_bytes()).hexdigest()
    matching = entries._DECODER.decode(ledger.read_bytes().strip().replace(b"b" * 64, digest.encode()))
    details = entries.run_details(tmp_path, matching)
    assert (details.workflow, details.repository_url) == ("CI", "https://ghe.example/acme/sample")
    assert details.tests is not None
    assert {t["outcome"] for t in json.loads(details.tests)} == ({"flaky"} if tests else set())


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
