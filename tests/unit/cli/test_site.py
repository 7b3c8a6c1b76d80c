"""`provenance site`: exit 0 with the page written, exit 2 with one line on a ledger that does not verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import main
from tests.support.history import build_history


def test_the_page_is_built_and_described_in_one_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_history(tmp_path / "ci_runs.jsonl", runs=12, tests=40)
    code = main(["site", "--ledger", str(tmp_path / "ci_runs.jsonl"), "--out", "site", "--workspace", str(tmp_path)],
                env={})  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    described = json.loads(out)
    assert (described["entries"], described["tests"], described["files"]) == (12, 40, 5)
    assert described["bytes"] == sum(p.stat().st_size for p in (tmp_path / "site").iterdir())
    assert err.startswith("site: page of 12 runs and 40 tests written")


def test_a_ledger_that_does_not_verify_is_exit_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ci_runs.jsonl"
    build_history(ledger, runs=5, tests=10)
    lines = ledger.read_bytes().splitlines(keepends=True)
    ledger.write_bytes(b"".join([lines[0], lines[2], lines[1], *lines[3:]]))  # two entries swapped
    code = main(["site", "--ledger", str(ledger), "--out", "site", "--workspace", str(tmp_path)], env={})
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (f"provenance: error: {ledger}: line 2: does not verify (seq is 2, expected 1 (missing or "
                   "reordered)); run `provenance verify`\n")  # fmt: skip
    assert not (tmp_path / "site").exists()
