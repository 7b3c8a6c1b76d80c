"""Several repositories, each a real git repository whose real pytest suite is run and recorded by
`provenance run` many times, as a CI system would: for the export and query tests. One run is a
re-run of a commit already recorded, on a day the suite's resource was down.

Each suite has tests that always pass, one that fails on odd runs, one whose fixture errors every
third run, a skip, an xfail, and a test that fails its first attempt and passes on the rerun
(pytest-rerunfailures) on even runs: flaky. Each repository is recorded under its own GitHub
context (repository, run id, workflow), so the runs' pages are in their provenance files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.cli import main
from tests.support.project import git

SUITE = """
import os
import time
from pathlib import Path

import pytest

RUN = int(Path(__file__).with_name("run.txt").read_text())
EXTRA = {extra}


def test_stable():
    assert True


@pytest.mark.parametrize("n", range(EXTRA))
def test_param(n):
    time.sleep(0.002 * n)
    assert n >= 0


def test_breaks_on_odd_runs():
    assert RUN % 2 == 0, "odd run"


@pytest.fixture
def resource():
    if RUN % 3 == 2 or os.environ.get("RESOURCE_DOWN"):
        raise RuntimeError("the resource is down")
    return 1


def test_uses_resource(resource):
    assert resource == 1


@pytest.mark.skip(reason="not on this platform")
def test_skipped():
    pass


@pytest.mark.xfail(reason="a known bug")
def test_known_bug():
    assert False


def test_flaky_on_even_runs():
    marker = Path(__file__).with_name(f"attempted-{{RUN}}.txt")
    first = not marker.exists()
    marker.write_text("1")
    assert not (first and RUN % 2 == 0), "fails once, then passes"
"""


@dataclass
class Recorded:
    """One recorded run: its repository, run id, commit, and the pytest report it recorded."""

    repository: str
    run_id: str
    commit: str
    report: dict[str, Any]


@dataclass
class Fleet:
    """The repositories' checkouts (each with its ledger at data/ci_runs.jsonl) and every recorded run."""

    root: Path
    repositories: dict[str, Path] = field(default_factory=dict)
    runs: list[Recorded] = field(default_factory=list)

    def ledger(self, repository: str) -> Path:
        return self.repositories[repository] / "data" / "ci_runs.jsonl"

    @property
    def ledgers(self) -> list[Path]:
        return [self.ledger(name) for name in self.repositories]


def make_repository(root: Path, name: str, extra: int) -> Path:
    repo = root / name.replace("/", "__")
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_suite.py").write_text(SUITE.format(extra=extra))
    (repo / "tests" / "run.txt").write_text("-1")
    (repo / ".gitignore").write_text("report.json\ndata/\nevidence/\nwarehouse/\n__pycache__/\nattempted-*\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "the suite")
    return repo


def record_run(fleet: Fleet, repository: str, number: int, run_id: str, *, commit: bool = True,
               extra_args: tuple[str, ...] = (), resource_down: bool = False) -> Recorded:  # fmt: skip
    """Run the suite (run `number`), record it with `provenance run` under a GitHub context."""
    repo = fleet.repositories[repository]
    (repo / "tests" / "run.txt").write_text(str(number))
    if commit:
        git(repo, "commit", "--quiet", "-am", f"run {number}")
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--reruns", "1", "tests",
         "--json-report", "--json-report-file=report.json"],
        cwd=repo, capture_output=True, text=True, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PYTEST_"))}
        | ({"RESOURCE_DOWN": "1"} if resource_down else {}),
    )  # fmt: skip
    env = {
        "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": repository, "GITHUB_RUN_ID": run_id, "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_WORKFLOW": f"CI of {repository}", "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_OUTPUT": str(fleet.root / "outputs"),
    }  # fmt: skip
    argv = ["run", "--workspace", str(repo), "--report", "report.json", "--fail-on", "none", "--no-summary",
            "--no-annotations", *extra_args]  # fmt: skip
    code = main(argv, env)
    assert code == 0, code
    recorded = Recorded(repository, run_id, git(repo, "rev-parse", "HEAD"),
                        json.loads((repo / "report.json").read_text()))  # fmt: skip
    fleet.runs.append(recorded)
    return recorded


def build_fleet(root: Path, runs: int = 5) -> Fleet:
    """Three repositories, `runs` recorded runs each; acme/api's last run re-runs its previous commit."""
    fleet = Fleet(root)
    for index, name in enumerate(("acme/web", "acme/api", "umbrella/data-tools")):
        fleet.repositories[name] = make_repository(root, name, extra=2 + index)
        for number in range(runs):
            again = name == "acme/api" and number == runs - 1
            run_id = str(1000 * (index + 1) + number)
            record_run(fleet, name, number - 1 if again else number, run_id, commit=not again, resource_down=again)
    return fleet
