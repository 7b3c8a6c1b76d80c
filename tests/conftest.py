from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.github_server import GitHubServer


@pytest.fixture
def server() -> Iterator[GitHubServer]:
    """The loopback GitHub server; every request and response must match GitHub's description."""
    running = GitHubServer().start()
    yield running
    running.stop()
    assert running.violations == []
