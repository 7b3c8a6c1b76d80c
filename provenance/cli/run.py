"""`provenance run`: ingest the test reports, record the run and gate on failures."""

from __future__ import annotations

import sys
from argparse import ArgumentParser, Namespace
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.choices import CommentMode, FailOn, IfNoReport
from provenance.cli.common import Commands, add_input_limit, limited, settings_from_args
from provenance.errors import ExitCode, InputError

if TYPE_CHECKING:
    from provenance.config import Settings


def add_parser(commands: Commands) -> None:
    """Declare the `run` command and its options."""
    parser = commands.add_parser(
        "run",
        help="ingest test reports, record the run and gate on failures",
        description="Read the test reports, write the provenance file and a ledger entry, print the "
        "summary, and exit 1 when the gate fails.",
        epilog="example:\n  provenance run --report report.json --ledger data/ci_runs.jsonl",
    )
    parser.add_argument(
        "--report", action="append", metavar="GLOB", help="a report file or glob (repeatable; default report.json)"
    )
    parser.add_argument(
        "--fail-on", choices=[m.value for m in FailOn], help="what fails the step (default test-failures)"
    )
    parser.add_argument("--if-no-report", choices=[m.value for m in IfNoReport],
                        help="a missing or empty report: fail (exit 2, the default) or warn (exit 0)")  # fmt: skip
    parser.add_argument("--ledger", metavar="FILE", help="ledger file (default data/ci_runs.jsonl)")
    parser.add_argument("--ledger-branch", metavar="BRANCH", help="keep the ledger on this branch of origin (pushed)")
    parser.add_argument("--evidence-dir", metavar="DIR", help="where provenance files go (default evidence)")
    parser.add_argument("--badge-path", metavar="FILE", help="also write a shields.io endpoint badge here")
    parser.add_argument("--export", action="store_true", default=None, help="also the rows as Parquet (docs/export.md)")
    parser.add_argument("--ctrf-out", metavar="FILE", help="also write the run as a CTRF report (JSON) to FILE")
    parser.add_argument("--workspace", metavar="DIR", type=Path, help="the repository checkout (default .)")
    parser.add_argument("--run-id", metavar="ID", help="override the run id (default GITHUB_RUN_ID or a local id)")
    parser.add_argument("--supersedes", type=int, metavar="SEQ",
                        help="record this run as a correction of ledger entry SEQ (which stays as it was)")  # fmt: skip
    parser.add_argument("--correction-reason", metavar="TEXT", help="why the correction is made (required with it)")
    parser.add_argument("--retention-years", type=int, metavar="N", help="how long the record is kept (default 5)")
    parser.add_argument("--check-name", metavar="NAME", help="also publish a check run of this name (needs a token)")
    parser.add_argument("--github-token", metavar="TOKEN", help="token for the check run (default: GITHUB_TOKEN)")
    parser.add_argument("--check-run-id", type=int, metavar="ID", help="the job's check run (job.check_run_id)")
    parser.add_argument("--artifacts", action="append", metavar="GLOB", help="build outputs to attest (repeatable)")
    parser.add_argument(
        "--contracts", metavar="FILE", help="dataset contracts (default data_contracts.yaml if present)"
    )
    parser.add_argument("--contracts-audit-log", metavar="FILE", help="audit log (default data/contracts_audit.jsonl)")
    parser.add_argument(
        "--predictions", metavar="FILE", help='JSON lines {"test", "p_fail"} predicted before the run, to score'
    )
    parser.add_argument(
        "--calibration-window", type=int, metavar="N", help="runs the calibration covers, this one included (20)"
    )
    for flag, kind, metavar, what in (("--budget", float, "FRACTION", "a share of the suite's time (default 0.5)"),
                                      ("--budget-seconds", float, "S", "seconds"),
                                      ("--confidence", float, "P", "a confidence target")):  # fmt: skip
        parser.add_argument(flag, type=kind, metavar=metavar, help=f"judge a selection at {what} in hindsight")
    parser.add_argument("--max-ece", type=float, metavar="X", help="fail when ECE over the window exceeds X")
    parser.add_argument(
        "--max-brier", type=float, metavar="X", help="fail when the Brier score over the window exceeds X"
    )
    for flag, dest, what in (("--no-summary", "summary", "write the job summary"),
                             ("--no-annotations", "annotate", "annotate failing tests")):  # fmt: skip
        parser.add_argument(flag, dest=dest, action="store_false", default=None, help=f"do not {what}")
    add_reporting_flags(parser)
    add_input_limit(parser)
    parser.set_defaults(handler=limited(run_tests))


def add_reporting_flags(parser: ArgumentParser) -> None:
    """The pull-request comment and the duration check."""
    parser.add_argument(
        "--comment",
        choices=[m.value for m in CommentMode],
        help="comment on the pull request, edited in place: off, changes, failures or always (off)",
    )
    parser.add_argument(
        "--comment-author",
        metavar="LOGIN",
        help="the token's login, whose marked comment is edited (github-actions[bot])",
    )
    parser.add_argument(
        "--duration-regression",
        metavar="FACTOR[,FLOOR]",
        help="list tests over FACTOR times their recorded median and FLOOR s longer (FLOOR 0.5)",
    )


def run_tests(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """The command: settings from the flags."""
    return record(settings_from_args(args), env, in_github)


def record(settings: Settings, env: Mapping[str, str], in_github: bool) -> int:
    """Gather, record and publish the run; exit 1 when its gate failed."""
    # Imported here so `provenance --version` and `--help` stay fast.
    from provenance import pipeline
    from provenance.github import publish
    from provenance.pipeline.verdict import no_report_reason

    token = settings.github_token.get_secret_value() if settings.github_token else env.get("GITHUB_TOKEN")
    if in_github and token:
        print(f"::add-mask::{token}", flush=True)  # the runner hides it from every later log line
    inputs = pipeline.gather(settings, env)
    if not inputs.reports:  # the tests wrote nothing (or did not run): there is nothing to record
        reason = no_report_reason(inputs)
        if settings.if_no_report is IfNoReport.FAIL:
            raise InputError(reason, field="report")
        publish.publish_nothing(reason, settings, env, in_github, stdout=sys.stdout, stderr=sys.stderr)
        return int(ExitCode.OK)
    outcome = pipeline.execute(inputs)
    publish.publish(outcome, settings, env, in_github, stdout=sys.stdout, stderr=sys.stderr)
    if settings.check_name:
        check_run(settings, token, inputs.context, outcome, env, in_github)
    if settings.comment is not CommentMode.OFF:
        pr_comment(settings, token, inputs.context, outcome, env, in_github)
    return int(ExitCode.GATE_FAILED if outcome.verdict.gate_failed else ExitCode.OK)


def check_run(settings: Settings, token: str | None, context: Any, outcome: Any, env: Mapping[str, str],
              in_github: bool) -> None:  # fmt: skip
    """Publish the check run after everything local is written; problems are warnings, an outage an error."""
    from provenance.github.checks import JobCheckRun, publish_check
    from provenance.github.client import connect
    from provenance.github.commands import command

    def warn(message: str) -> None:
        print(command("warning", message, title="provenance") if in_github else f"provenance: warning: {message}",
              file=sys.stdout if in_github else sys.stderr, flush=True)  # fmt: skip

    name = settings.check_name
    head = context.pr_head_sha or context.sha
    if context.read_only_token:
        warn("no check run: a pull request from a fork or by Dependabot gets a read-only token; use the "
             "workflow_run recipe in the README")  # fmt: skip
        return
    if not name or not token or not context.repository or not head:
        warn("no check run: it needs a token (github-token or GITHUB_TOKEN), GITHUB_REPOSITORY and a commit")
        return
    run = outcome.provenance.run  # the records name the job's check run; the check run links the same
    job = JobCheckRun(run.check_run_id, run.check_run_url) if run.check_run_id and run.check_run_url else None
    client = connect(env.get("GITHUB_API_URL"), token)
    result = publish_check(client, context.repository, head, name, outcome, job)
    for warning in result.warnings:
        warn(warning)
    if result.check_run_id is not None:
        where = f" {result.html_url}" if result.html_url else ""
        print(f"check run {name!r} published with {result.annotations} annotations{where}",
              file=sys.stdout if in_github else sys.stderr)  # fmt: skip


def pr_comment(settings: Settings, token: str | None, context: Any, outcome: Any, env: Mapping[str, str],
               in_github: bool) -> None:  # fmt: skip
    """Create or edit the pull request's comment after everything local is written; refusals are one warning."""
    from provenance.github.commands import command
    from provenance.github.pr_comment import preflight

    number, result = preflight(settings.comment, context, token)
    if number is not None:  # PyGithub is imported only when there is a pull request to comment on
        from provenance.github.client import connect
        from provenance.github.comment import publish_comment

        result = publish_comment(connect(env.get("GITHUB_API_URL"), token), context.repository, number, outcome,
                                 settings.comment, context, settings.comment_author)  # fmt: skip
    stream = sys.stdout if in_github else sys.stderr
    for warning in result.warnings:
        print(command("warning", warning, title="provenance") if in_github else f"provenance: warning: {warning}",
              file=stream, flush=True)  # fmt: skip
    for note in result.notes:
        print(note, file=stream, flush=True)
    if result.comment_id is not None:
        where = f" {result.html_url}" if result.html_url else ""
        print(f"pull-request comment {result.action}{where}", file=stream, flush=True)
