"""The calibrate stage of `provenance run`: predictions scored, recorded, windowed and gated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.config import Settings
from provenance.github import summary
from provenance.learning.model import MODEL_VERSION
from provenance.pipeline import gather, record

REPORT = """<testsuite time="1.0">
<testcase classname="tests.test_a" name="test_ok" time="0.1"/>
<testcase classname="tests.test_a" name="test_also_ok" time="0.1"/>
<testcase classname="tests.test_a" name="test_broken" time="0.1"><failure message="boom">E boom</failure></testcase>
<testcase classname="tests.test_a" name="test_unpredicted" time="0.1"/>
</testsuite>"""


def write_predictions(path: Path, values: dict[str, float]) -> None:
    path.write_text("".join(json.dumps({"nodeid": k, "p_fail": v}) + "\n" for k, v in values.items()))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "report.xml").write_text(REPORT)
    write_predictions(
        tmp_path / "predictions.jsonl",
        {
            "tests/test_a.py::test_ok": 0.1,
            "tests/test_a.py::test_also_ok": 0.2,
            "tests/test_a.py::test_broken": 0.7,
            "tests/test_a.py::test_not_in_this_run": 0.9,
        },
    )
    return tmp_path


def run(workspace: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, str]]:
    code = main(["run", "--workspace", str(workspace), "--report", "report.xml", "--predictions", "predictions.jsonl",
                 "--fail-on", "none", *extra], {})  # fmt: skip
    return code, json.loads(capsys.readouterr().out)


def test_predictions_are_scored_and_recorded(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, outputs = run(workspace, capsys)
    assert code == 0
    # (0.1-0)^2 + (0.2-0)^2 + (0.7-1)^2 over 3 predicted tests
    assert float(outputs["brier_score"]) == pytest.approx((0.01 + 0.04 + 0.09) / 3, abs=1e-6)
    assert outputs["calibration_samples"] == "3"
    entry = json.loads((workspace / "data" / "ci_runs.jsonl").read_text())
    assert {t["nodeid"].split("::")[1]: t["p_fail"] for t in entry["tests"]} == {
        "test_ok": 0.1, "test_also_ok": 0.2, "test_broken": 0.7, "test_unpredicted": None,
    }  # fmt: skip
    assert entry["brier_score"] == pytest.approx(0.14 / 3)
    provenance = json.loads((workspace / outputs["provenance_path"]).read_text())
    assert provenance["calibration"]["window_runs"] == 1
    assert provenance["calibration"]["run"] == provenance["calibration"]["window"]


def test_the_window_spans_earlier_runs(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(workspace, capsys)
    _, outputs = run(workspace, capsys)
    assert outputs["calibration_samples"] == "6"
    provenance = json.loads((workspace / outputs["provenance_path"]).read_text())
    assert provenance["calibration"]["window_runs"] == 2
    assert provenance["calibration"]["run"]["n_samples"] == 3
    # A window of one run covers this run only.
    _, narrow = run(workspace, capsys, "--calibration-window", "1")
    assert narrow["calibration_samples"] == "3"


def test_the_window_from_the_model_state_is_the_window_from_the_ledger(
    tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The state keeps each run's calibration totals; without it (or when a wider window asks for
    # more than it keeps) the entries are read again, and the figures are the same.
    write_predictions(workspace / "p2.jsonl", {"tests/test_a.py::test_ok": 0.05, "tests/test_a.py::test_broken": 0.35})
    for predictions in ("predictions.jsonl", "p2.jsonl", "predictions.jsonl", "p2.jsonl"):  # 3, 2, 3, 2 scored
        run(workspace, capsys, "--calibration-window", "3", "--predictions", predictions)  # the state keeps 3
    twins = {name: tmp_path / name for name in ("kept", "dropped", "wider")}
    for twin in twins.values():
        shutil.copytree(workspace, twin)
    (twins["dropped"] / "data" / "ci_runs.jsonl.model.npz").unlink()
    figures = {}
    for name, twin in twins.items():
        window = "6" if name == "wider" else "4"
        _, outputs = run(twin, capsys, "--calibration-window", window, "--predictions", "p2.jsonl")
        figures[name] = {k: outputs[k] for k in ("brier_score", "ece", "mce", "calibration_samples")}
    assert figures["kept"] == figures["dropped"]
    assert figures["kept"]["calibration_samples"] == str(2 + 2 + 3 + 2)
    assert figures["wider"]["calibration_samples"] == str(2 + 2 + 3 + 2 + 3)


def test_thresholds_join_the_gate(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--workspace", str(workspace), "--report", "report.xml", "--predictions", "predictions.jsonl",
                 "--max-brier", "0.01"], {})  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "Brier score 0.0467 over the last 1 runs exceeds the limit 0.01" in err


def test_a_passing_run_fails_on_calibration_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "report.xml").write_text('<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>')
    write_predictions(tmp_path / "p.jsonl", {"t.py::ok": 0.95})
    code = main(["run", "--workspace", str(tmp_path), "--report", "report.xml", "--predictions", "p.jsonl",
                 "--max-ece", "0.5"], {})  # fmt: skip
    assert code == 1
    assert "ECE 0.9500" in capsys.readouterr().err


def test_summary_draws_the_reliability_chart(workspace: Path) -> None:
    settings = Settings(workspace=workspace, report=("report.xml",), predictions="predictions.jsonl")
    text = summary.render(record(gather(settings, {})))
    assert "### Failure predictions: calibration over the last 1 run(s)" in text
    assert "```mermaid\nxychart-beta\n" in text
    assert "    bar [0.0000, 0.0000, 1.0000]" in text
    assert "    line [0.1000, 0.2000, 0.7000]" in text


def test_without_a_predictions_file_the_model_predicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The model learnt from the ledger makes the predictions, before the outcomes are known."""
    (tmp_path / "report.xml").write_text(REPORT)
    ledger = tmp_path / "data" / "ci_runs.jsonl"
    for _ in range(3):
        capsys.readouterr()
        assert main(["run", "--workspace", str(tmp_path), "--report", "report.xml", "--fail-on", "none"], {}) == 0
    outputs = json.loads(capsys.readouterr().out)
    entries = [json.loads(line) for line in ledger.read_text().splitlines()]
    p = {t["nodeid"]: t["p_fail"] for t in entries[2]["tests"]}
    # After two runs in which test_broken failed and the others passed, the shrunk rates say so:
    assert p["tests/test_a.py::test_broken"] > 0.5 > p["tests/test_a.py::test_ok"]
    # The window: the predictions of runs 2 and 3 (the first run had no history to predict from).
    assert outputs["calibration_samples"] == str(2 * 4)
    assert all(t["p_fail"] is None for t in entries[0]["tests"])
    assert entries[2]["model_version"] == MODEL_VERSION
    assert len({e["model_hash"] for e in entries}) == 3  # a new state for every run
    assert (tmp_path / "data" / "ci_runs.jsonl.model.npz").is_file()


def test_the_model_state_is_rebuilt_when_it_does_not_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "report.xml").write_text(REPORT)
    for _ in range(2):
        assert main(["run", "--workspace", str(tmp_path), "--report", "report.xml", "--fail-on", "none"], {}) == 0
    state = tmp_path / "data" / "ci_runs.jsonl.model.npz"
    kept = state.read_bytes()
    state.write_bytes(b"garbage")
    assert main(["run", "--workspace", str(tmp_path), "--report", "report.xml", "--fail-on", "none"], {}) == 0
    rebuilt = state.read_bytes()
    state.write_bytes(kept)
    state.unlink()
    capsys.readouterr()
    # Rebuilding from the ledger gives the very state that incremental updates give.
    from provenance.learning.history import read_ledger
    from provenance.learning.model import Model
    from provenance.learning.state import rebuild

    from_ledger = rebuild(read_ledger(tmp_path / "data" / "ci_runs.jsonl"))
    assert Model.from_bytes(rebuilt).predict(["tests/test_a.py::test_broken"]).tolist() == (
        from_ledger.predict(["tests/test_a.py::test_broken"]).tolist()
    )


@pytest.mark.parametrize("line", ['{"nodeid": "a", "p_fail": 1.5}', '{"p_fail": 0.5}', "not json"])
def test_bad_predictions_are_bad_input(workspace: Path, capsys: pytest.CaptureFixture[str], line: str) -> None:
    (workspace / "predictions.jsonl").write_text(line + "\n")
    assert main(["run", "--workspace", str(workspace), "--report", "report.xml", "--predictions", "predictions.jsonl"],
                {}) == 2  # fmt: skip
    assert "predictions.jsonl: line 1: expected an object" in capsys.readouterr().err
    assert not (workspace / "data" / "ci_runs.jsonl").exists()


def test_summary_reads_the_same_in_light_and_dark_themes(workspace: Path) -> None:
    """No colour of our own anywhere (GitHub's themes choose them): nothing can vanish on either background."""
    settings = Settings(workspace=workspace, report=("report.xml",), predictions="predictions.jsonl")
    text = summary.render(record(gather(settings, {})))
    for colouring in ("color", "colour", "style", "<font", "%%{init", "theme", "fill:", "stroke:", "rgb("):
        assert colouring not in text.lower()


@pytest.mark.parametrize(("key", "warned"), [("test", False), ("nodeid", True)])
def test_one_predictions_format_the_old_key_read_with_a_warning(tmp_path: Path, key: str, warned: bool) -> None:
    from provenance.pipeline.verdict import warnings_for

    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    (tmp_path / "p.jsonl").write_text(json.dumps({key: "t.py::ok", "p_fail": 0.25, "rank": 1}) + "\n")
    inputs = gather(Settings(workspace=tmp_path, report=("r.xml",), predictions="p.jsonl"), {})
    assert inputs.predictions == {"t.py::ok": 0.25}
    assert any('names tests by "nodeid"' in w for w in warnings_for(inputs)) is warned
