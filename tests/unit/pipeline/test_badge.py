"""The badge: a shields.io endpoint file from a real run's counts, coloured by its verdict, offline."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main
from tests.support.project import copy_sample, run_pytest, sample_checkout


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project with the report of a real run of its suite (some tests fail on purpose)."""
    workspace = copy_sample(tmp_path_factory.mktemp("badge") / "project")
    assert run_pytest(workspace, "--json-report", "--json-report-file=report.json").exit_status == 1
    return workspace


def fresh(sample: Path, tmp_path: Path) -> Path:
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "report.json").write_bytes((sample / "report.json").read_bytes())
    return workspace


def run(workspace: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["run", "--workspace", str(workspace), "--report", "report.json", "--run-id", "5", *args], {})
    provenance = workspace / "evidence" / "ci_provenance_5.json"
    return code, json.loads(provenance.read_text()) if provenance.exists() else {}


def expected_message(counts: dict[str, int]) -> str:
    parts = [f"{counts['passed']} passed", f"{counts['failed']} failed"]
    parts += [f"{counts['errors']} errors"] if counts["errors"] else []
    parts += [f"{counts['skipped']} skipped"] if counts["skipped"] else []
    return ", ".join(parts)


def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the badge must be written without a network call")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_a_failed_run_gives_a_red_badge_with_its_counts(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = fresh(sample, tmp_path)
    no_network(monkeypatch)
    code, record = run(workspace, "--badge-path", "badges/tests.json")
    assert code == 1
    counts = record["run"]["counts"]
    assert counts["failed"] > 0 and counts["passed"] > 0
    badge = json.loads((workspace / "badges" / "tests.json").read_text())
    assert badge == {"schemaVersion": 1, "label": "tests", "message": expected_message(counts), "color": "red"}
    outputs = json.loads(capsys.readouterr().out)
    assert outputs["badge_path"] == "badges/tests.json"


def test_the_colour_follows_the_verdict_not_the_counts(tmp_path: Path) -> None:
    """`fail-on: regression`: the same failures again are known ones, a neutral run and a yellow badge."""
    workspace = sample_checkout(tmp_path).path
    assert run_pytest(workspace, "--json-report", "--json-report-file=report.json").exit_status == 1
    args = ["run", "--workspace", str(workspace), "--report", "report.json", "--fail-on", "regression"]
    assert main([*args, "--run-id", "1", "--badge-path", "badge.json"], {}) == 1
    assert json.loads((workspace / "badge.json").read_text())["color"] == "red"
    assert main([*args, "--run-id", "2", "--badge-path", "badge.json"], {}) == 0
    record = json.loads((workspace / "evidence" / "ci_provenance_2.json").read_text())
    assert record["verdict"]["conclusion"] == "neutral" and record["run"]["counts"]["failed"] > 0
    badge = json.loads((workspace / "badge.json").read_text())
    assert badge["color"] == "yellow" and badge["message"] == expected_message(record["run"]["counts"])


def test_a_passing_run_gives_a_green_badge(tmp_path: Path) -> None:
    workspace = copy_sample(tmp_path / "project")
    one = "tests/test_stats.py::test_mean_of_three"
    done = run_pytest(workspace, one, "--json-report", "--json-report-file=report.json")
    assert done.exit_status == 0 and done.counts["passed"] > 0
    code, record = run(workspace, "--badge-path", "badge.json")
    assert code == 0 and record["verdict"]["conclusion"] == "success"
    badge = json.loads((workspace / "badge.json").read_text())
    assert badge["color"] == "brightgreen"
    assert badge["message"].startswith(f"{record['run']['counts']['passed']} passed")
    assert "failed" not in badge["message"]


def test_no_badge_unless_asked(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = fresh(sample, tmp_path)
    assert run(workspace)[0] == 1
    assert json.loads(capsys.readouterr().out)["badge_path"] == ""
    assert sorted(p.name for p in workspace.iterdir()) == ["data", "evidence", "report.json"]


@pytest.mark.parametrize(
    ("badge_path", "expected"),
    [("../badge.json", "leads outside the workspace"), ("badges", "expected a file, found a directory")],
)
def test_a_bad_badge_path_writes_nothing(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], badge_path: str, expected: str
) -> None:
    workspace = fresh(sample, tmp_path)
    (workspace / "badges").mkdir()
    code, record = run(workspace, "--badge-path", badge_path)
    assert code == 2 and record == {}
    error = capsys.readouterr().err
    assert "badge-path" in error and expected in error
    assert not (workspace / "data").exists() and not (tmp_path / "badge.json").exists()


def test_a_linked_badge_path_is_refused(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A committed `badges -> /somewhere` must not carry the write out of the workspace."""
    workspace = fresh(sample, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (workspace / "badges").symlink_to(outside)
    code, _ = run(workspace, "--badge-path", "badges/tests.json")
    assert code == 2 and "badge-path" in capsys.readouterr().err
    assert list(outside.iterdir()) == []
