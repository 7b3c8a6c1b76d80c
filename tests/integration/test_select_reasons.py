"""Why each test runs or not, end to end: a real git repository, the real pytest run after each commit
recorded by `provenance run`, then `provenance select` with a step summary to write. Every test of
the list must be in the audit file exactly once with a reason that agrees with the chosen file, the
summary's chart must parse back to the audit's own figures, and a hostile node id must stay text."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main
from provenance.github.markdown import code
from provenance.selection.budget import Reason
from tests.support.project import git, run_pytest

HOSTILE = "tests/test_text.py::test_shout[a|b<script>`x`]"
SOURCES = {
    "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["src"]\n',
    "src/calc/__init__.py": "",
    "src/calc/text.py": "def shout(text):\n    return text.upper()\n",
    "src/calc/maths.py": "def add(a, b):\n    return a + b\n",
    "tests/test_text.py": (
        "import time\n\nimport pytest\n\nfrom calc.text import shout\n\n\n"
        '@pytest.mark.parametrize("text", ["a|b<script>`x`"])\ndef test_shout(text):\n'
        "    time.sleep(0.4)\n    assert shout(text) == text.upper()\n"
    ),
    "tests/test_maths.py": (
        "import time\n\nimport pytest\n\nfrom calc.maths import add\n\n\n"
        '@pytest.mark.parametrize("n", range(8))\ndef test_add(n):\n'
        "    time.sleep(0.01)\n    assert add(n, 1) == n + 1\n"
    ),
    "tests/test_misc.py": "def test_one():\n    assert True\n\n\ndef test_two():\n    assert True\n",
}
ALL = [HOSTILE, *(f"tests/test_maths.py::test_add[{n}]" for n in range(8)), "tests/test_misc.py::test_one",
       "tests/test_misc.py::test_two", "tests/test_new.py::test_new"]  # fmt: skip
RUNS = {Reason.NEW, Reason.FAILED_LAST_RUN, Reason.FILE_CHANGED, Reason.RANKED, Reason.EXPLORATION,
        Reason.CONFIDENCE_TARGET, Reason.FULL_RUN}  # fmt: skip


def commit_and_run(repo: Path, path: str, text: str) -> None:
    """Commit a change to one file, run the suite with pytest, record the run."""
    (repo / path).write_text(text)
    git(repo, "commit", "--quiet", "-am", f"change {path}")
    run_pytest(repo, "--json-report", "--json-report-file=report.json")
    assert main(["run", "--workspace", str(repo), "--report", "report.json", "--fail-on", "none"], {}) == 0


@pytest.fixture(scope="module")
def selected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    """The repository after three recorded runs and one select: the audit record and the step summary."""
    repo = tmp_path_factory.mktemp("reasons") / "repo"
    for path, text in SOURCES.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    (repo / ".gitignore").write_text("report.json\ndata/\nevidence/\n__pycache__/\n*.txt\n*.json\n*.md\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "base")
    text = SOURCES["src/calc/text.py"]
    commit_and_run(repo, "src/calc/text.py", text.replace("upper()", "lower()  # a bug"))  # the hostile test fails
    commit_and_run(repo, "src/calc/text.py", text)  # fixed
    commit_and_run(repo, "src/calc/maths.py", SOURCES["src/calc/maths.py"] + "\n")
    (repo / "all.txt").write_text("".join(f"{t}\n" for t in ALL))
    (repo / "changed.txt").write_text("tests/test_misc.py\n")
    summary = repo / "summary.md"
    summary.write_text("earlier step output\n")
    argv = ["select", "--workspace", str(repo), "--tests", "all.txt", "--budget", "0.2", "--full-run-every", "0",
            "--changed-files", "changed.txt", "--out", "chosen.txt"]  # fmt: skip
    code_ = main(argv, {"GITHUB_STEP_SUMMARY": str(summary)})
    assert code_ == 0
    audit = json.loads((repo / "chosen.txt.audit.json").read_text())
    return repo, audit, summary.read_text()


def test_every_test_is_explained_once_with_a_reason_that_agrees_with_the_choice(
    selected: tuple[Path, dict[str, Any], str],
) -> None:
    repo, audit, _ = selected
    tests = audit["tests"]
    assert sorted(t["test"] for t in tests) == sorted(ALL) and len(tests) == len(ALL)
    chosen = set((repo / "chosen.txt").read_text().splitlines())
    line = audit["cut_off_failures_per_second"]
    for t in tests:
        reason = Reason(t["reason"])
        assert t["runs"] == (t["test"] in chosen) == (reason in RUNS), t
        assert 0.0 <= t["p_fail"] <= 1.0 and t["expected_seconds"] >= 0.0
        if reason is Reason.BELOW_CUT_OFF:
            assert t["failures_per_second"] < line
        if reason is Reason.DID_NOT_FIT and line is not None:
            assert t["failures_per_second"] >= line
    reasons = {t["test"]: t["reason"] for t in tests}
    assert reasons["tests/test_new.py::test_new"] == "new"
    assert reasons["tests/test_misc.py::test_one"] == reasons["tests/test_misc.py::test_two"] == "file-changed"
    assert reasons[HOSTILE] in ("below-cut-off", "did-not-fit")  # 0.4 s does not fit in 0.2 of 0.5 s
    assert audit["selected"] == len(chosen) and audit["skipped"] == len(ALL) - len(chosen)
    assert audit["ranked_by"] == "reference"  # three runs, none failing: nothing has told the rankings apart


def mermaid(summary: str) -> dict[str, list[float]]:
    """The chart's series, parsed back; any line that is not what xychart-beta expects fails."""
    blocks = re.findall(r"```mermaid\n(.*?)```", summary, re.S)
    assert len(blocks) == 1
    lines = blocks[0].strip().split("\n")
    assert lines[0] == "xychart-beta"
    series: dict[str, list[float]] = {}
    for line in lines[1:]:
        key, _, rest = line.strip().partition(" ")
        if key == "title":
            assert re.fullmatch(r'"[^"]+"', rest)
        elif key == "x-axis":
            found = re.fullmatch(r'"[^"]+" \[([0-9., ]+)\]', rest)
            assert found
            series["x"] = [float(v) for v in found.group(1).split(", ")]
        elif key == "y-axis":
            assert re.fullmatch(r'"[^"]+" 0 --> 100', rest)
        else:
            found = re.fullmatch(r"\[([0-9., ]+)\]", rest)
            assert key in ("bar", "line") and key not in series and found, line
            series[key] = [float(v) for v in found.group(1).split(", ")]
    assert set(series) == {"x", "bar", "line"}
    return series


def test_the_summary_chart_is_the_audit_curve_with_the_budget_marked(
    selected: tuple[Path, dict[str, Any], str],
) -> None:
    _, audit, summary = selected
    assert summary.startswith("earlier step output\n## ")  # appended, never overwriting
    chart = mermaid(summary)
    x, line, bar = chart["x"], chart["line"], chart["bar"]
    assert len(x) == len(line) == len(bar) and x == sorted(set(x)) and x[0] == 0.0 and x[-1] == 100.0
    assert all(0.0 <= v <= 100.0 for v in line) and line == sorted(line) and line[-1] == 100.0
    share = round(audit["budget_share"] * 100, 1)
    assert [i for i, v in enumerate(bar) if v] == [x.index(share)]
    assert bar[x.index(share)] == round(audit["p_catch"] * 100, 1)
    curve = {round(p["share"] * 100, 1): round(p["p_catch"] * 100, 1) for p in audit["curve"]}
    assert len(curve) == 21 and all(line[x.index(s)] == v for s, v in curve.items())


def test_the_summary_counts_each_reason_and_keeps_node_ids_as_text(
    selected: tuple[Path, dict[str, Any], str],
) -> None:
    _, audit, summary = selected
    rows = re.finditer(r"^\| (?:yes|no) \| [^|]*\(`([a-z-]+)`\) \| (\d+) \|", summary, re.M)
    assert {m[1]: int(m[2]) for m in rows} == Counter(t["reason"] for t in audit["tests"])
    assert "<script>" not in summary and "a|b" not in summary and "`x`" not in summary
    row = next(line for line in summary.split("\n") if code(HOSTILE, 300) in line)
    assert row.count("|") == 6  # one table row of five cells: the id opened no cell of its own
