"""The image built from the real Dockerfile runs as the GitHub runner runs it (see container_check.py)."""

from __future__ import annotations

import json
import os

import pytest

from tests.container import container_check


@pytest.mark.container
def test_image_builds_and_runs_as_the_runner_runs_it() -> None:
    problems = container_check.missing_tools() + ([] if os.geteuid() == 0 else ["root"])
    if problems:
        message = f"the container test needs {', '.join(problems)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": CI must run it (.ci/run installs the tools)")
        pytest.skip(message)
    figures = container_check.main()
    print(json.dumps(figures))
    assert figures["added_bytes"] > 0
