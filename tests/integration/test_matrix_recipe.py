"""examples/workflows/matrix.yml, run here: the shards' own scripts on the sample project's real suite,
their reports gathered as `download-artifact` with `pattern` and `merge-multiple` gathers them, and one
`provenance run` over them counting exactly what one unsharded run counts."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from provenance.cli import main
from tests.support.project import ROOT, copy_sample, run_pytest

WORKFLOW = yaml.safe_load((ROOT / "examples" / "workflows" / "matrix.yml").read_text())
SHARDS = WORKFLOW["jobs"]["test"]
AGGREGATE = WORKFLOW["jobs"]["provenance"]


def step(job: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if str(s.get(key, "")).startswith(value))


def expand(template: str, values: dict[str, str]) -> str:
    """A workflow expression of the few contexts the recipe uses, as the runner evaluates it."""
    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: values[m.group(1)], template)


def run_shard(project: Path, index: int, total: int) -> Path:
    """One shard's job: its two scripts in its own copy of the project; returns its uploaded file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `pytest` as the job installs it
    context = {"strategy.job-index": str(index), "strategy.job-total": str(total)}
    for name in ("Choose this shard's tests", "Run them"):
        script = step(SHARDS, "name", name)
        variables = {k: expand(v, context) for k, v in script.get("env", {}).items()}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script["run"]],
                              cwd=project, env={**env, **variables}, capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0 or script.get("continue-on-error"), done.stderr
    upload = step(SHARDS, "uses", "actions/upload-artifact@")["with"]
    [report] = project.glob(upload["path"])
    return report


def test_the_shards_reports_make_one_run_of_the_whole_suite(tmp_path: Path) -> None:
    whole = copy_sample(tmp_path / "whole")
    unsharded = run_pytest(whole, "--json-report", "--json-report-file=report.json")
    assert main(["run", "--workspace", str(whole), "--report", "report.json", "--run-id", "1"], {}) == 1
    expected = json.loads((whole / "evidence" / "ci_provenance_1.json").read_text())

    total = len(SHARDS["strategy"]["matrix"]["shard"])
    assert total > 1
    download = step(AGGREGATE, "uses", "actions/download-artifact@")["with"]
    assert download["merge-multiple"] is True
    workspace = copy_sample(tmp_path / "aggregate")
    merged = workspace / download["path"]
    merged.mkdir()
    names = set()
    for index in range(total):
        report = run_shard(copy_sample(tmp_path / f"shard-{index}"), index, total)
        artifact = expand(step(SHARDS, "uses", "actions/upload-artifact@")["with"]["name"],
                          {"strategy.job-index": str(index)})  # fmt: skip
        assert fnmatch.fnmatchcase(artifact, download["pattern"]), artifact
        names.add(artifact)
        assert not (merged / report.name).exists(), "merge-multiple would overwrite one shard's report with another's"
        shutil.copy(report, merged / report.name)
    assert len(names) == total  # upload-artifact@v4 refuses a name twice in one run

    action = step(AGGREGATE, "uses", "OWNER/provenance-action@")["with"]
    code = main(["run", "--workspace", str(workspace), "--report", action["report"], "--run-id", "2",
                 "--if-no-report", action["if-no-report"]], {})  # fmt: skip
    assert code == 1  # the sample fails on purpose, sharded or not
    record = json.loads((workspace / "evidence" / "ci_provenance_2.json").read_text())
    assert len(record["reports"]) == total
    assert record["run"]["counts"] == expected["run"]["counts"]
    assert record["run"]["counts"]["failed"] == unsharded.counts["failed"]
    sharded = sorted(t["nodeid"] for t in record["run"]["tests"])
    assert sharded == sorted(t["nodeid"] for t in expected["run"]["tests"])  # each test in exactly one shard


def test_each_check_run_attaches_to_its_own_job() -> None:
    """The aggregate's check run has a name no job has; the gate always runs and fails for a lost shard."""
    shard_names = {expand(SHARDS["name"], {"matrix.shard": str(s)}) for s in SHARDS["strategy"]["matrix"]["shard"]}
    assert len(shard_names) == len(SHARDS["strategy"]["matrix"]["shard"])
    check_name = step(AGGREGATE, "uses", "OWNER/provenance-action@")["with"]["check-name"]
    assert check_name not in shard_names | {"provenance", "test"}
    assert "check-run-id" not in step(AGGREGATE, "uses", "OWNER/provenance-action@")["with"]  # the job's own
    assert AGGREGATE["needs"] == "test" and AGGREGATE["if"] == "always()"
    assert SHARDS["strategy"]["fail-fast"] is False
    last = AGGREGATE["steps"][-1]
    assert last["if"] == "needs.test.result != 'success'" and "exit 1" in last["run"]
