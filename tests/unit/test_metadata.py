"""action.yml, the settings model, the outputs, the README and --help must tell the same story."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from provenance import __version__
from provenance.config import Settings

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
README = (ROOT / "README.md").read_text()
# The action always runs in the checkout, under GITHUB_RUN_ID; corrections are an auditor's act.
CLI_ONLY = {"workspace", "run_id", "supersedes", "correction_reason"}


def kebab(name: str) -> str:
    return name.replace("_", "-")


def test_every_setting_is_an_input_with_the_same_default() -> None:
    expected = {kebab(n) for n in Settings.model_fields} - {kebab(n) for n in CLI_ONLY}
    assert set(ACTION["inputs"]) == expected
    defaults = Settings(workspace=ROOT)
    for name, spec in ACTION["inputs"].items():
        value = getattr(defaults, name.replace("-", "_"))
        if name in ("github-token", "check-run-id"):
            assert (
                spec["default"]
                == {"github-token": "${{ github.token }}", "check-run-id": "${{ job.check_run_id }}"}[name]
            )
            continue
        if value is None:
            shown = ""
        elif isinstance(value, tuple):
            shown = ",".join(value)
        else:
            shown = str(value).lower() if isinstance(value, bool) else str(value)
        assert spec["default"] == shown, name
        assert spec["description"].strip(), name


def test_outputs_are_the_ones_the_run_produces(tmp_path: Path) -> None:
    from provenance.pipeline import gather, record

    (tmp_path / "report.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    outcome = record(gather(Settings(workspace=tmp_path, report=("report.xml",)), {}))
    from provenance.selection.budget import Budget
    from provenance.selection.plan import plan

    chosen = plan(tmp_path / "data" / "ci_runs.jsonl", None, Budget(fraction=0.5))
    assert set(ACTION["outputs"]) == set(outcome.outputs()) | set(chosen.outputs("selected_tests.txt"))


def test_readme_documents_every_input_and_output() -> None:
    for name, spec in ACTION["inputs"].items():
        assert re.search(rf"^\| `{name}` \| `{re.escape(spec['default'])}` \|", README, re.M), name
    for name in ACTION["outputs"]:
        assert re.search(rf"^\| `{name}` \|", README, re.M), name


def test_readme_commands_are_the_ones_ci_runs() -> None:
    assert "./examples/demo.sh" in README
    assert "\n.ci/run\n" in README
    assert (ROOT / "examples" / "demo.sh").stat().st_mode & 0o111
    assert "python -m pytest" in (ROOT / ".ci" / "run").read_text()


def test_dockerfile_follows_githubs_rules() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.split()[0] for line in dockerfile.splitlines() if line and not line.startswith(("#", " "))]
    assert "USER" not in instructions and "WORKDIR" not in instructions
    entrypoint = re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.M)
    assert entrypoint and entrypoint.group(1).startswith('["/')
    assert re.search(r"^ARG BASE_IMAGE=python:[\d.]+-slim-bookworm$", dockerfile, re.M)
    assert ACTION["runs"] == {"using": "docker", "image": "Dockerfile", "args": ["action"]}


def test_requirements_are_pinned() -> None:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.]+", line), line


def test_the_pins_are_exactly_what_the_declared_dependencies_pull_in() -> None:
    """A pinned package that nothing needs would be shipped unused; a needed one missing breaks `--no-deps`.

    The image has the `export` extra (the action's `export` input needs it), so its closure is pinned too.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["export"]]
    needed: set[str] = set()
    todo = [Requirement(r) for r in declared]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in needed or (requirement.marker is not None and not requirement.marker.evaluate({"extra": ""})):
            continue
        needed.add(name)
        todo += [Requirement(r) for r in importlib.metadata.requires(name) or []]
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pinned = {canonicalize_name(line.split("==")[0]) for line in lines if line and not line.startswith("#")}
    assert pinned == needed


def test_help_and_version() -> None:
    run = [sys.executable, "-m", "provenance"]
    version = subprocess.run([*run, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"provenance {__version__}"
    for command in ("run", "verify"):
        shown = subprocess.run([*run, command, "--help"], capture_output=True, text=True, check=True).stdout
        assert "example" in shown


def test_image_tag_and_package_version_agree() -> None:
    """Ready for `image: docker://ghcr.io/...:<version>`: all three places name one version."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    label = re.search(r'org\.opencontainers\.image\.version="([^"]+)"', dockerfile)
    assert label and label.group(1) == __version__
    image = ACTION["runs"]["image"]
    if image.startswith("docker://"):
        assert image.rsplit(":", 1)[1] in (__version__, f"v{__version__}")
    else:
        assert image == "Dockerfile"
    # What a release does with them: tests/unit/test_release.py.


def test_example_workflows_use_only_real_inputs() -> None:
    """Every `with:` given to this action in the examples and in our own CI is an input it has."""
    files = [*sorted((ROOT / "examples" / "workflows").glob("*.yml")), ROOT / ".github" / "workflows" / "ci.yml"]
    seen = 0
    for path in files:
        workflow = yaml.safe_load(path.read_text())
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                uses = str(step.get("uses", ""))
                if uses == "./" or uses.startswith("OWNER/provenance-action@"):
                    seen += 1
                    assert set(step.get("with", {})) <= set(ACTION["inputs"]), (path.name, step.get("with"))
    assert seen == 7  # quickstart, ledger-and-attest, select (twice), fork-publish, matrix, and our own CI


def test_the_pages_example_builds_the_site_from_the_ledger_branch_and_deploys_it() -> None:
    """pages.yml: the page built from the ledger branch, uploaded, then deployed with only the rights it needs."""
    workflow = yaml.safe_load((ROOT / "examples" / "workflows" / "pages.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert "permissions" not in build
    assert build["steps"][0]["with"]["ref"] == "provenance-ledger"
    assert (
        f"ghcr.io/OWNER/provenance-action:v{__version__} site --ledger data/ci_runs.jsonl --out site"
        in build["steps"][1]["run"]
    )
    assert build["steps"][2]["uses"].startswith("actions/upload-pages-artifact@")
    assert build["steps"][2]["with"]["path"] == "site/"
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
