"""Every command's JSON uses one key style, snake case; step outputs stay kebab case on GitHub only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main
from tests.support.project import copy_sample, run_pytest

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")


def keys(document: Any) -> set[str]:
    if isinstance(document, dict):
        return set(document) | {k for value in document.values() for k in keys(value)}
    if isinstance(document, list):
        return {k for value in document for k in keys(value)}
    return set()


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What each command prints on stdout, run over the sample project's real suite and ledger."""
    workspace = copy_sample(tmp_path_factory.mktemp("keys") / "project")
    assert run_pytest(workspace, "--json-report", "--json-report-file=report.json").exit_status == 1
    return {"workspace": workspace}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    main(argv, {})
    return json.loads(capsys.readouterr().out)


def test_every_command_prints_snake_case_keys(
    printed: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace: Path = printed["workspace"]
    monkeypatch.chdir(workspace)  # export and site write inside the current directory
    ws = ["--workspace", str(workspace)]
    ledger = str(workspace / "data" / "ci_runs.jsonl")
    outputs = [run(["run", *ws, "--report", "report.json", "--run-id", str(i)], capsys) for i in range(3)]
    documents = {"run": outputs[-1]}
    documents["select"] = run(["select", *ws, "--out", "selected.txt"], capsys)
    documents["verify"] = run(["verify", ledger], capsys)
    (workspace / "proof.json").write_text(json.dumps(run(["prove", ledger, "--seq", "1"], capsys)))
    documents["prove"] = json.loads((workspace / "proof.json").read_text())
    documents["check-proof"] = run(["check-proof", str(workspace / "proof.json")], capsys)
    documents["validate"] = run(["validate", *ws], capsys)
    documents["validate --update"] = run(["validate", *ws, "--update", "--dry-run"], capsys)
    predictions = workspace / "predictions.jsonl"
    documents["backtest"] = run(["backtest", "--history", ledger, "--warmup", "1", "--emit-predictions",
                                 str(predictions)], capsys)  # fmt: skip
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    (workspace / "scored.jsonl").write_text("".join(json.dumps({"p_fail": r["p_fail"], "failed": r["failed"]}) + "\n"
                                                    for r in rows))  # fmt: skip
    documents["calibrate"] = run(["calibrate", "--predictions", str(workspace / "scored.jsonl")], capsys)
    documents["determinism"] = run(["determinism", str(workspace / "evidence"), str(workspace / "evidence")], capsys)
    documents["export"] = run(["export", ledger, "--to", "warehouse"], capsys)
    documents["query"] = run(["query", "SELECT count(*) AS tests FROM results", "--from", "warehouse"], capsys)
    documents["site"] = run(["site", "--ledger", ledger, "--out", "site"], capsys)
    documents["selected.txt.audit.json"] = json.loads((workspace / "selected.txt.audit.json").read_text())
    documents["predictions"] = rows

    assert {"tests_failed", "run_id", "provenance_path", "ledger_head"} <= set(documents["run"])
    assert {"selected_count", "selection_path"} <= set(documents["select"])
    kebab = {name: sorted(k for k in keys(doc) if KEBAB.match(k)) for name, doc in documents.items()}
    assert kebab == {name: [] for name in documents}


def test_on_github_the_step_outputs_stay_kebab_case(printed: dict[str, Any], tmp_path: Path) -> None:
    workspace: Path = printed["workspace"]
    output = tmp_path / "output"
    output.touch()
    args = ["run", "--workspace", str(workspace), "--report", "report.json", "--run-id", "on-github"]
    main(args, {"GITHUB_OUTPUT": str(output)})
    names = re.findall(r"^([\w-]+)<<", output.read_text(), re.M)
    assert "tests-failed" in names and "run-id" in names and not [n for n in names if "_" in n]
