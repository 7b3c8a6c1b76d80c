"""A corpus of broken inputs: each must give exit code 2 and one line naming the file and the field.

Every case runs the real command line in a workspace holding a valid report, a contracts
manifest and its dataset; the case breaks one thing. Besides the exit code and the message, the
workspace must be byte for byte what it was: nothing half-written, no temporary file left over.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from provenance.cli import main
from tests.support.project import ROOT, copy_sample

GOOD_REPORT = ROOT / "tests" / "fixtures" / "reports" / "shapes" / "report.json"
GOOD_JUNIT = ROOT / "tests" / "fixtures" / "reports" / "shapes" / "report.xml"
GOOD_REPORTLOG = ROOT / "tests" / "fixtures" / "reports" / "shapes" / "report.jsonl"

Plant = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One broken input: how to plant it, the command, and what the one line must name."""

    name: str
    plant: Plant
    argv: tuple[str, ...]
    names: tuple[str, ...]  # substrings the error line must contain: the file, then the field
    env: dict[str, str] = field(default_factory=dict)


def write(relative: str, data: bytes | str) -> Plant:
    def plant(workspace: Path) -> None:
        path = workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    return plant


def edit(relative: str, change: Callable[[str], str]) -> Plant:
    def plant(workspace: Path) -> None:
        path = workspace / relative
        path.write_text(change(path.read_text()))

    return plant


def symlink(relative: str, target: str) -> Plant:
    def plant(workspace: Path) -> None:
        path = workspace / relative
        path.unlink(missing_ok=True)
        path.symlink_to(target)

    return plant


def directory(relative: str) -> Plant:
    def plant(workspace: Path) -> None:
        path = workspace / relative
        if path.is_file():
            path.unlink()
        path.mkdir(parents=True, exist_ok=True)

    return plant


def whitespace(relative: str, size: int) -> Plant:
    def plant(workspace: Path) -> None:
        block = b" \n\t\r" * (1 << 18)
        with (workspace / relative).open("wb") as handle:
            for _ in range(size // len(block)):
                handle.write(block)

    return plant


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.json", GOOD_REPORT.read_bytes())
    return buffer.getvalue()


def both(*plants: Plant) -> Plant:
    def plant(workspace: Path) -> None:
        for each in plants:
            each(workspace)

    return plant


def nothing(workspace: Path) -> None:
    """The case needs no file changed: the argument or the input is what is broken."""


RUN = ("run", "--report", "bad.json")
GOOD = GOOD_REPORT.read_text()
ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]", *(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}] " for i in range(8))]
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + "]><testsuites><testsuite name='&j;'/></testsuites>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    "<testsuites><testsuite name='s'><testcase name='&e;'/></testsuite></testsuites>"
)
DATASET = "datasets/labels.csv"
CONTRACTS = "data_contracts.yaml"

CASES = [
    # --- test reports -------------------------------------------------------------------------
    Case("truncated JSON", write("bad.json", GOOD[: len(GOOD) // 2]), RUN, ("bad.json", "not valid JSON")),
    Case("trailing comma", write("bad.json", '{"tests": [],}'), RUN, ("bad.json", "not valid JSON")),
    Case("JSON list", write("bad.json", "[1, 2]"), RUN, ("bad.json", "not a test report")),
    Case("tests not a list", write("bad.json", '{"tests": "all"}'), RUN, ("bad.json", "tests")),
    Case("test not an object", write("bad.json", '{"tests": [7]}'), RUN, ("bad.json", "tests[0]")),
    Case(
        "nodeid missing", write("bad.json", '{"tests": [{"outcome": "passed"}]}'), RUN, ("bad.json", "tests[0].nodeid")
    ),
    Case(
        "outcome unknown",
        write("bad.json", '{"tests": [{"nodeid": "t.py::a", "outcome": "sometimes"}]}'),
        RUN,
        ("bad.json", "tests[0].outcome", "sometimes"),
    ),
    Case(
        "duration of the wrong type",
        write("bad.json", '{"tests": [{"nodeid": "t.py::a", "outcome": "passed", "call": {"duration": "fast"}}]}'),
        RUN,
        ("bad.json", "tests[0].call.duration"),
    ),
    Case(
        "negative duration",
        write("bad.json", '{"tests": [{"nodeid": "t.py::a", "outcome": "passed", "call": {"duration": -3}}]}'),
        RUN,
        ("bad.json", "tests[0].call.duration"),
    ),
    Case(
        "exit code of the wrong type",
        write("bad.json", '{"exitcode": "one", "tests": []}'),
        RUN,
        ("bad.json", "exitcode"),
    ),
    Case("NaN duration", write("bad.json", '{"duration": NaN, "tests": []}'), RUN, ("bad.json", "duration")),
    Case("binary data", write("bad.json", bytes(range(256)) * 64), RUN, ("bad.json", "not a test report")),
    Case("a zip archive", write("bad.json", _zip_bytes()), RUN, ("bad.json", "not a test report")),
    Case("invalid UTF-8 in JSON", write("bad.json", b'{"tests": [{"nodeid": "\xff\xfe"}]}'), RUN, ("bad.json", "JSON")),
    Case("8 MB of whitespace", whitespace("bad.json", 1 << 23), RUN, ("bad.json", "whitespace")),
    Case("a directory for the report", directory("bad.json"), RUN, ("bad.json", "directory")),
    Case(
        "report through a symlink out of the workspace",
        symlink("bad.json", str(GOOD_REPORT)),
        RUN,
        ("bad.json", "outside"),
    ),
    Case(
        "truncated JUnit XML",
        write("bad.xml", GOOD_JUNIT.read_text()[:300]),
        ("run", "--report", "bad.xml"),
        ("bad.xml", "XML"),
    ),
    Case(
        "HTML instead of JUnit",
        write("bad.xml", "<html><body>502</body></html>"),
        ("run", "--report", "bad.xml"),
        ("bad.xml", "html"),
    ),
    Case("XML entity expansion", write("bad.xml", BILLION_LAUGHS), ("run", "--report", "bad.xml"), ("bad.xml", "XML")),
    Case("XML external entity", write("bad.xml", EXTERNAL_ENTITY), ("run", "--report", "bad.xml"), ("bad.xml", "XML")),
    Case(
        "JUnit time not a number",
        write("bad.xml", "<testsuite><testcase classname='t' name='a' time='soon'/></testsuite>"),
        ("run", "--report", "bad.xml"),
        ("bad.xml", "time"),
    ),
    Case(
        "report-log line malformed",
        write(
            "bad.jsonl",
            GOOD_REPORTLOG.read_text().replace('"$report_type": "TestReport"', '"$report_type": "TestReport', 1),
        ),
        ("run", "--report", "bad.jsonl"),
        ("bad.jsonl", "line"),
    ),
    Case(
        "report-log outcome of the wrong type",
        write(
            "bad.jsonl",
            '{"$report_type": "SessionStart", "pytest_version": "9"}\n'
            '{"$report_type": "TestReport", "nodeid": "t.py::a", "when": "call", "outcome": 3}\n',
        ),
        ("run", "--report", "bad.jsonl"),
        ("bad.jsonl", "outcome"),
    ),
    # --- inputs -----------------------------------------------------------------------------
    Case("fail-on: sometimes", nothing, ("action",), ("fail-on", "sometimes"), {"INPUT_FAIL-ON": "sometimes"}),
    Case("if-no-report: maybe", nothing, ("action",), ("if-no-report", "maybe"), {"INPUT_IF-NO-REPORT": "maybe"}),
    Case("mode: both", nothing, ("action",), ("mode", "both"), {"INPUT_MODE": "both"}),
    Case("summary: yes please", nothing, ("action",), ("summary",), {"INPUT_SUMMARY": "yes please"}),
    Case("retention-years: -1", nothing, ("action",), ("retention-years",), {"INPUT_RETENTION-YEARS": "-1"}),
    Case("budget: 150%", nothing, ("action",), ("budget",), {"INPUT_MODE": "select", "INPUT_BUDGET": "150%"}),
    Case("confidence: 2", nothing, ("action",), ("confidence",), {"INPUT_MODE": "select", "INPUT_CONFIDENCE": "2"}),
    Case("max-ece: high", nothing, ("action",), ("max-ece",), {"INPUT_MAX-ECE": "high"}),
    Case("comment: sometimes", nothing, ("action",), ("comment", "sometimes"), {"INPUT_COMMENT": "sometimes"}),
    Case(
        "duration-regression: 1",
        nothing,
        ("action",),
        ("duration-regression", "FACTOR above 1"),
        {"INPUT_DURATION-REGRESSION": "1"},
    ),
    Case(
        "fail-on: duration-regression alone",
        nothing,
        ("action",),
        ("fail-on duration-regression needs",),
        {"INPUT_FAIL-ON": "duration-regression"},
    ),
    Case("ledger-branch: bad..name", nothing, ("action",), ("ledger-branch",), {"INPUT_LEDGER-BRANCH": "bad..name"}),
    Case("--calibration-window 0", nothing, ("run", "--calibration-window", "0"), ("--calibration-window",)),
    Case(
        "--supersedes without a reason",
        nothing,
        ("run", "--supersedes", "0"),
        ("--correction-reason", "a correction needs a reason"),
    ),
    # --- dataset contracts ------------------------------------------------------------------
    Case("YAML alias bomb", write(CONTRACTS, ALIAS_BOMB), ("validate",), (CONTRACTS, "aliases")),
    Case(
        "misspelled key",
        edit(CONTRACTS, lambda t: t.replace("checksum:", "chekcsum:")),
        ("validate",),
        (CONTRACTS, "datasets.labels.chekcsum"),
    ),
    Case(
        "size of the wrong type",
        edit(CONTRACTS, lambda t: t.replace("size: 64", "size: big")),
        ("validate",),
        (CONTRACTS, "datasets.labels.size"),
    ),
    Case(
        "path out of the workspace",
        edit(CONTRACTS, lambda t: t.replace(DATASET, "../../etc/passwd")),
        ("validate",),
        (CONTRACTS, "labels", "outside"),
    ),
    Case(
        "dataset through a symlink out",
        symlink(DATASET, "/etc/hostname"),
        ("validate",),
        (CONTRACTS, "labels", "outside"),
    ),
    Case(
        "YAML syntax error",
        edit(CONTRACTS, lambda t: t.replace("  labels:", "\tlabels:")),
        ("validate",),
        (CONTRACTS, "line 3"),
    ),
    Case("empty manifest", write(CONTRACTS, ""), ("validate",), (CONTRACTS, "datasets")),
    Case("manifest a list", write(CONTRACTS, "- labels\n"), ("validate",), (CONTRACTS, "mapping")),
    Case("manifest over 1 MiB", write(CONTRACTS, "# " + "x" * (1 << 20) + "\n"), ("validate",), (CONTRACTS, "larger")),
    Case("manifest not UTF-8", write(CONTRACTS, b"datasets: {\xff: 1}\n"), ("validate",), (CONTRACTS, "UTF-8")),
    Case(
        "manifest a directory",
        directory("contracts.d"),
        ("validate", "--contracts", "contracts.d"),
        ("contracts.d", "directory"),
    ),
    Case(
        "audit log a directory",
        directory("audit"),
        ("validate", "--update", "--audit-log", "audit"),
        ("audit", "directory"),
    ),
    # --- other files the tool reads ---------------------------------------------------------
    Case(
        "predictions not JSON lines",
        write("p.jsonl", "nodeid,p\n"),
        ("run", "--predictions", "p.jsonl"),
        ("p.jsonl", "line 1"),
    ),
    Case(
        "probability out of range",
        write("p.jsonl", '{"nodeid": "a", "p_fail": 1.5}\n'),
        ("run", "--predictions", "p.jsonl"),
        ("p.jsonl", "p_fail"),
    ),
    Case(
        "ledger a directory",
        directory("ledger.jsonl"),
        ("run", "--ledger", "ledger.jsonl"),
        ("ledger.jsonl", "directory"),
    ),
    Case(
        "history of neither format",
        write("h.txt", "cycle 1 passed\n"),
        ("backtest", "--history", "h.txt"),
        ("h.txt", "ATCS"),
    ),
    Case("evidence-dir a file", write("evidence", "x"), ("run",), ("evidence", "evidence-dir", "directory")),
    Case(
        "audit log a directory in a run",
        directory("data/contracts_audit.jsonl"),
        ("run",),
        ("contracts_audit.jsonl", "contracts-audit-log"),
    ),
    Case(
        "checkpoint not JSON",
        both(write("ledger.jsonl", ""), write("cp.json", "{")),
        ("verify", "ledger.jsonl", "--checkpoint", "cp.json"),
        ("cp.json", "JSON"),
    ),
    Case(
        "checkpoint with a negative size",
        both(
            write("ledger.jsonl", ""),
            write(
                "cp.json",
                '{"type": "provenance-ledger-checkpoint/v1", "size": -1, '
                '"head": "' + "0" * 64 + '", "merkle_root": "' + "0" * 64 + '"}',
            ),
        ),
        ("verify", "ledger.jsonl", "--checkpoint", "cp.json"),
        ("cp.json", "size", "0 or more"),
    ),
    Case(
        "checkpoint whose head is no digest",
        both(
            write("ledger.jsonl", ""),
            write(
                "cp.json",
                '{"type": "provenance-ledger-checkpoint/v1", "size": 1, '
                '"head": "x", "merkle_root": "' + "0" * 64 + '"}',
            ),
        ),
        ("verify", "ledger.jsonl", "--checkpoint", "cp.json"),
        ("cp.json", "head", "sha256"),
    ),
    Case(
        "proof of the wrong shape", write("proof.json", '{"entry": 1}'), ("check-proof", "proof.json"), ("proof.json",)
    ),
    Case(
        "history CSV without its columns",
        write("h.csv", "a;b\n1;2\n"),
        ("backtest", "--history", "h.csv"),
        ("h.csv", "missing Cycle"),
    ),
    Case(
        "calibrate input of the wrong type",
        write("c.jsonl", '{"p": "likely", "y": 1}\n'),
        ("calibrate", "--predictions", "c.jsonl"),
        ("c.jsonl", "line 1"),
    ),
    Case(
        "event payload not JSON",
        write("event.json", "{"),
        ("action",),
        ("event.json",),
        {"GITHUB_EVENT_PATH": "event.json", "GITHUB_EVENT_NAME": "pull_request"},
    ),
    Case("test list unreadable", directory("tests.txt"), ("select", "--tests", "tests.txt"), ("tests.txt",)),
]


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` with its digest (symlinks by their target)."""
    seen = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            seen[relative] = "-> " + os.readlink(path)
        elif path.is_file():
            seen[relative] = hashlib.sha256(path.read_bytes()).hexdigest() if path.stat().st_size < 1 << 24 else "big"
        else:
            seen[relative] = "dir"
    return seen


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = tmp_path_factory.mktemp("template") / "workspace"
    copy_sample(workspace)
    shutil.copy(GOOD_REPORT, workspace / "report.json")
    return workspace


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_clear_line_and_exit_2(
    case: Case, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(template, workspace, symlinks=True)
    case.plant(workspace)
    before = snapshot(workspace)
    monkeypatch.chdir(workspace)
    env = {"PATH": os.environ["PATH"], "GITHUB_WORKSPACE": str(workspace), **case.env}
    try:
        code = main(list(case.argv), env=env)
    except SystemExit as exit_:  # argparse's own errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, err
    assert "Traceback" not in out + err
    assert len(lines) == 1, err
    assert lines[0].startswith("provenance: error: ")
    for name in case.names:
        assert name in lines[0], lines[0]
    assert snapshot(workspace) == before


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    """Permission denied, as the runner's unprivileged user sees it (root loses its override)."""
    workspace = tmp_path / "workspace"
    copy_sample(workspace)
    shutil.copy(GOOD_REPORT, workspace / "report.json")
    for name in ("report.json", CONTRACTS):
        (workspace / name).chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv is needed to drop root's file-permission override")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"]
    for argv, name in ((["run"], "report.json"), (["validate"], CONTRACTS)):
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "provenance", *argv],
            cwd=workspace,
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"]},
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1
        assert name in done.stderr and "Permission denied" in done.stderr, done.stderr
