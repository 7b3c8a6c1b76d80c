"""Publish a recorded run: step outputs, job summary, annotations, and the log (to the streams the CLI hands in).

On GitHub the outputs go to `GITHUB_OUTPUT` and the summary to `GITHUB_STEP_SUMMARY`; elsewhere
the outputs are printed as JSON on stdout and the summary as text on stderr.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from provenance.config import Settings
from provenance.github import summary
from provenance.github.commands import (
    MAX_ANNOTATIONS_PER_STEP,
    Annotation,
    append_file,
    command,
    format_outputs,
    stop_commands_token,
)
from provenance.github.plaintext import render_text
from provenance.pipeline import RunOutcome
from provenance.schemas import Result, TestResult
from provenance.terminal import paint
from provenance.text import is_are, plural, printable

_ANNOTATION_DETAIL_CHARS = 2000


def publish(
    outcome: RunOutcome,
    settings: Settings,
    env: Mapping[str, str],
    in_github: bool,
    *,
    stdout: TextIO,
    stderr: TextIO,
) -> None:
    """Write every channel the environment offers."""
    outputs = outcome.outputs()
    output_file = env.get("GITHUB_OUTPUT")
    if output_file:
        append_file(Path(output_file), format_outputs(outputs))
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if summary_file and settings.summary:
        path = Path(summary_file)
        used = path.stat().st_size if path.exists() else 0
        append_file(path, summary.render(outcome, limit_bytes=summary.SUMMARY_LIMIT_BYTES - used))
    if in_github:
        lines = workflow_commands(outcome, settings.annotate)
        # The log copy of the summary holds untrusted text: stop command processing around it.
        token = stop_commands_token()
        stdout.write("".join(line + "\n" for line in lines) + f"::stop-commands::{token}\n")
        stdout.write(render_text(outcome) + f"::{token}::\n")
        stdout.flush()
    else:
        headline, _, rest = render_text(outcome).partition("\n")
        stderr.write(paint(headline, outcome.verdict.conclusion.value, stderr, env) + "\n" + rest)
        stderr.flush()
    if not output_file:
        stdout.write(json.dumps(outputs, indent=2) + "\n")
        stdout.flush()


_COUNTS = ("total", "passed", "failed", "skipped", "errors", "flaky")
NOTHING_RECORDED = {"conclusion": "neutral", **{f"tests-{name}": "0" for name in _COUNTS}}


def publish_nothing(reason: str, settings: Settings, env: Mapping[str, str], in_github: bool, *,
                    stdout: TextIO, stderr: TextIO) -> None:  # fmt: skip
    """A run without a test report: a neutral conclusion, one warning and the summary; no records."""
    output_file, summary_file = env.get("GITHUB_OUTPUT"), env.get("GITHUB_STEP_SUMMARY")
    if output_file:
        append_file(Path(output_file), format_outputs(NOTHING_RECORDED))
    if summary_file and settings.summary:
        append_file(Path(summary_file), summary.nothing_recorded(reason))
    if in_github:
        stdout.write(command("warning", reason, title="provenance") + "\n")
    else:
        stderr.write(f"provenance: warning: {printable(reason)}; nothing was recorded\n")
    if not output_file:
        stdout.write(json.dumps(NOTHING_RECORDED, indent=2) + "\n")
    stdout.flush()


def workflow_commands(outcome: RunOutcome, annotate: bool) -> list[str]:
    """Warnings, then an error annotation for each of the first failures, then how many more."""
    lines = [command("warning", warning, title="provenance") for warning in outcome.warnings]
    if not annotate:
        return lines
    failures = outcome.provenance.run.failures
    for test in failures[:MAX_ANNOTATIONS_PER_STEP]:
        lines.append(annotation_for(test).as_command())
    hidden = len(failures) - MAX_ANNOTATIONS_PER_STEP
    if hidden > 0:
        lines.append(
            command(
                "notice",
                f"{plural(hidden, 'more failing test')} {is_are(hidden)} not annotated (GitHub shows "
                f"{MAX_ANNOTATIONS_PER_STEP} "
                "per step); all are listed in the job summary and the provenance file.",
                title="provenance",
            )
        )
    return lines


def annotation_for(test: TestResult) -> Annotation:
    """An error annotation on the failure's line: the message first, then the traceback's end."""
    kind = "error" if test.result is Result.ERROR else "failed"
    title = f"{test.nodeid} {kind}" + (f" in {test.phase}" if test.phase in ("setup", "teardown", "collect") else "")
    body = test.message or kind
    if test.longrepr:
        body += "\n\n" + test.longrepr[-_ANNOTATION_DETAIL_CHARS:]
    return Annotation(level="error", message=body, title=title, file=test.file, line=test.line)
