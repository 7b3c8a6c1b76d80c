"""Every reader bounded: hostile files given to every command that reads, through the real command line.

Each case plants one file in a workspace (a FIFO, a device, a file past the size limit, JSON nested
100,000 deep, duplicate keys, integers past 64 bits, a glob over links back to their own directory)
and runs `python -m provenance` in a subprocess with a deadline. A bad input must give exit 2 and
one line naming the file, no traceback, no hang, and leave the workspace as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from provenance.datasets.hashing import hash_listing
from provenance.errors import InputError
from tests.reliability.test_bad_input import GOOD_REPORT
from tests.support.project import copy_sample

Plant = Callable[[Path], None]
DEADLINE = 60  # seconds: every case ends in well under one; a hang runs into this


def fifo(relative: str) -> Plant:
    def plant(workspace: Path) -> None:
        os.mkfifo(workspace / relative)

    return plant


def text(relative: str, data: str | bytes) -> Plant:
    def plant(workspace: Path) -> None:
        (workspace / relative).write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)

    return plant


def device(relative: str, target: str) -> Plant:
    def plant(workspace: Path) -> None:
        (workspace / relative).symlink_to(target)

    return plant


def sparse(relative: str, size: int) -> Plant:
    def plant(workspace: Path) -> None:
        with (workspace / relative).open("wb") as handle:
            handle.truncate(size)

    return plant


def nothing(workspace: Path) -> None:
    """The flag is what is wrong."""


@dataclass(frozen=True)
class Case:
    name: str
    plant: Plant
    argv: tuple[str, ...]
    names: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


DEEP = "[" * 100_000
EVENT = {"GITHUB_EVENT_PATH": "event.json", "GITHUB_EVENT_NAME": "pull_request"}
REPORTLOG_START = '{"$report_type": "SessionStart", "pytest_version": "9"}\n'
CTRF_HEAD = (
    '{"reportFormat": "CTRF", "specVersion": "0.0.0", "results": {"tool": {"name": "pytest"}, "summary": '
    '{"tests": 1, "passed": 0, "failed": 0, "skipped": 0, "pending": 0, "other": 0, "start": 0, "stop": 0}, '
)

CASES = [
    # A FIFO, for every reader: opened without blocking, refused by its kind.
    Case("FIFO report", fifo("r.json"), ("run", "--report", "r.json"), ("r.json", "FIFO")),
    Case("FIFO contracts", fifo("c.yaml"), ("validate", "--contracts", "c.yaml"), ("c.yaml", "FIFO")),
    Case("FIFO predictions", fifo("p.jsonl"), ("run", "--predictions", "p.jsonl"), ("p.jsonl", "FIFO")),
    Case("FIFO event payload", fifo("event.json"), ("action",), ("event.json", "GITHUB_EVENT_PATH", "FIFO"), EVENT),
    Case("FIFO calibrate input", fifo("c.jsonl"), ("calibrate", "--predictions", "c.jsonl"), ("c.jsonl", "FIFO")),
    Case("FIFO ATCS history", fifo("h.csv"), ("backtest", "--history", "h.csv"), ("h.csv", "FIFO")),
    Case("FIFO test list", fifo("t.txt"), ("select", "--tests", "t.txt"), ("t.txt", "FIFO")),
    Case("FIFO changed files", fifo("c.txt"), ("select", "--changed-files", "c.txt"), ("c.txt", "FIFO")),
    Case(
        "FIFO checkpoint",
        lambda w: (text("l.jsonl", "")(w), fifo("cp.json")(w)),
        ("verify", "l.jsonl", "--checkpoint", "cp.json"),
        ("cp.json", "FIFO"),
    ),
    Case("a device as the report", nothing, ("run", "--report", "/dev/zero"), ("/dev/zero", "character device")),
    Case("a device as history", device("h.csv", "/dev/urandom"), ("backtest", "--history", "h.csv"), ("h.csv",)),
    # Past the size limit: refused before a byte is read.
    Case(
        "300 MB report",
        sparse("r.json", 300 << 20),
        ("run", "--report", "r.json"),
        ("r.json", "256 MiB", "314,572,800 bytes"),
    ),
    Case("300 MB predictions", sparse("c.jsonl", 300 << 20), ("calibrate", "--predictions", "c.jsonl"), ("c.jsonl",)),
    # The parsers: depth, integers, duplicate keys.
    Case(
        "JSON report nested 100,000 deep",
        text("r.json", '{"tests": [], "root": ' + DEEP),
        ("run", "--report", "r.json"),
        ("r.json", "nested"),
    ),
    Case(
        "report-log line nested 100,000 deep",
        text("r.jsonl", REPORTLOG_START + '{"$report_type": "TestReport", "x": ' + DEEP + "\n"),
        ("run", "--report", "r.jsonl"),
        ("r.jsonl", "line 2", "nested"),
    ),
    Case(
        "checkpoint nested 100,000 deep",
        lambda w: (text("l.jsonl", "")(w), text("cp.json", DEEP)(w)),
        ("verify", "l.jsonl", "--checkpoint", "cp.json"),
        ("cp.json", "nested"),
    ),
    Case("event payload nested 100,000 deep", text("event.json", DEEP), ("action",), ("event.json", "nested"), EVENT),
    Case(
        "CTRF report nested 100,000 deep",
        text("r.json", '{"reportFormat": "CTRF", "specVersion": "0.0.0", "extra": {"x": ' + DEEP),
        ("run", "--report", "r.json"),
        ("r.json", "nested"),
    ),
    Case(
        "NaN in a CTRF report",
        text("r.json", CTRF_HEAD + '"tests": [{"name": "t.py::test_a", "status": "passed", "duration": NaN}]}}'),
        ("run", "--report", "r.json"),
        ("r.json", "results.tests[0].duration", "expected an integer"),
    ),
    Case(
        "a CTRF report whose test status breaks its schema",
        text("r.json", CTRF_HEAD + '"tests": [{"name": "t.py::test_a", "status": "error", "duration": 3}]}}'),
        ("run", "--report", "r.json"),
        ("r.json", "results.tests[0].status", "breaks the CTRF schema", "got 'error'"),
    ),
    Case(
        "a CTRF report whose duration is a fraction of a millisecond",
        text("r.json", CTRF_HEAD + '"tests": [{"name": "t.py::test_a", "status": "passed", "duration": 0.5}]}}'),
        ("run", "--report", "r.json"),
        ("r.json", "results.tests[0].duration", "expected an integer"),
    ),
    Case(
        "a CTRF report without its specVersion",
        text("r.json", CTRF_HEAD.replace('"specVersion": "0.0.0", ', "") + '"tests": []}}'),
        ("run", "--report", "r.json"),
        ("r.json", "missing required field `specVersion`"),
    ),
    Case(
        "a CTRF report of 50,000 digits",
        text("r.json", CTRF_HEAD + '"tests": [{"name": "t", "status": "passed", "duration": 1' + "0" * 50_000 + "}]}}"),
        ("run", "--report", "r.json"),
        ("r.json", "results.tests[0].duration", "out of range"),
    ),
    Case(
        "exit code past 64 bits",
        text("r.json", '{"tests": [], "exitcode": 1' + "0" * 30 + "}"),
        ("run", "--report", "r.json"),
        ("r.json", "exitcode"),
    ),
    Case(
        "a 5,000-digit integer in a report log",
        text("r.jsonl", REPORTLOG_START + '{"$report_type": "SessionFinish", "exitstatus": 1' + "0" * 5000 + "}\n"),
        ("run", "--report", "r.jsonl"),
        ("r.jsonl", "line 2", "64-bit"),
    ),
    Case(
        "duplicate key in a report log",
        text("r.jsonl", REPORTLOG_START + '{"$report_type": "SessionFinish", "exitstatus": 0, "exitstatus": 1}\n'),
        ("run", "--report", "r.jsonl"),
        ("r.jsonl", "line 2", "duplicate key 'exitstatus'"),
    ),
    Case(
        "duplicate key in the predictions",
        text("p.jsonl", '{"test": "t.py::a", "p_fail": 0.1, "p_fail": 0.9}\n'),
        ("run", "--predictions", "p.jsonl"),
        ("p.jsonl", "line 1", "duplicate key 'p_fail'"),
    ),
    Case(
        "duplicate key in the event payload",
        text("event.json", '{"after": "a", "after": "b"}'),
        ("action",),
        ("event.json", "duplicate key"),
        EVENT,
    ),
    Case(
        "duplicate dataset in the contracts",
        text("c.yaml", "datasets:\n  a:\n    path: x\n  a:\n    path: y\n"),
        ("validate", "--contracts", "c.yaml"),
        ("c.yaml", "line 4", "duplicate key 'a'"),
    ),
    Case(
        "a key that is not a string in the contracts",
        text("c.yaml", "datasets:\n  2024-01-01:\n    path: x\n"),
        ("validate", "--contracts", "c.yaml"),
        ("c.yaml", "line 2", "string key"),
    ),
    Case(
        "calibrate --bins 1000000000",
        text("c.jsonl", '{"p_fail": 0.5, "failed": true}\n'),
        ("calibrate", "--predictions", "c.jsonl", "--bins", "1000000000"),
        ("--bins", "10,000"),
    ),
    # The limit is a setting: the action's input, every reading command's flag.
    Case(
        "--max-input-mb 1 and a 2 MiB report",
        sparse("r.json", 2 << 20),
        ("run", "--report", "r.json", "--max-input-mb", "1"),
        ("r.json", "1 MiB", "2,097,152 bytes"),
    ),
    Case(
        "--max-input-mb 1 and a 2 MiB history",
        sparse("h.csv", 2 << 20),
        ("backtest", "--history", "h.csv", "--format", "atcs", "--max-input-mb", "1"),
        ("h.csv", "1 MiB"),
    ),
    Case(
        "the action's max-input-mb: 1 and a 2 MiB report",
        sparse("r.json", 2 << 20),
        ("action",),
        ("r.json", "1 MiB"),
        {"INPUT_REPORT": "r.json", "INPUT_MAX-INPUT-MB": "1"},
    ),
    Case(
        "--max-input-mb 1 and a 2 MiB test list",
        sparse("t.txt", 2 << 20),
        ("select", "--tests", "t.txt", "--max-input-mb", "1"),
        ("t.txt", "1 MiB"),
    ),
    Case(
        "a ledger's last line past the limit, read back by select",
        text("l.jsonl", '{"seq": 0, "x": "' + "a" * (2 << 20) + '"}\n'),
        ("select", "--ledger", "l.jsonl", "--changed-files", "/dev/null", "--max-input-mb", "1"),
        ("l.jsonl", "a line is longer", "1 MiB"),
    ),
    Case(
        "a ledger line past the limit, read as history",
        text("l.jsonl", '{"seq": 0, "x": "' + "a" * (2 << 20) + '"}\n'),
        ("backtest", "--history", "l.jsonl", "--max-input-mb", "1"),
        ("l.jsonl", "a line is longer", "1 MiB"),
    ),
    Case(
        "validate --max-input-mb 0",
        nothing,
        ("validate", "--max-input-mb", "0"),
        ("--max-input-mb", "1 to"),
    ),
    Case("--max-input-mb 0", nothing, ("verify", "l.jsonl", "--max-input-mb", "0"), ("--max-input-mb", "1 to")),
    Case("the action's max-input-mb: 0", nothing, ("action",), ("max-input-mb",), {"INPUT_MAX-INPUT-MB": "0"}),
    Case("evidence-dir under /proc", nothing, ("run", "--evidence-dir", "/proc/self/x"), ("evidence-dir",)),
    # Finite numbers no run has: each a bad input, not an overflow after the first write.
    Case(
        "a test of 1e20 s",
        text("r.json", '{"tests": [{"nodeid": "t.py::a", "outcome": "passed", "call": {"duration": 1e20}}]}'),
        ("run", "--report", "r.json"),
        ("r.json", "t.py::a", "at most 1,000,000 s"),
    ),
    Case(
        "JUnit suites whose times add up past any session",
        text(
            "r.xml",
            '<testsuites><testsuite time="1.7e308"><testcase classname="t" name="a"/></testsuite>'
            '<testsuite time="1.7e308"><testcase classname="t" name="b"/></testsuite></testsuites>',
        ),
        ("run", "--report", "r.xml"),
        ("r.xml", "at most 1,000,000 s"),
    ),
    Case(
        "an ATCS name past the csv module's field limit",
        text("h.csv", "Id;Name;Duration;Verdict;Cycle\n1;" + "a" * 200_000 + ";1;0;1\n"),
        ("backtest", "--history", "h.csv", "--format", "atcs"),
        ("h.csv", "not an ATCS CSV"),
    ),
    Case(
        "an ATCS duration of 1e308 s",
        text("h.csv", "Id;Name;Duration;Verdict;Cycle\n1;a;1e308;0;1\n"),
        ("backtest", "--history", "h.csv", "--format", "atcs"),
        ("h.csv", "line 2", "Duration of 0 to 1,000,000 seconds"),
    ),
    Case(
        "a dataset path with a NUL",
        text("c.yaml", 'datasets:\n  d: {path: "datasets/d.csv\\0x"}\n'),
        ("validate", "--contracts", "c.yaml"),
        ("c.yaml", "datasets.d.path", "NUL"),
    ),
    Case(
        "a dataset path with a name of 300 bytes",
        text("c.yaml", "datasets:\n  d: {path: datasets/" + "a" * 300 + ".csv}\n"),
        ("validate", "--contracts", "c.yaml"),
        ("c.yaml", "datasets.d.path", "255 bytes"),
    ),
    Case(
        "an absolute dataset glob",
        text("c.yaml", 'datasets:\n  d: {path: "/etc/*"}\n'),
        ("validate", "--contracts", "c.yaml"),
        ("c.yaml", "datasets.d.path", "leads outside the workspace"),
    ),
    Case(
        "a run attempt of 5,000 digits", nothing, ("run",), ("GITHUB_RUN_ATTEMPT",), {"GITHUB_RUN_ATTEMPT": "9" * 5000}
    ),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = tmp_path_factory.mktemp("template") / "workspace"
    copy_sample(workspace)
    shutil.copy(GOOD_REPORT, workspace / "report.json")
    return workspace


def provenance(workspace: Path, argv: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real command line, as a user runs it, with a deadline (a hang fails the test, never the suite)."""
    return subprocess.run(
        [sys.executable, "-m", "provenance", *argv],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env={"PATH": os.environ["PATH"], "GITHUB_WORKSPACE": str(workspace), **env},
        check=False,
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_hostile_input_is_one_line_and_exit_2(case: Case, template: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(template, workspace, symlinks=True)
    case.plant(workspace)
    before = snapshot(workspace)
    done = provenance(workspace, case.argv, case.env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert len(lines) == 1, done.stderr
    for name in case.names:
        assert name in lines[0], lines[0]
    assert snapshot(workspace) == before


def snapshot(workspace: Path) -> dict[str, str]:
    """Every entry, links not followed: a link by its target, a FIFO by its mode, a file by size and digest."""
    seen = {}
    for path in sorted(workspace.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            seen[str(path)] = "-> " + os.readlink(path)
        elif stat.S_ISREG(info.st_mode) and info.st_size < 1 << 24:
            seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            seen[str(path)] = f"{info.st_mode:o} {info.st_size} {info.st_mtime_ns}"
    return seen


_PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(done.returncode, peak, done.stderr.replace("\\n", " "), sep="\\t")
"""


def test_a_2_gb_report_of_zeros_is_refused_within_512_mb(template: Path, tmp_path: Path) -> None:
    """The size is checked before reading: the sparse file's 2 GB are never read, so memory stays small."""
    workspace = tmp_path / "workspace"
    shutil.copytree(template, workspace, symlinks=True)
    sparse("huge.json", 2 << 30)(workspace)
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, "-m", "provenance", "run", "--report", "huge.json"],
        cwd=workspace, capture_output=True, text=True, timeout=DEADLINE, check=True,
    )  # fmt: skip
    code, peak_kib, stderr = done.stdout.rstrip("\n").split("\t")
    assert code == "2", stderr
    assert "huge.json" in stderr and "limit" in stderr and "Traceback" not in stderr
    assert int(peak_kib) < 512 * 1024, f"peak {int(peak_kib) >> 10} MiB"


def test_a_glob_over_links_to_their_own_directories_ends(template: Path, tmp_path: Path) -> None:
    """`**` never follows a directory link: two directories linking to each other twice are walked once."""
    workspace = tmp_path / "workspace"
    shutil.copytree(template, workspace, symlinks=True)
    for here in ("a", "b"):
        (workspace / here).mkdir()
    for here, there in (("a", "b"), ("b", "a")):
        for name in ("l", "m"):
            (workspace / here / name).symlink_to(Path("..") / there)
    shutil.copy(GOOD_REPORT, workspace / "a" / "found.json")
    done = provenance(workspace, ("run", "--report", "**/found.json", "--fail-on", "none"), {})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_a_glob_matching_more_than_10000_files_is_refused(template: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(template, workspace, symlinks=True)
    many = workspace / "many"
    many.mkdir()
    for index in range(10_001):
        (many / f"{index}.json").touch()
    done = provenance(workspace, ("run", "--report", "many/**/*.json"), {})
    assert done.returncode == 2, done.stderr
    assert "many/**/*.json" in done.stderr and "more than 10,000" in done.stderr


def test_verify_never_reads_a_1_gib_line_whole(tmp_path: Path) -> None:
    """A ledger line past the limit does not verify (exit 1, the line named), and is not held in memory."""
    sparse("ledger.jsonl", 1 << 30)(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, "-m", "provenance", "verify", "ledger.jsonl"],
        cwd=tmp_path, capture_output=True, text=True, timeout=DEADLINE, check=True,
    )  # fmt: skip
    code, peak_kib, stderr = done.stdout.rstrip("\n").split("\t")
    assert code == "1", stderr
    assert "line 1" in stderr and "limit" in stderr and "Traceback" not in stderr
    assert int(peak_kib) < 512 * 1024, f"peak {int(peak_kib) >> 10} MiB"


@pytest.mark.parametrize(
    ("nodeid", "shown"),
    [("t.py::a\\ud800", "t.py::a\\\\ud800"), ("t.py::a\\u2028b", "t.py::a\\\\u2028b")],
    ids=["lone surrogate", "U+2028"],
)
def test_odd_characters_in_a_node_id_are_kept_escaped(nodeid: str, shown: str, tmp_path: Path) -> None:
    """Not bad input: the test is recorded, its id escaped where it is written, never a traceback."""
    (tmp_path / "r.json").write_text('{"tests": [{"nodeid": "' + nodeid + '", "outcome": "failed"}]}')
    done = provenance(tmp_path, ("run", "--report", "r.json"), {})
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    ledger = (tmp_path / "data" / "ci_runs.jsonl").read_text(encoding="utf-8")
    assert shown in ledger


def test_a_junit_line_of_a_superscript_digit_is_no_line(tmp_path: Path) -> None:
    """`"²".isdigit()` is true and `int("²")` fails: the line is left out, the test still read."""
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="a" line="²"/></testsuite>')
    done = provenance(tmp_path, ("run", "--report", "r.xml"), {})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_a_dataset_file_gone_or_replaced_while_hashed_is_named(tmp_path: Path) -> None:
    """The listing said a file; by the time it is opened it is gone, or a FIFO (which would block an open)."""
    os.mkfifo(tmp_path / "swapped")
    for name, expected in (("gone", "disappeared"), ("swapped", "regular file")):
        with pytest.raises(InputError) as raised:
            hash_listing(tmp_path, iter([name]))
        assert name in raised.value.diagnosis() and expected in raised.value.diagnosis()
