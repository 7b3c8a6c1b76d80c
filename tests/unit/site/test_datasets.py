"""Each dataset's checksum history: the runs where its digest first appeared or changed."""

from __future__ import annotations

from pathlib import Path

from provenance.site.build import page_data
from tests.support.history import write_runs


def test_only_changes_of_a_checksum_are_listed(tmp_path: Path) -> None:
    one, two = "1" * 64, "2" * 64
    datasets: list[dict[str, str | None]] = [{"train": one}, {"train": one, "eval": two}, {"train": None, "eval": two},
                                             {"train": two, "eval": two}, {"train": two}]  # fmt: skip
    write_runs(tmp_path / "ledger.jsonl", [[("t.py::test_a", "pass", 0.1, None)]] * 5, datasets=datasets)
    found = {d["id"]: d for d in page_data(tmp_path / "ledger.jsonl")["datasets"]}
    assert list(found) == ["eval", "train"]
    assert found["train"]["runs"] == 5 and found["eval"]["runs"] == 3
    assert [(c["seq"], c["checksum"]) for c in found["train"]["changes"]] == [(0, one), (2, None), (3, two)]
    assert [(c["seq"], c["checksum"]) for c in found["eval"]["changes"]] == [(1, two)]
    assert found["train"]["changes"][0]["run_id"] == "9000000"
