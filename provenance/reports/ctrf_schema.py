"""The CTRF document as its published JSON schema describes it (ctrf-schema-0.0.json), as msgspec types.

Every object of the schema is closed (`additionalProperties: false`) and no field may be null, so
each type forbids unknown fields and an absent field is `UNSET`, never None: a document msgspec
accepts here is one the schema accepts, and the error names the field that breaks it. Formats
(`uuid`, `date-time`, `uri`) are annotations the schema does not assert, as JSON Schema validators
do by default; they are not checked either. An "integer" is any number without a fraction, 2.0
included, as the schema's validators read it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

Integer = Annotated[float, Meta(multiple_of=1)]
NonNegative = Annotated[float, Meta(multiple_of=1, ge=0)]
Text = Annotated[str, Meta(min_length=1)]
Status = Literal["passed", "failed", "skipped", "pending", "other"]
Extra = dict[str, Any]
Primitive = str | float | bool
Label = Primitive | Annotated[list[Primitive], Meta(min_length=1)]
STATUSES: tuple[Status, ...] = ("passed", "failed", "skipped", "pending", "other")


class _Closed(msgspec.Struct, forbid_unknown_fields=True, rename="camel", omit_defaults=True):
    """An object of the schema: camelCase names, nothing beyond what it lists."""


class Attachment(_Closed):
    """A file or resource a test or an attempt refers to."""

    name: str
    content_type: str
    path: str
    attachment_id: Text | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class Attempt(_Closed):
    """One attempt before the final one (`retryAttempts`)."""

    attempt: Annotated[float, Meta(multiple_of=1, ge=1)]
    status: Status
    attempt_id: Text | UnsetType = UNSET
    duration: NonNegative | UnsetType = UNSET
    message: str | UnsetType = UNSET
    trace: str | UnsetType = UNSET
    line: Integer | UnsetType = UNSET
    snippet: str | UnsetType = UNSET
    stdout: list[str] | UnsetType = UNSET
    stderr: list[str] | UnsetType = UNSET
    start: Integer | UnsetType = UNSET
    stop: Integer | UnsetType = UNSET
    attachments: list[Attachment] | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class Step(_Closed):
    """A step of a test, with its own status."""

    name: str
    status: Status
    extra: Extra | UnsetType = UNSET


class MetricDelta(_Closed):
    """A figure beside its baseline and the change between them."""

    current: float | UnsetType = UNSET
    baseline: float | UnsetType = UNSET
    change: float | UnsetType = UNSET


class TestInsights(_Closed):
    """Figures about one test over several runs."""

    pass_rate: MetricDelta | UnsetType = UNSET
    fail_rate: MetricDelta | UnsetType = UNSET
    flaky_rate: MetricDelta | UnsetType = UNSET
    average_test_duration: MetricDelta | UnsetType = UNSET
    p95_test_duration: MetricDelta | UnsetType = UNSET
    executed_in_runs: Integer | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class Test(_Closed):
    """One test case: its final attempt, with the earlier ones in `retry_attempts`."""

    __test__ = False  # not a pytest test class

    name: Text
    status: Status
    duration: Integer
    id: Text | UnsetType = UNSET
    test_id: Text | UnsetType = UNSET
    execution_id: Text | UnsetType = UNSET
    start: Integer | UnsetType = UNSET
    stop: Integer | UnsetType = UNSET
    suite: Annotated[list[str], Meta(min_length=1)] | UnsetType = UNSET
    message: str | UnsetType = UNSET
    trace: str | UnsetType = UNSET
    snippet: str | UnsetType = UNSET
    ai: str | UnsetType = UNSET
    line: Integer | UnsetType = UNSET
    raw_status: str | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    labels: dict[str, Label] | UnsetType = UNSET
    type: str | UnsetType = UNSET
    file_path: str | UnsetType = UNSET
    retries: NonNegative | UnsetType = UNSET
    retry_attempts: Annotated[list[Attempt], Meta(min_length=1)] | UnsetType = UNSET
    flaky: bool | UnsetType = UNSET
    stdout: list[str] | UnsetType = UNSET
    stderr: list[str] | UnsetType = UNSET
    thread_id: str | UnsetType = UNSET
    browser: str | UnsetType = UNSET
    device: str | UnsetType = UNSET
    screenshot: str | UnsetType = UNSET
    attachments: list[Attachment] | UnsetType = UNSET
    parameters: Extra | UnsetType = UNSET
    steps: list[Step] | UnsetType = UNSET
    insights: TestInsights | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class Tool(_Closed):
    """The tool that ran the tests."""

    name: Text
    version: str | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class Summary(_Closed):
    """The run's counts by status, and its start and stop in milliseconds since the epoch."""

    tests: Integer
    passed: Integer
    failed: Integer
    skipped: Integer
    pending: Integer
    other: Integer
    start: Integer
    stop: Integer
    flaky: Integer | UnsetType = UNSET
    suites: Integer | UnsetType = UNSET
    duration: Integer | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class Environment(_Closed):
    """Where the tests ran: the build, the repository, the operating system."""

    report_name: str | UnsetType = UNSET
    app_name: str | UnsetType = UNSET
    app_version: str | UnsetType = UNSET
    build_id: str | UnsetType = UNSET
    build_name: str | UnsetType = UNSET
    build_number: Integer | UnsetType = UNSET
    build_url: str | UnsetType = UNSET
    repository_name: str | UnsetType = UNSET
    repository_url: str | UnsetType = UNSET
    commit: str | UnsetType = UNSET
    branch_name: str | UnsetType = UNSET
    os_platform: str | UnsetType = UNSET
    os_release: str | UnsetType = UNSET
    os_version: str | UnsetType = UNSET
    test_environment: str | UnsetType = UNSET
    shard_id: Text | UnsetType = UNSET
    healthy: bool | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class Results(_Closed):
    """The results of one run: the tool, the summary, the tests."""

    tool: Tool
    summary: Summary
    tests: list[Test]
    environment: Environment | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class RunInsights(_Closed):
    """Figures about the run over several runs."""

    pass_rate: MetricDelta | UnsetType = UNSET
    fail_rate: MetricDelta | UnsetType = UNSET
    flaky_rate: MetricDelta | UnsetType = UNSET
    average_run_duration: MetricDelta | UnsetType = UNSET
    p95_run_duration: MetricDelta | UnsetType = UNSET
    average_test_duration: MetricDelta | UnsetType = UNSET
    runs_analyzed: Integer | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class Baseline(_Closed):
    """The earlier report this one is compared with."""

    report_id: Text
    timestamp: str | UnsetType = UNSET
    source: str | UnsetType = UNSET
    build_number: Integer | UnsetType = UNSET
    build_name: str | UnsetType = UNSET
    build_url: str | UnsetType = UNSET
    commit: str | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET


class Document(_Closed):
    """A CTRF report: `reportFormat` is "CTRF", `specVersion` a MAJOR.MINOR.PATCH version."""

    results: Results
    report_format: Literal["CTRF"]
    spec_version: Annotated[str, Meta(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")]
    report_id: Text | UnsetType = UNSET
    run_id: Text | UnsetType = UNSET
    timestamp: str | UnsetType = UNSET
    generated_by: str | UnsetType = UNSET
    extra: Extra | UnsetType = UNSET
    insights: RunInsights | UnsetType = UNSET
    baseline: Baseline | UnsetType = UNSET
