from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance.gitmeta import read_git
from tests.support.project import git


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    work = tmp_path / "repo"
    work.mkdir()
    git(work, "init", "--quiet", "--initial-branch=main")
    (work / "a.py").write_text("x = 1\n")
    (work / "logo.bin").write_bytes(b"\0\1\2")
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "one")
    first = git(work, "rev-parse", "HEAD")
    (work / "a.py").write_text("x = 2\ny = 3\n")
    (work / "logo.bin").write_bytes(b"\0\1\2\3")
    (work / "dir with space").mkdir()
    (work / "dir with space" / "b\tc.py").write_text("z\n")
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "two")
    return work, first, git(work, "rev-parse", "HEAD")


def test_commit_branch_and_changes_against_the_previous_commit(repo: tuple[Path, str, str]) -> None:
    work, first, second = repo
    info = read_git(work, compare_base=None, branch_hint=None)
    assert info.status == "ok"
    assert (info.commit, info.branch, info.compare_base) == (second, "main", first)
    changed = {f.path: (f.added, f.deleted) for f in info.changed_files or []}
    assert changed == {"a.py": (2, 1), "logo.bin": (None, None), "dir with space/b\tc.py": (1, 0)}
    assert (info.lines_added, info.lines_deleted) == (3, 1)


def test_compare_base_from_the_event(repo: tuple[Path, str, str]) -> None:
    work, first, _ = repo
    info = read_git(work, compare_base=first, branch_hint="feature/x")
    assert info.compare_base == first
    assert info.branch == "feature/x"


def test_base_missing_from_the_clone_is_unknown_not_an_error(repo: tuple[Path, str, str]) -> None:
    work, _, second = repo
    info = read_git(work, compare_base="c" * 40, branch_hint=None)
    assert info.status == "unknown"
    assert info.commit == second
    assert info.changed_files is None


def test_shallow_clone(repo: tuple[Path, str, str], tmp_path: Path) -> None:
    work, _, second = repo
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth=1", f"file://{work}", str(shallow))
    info = read_git(shallow, compare_base=None, branch_hint=None)
    assert info.status == "unknown"
    assert info.commit == second
    assert info.reason and "changed files unknown" in info.reason


def test_no_repository(tmp_path: Path) -> None:
    info = read_git(tmp_path, compare_base=None, branch_hint="main")
    assert info.status == "unknown"
    assert info.commit is None
    assert info.branch == "main"


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a checkout's owner needs root")
def test_checkout_owned_by_another_user(repo: tuple[Path, str, str]) -> None:
    """As in the container: /github/workspace belongs to the runner's user, not to root."""
    work, _, second = repo
    for path in [work, *work.rglob("*")]:
        os.lchown(path, 1001, 1001)
    assert read_git(work, compare_base=None, branch_hint=None).commit == second
