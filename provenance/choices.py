"""The settings' choices, as enums light enough for `--help` and `--version` to load instantly."""

from __future__ import annotations

from enum import StrEnum


class FailOn(StrEnum):
    """What makes the step fail (exit 1)."""

    TEST_FAILURES = "test-failures"
    REGRESSION = "regression"  # only tests that did not fail in the branch's last recorded run
    # Failing tests as test-failures does, and tests slower than `duration-regression` allows.
    DURATION_REGRESSION = "duration-regression"
    NONE = "none"


class CommentMode(StrEnum):
    """When the pull-request comment is written (an existing one is always brought up to date)."""

    OFF = "off"
    CHANGES = "changes"  # something changed against the base branch's last recorded run
    FAILURES = "failures"  # the run has failing tests
    ALWAYS = "always"


class IfNoReport(StrEnum):
    """What a missing or empty report means."""

    WARN = "warn"
    FAIL = "fail"


class Mode(StrEnum):
    """What the action does: record a finished run, or choose the tests for a coming one."""

    RUN = "run"
    SELECT = "select"
