"""A release's action.yml names the image the release pushed, and the tag, image and package agree.

The release workflow's own steps are run here on a real clone of this repository: the script that pins
action.yml, the release commit and its tag; then the tagged tree is read back as a user's `uses:` reads it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from provenance import __version__
from tests.support.project import git

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".github" / "release" / "pin_image.py"
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
TAG = f"v{__version__}"


def pin(root: Path, image: str, tag: str) -> subprocess.CompletedProcess[str]:
    """The script as the workflow runs it: the runner's python3, the standard library only."""
    return subprocess.run([sys.executable, "-I", str(SCRIPT), "--root", str(root), "--image", image, "--tag", tag],
                          capture_output=True, text=True)  # fmt: skip


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The files a release reads and writes, copied from this checkout."""
    for name in ("action.yml", "Dockerfile", "provenance/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_main_builds_the_dockerfile() -> None:
    assert yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["image"] == "Dockerfile"


def test_a_release_names_the_image_of_its_version(tree: Path) -> None:
    before = (tree / "action.yml").read_text()
    done = pin(tree, "ghcr.io/Acme/Provenance-Action", TAG)
    assert done.returncode == 0, done.stderr
    after = (tree / "action.yml").read_text()
    runs = yaml.safe_load(after)["runs"]
    assert runs == {"using": "docker", "image": f"docker://ghcr.io/acme/provenance-action:{TAG}", "args": ["action"]}
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [('  image: "Dockerfile"', f'  image: "docker://ghcr.io/acme/provenance-action:{TAG}"')]
    assert pin(tree, "ghcr.io/acme/provenance-action", TAG).returncode == 2  # pinned once, never twice


def older_label(root: Path) -> None:
    dockerfile = root / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(f'image.version="{__version__}"', 'image.version="0.0.9"'))


@pytest.mark.parametrize(
    ("tag", "edit", "expected"),
    [
        ("v99.0.0", None, f"__version__ is {__version__}, so the tag must be v{__version__}, not v99.0.0"),
        (TAG, older_label, f"Dockerfile: org.opencontainers.image.version is 0.0.9, expected {__version__}"),
    ],
)
def test_versions_that_disagree_stop_the_release(
    tree: Path, tag: str, edit: Callable[[Path], None] | None, expected: str
) -> None:
    if edit is not None:
        edit(tree)
    before = (tree / "action.yml").read_bytes()
    done = pin(tree, "ghcr.io/acme/provenance-action", tag)
    assert done.returncode == 2 and expected in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert (tree / "action.yml").read_bytes() == before


def test_an_image_name_that_is_not_ghcr_is_refused(tree: Path) -> None:
    done = pin(tree, "docker.io/acme/provenance-action", TAG)
    assert done.returncode == 2 and "--image" in done.stderr


def test_the_workflow_pushes_the_image_the_release_commit_names() -> None:
    image_job, release_job = WORKFLOW["jobs"]["image"], WORKFLOW["jobs"]["release"]
    names = next(s for s in image_job["steps"] if s.get("id") == "names")["run"]
    assert 'image="ghcr.io/${REPOSITORY,,}"' in names and 'tag="v$version"' in names
    push = next(s for s in image_job["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action@"))
    assert push["with"]["push"] is True
    assert "${{ env.IMAGE }}:v${{ env.VERSION }}" in push["with"]["tags"].splitlines()
    assert release_job["needs"] == "image"
    script = release_job["steps"][-1]
    assert script["env"]["IMAGE"] == "${{ needs.image.outputs.image }}"
    assert script["env"]["TAG"] == "${{ needs.image.outputs.tag }}"
    lines = script["run"].splitlines()
    order = [next(i for i, line in enumerate(lines) if line.startswith(p)) for p in
             ('python3 .github/release/pin_image.py --image "$IMAGE" --tag "$TAG"', "git commit", 'git tag -a "$TAG"',
              'git push origin "refs/tags/$TAG"', 'gh release create "$TAG"')]  # fmt: skip
    assert order == sorted(order)


def test_the_release_tag_names_the_image_of_its_version(tmp_path: Path) -> None:
    """The release job's commands on a clone of this repository; then the tag read back as `uses:` reads it."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--no-local", str(ROOT), str(clone))
    for name in ("action.yml", "Dockerfile", "provenance/__init__.py", ".github/release/pin_image.py"):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, clone / name)  # this checkout's, committed or not
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "--allow-empty", "-am", "the tree under test")
    main_head = git(clone, "rev-parse", "HEAD")
    script = WORKFLOW["jobs"]["release"]["steps"][-1]["run"]
    until_push = script[: script.index("git push")]
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    env = {"IMAGE": "ghcr.io/acme/provenance-action", "TAG": TAG, "PATH": path, "HOME": str(tmp_path)}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", until_push], cwd=clone, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr

    tagged = yaml.safe_load(git(clone, "show", f"{TAG}:action.yml"))
    image = tagged["runs"]["image"]
    assert image == f"docker://ghcr.io/acme/provenance-action:{TAG}"
    package = re.search(r'__version__ = "(.+)"', git(clone, "show", f"{TAG}:provenance/__init__.py"))
    assert package and image.rsplit(":", 1)[1] == TAG == f"v{package.group(1)}"
    major = TAG.split(".")[0]
    assert git(clone, "rev-parse", f"{major}^{{commit}}") == git(clone, "rev-parse", f"{TAG}^{{commit}}")
    assert git(clone, "rev-parse", f"{TAG}^{{commit}}~1") == main_head
    assert yaml.safe_load(git(clone, "show", "HEAD~1:action.yml"))["runs"]["image"] == "Dockerfile"  # main's
