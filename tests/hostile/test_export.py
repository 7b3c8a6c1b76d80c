"""Export and query against hostile input: a tampered ledger, failing or overreaching SQL, links planted
in or on the way to the export directory, an export killed half-way, and test names written to drive a
terminal or break out of SQL. Each is one line and exit 2, and the export directory is left as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main
from provenance.ledger.canonical import ZERO_HASH, canonical, hash_member, hash_without
from provenance.ledger.chain import open_for_append
from tests.support.entries import entry_fields

HOSTILE_NAMES = (
    "tests/test_a.py::test_red[\x1b[31mred\x1b[0m]",
    "tests/test_a.py::test_quote['); DROP TABLE results; --]",
    'tests/test_a.py::test_dq["x" || "y"]',
    "tests/test_a.py::test_bidi[\u202eevil]",
    "tests/test_a.py::test_pipe[a|b]",
)


def ledger_of(path: Path, runs: int, names: tuple[str, ...] = ("tests/test_a.py::test_ok",),
              repository: str = "acme/web") -> Path:  # fmt: skip
    """A ledger written by the real append path, each run listing `names` (the last one failing)."""
    with open_for_append(path) as ledger:
        for run in range(runs):
            fields = entry_fields(f"run-{run}", tests=0) | {"repository": repository}
            fields["tests"] = [{"nodeid": name, "result": "fail" if i == len(names) - 1 else "pass",
                                "duration_seconds": 0.5, "p_fail": 0.25} for i, name in enumerate(names)]  # fmt: skip
            fields["counts"] = fields["counts"].model_copy(update={"total": len(names), "passed": len(names) - 1,
                                                                   "failed": 1})  # fmt: skip
            fields["conclusion"] = "failure"
            ledger.append(fields)
    return path


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under the directory (the lock file aside) and its bytes."""
    if not directory.exists():
        return {}
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file() and p.name != ".provenance-export.lock"}  # fmt: skip


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("provenance: error: "), err
    return err


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_tampered_ledger_is_one_line_and_nothing_changes(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = ledger_of(here / "a.jsonl", 4)
    assert main(["export", str(ledger), "--to", "out"]) == 0
    ledger_of(ledger, 2)  # it grows, then one earlier byte is edited
    lines = ledger.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"duration_seconds":0.5', b'"duration_seconds":0.1', 1)
    ledger.write_bytes(b"\n".join(lines))
    before = snapshot(here / "out")
    capsys.readouterr()
    assert main(["export", str(ledger), "--to", "out"]) == 2
    assert "line 2: entry_hash does not match" in one_error(capsys)
    assert snapshot(here / "out") == before
    assert not [p for p in (here / "out").iterdir() if p.name.startswith(".export-tmp-")]


def test_nothing_is_written_unless_every_ledger_verifies(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = ledger_of(here / "good.jsonl", 3), ledger_of(here / "bad.jsonl", 3, repository="acme/api")
    bad.write_bytes(bad.read_bytes().replace(b'"seq":2', b'"seq":7'))
    assert main(["export", str(good), str(bad), "--to", "out"]) == 2
    assert "bad.jsonl: line 3" in one_error(capsys)
    assert snapshot(here / "out") == {}


def forge(ledger: Path, tests: Any) -> None:
    """Append an entry with these `tests`, its hash and link recomputed as a forger would: the chain holds."""
    last = json.loads(ledger.read_bytes().splitlines()[-1])
    fields = last | {"seq": last["seq"] + 1, "prev": last["entry_hash"], "entry_hash": ZERO_HASH, "tests": tests}
    template = canonical(fields)
    zero = hash_member(ZERO_HASH)
    digest, at = hash_without(template, zero)
    with ledger.open("ab") as out:
        out.write(template[:at] + hash_member(digest) + template[at + len(zero) :] + b"\n")


@pytest.mark.parametrize(
    "tests",
    [
        [{"nodeid": "tests/test_a.py::test_ok", "result": "pass", "duration_seconds": "slow", "p_fail": 0.1}],
        {"nodeid": "tests/test_a.py::test_ok"},
        "tests",
    ],
)
def test_an_entry_whose_tests_are_not_tests_is_one_line_and_nothing_changes(
    here: Path, capsys: pytest.CaptureFixture[str], tests: Any
) -> None:
    ledger = ledger_of(here / "a.jsonl", 3)
    assert main(["export", str(ledger), "--to", "out"]) == 0
    before = snapshot(here / "out")
    forge(ledger, tests)
    capsys.readouterr()
    assert main(["export", str(ledger), "--to", "out"]) == 2
    assert "a.jsonl: entries 3-3: a test is not as a ledger records it" in one_error(capsys)
    assert snapshot(here / "out") == before
    assert main(["query", "SELECT count(*) FROM results", "--ledger", str(ledger)]) == 2
    assert "a test is not as a ledger records it" in one_error(capsys)


def test_a_ledger_cut_below_what_was_exported_is_refused(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = ledger_of(here / "a.jsonl", 5)
    assert main(["export", str(ledger), "--to", "out"]) == 0
    before = snapshot(here / "out")
    ledger.write_bytes(b"".join(ledger.read_bytes().splitlines(keepends=True)[:3]))
    capsys.readouterr()
    assert main(["export", str(ledger), "--to", "out"]) == 2
    assert "entry 4, the last one exported before, is no longer in the ledger" in one_error(capsys)
    assert snapshot(here / "out") == before


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        ("SELEC * FROM results", "Parser Error"),
        ("SELECT no_such_column FROM results", "no_such_column"),
        ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
        ("COPY (SELECT 1) TO 'stolen.csv'", "disabled by configuration"),
        ("SET enable_external_access = true", "locked"),
        ("INSTALL httpfs", "disabled by configuration"),
    ],
)
def test_sql_that_fails_or_reaches_out_is_one_line(here: Path, capsys: pytest.CaptureFixture[str], sql: str,
                                                   said: str) -> None:  # fmt: skip
    ledger = ledger_of(here / "a.jsonl", 2)
    assert main(["export", str(ledger), "--to", "out"]) == 0
    capsys.readouterr()
    assert main(["query", sql, "--from", "out"]) == 2
    assert said in one_error(capsys)
    assert not (here / "stolen.csv").exists() and not (here / "out" / "stolen.csv").exists()


def test_a_destination_through_a_link_is_refused(here: Path, capsys: pytest.CaptureFixture[str],
                                                 tmp_path_factory: pytest.TempPathFactory) -> None:  # fmt: skip
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    ledger = ledger_of(here / "a.jsonl", 2)
    (here / "link").symlink_to(elsewhere, target_is_directory=True)
    assert main(["export", str(ledger), "--to", "link"]) == 2
    assert "is a symlink" in one_error(capsys)
    assert main(["export", str(ledger), "--to", "link/inner"]) == 2
    one_error(capsys)
    assert main(["export", str(ledger), "--to", str(elsewhere)]) == 2
    assert "leads outside" in one_error(capsys)
    assert list(elsewhere.iterdir()) == []


def test_a_partition_planted_as_a_link_stops_the_export_before_any_file_moves(
    here: Path, capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    web, api = ledger_of(here / "web.jsonl", 2), ledger_of(here / "api.jsonl", 2, repository="acme/zzz")
    (here / "out").mkdir()
    (here / "out" / "repository=acme%2Fzzz").symlink_to(elsewhere, target_is_directory=True)
    assert main(["export", str(web), str(api), "--to", "out"]) == 2
    assert "symlink" in one_error(capsys)
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in (here / "out").iterdir()) == [".provenance-export.lock", "repository=acme%2Fzzz"]
    assert main(["query", "SELECT 1", "--from", "out"]) == 2
    assert "symlink" in one_error(capsys)


def test_what_a_killed_export_left_is_replaced_not_counted_twice(here: Path) -> None:
    ledger = ledger_of(here / "a.jsonl", 3)
    assert main(["export", str(ledger), "--to", "out"]) == 0
    ledger_of(ledger, 2)
    assert main(["export", str(ledger), "--to", "killed"]) == 0  # what the killed export had written, in full
    state = json.loads((here / "out" / ".provenance-export.json").read_text())
    # As a kill between the moves and the record leaves it: the new entries' files in place, the record not
    # updated, and a temporary directory behind.
    (ledger_id,) = state["ledgers"]
    for part in (here / "killed").rglob(f"{ledger_id[:16]}-000000000000-*.parquet"):
        target = here / "out" / part.relative_to(here / "killed")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target.with_name(part.name.replace("-000000000000-", "-000000000003-")))
    (here / "out" / ".export-tmp-killed").mkdir()
    (here / "out" / ".export-tmp-killed" / "half.parquet").write_bytes(b"PAR1")
    assert main(["export", str(ledger), "--to", "out"]) == 0
    assert not (here / "out" / ".export-tmp-killed").exists()
    counts = query_rows(here, 'SELECT count(*) AS n, count(DISTINCT "provenance.ledger.seq") AS runs FROM results')
    assert counts == [{"n": 5, "runs": 5}]


def query_rows(here: Path, sql: str, *args: str) -> list[dict[str, Any]]:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "provenance", "query", sql, "--from", "out", *args], cwd=here,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_hostile_test_names_stay_text(here: Path) -> None:
    ledger = ledger_of(here / "a.jsonl", 2, names=HOSTILE_NAMES)
    assert main(["export", str(ledger), "--to", "out"]) == 0
    rows = query_rows(here, 'SELECT DISTINCT "test.case.name" AS name FROM results ORDER BY name')
    assert sorted(r["name"] for r in rows) == sorted(HOSTILE_NAMES)  # exactly, quotes and all: never SQL
    import subprocess
    import sys

    table = subprocess.run([sys.executable, "-m", "provenance", "query", 'SELECT "test.case.name" FROM results',
                            "--from", "out", "--format", "table"], cwd=here, capture_output=True, text=True,
                           check=True).stdout  # fmt: skip
    assert "\x1b" not in table and "\u202e" not in table
    assert "\\x1b[31mred" in table and "\\u202eevil" in table
