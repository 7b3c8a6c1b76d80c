"""The model learns what changes do, end to end: a real git repository whose commits change one
source file each, the real pytest run after each commit, `provenance run` recording it (the changed
files from git), then what the model learnt predicts for a change it has not seen tests fail with yet,
and what `provenance select` ranks by before a failing run has told its ranking from the reference's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.learning.model import Model
from provenance.learning.state import model_path
from tests.support.project import git, run_pytest

SOURCES = {
    "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["src"]\n',
    "src/pkg/__init__.py": "",
    "src/pkg/schema.py": "def load(text):\n    return text.split(',')\n\n\ndef dump(items):\n    return ','.join(items)\n",  # noqa: E501
    "src/pkg/fields.py": "def email(text):\n    return '@' in text\n\n\ndef url(text):\n    return '://' in text\n",
    "tests/test_schema.py": (
        "from pkg.schema import dump, load\n\n\ndef test_load():\n    assert load('a,b') == ['a', 'b']\n\n\n"
        "def test_dump():\n    assert dump(['a', 'b']) == 'a,b'\n"
    ),
    "tests/test_fields.py": (
        "from pkg.fields import email, url\n\n\ndef test_email():\n    assert email('a@b')\n\n\n"
        "def test_url():\n    assert url('https://b')\n"
    ),
}
TESTS = ["tests/test_schema.py::test_load", "tests/test_schema.py::test_dump",
         "tests/test_fields.py::test_email", "tests/test_fields.py::test_url"]  # fmt: skip


def commit_and_run(repo: Path, path: str, text: str) -> int:
    """Commit a change to one file, run the suite with pytest, record the run; the tests that failed."""
    (repo / path).write_text(text)
    git(repo, "commit", "--quiet", "-am", f"change {path}")
    failed = run_pytest(repo, "--json-report", "--json-report-file=report.json").counts.get("failed", 0)
    assert main(["run", "--workspace", str(repo), "--report", "report.json", "--fail-on", "none"], {}) == 0
    return failed


def select_audit(repo: Path, changed: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    """What `select` writes of each test for a change to `changed` (nothing fits the budget)."""
    (repo / "changed.txt").write_text(changed + "\n")
    (repo / "all.txt").write_text("".join(f"{t}\n" for t in TESTS))
    code = main(["select", "--workspace", str(repo), "--tests", "all.txt", "--budget-seconds", "0.000001",
                 "--changed-files", "changed.txt", "--out", "chosen.txt"], {})  # fmt: skip
    assert code == 0
    capsys.readouterr()
    audit: dict[str, object] = json.loads((repo / "chosen.txt.audit.json").read_text())
    return audit


def predictions_for(repo: Path, changed: str) -> dict[str, float]:
    """The probabilities the model the runs saved beside the ledger gives each test for a change to `changed`."""
    ledger = repo / "data" / "ci_runs.jsonl"
    model = Model.load(model_path(ledger))
    return dict(zip(TESTS, model.predict(TESTS, [changed]).tolist(), strict=True))


def test_a_change_ranks_the_tests_that_name_it_and_the_tests_that_failed_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    for path, text in SOURCES.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    (repo / ".gitignore").write_text("report.json\ndata/\nevidence/\n__pycache__/\n*.txt\n*.json\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "base")
    schema, fields = SOURCES["src/pkg/schema.py"], SOURCES["src/pkg/fields.py"]
    # The bug changes the file's size: a rewrite of the same size within the same second could run
    # the stale bytecode Python cached for it.
    assert commit_and_run(repo, "src/pkg/schema.py", schema.replace("split(',')", "split(', ')")) == 1
    assert commit_and_run(repo, "src/pkg/schema.py", schema) == 0  # the fix
    assert commit_and_run(repo, "src/pkg/fields.py", fields + "\n") == 0

    ledger = [json.loads(line) for line in (repo / "data" / "ci_runs.jsonl").read_text().splitlines()]
    assert [e["changed_files"] for e in ledger] == [["src/pkg/schema.py"]] * 2 + [["src/pkg/fields.py"]]
    assert [t["nodeid"] for t in ledger[0]["tests"] if t["result"] == "fail"] == ["tests/test_schema.py::test_load"]
    # The third run changed fields.py: its tests, which mention it, were predicted above test_dump.
    third = {t["nodeid"]: t["p_fail"] for t in ledger[2]["tests"]}
    assert third["tests/test_fields.py::test_email"] > third["tests/test_schema.py::test_dump"]

    after_schema = predictions_for(repo, "src/pkg/schema.py")
    after_fields = predictions_for(repo, "src/pkg/fields.py")
    # Neither test_dump nor test_email ever failed; what separates them is the file that changed.
    assert after_schema["tests/test_schema.py::test_dump"] > after_schema["tests/test_fields.py::test_email"]
    assert after_fields["tests/test_fields.py::test_email"] > after_fields["tests/test_schema.py::test_dump"]
    # test_load failed once, when schema.py changed: more likely when it changes again than otherwise.
    assert after_schema["tests/test_schema.py::test_load"] > after_fields["tests/test_schema.py::test_load"]
    # Its only failing run was the first, which nothing predicted: the model's ranking has yet to reach
    # a failing test sooner than the reference's, so `select` ranks as the reference does and says so.
    audit = select_audit(repo, "src/pkg/schema.py", capsys)
    assert audit["ranked_by"] == "reference"
