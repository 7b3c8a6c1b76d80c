from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.github_server import GitHubServer
from tests.support.project import git


@pytest.fixture
def server() -> Iterator[GitHubServer]:
    """The loopback GitHub server; every request and response must match GitHub's description."""
    running = GitHubServer().start()
    yield running
    running.stop()
    assert running.violations == []


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare repository with one commit on main, as a ledger branch's remote."""
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "--quiet", str(remote), str(seed))
    (seed / "app.py").write_text("print('hi')\n")
    git(seed, "add", "-A")
    git(seed, "commit", "--quiet", "-m", "app")
    git(seed, "push", "--quiet", "origin", "HEAD:main")
    return remote
