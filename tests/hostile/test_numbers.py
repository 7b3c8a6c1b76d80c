"""Numbers and names no honest run has, where a file gives them: a ledger whose chain verifies, the
model state beside it, a report's odd metadata. Each is bad input (exit 2, nothing written), or is
ignored where it says nothing the run needs; never a traceback or an overflow after the first write.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from provenance.cli import main
from provenance.errors import InputError
from provenance.learning.model import Model
from provenance.learning.state import model_path
from provenance.ledger.canonical import ZERO_HASH, canonical, hash_member, hash_without
from tests.hostile.test_readers import provenance
from tests.reliability.test_bad_input import GOOD_REPORT
from tests.support.project import copy_sample


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The sample project with two runs in its ledger."""
    root = copy_sample(tmp_path / "workspace")
    (root / "report.json").write_bytes(GOOD_REPORT.read_bytes())
    for run_id in ("1", "2"):
        assert main(["run", "--workspace", str(root), "--run-id", run_id, "--fail-on", "none", "--no-summary"], {}) == 0
    return root


def _forge(ledger: Path, edit: dict[str, object]) -> None:
    """Rewrite every entry's tests with `edit` and re-hash the chain, as anyone who can write the file can."""
    prev, lines = ZERO_HASH, []
    for line in ledger.read_bytes().splitlines():
        entry = json.loads(line)
        entry["tests"] = [test | edit for test in entry["tests"]]
        entry["prev"], entry["entry_hash"] = prev, ZERO_HASH
        template, zero = canonical(entry), hash_member(ZERO_HASH)
        prev, at = hash_without(template, zero)
        lines.append(template[:at] + hash_member(prev) + template[at + len(zero) :])
    ledger.write_bytes(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("edit", [{"p_fail": 7.5}, {"duration_seconds": -1.0}])
def test_a_ledger_that_verifies_but_records_no_probability_is_bad_input(
    workspace: Path, edit: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = workspace / "data" / "ci_runs.jsonl"
    _forge(ledger, edit)
    (workspace / "data" / "ci_runs.jsonl.checkpoint.json").unlink()
    model_path(ledger).unlink()
    audit = workspace / "data" / "contracts_audit.jsonl"
    before = (ledger.read_bytes(), audit.read_bytes() if audit.exists() else b"")
    capsys.readouterr()
    assert main(["run", "--workspace", str(workspace), "--run-id", "3", "--no-summary"], {}) == 2
    err = capsys.readouterr().err
    assert "ci_runs.jsonl: line 1: not a ledger entry" in err and str(next(iter(edit))) in err
    assert (ledger.read_bytes(), audit.read_bytes() if audit.exists() else b"") == before  # nothing written


def _archive(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def _bomb(real: bytes) -> bytes:
    """A real state whose `stats` declares 25 million columns in a member of a few bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (8, 25_000_000)})
    state = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as source, zipfile.ZipFile(state, "w") as bomb:
        for member in source.infolist():
            data = header.getvalue() + b"\0" * 64 if member.filename == "stats.npy" else source.read(member)
            bomb.writestr(member.filename, data)
    return state.getvalue()


def _unfit(state: bytes, **replaced: np.ndarray) -> bytes:
    """A real state with some of its arrays replaced."""
    with np.load(io.BytesIO(state)) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return _archive(arrays | replaced)


def test_a_state_that_is_no_state_is_refused_without_loading_it(workspace: Path) -> None:
    real = model_path(workspace / "data" / "ci_runs.jsonl").read_bytes()
    with np.load(io.BytesIO(real)) as archive:
        stats, totals = archive["stats"], archive["totals"]
    with pytest.raises(InputError, match=r"stats\.npy declares more than it holds"):
        Model.from_bytes(_bomb(real), "a bomb")
    broken = {
        "an infinite total": _unfit(real, totals=np.where(np.arange(len(totals)) == 2, np.inf, totals)),
        "fewer columns than tests": _unfit(real, stats=stats[:, :-1]),
        "a negative count": _unfit(real, stats=np.where(stats == stats.max(), -1.0, stats)),
        "a count that is not a number": _unfit(real, totals=np.where(np.arange(len(totals)) == 3, np.nan, totals)),
        "a negative sum of squares": _unfit(real, totals=np.where(np.arange(len(totals)) == 12, -1.0, totals)),
        "totals cut short": _unfit(real, totals=totals[:12]),
    }
    for what, data in broken.items():
        with pytest.raises(InputError, match="not a model state"):
            Model.from_bytes(data, what)


def test_a_bomb_beside_the_ledger_is_set_aside_and_the_state_rebuilt(workspace: Path) -> None:
    state = model_path(workspace / "data" / "ci_runs.jsonl")
    state.write_bytes(_bomb(state.read_bytes()))
    assert main(["run", "--workspace", str(workspace), "--run-id", "3", "--no-summary", "--fail-on", "none"], {}) == 0
    Model.load(state)  # rebuilt from the ledger, whole


LONG = "a" * 300
HARMLESS = {
    "a JUnit timestamp before the first instant": '<testsuite timestamp="0001-01-01T00:00:00+05:00">'
    '<testcase classname="t" name="a"/></testsuite>',
    "a JUnit line of 5,000 digits": f'<testsuite><testcase classname="t" name="a" line="{"9" * 5000}"/></testsuite>',
    "a JUnit classname naming a file too long to exist": f'<testsuite><testcase classname="tests.{LONG}" name="t"/>'
    "</testsuite>",
    "a report-log time past year 9999": '{"$report_type": "TestReport", "nodeid": "t.py::a", "when": "call", '
    '"outcome": "passed", "duration": 0.1, "start": 1e20, "stop": 1e20}\n{"$report_type": "SessionFinish", '
    '"exitstatus": 0}\n',
    "a node id naming a file too long to exist": '{"tests": [{"nodeid": "tests/' + LONG + '.py::t", '
    '"outcome": "failed", "call": {"duration": 0.1, "outcome": "failed", "longrepr": "m"}}]}',
    "a session of 5e-324 s": '{"duration": 5e-324, "tests": [{"nodeid": "t.py::a", "outcome": "passed", '
    '"call": {"duration": 0.5}}]}',
}  # fmt: skip


@pytest.mark.parametrize("what", HARMLESS)
def test_metadata_no_run_has_is_read_as_absent_or_refused_in_one_line(what: str, tmp_path: Path) -> None:
    root = copy_sample(tmp_path / "workspace")
    (root / "tests").mkdir(exist_ok=True)
    report = HARMLESS[what]
    name = "r.xml" if report.startswith("<") else "r.jsonl" if "$report_type" in report else "r.json"
    (root / name).write_text(report)
    done = provenance(root, ("run", "--report", name, "--fail-on", "none", "--no-summary"), {})
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.returncode == 0 or (done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1), done.stderr


def test_a_junit_attribute_of_40_mb_is_read_in_linear_time(tmp_path: Path) -> None:
    # Fed 16 KiB at a time, expat scanned the unfinished token again at each chunk: 90 s for this.
    root = copy_sample(tmp_path / "workspace")
    (root / "r.xml").write_bytes(b'<testsuite><testcase classname="t" name="' + b"a" * (40 << 20) + b'"/></testsuite>')
    done = provenance(root, ("run", "--report", "r.xml", "--no-summary"), {})
    assert done.returncode == 0, done.stderr
