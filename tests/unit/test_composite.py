"""cli/action.yml, the composite variant: the Docker action's inputs and outputs, the same entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.composite import COMPOSITE, env_name, render
from tests.support.project import RunnerDirs, pull_request_event, run_pytest, runner_env, sample_checkout, write_event
from tests.support.runner import parse_output_file

ROOT = Path(__file__).resolve().parents[2]
DOCKER = yaml.safe_load((ROOT / "action.yml").read_text())
CLI = yaml.safe_load(COMPOSITE.read_text())
STEPS = {step["id"]: step for step in CLI["runs"]["steps"]}


def test_the_file_is_rendered_from_action_yml() -> None:
    """After changing action.yml's inputs or outputs: python -m tests.support.composite > cli/action.yml."""
    assert COMPOSITE.read_text() == render()


def test_inputs_are_the_docker_actions() -> None:
    assert CLI["inputs"] == DOCKER["inputs"]  # names, descriptions, defaults, required, in the same order
    assert list(CLI["inputs"]) == list(DOCKER["inputs"])


def test_outputs_are_the_docker_actions_from_the_same_step() -> None:
    assert list(CLI["outputs"]) == list(DOCKER["outputs"])
    for name, spec in CLI["outputs"].items():
        assert spec["description"] == DOCKER["outputs"][name]["description"], name
        assert spec["value"] == f"${{{{ steps.provenance.outputs.{name} }}}}", name


def test_every_input_reaches_the_entry_point_through_the_environment_only() -> None:
    """Never `${{ inputs.x }}` in a script's text (a value could inject commands): each goes through env."""
    env = STEPS["provenance"]["env"]
    assert {k: v for k, v in env.items() if k.startswith("INPUT_")} == {
        env_name(name): f"${{{{ inputs.{name} }}}}" for name in DOCKER["inputs"]
    }
    for step in CLI["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["id"]
        assert step.get("shell", "bash") == "bash"  # the one shell every runner has, Windows included
    assert CLI["runs"]["using"] == "composite"
    assert STEPS["python"]["uses"].startswith("actions/setup-python@")
    assert STEPS["python"]["with"]["update-environment"] is False  # the job's own Python is left alone


def run_step(step: str, workspace: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `shell: bash` step as the runner runs it: its script in a file, `bash --noprofile --norc -eo pipefail`."""
    script = workspace.parent / f"{step}.sh"
    script.write_text(STEPS[step]["run"])
    bash = shutil.which("bash")
    assert bash
    return subprocess.run([bash, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=workspace, env=env, capture_output=True, text=True)  # fmt: skip


def runner_values(inputs: dict[str, str]) -> dict[str, str]:
    """Every input as the runner resolves it: the given value, else the default (its expressions evaluated)."""
    resolved = {"github-token": "", "check-run-id": "4242"}
    return {n: inputs.get(n, resolved.get(n, str(spec.get("default", "")))) for n, spec in DOCKER["inputs"].items()}


@pytest.fixture
def pull_request(tmp_path: Path) -> tuple[Path, RunnerDirs, dict[str, object]]:
    checkout = sample_checkout(tmp_path)
    assert run_pytest(checkout.path, "--json-report", "--json-report-file=report.json").exit_status == 1
    dirs = RunnerDirs.on_host(checkout.path, tmp_path)
    event = pull_request_event(checkout)
    write_event(Path(dirs.workflow), event)
    return checkout.path, dirs, event


@pytest.mark.skipif(sys.platform == "win32", reason="the runner's bash on Windows is Git Bash; not here")
def test_the_run_step_gives_the_entry_point_what_the_docker_runner_gives_it(
    pull_request: tuple[Path, RunnerDirs, dict[str, object]],
) -> None:
    """The composite's step and the image's entry point, on one checkout: the same settings, the same outputs."""
    workspace, dirs, event = pull_request
    given = {"report": "report.json\nmissing/*.xml", "fail-on": "none", "ledger": "records/ledger.jsonl",
             "badge-path": "badges/tests.json", "summary": "false", "retention-years": "7"}  # fmt: skip
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    env = {**base, **runner_env(dirs, event), "GITHUB_ACTION_PATH": str(ROOT / "cli")}
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        Path(env[name]).touch()
    twin = shutil.copytree(workspace, workspace.parent / "twin", symlinks=True)

    values = runner_values(given)
    composite = {**env, "PROVENANCE_PYTHON": sys.executable, **{env_name(n): v for n, v in values.items()}}
    done = run_step("provenance", workspace, composite)
    assert done.returncode == 0, done.stdout + done.stderr  # fail-on none: failures reported, the step passes
    outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]))

    assert outputs["ledger-path"] == "records/ledger.jsonl" and (workspace / "records" / "ledger.jsonl").is_file()
    assert outputs["badge-path"] == "badges/tests.json" and (workspace / "badges" / "tests.json").is_file()
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == ""  # summary: false
    record = json.loads((workspace / outputs["provenance-path"]).read_text())
    assert record["retention"]["retention_years"] == 7
    assert record["run"]["check_run_id"] == 4242
    assert outputs["conclusion"] == "failure" and int(outputs["tests-failed"]) > 0

    # The image's way, on a copy of the checkout as it was: INPUT_<NAME> with hyphens kept, `provenance action`.
    Path(env["GITHUB_OUTPUT"]).write_text("")
    docker = {**env, **{"INPUT_" + n.upper(): v for n, v in values.items()}, "GITHUB_WORKSPACE": str(twin)}
    image = subprocess.run([sys.executable, "-m", "provenance", "action"], cwd=twin, env=docker,
                           capture_output=True, text=True)  # fmt: skip
    assert image.returncode == done.returncode, image.stderr
    again = parse_output_file(Path(env["GITHUB_OUTPUT"]))
    timed = {"ledger-head", "provenance-sha256", "merkle-root"}  # over records that hold the time of recording
    assert set(again) == set(outputs)
    assert {k: v for k, v in again.items() if k not in timed} == {k: v for k, v in outputs.items() if k not in timed}
