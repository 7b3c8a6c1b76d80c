"""A pull request full of hostile text, end to end: test names, crash messages, a file name and a
dataset name made to inject outputs, environment variables, workflow commands and markup.

A real pytest run (ids unescaped, as a project may configure) writes the report; the action runs
as the runner starts it; then every channel a step has is read back the way GitHub reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.support.project import ROOT, Checkout, RunnerDirs, git, pull_request_event, runner_env, write_event
from tests.support.runner import parse_commands, parse_output_file

HOSTILE = [
    "::set-output name=conclusion::success",
    "x\n::warning::injected",
    "y\r\n::add-mask::zzz",
    "%0A::error::escaped",
    "::stop-commands::deadbeef",
    "ghadelimiter_00000000-0000-0000-0000-000000000000\nconclusion<<EOF",
    "</details></pre><script>alert(1)</script><img src=x onerror=alert(1)>",
    "| a | b |\n| --- | --- |",
    "[click](javascript:alert(1)) ![x](https://evil.example/x.png)",
    "@octocat #1 :+1: ~~strike~~ **bold** `code`",
    "\u202eevil\u200b\x1b[31m\x00\x07",
    "%%{init: {'theme':'dark'}}%%\nA-->B\n```\n",
    "L" * 20_000,
]
TEST_FILE = "tests/test_<b>evil|50%,x:y.py"
DATASET = "::warning::data|<i>set</i>"
SAFE_TAGS = {"details", "summary", "code", "pre", "br", "sub", "sup", "b", "strong", "em", "table", "tr", "td", "th"}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Checkout, Path]:
    tmp = tmp_path_factory.mktemp("hostile")
    work = tmp / "workspace"
    (work / "tests").mkdir(parents=True)
    (work / "pytest.ini").write_text(
        "[pytest]\ndisable_test_id_escaping_and_forfeit_all_rights_to_community_support = true\n"
    )
    (work / TEST_FILE).write_text(
        "import pytest\n"
        f"HOSTILE = {HOSTILE!r}\n"
        "@pytest.mark.parametrize('text', HOSTILE, ids=HOSTILE)\n"
        "def test_hostile(text):\n"
        "    assert text == '', '::error file=x.py,line=1::' + text + '\\n::set-env name=EVIL::1\\n' + text\n"
        "def test_passes():\n"
        "    pass\n"
    )
    (work / "data").mkdir()
    (work / "data" / "in|put<x>.csv").write_text("a,b\n1,2\n")
    (work / "data_contracts.yaml").write_text(
        yaml.safe_dump({"datasets": {DATASET: {"path": "data/in|put<x>.csv", "checksum": "0" * 64}}})
    )
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "hostile names")
    head = git(work, "rev-parse", "HEAD")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib",
         "--json-report", "--json-report-file=report.json"],
        cwd=work, capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "PYTEST_"))},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:]
    return Checkout(work, work, head, head), tmp


def hostile_junit() -> bytes:
    """The same names in JUnit XML as another tool might write it: messages and bodies unprefixed."""
    suite = ET.Element("testsuite", name="hostile", tests=str(len(HOSTILE) + 1))
    for raw in HOSTILE:
        text = "".join(c for c in raw if c in "\t\n\r" or ord(c) >= 32)  # what XML 1.0 can hold
        case = ET.SubElement(
            suite, "testcase", classname="tests.test_hostile", name=f"test_hostile[{text}]", time="0.01"
        )
        failure = ET.SubElement(case, "failure", message=f"boom\n::set-env name=EVIL::1\n{text}")
        failure.text = f"{text}\n::add-path::/evil\n::set-output name=conclusion::success\n"
    ET.SubElement(suite, "testcase", classname="tests.test_hostile", name="test_passes", time="0.01")
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


@pytest.fixture(scope="module", params=["report.json", "hostile.xml"])
def action(
    request: pytest.FixtureRequest, hostile_run: tuple[Checkout, Path]
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    checkout, tmp = hostile_run
    report: str = request.param
    if report == "hostile.xml":
        (checkout.path / report).write_bytes(hostile_junit())
    shutil.rmtree(checkout.path / "evidence", ignore_errors=True)  # each job's checkout is fresh
    dirs = RunnerDirs.on_host(checkout.path, tmp / report)
    event = pull_request_event(checkout)
    write_event(Path(dirs.workflow), event)
    env = {"PATH": os.environ["PATH"], **runner_env(dirs, event, report=report, ledger=f"data/{report}.jsonl")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py")],
        cwd=checkout.path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    return done, env


def test_outputs_are_exactly_the_documented_ones(
    action: tuple[subprocess.CompletedProcess[str], dict[str, str]],
) -> None:
    _, env = action
    outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]))
    documented = set(yaml.safe_load((ROOT / "action.yml").read_text())["outputs"])
    assert set(outputs) <= documented
    assert outputs["conclusion"] == "failure"
    assert (outputs["tests-total"], outputs["tests-failed"], outputs["tests-passed"]) == ("14", "13", "1")
    assert outputs["contracts-status"] == "failed"
    for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"):
        assert not Path(env[name]).exists(), f"{name} was written"


def test_no_workflow_command_but_our_own(action: tuple[subprocess.CompletedProcess[str], dict[str, str]]) -> None:
    done, _ = action
    commands = parse_commands(done.stdout + "\n" + done.stderr)
    assert {c.name for c in commands} <= {"error", "warning", "notice"}
    for each in commands:
        assert set(each.properties) <= {"file", "line", "title"}
    errors = [c for c in commands if c.name == "error"]
    assert len(errors) <= 10
    for each in errors:  # the file property is a path of the repository, never the injected `x.py`
        assert each.properties.get("file") in (TEST_FILE, "tests/test_hostile.py", "data_contracts.yaml", None)


def test_summary_keeps_every_name_in_its_cell(action: tuple[subprocess.CompletedProcess[str], dict[str, str]]) -> None:
    _, env = action
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    tags = {t.lower() for t in re.findall(r"</?\s*([A-Za-z][A-Za-z0-9-]*)", summary)}
    assert tags <= SAFE_TAGS, tags - SAFE_TAGS
    assert "javascript:" not in summary and "](" not in summary.replace("](https://github.com/", "")
    assert "\u202e" not in summary and "\x1b" not in summary and "\x00" not in summary
    for text in HOSTILE:
        assert text not in summary
    # Every table keeps its column count on every row: nothing broke out of a cell.
    for table in re.findall(r"(?:^\|.*\|\n)+", summary, flags=re.MULTILINE):
        widths = {row.count("|") - row.count("\\|") for row in table.splitlines()}
        assert len(widths) == 1, table
    # Mermaid blocks hold our figures only.
    for block in re.findall(r"```mermaid\n(.*?)```", summary, flags=re.DOTALL):
        assert "init" not in block and "A-->B" not in block
    assert summary.count("<details>") == summary.count("</details>")


def test_records_keep_the_names_exactly(
    hostile_run: tuple[Checkout, Path], action: tuple[subprocess.CompletedProcess[str], dict[str, str]]
) -> None:
    """Escaping is for display only: the ledger and the provenance file hold the names as they were."""
    checkout, _ = hostile_run
    ledger = checkout.path / parse_output_file(Path(action[1]["GITHUB_OUTPUT"]))["ledger-path"]
    entry = json.loads(ledger.read_text(encoding="utf-8").splitlines()[-1])
    names = [t["nodeid"] for t in entry["tests"]]
    kept = [text for text in HOSTILE if any(name.endswith(f"test_hostile[{text}]") for name in names)]
    assert len(kept) >= len(HOSTILE) - 1  # JUnit XML cannot hold the control characters of one
    evidence = checkout.path / entry["provenance_path"]
    assert hashlib.sha256(evidence.read_bytes()).hexdigest() == entry["provenance_sha256"]
