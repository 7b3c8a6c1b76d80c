"""Links to a failing test's file and line on GitHub, at the commit the tests ran on.

`{server}/{owner}/{repo}/blob/{sha}/{path}#L{line}`. Every part comes from outside (the
environment, git, the report), so each is checked and the path percent-encoded: a link is made
only from a path relative to the repository that stays inside it; otherwise there is none.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote

from provenance.pipeline import RunOutcome
from provenance.schemas import TestResult

_SERVER = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~-]+)*/?$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


def blob_url(server: str | None, repository: str | None, sha: str | None, path: str | None,
             line: int | None) -> str | None:  # fmt: skip
    """The file's page at `sha`, at `line` when known; None when any part is unknown or unsafe."""
    if not (server and repository and sha and path):
        return None
    if not (_SERVER.match(server) and _REPOSITORY.match(repository) and _SHA.match(sha)):
        return None
    relative = PurePosixPath(path)
    parts = relative.parts
    if relative.is_absolute() or not parts or any(p in ("..", ".") for p in parts) or "\\" in path:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return None
    anchor = f"#L{line}" if line is not None and line >= 1 else ""
    return f"{server.rstrip('/')}/{repository}/blob/{sha}/{quote(path, safe='/')}{anchor}"


def failure_url(outcome: RunOutcome, test: TestResult) -> str | None:
    """Where a failing test's file and line are on GitHub, for this run's commit."""
    run = outcome.provenance.run
    return blob_url(outcome.server_url, run.repository, run.git.commit or run.sha, test.file, test.line)
