"""Publish a recorded run: step outputs, job summary, annotations, and the log (to the streams the CLI hands in).

On GitHub the outputs go to `GITHUB_OUTPUT` and the summary to `GITHUB_STEP_SUMMARY`; elsewhere
the outputs are printed as JSON on stdout and the summary as text on stderr.
"""

from __future__ import annotations

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
    outputs_as_json,
    repository_path,
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
    outputs, dropped = fit_outputs(outcome.outputs())
    output_file = env.get("GITHUB_OUTPUT")
    if output_file:
        append_file(Path(output_file), format_outputs(outputs))
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if summary_file and settings.summary:
        summary.append_to_step_summary(
            Path(summary_file),
            lambda room: summary.render(outcome, limit_bytes=room, site_url=settings.site_url),
            outcome.provenance_path,
        )
    if in_github:
        lines = [command("warning", message, title="provenance") for message in dropped]
        lines += workflow_commands(outcome, settings.annotate)
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
        stdout.write(outputs_as_json(outputs))
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
        stdout.write(outputs_as_json(NOTHING_RECORDED))
    stdout.flush()


# GitHub shows at most 10 annotations of each level (error, warning, notice) from one step.
PER_LEVEL = MAX_ANNOTATIONS_PER_STEP
# A step output, and all of a job's outputs together, at most 1 MB, sized as UTF-16 (GitHub's docs).
OUTPUT_LIMIT_BYTES = 1_000_000


def utf16_size(text: str) -> int:
    """A text's size as GitHub approximates an output's: its UTF-16 encoding."""
    return len(text.encode("utf-16-le", errors="surrogatepass"))


def fit_outputs(outputs: dict[str, str], limit: int = OUTPUT_LIMIT_BYTES) -> tuple[dict[str, str], list[str]]:
    """The outputs within GitHub's limits (each and all together), and a warning for each one emptied."""
    kept = dict(outputs)
    warnings = []
    for name in sorted(kept, key=lambda n: utf16_size(n) + utf16_size(kept[n]), reverse=True):
        total = sum(utf16_size(n) + utf16_size(v) for n, v in kept.items())
        if utf16_size(kept[name]) <= limit and total <= limit:
            break
        warnings.append(
            f"output {name} left empty: {utf16_size(kept[name]):,} bytes, and GitHub keeps at most {limit:,} bytes "
            "of outputs a job; the value is in the provenance file"
        )
        kept[name] = ""
    return kept, warnings


def workflow_commands(outcome: RunOutcome, annotate: bool) -> list[str]:
    """At most 10 warnings, 10 error annotations (the first failures) and 10 notices; the rest in the summary."""
    warnings = outcome.warnings
    lines = [command("warning", warning, title="provenance") for warning in warnings[:PER_LEVEL]]
    notices = []
    if len(warnings) > PER_LEVEL:
        more = len(warnings) - PER_LEVEL
        notices.append(
            f"{plural(more, 'more warning')} {is_are(more)} in the job summary (GitHub shows {PER_LEVEL} a step)."
        )
    failures = outcome.provenance.run.failures if annotate else []
    lines += [annotation_for(test).as_command() for test in failures[:PER_LEVEL]]
    if (hidden := len(failures) - PER_LEVEL) > 0:
        notices.append(
            f"{plural(hidden, 'more failing test')} {is_are(hidden)} not annotated (GitHub shows {PER_LEVEL} "
            "per step); all are listed in the job summary and the provenance file."
        )
    return lines + [command("notice", notice, title="provenance") for notice in notices[:PER_LEVEL]]


def annotation_for(test: TestResult) -> Annotation:
    """An error annotation on the failure's line: the message first, then the traceback's end."""
    kind = "error" if test.result is Result.ERROR else "failed"
    title = f"{test.nodeid} {kind}" + (f" in {test.phase}" if test.phase in ("setup", "teardown", "collect") else "")
    body = test.message or kind
    if test.longrepr:
        body += "\n\n" + test.longrepr[-_ANNOTATION_DETAIL_CHARS:]
    file = repository_path(test.file)
    return Annotation(level="error", message=body, title=title, file=file, line=test.line if file else None)
