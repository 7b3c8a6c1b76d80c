"""Export and query end to end, on the records of three repositories, each a real git repository whose
real pytest suite was run and recorded by `provenance run` five times (tests/support/fleet.py).

The README's five queries are taken from the README itself and run with `provenance query`; each
answer is checked against the same figures computed here from the ledgers and provenance files
read as plain JSON. A row's ledger entry is proved with `provenance prove`."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main
from tests.support.fleet import Fleet, build_fleet, record_run
from tests.support.runner import parse_output_file

ROOT = Path(__file__).resolve().parents[2]
FAILED = ("fail", "error")


def readme_queries() -> list[str]:
    """The SQL blocks of the README's "Querying the record" section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Querying the record", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The fleet, each repository's ledger exported (from its own checkout) into one directory, `warehouse`."""
    fleet = build_fleet(tmp_path_factory.mktemp("fleet"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(fleet.root)
        for name, repo in fleet.repositories.items():
            assert main(["export", str(fleet.ledger(name)), "--to", "warehouse", "--workspace", str(repo)]) == 0
        yield fleet


@pytest.fixture
def query(fleet: Fleet, capsysbinary: pytest.CaptureFixture[bytes],
          monkeypatch: pytest.MonkeyPatch) -> Any:  # fmt: skip
    """`provenance query SQL ARGS...`: its exit code and rows (JSON lines)."""
    monkeypatch.chdir(fleet.root)

    def run(sql: str, *args: str) -> list[dict[str, Any]]:
        capsysbinary.readouterr()
        assert main(["query", sql, *(args or ("--from", "warehouse"))]) == 0
        return [json.loads(line) for line in capsysbinary.readouterr().out.splitlines()]

    return run


def recorded_tests(fleet: Fleet) -> list[dict[str, Any]]:
    """Every test of every run, from the ledgers and provenance files read as plain JSON."""
    rows = []
    for name, repo in fleet.repositories.items():
        for line in fleet.ledger(name).read_text().splitlines():
            entry = json.loads(line)
            run = json.loads((repo / entry["provenance_path"]).read_text())["run"]
            outcomes = {test["nodeid"]: test["outcome"] for test in run["tests"]}
            rows += [{"repository": name, "commit": entry["commit"], "run": entry["run_id"], "seq": entry["seq"],
                      "hash": entry["entry_hash"], "conclusion": entry["conclusion"], "test": test["nodeid"],
                      "result": test["result"], "outcome": outcomes[test["nodeid"]], "p_fail": test["p_fail"],
                      "seconds": test["duration_seconds"]}
                     for test in entry["tests"]]  # fmt: skip
    return rows


def test_the_readme_shows_five_queries() -> None:
    assert len(readme_queries()) == 5


def test_every_run_and_test_is_a_row_with_its_otel_names(fleet: Fleet, query: Any) -> None:
    expected = recorded_tests(fleet)
    rows = query('SELECT * FROM results ORDER BY repository, "provenance.ledger.seq", "test.case.name"')
    assert len(rows) == len(expected) == sum(len(run.report["tests"]) for run in fleet.runs)
    assert {r["repository"] for r in rows} == set(fleet.repositories)
    by_key = {(e["hash"], e["test"]): e for e in expected}
    for row in rows:
        want = by_key[(row["provenance.ledger.entry_hash"], row["test.case.name"])]
        status = "pass" if want["result"] == "pass" else "skip" if want["result"] == "skip" else "fail"
        assert row["test.case.result.status"] == status
        assert row["provenance.test.outcome"] == want["outcome"]
        assert row["vcs.ref.head.revision"] == want["commit"]
        assert row["cicd.pipeline.run.id"] == want["run"]
        assert row["cicd.pipeline.name"] == f"CI of {row['repository']}"
        assert row["cicd.pipeline.run.url.full"] == f"https://github.com/{row['repository']}/actions/runs/{want['run']}"
        assert row["vcs.repository.url.full"] == f"https://github.com/{row['repository']}"
        assert row["test.suite.name"] == row["test.case.name"].split("::")[0]
        assert row["date"] == row["provenance.run.recorded_at"][:10]


def test_question_1_the_tests_that_fail_most(fleet: Fleet, query: Any) -> None:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in recorded_tests(fleet):
        counts[(row["repository"], row["test"])][0] += row["result"] in FAILED
        counts[(row["repository"], row["test"])][1] += 1
    expected = sorted(((r, t, f, n) for (r, t), (f, n) in counts.items() if f), key=lambda x: (-x[2], x[0], x[1]))
    rows = query(readme_queries()[0])
    assert [(r["repository"], r["test"], r["failures"], r["runs"]) for r in rows] == expected
    assert all(math.isclose(r["failure_rate"], r["failures"] / r["runs"], abs_tol=0.0005) for r in rows)
    assert any(test.endswith("test_breaks_on_odd_runs") for _, test, _, _ in expected)


def test_question_2_the_flaky_tests(fleet: Fleet, query: Any) -> None:
    reruns: dict[tuple[str, str], int] = defaultdict(int)
    statuses: dict[tuple[str, str, str], set[bool]] = defaultdict(set)
    for row in recorded_tests(fleet):
        reruns[(row["repository"], row["test"])] += row["outcome"] == "flaky"
        if row["result"] != "skip":
            statuses[(row["repository"], row["test"], row["commit"])].add(row["result"] == "pass")
    mixed: dict[tuple[str, str], int] = defaultdict(int)
    for (repository, test, _), seen in statuses.items():
        mixed[(repository, test)] += seen == {True, False}
    expected = sorted((r, t, reruns[(r, t)], mixed[(r, t)]) for r, t in reruns if reruns[(r, t)] or mixed[(r, t)])
    rows = query(readme_queries()[1])
    assert [
        (r["repository"], r["test"], r["passed_on_rerun"], r["commits_passed_and_failed"]) for r in rows
    ] == expected
    assert ("acme/api", "tests/test_suite.py::test_uses_resource", 0, 1) in expected  # the re-run on the same commit
    assert all(passed for r, t, passed, _ in expected if t.endswith("test_flaky_on_even_runs"))


def test_question_3_what_ran_on_each_commit_and_its_proof(
    fleet: Fleet, query: Any, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    runs: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in recorded_tests(fleet):
        runs[(row["repository"], row["commit"], row["run"])].append(row)
    expected = sorted(((r, c, run, tests[0]["conclusion"], sum(t["result"] in FAILED for t in tests), len(tests),
                        tests[0]["seq"], tests[0]["hash"]) for (r, c, run), tests in runs.items()),
                      key=lambda x: (x[0], x[6]))  # fmt: skip
    rows = query(readme_queries()[2])
    got = [(r["repository"], r["commit"], r["run"], r["conclusion"], r["failed"], r["tests"], r["seq"],
            r["entry_hash"]) for r in rows]  # fmt: skip
    assert got == expected
    assert len({(r["repository"], r["commit"]) for r in rows}) < len(rows)  # a commit tested twice
    for row in rows[::4]:  # each row's entry, proved against its ledger
        capsysbinary.readouterr()
        assert main(["prove", str(fleet.ledger(row["repository"])), "--seq", str(row["seq"])]) == 0
        proof = json.loads(capsysbinary.readouterr().out)
        assert proof["entry"]["entry_hash"] == row["entry_hash"] and proof["leaf_index"] == row["seq"]
        proof_file = fleet.root / "proof.json"
        proof_file.write_text(json.dumps(proof))
        assert main(["check-proof", str(proof_file)]) == 0


def test_question_4_where_the_time_goes(fleet: Fleet, query: Any) -> None:
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    for row in recorded_tests(fleet):
        seconds[(row["repository"], row["test"])] += row["seconds"]
    rows = query(readme_queries()[3])
    assert len(rows) == min(20, len(seconds))
    for row in rows:
        assert math.isclose(row["seconds"], seconds[(row["repository"], row["test"])], abs_tol=0.0006)
        assert row["suite"] == row["test"].split("::")[0]
    assert [r["seconds"] for r in rows] == sorted((r["seconds"] for r in rows), reverse=True)
    shown = {(r["repository"], r["test"]) for r in rows}
    assert all(value <= rows[-1]["seconds"] + 0.0006 for key, value in seconds.items() if key not in shown)


def test_question_5_predictions_against_outcomes(fleet: Fleet, query: Any) -> None:
    buckets: dict[float, list[tuple[float, bool]]] = defaultdict(list)
    for row in recorded_tests(fleet):
        if row["p_fail"] is not None and row["result"] != "skip":
            buckets[min(math.floor(row["p_fail"] * 10), 9) / 10].append((row["p_fail"], row["result"] in FAILED))
    rows = query(readme_queries()[4])
    assert [r["predicted_from"] for r in rows] == sorted(buckets)
    for row in rows:
        items = buckets[row["predicted_from"]]
        assert row["tests"] == len(items)
        assert math.isclose(row["predicted"], sum(p for p, _ in items) / len(items), abs_tol=0.0006)
        assert math.isclose(row["observed"], sum(f for _, f in items) / len(items), abs_tol=0.0006)
    assert sum(r["tests"] for r in rows) > 0


def test_ledgers_read_directly_give_the_exported_rows(fleet: Fleet, query: Any) -> None:
    sql = ('SELECT repository, date, "provenance.ledger.entry_hash", "test.case.name", "test.case.result.status", '
           '"provenance.test.p_fail", "provenance.run.recorded_at" FROM results ORDER BY ALL')  # fmt: skip
    ledgers = [arg for ledger in fleet.ledgers for arg in ("--ledger", str(ledger))]
    assert query(sql, *ledgers) == query(sql)
    both = query("SELECT count(*) AS n FROM results", "--from", "warehouse", *ledgers)
    assert both == [{"n": 2 * len(recorded_tests(fleet))}]


def test_the_action_exports_its_run_beside_the_evidence(fleet: Fleet, query: Any) -> None:
    name = "umbrella/data-tools"
    run = record_run(fleet, name, 7, "3099", extra_args=("--export",))
    outputs = parse_output_file(fleet.root / "outputs")
    assert outputs["export-path"] == "evidence/results"
    exported = fleet.repositories[name] / "evidence" / "results"
    head = json.loads(fleet.ledger(name).read_text().splitlines()[-1])
    rows = query('SELECT "provenance.ledger.entry_hash" AS hash, count(*) AS tests, any_value(repository) AS repo '
                 "FROM results GROUP BY ALL", "--from", str(exported))  # fmt: skip
    assert rows == [{"hash": head["entry_hash"], "tests": len(run.report["tests"]), "repo": name}]
