"""The command line: the one place that prints to the user and chooses an exit code."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance import __version__
from provenance.choices import FailOn, IfNoReport
from provenance.errors import ExitCode, InputError, ProvenanceError, one_line
from provenance.terminal import Progress

if TYPE_CHECKING:
    from provenance.config import Settings

_EXAMPLES = """\
examples:
  pytest --json-report --json-report-file=report.json; provenance run --report report.json
  provenance run --report 'reports/**/*.xml' --fail-on none
  provenance validate --contracts data_contracts.yaml
  provenance calibrate --predictions predictions.jsonl --bins 10
  provenance backtest --history data/ci_runs.jsonl
  provenance verify data/ci_runs.jsonl
"""


class _Parser(argparse.ArgumentParser):
    """Subcommand parsers keep their descriptions' and examples' line breaks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="provenance",
        description="Turn a CI test run into an auditable record: outputs, a summary, a ledger entry "
        "and a provenance file.",
        epilog=_EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"provenance {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser(
        "run",
        help="ingest test reports, record the run and gate on failures",
        description="Read the test reports, write the provenance file and a ledger entry, print the "
        "summary, and exit 1 when the gate fails.",
        epilog="example:\n  provenance run --report report.json --ledger data/ci_runs.jsonl",
    )
    run.add_argument(
        "--report", action="append", metavar="GLOB", help="a report file or glob (repeatable; default report.json)"
    )
    run.add_argument("--fail-on", choices=[m.value for m in FailOn], help="what fails the step (default test-failures)")
    run.add_argument(
        "--if-no-report",
        choices=[m.value for m in IfNoReport],
        help="a missing or empty report: warn (neutral) or fail (default warn)",
    )
    run.add_argument("--ledger", metavar="FILE", help="ledger file (default data/ci_runs.jsonl)")
    run.add_argument("--ledger-branch", metavar="BRANCH", help="keep the ledger on this branch of origin (pushed)")
    run.add_argument("--evidence-dir", metavar="DIR", help="where provenance files go (default evidence)")
    run.add_argument("--workspace", metavar="DIR", type=Path, help="the repository checkout (default .)")
    run.add_argument("--run-id", metavar="ID", help="override the run id (default GITHUB_RUN_ID or a local id)")
    run.add_argument(
        "--supersedes",
        type=int,
        metavar="SEQ",
        help="record this run as a correction of ledger entry SEQ (which stays as it was)",
    )
    run.add_argument("--correction-reason", metavar="TEXT", help="why the correction is made (required with it)")
    run.add_argument("--retention-years", type=int, metavar="N", help="how long the record is kept (default 5)")
    run.add_argument("--check-name", metavar="NAME", help="also publish a check run of this name (needs a token)")
    run.add_argument("--github-token", metavar="TOKEN", help="token for the check run (default: GITHUB_TOKEN)")
    run.add_argument("--artifacts", action="append", metavar="GLOB", help="build outputs to attest (repeatable)")
    run.add_argument("--contracts", metavar="FILE", help="dataset contracts (default data_contracts.yaml if present)")
    run.add_argument("--contracts-audit-log", metavar="FILE", help="audit log (default data/contracts_audit.jsonl)")
    run.add_argument(
        "--predictions", metavar="FILE", help='JSON lines {"nodeid", "p_fail"} predicted before the run, to score'
    )
    run.add_argument(
        "--calibration-window", type=int, metavar="N", help="runs the calibration covers, this one included (20)"
    )
    for flag, kind, metavar, what in (("--budget", float, "FRACTION", "a share of the suite's time (default 0.5)"),
                                      ("--budget-seconds", float, "S", "seconds"),
                                      ("--confidence", float, "P", "a confidence target")):  # fmt: skip
        run.add_argument(flag, type=kind, metavar=metavar, help=f"judge a selection at {what} in hindsight")
    run.add_argument("--max-ece", type=float, metavar="X", help="fail when ECE over the window exceeds X")
    run.add_argument("--max-brier", type=float, metavar="X", help="fail when the Brier score over the window exceeds X")
    run.add_argument(
        "--no-summary", dest="summary", action="store_false", default=None, help="do not write the job summary"
    )
    run.add_argument(
        "--no-annotations", dest="annotate", action="store_false", default=None, help="do not annotate failing tests"
    )

    chooser = commands.add_parser(
        "select",
        help="before the tests: choose the ones worth running within a budget, from the ledger's history",
        description="Predict each test's failure from the ledger (the model state beside it, rebuilt when stale), "
        "rank by expected failures per second (with a slice of the budget for the least certain tests), always "
        "keep new tests and tests whose file changed, and write the node ids to run, one per line.",
        epilog="examples:\n  provenance select --ledger data/ci_runs.jsonl --budget 0.3 --out selected.txt\n"
        "  pytest --collect-only -q > all.txt; provenance select --tests all.txt --confidence 0.99\n"
        "  pytest @selected.txt",
    )
    chooser.add_argument("--ledger", metavar="FILE", help="the ledger (default data/ci_runs.jsonl)")
    chooser.add_argument("--tests", metavar="FILE", help="node ids to choose from (default: the last run's tests)")
    chooser.add_argument("--budget", type=float, metavar="FRACTION", help="share of the suite's expected time")
    chooser.add_argument("--budget-seconds", type=float, metavar="S", help="seconds of expected time")
    chooser.add_argument(
        "--confidence",
        type=float,
        metavar="P",
        help="keep adding tests until the skipped ones would all pass with probability P",
    )
    chooser.add_argument("--changed-files", type=Path, metavar="FILE", help="changed paths, one per line "
                         "(relative to the workspace; default: from git, against the PR base or the previous "
                         "commit)")  # fmt: skip
    chooser.add_argument("--exploration", type=float, metavar="X", help="share of the budget for uncertain tests")
    chooser.add_argument("--full-run-every", type=int, metavar="N", help="run everything every N-th run (10)")
    chooser.add_argument("--out", dest="selection_out", metavar="FILE", help="default selected_tests.txt")
    chooser.add_argument("--workspace", type=Path, metavar="DIR", help="the repository checkout (default .)")

    commands.add_parser(
        "action",
        help="what the container runs: settings from the action's INPUT_* variables",
        description="Run as the GitHub Action: every setting comes from INPUT_<NAME> variables.",
    )

    check = commands.add_parser(
        "validate",
        help="check the datasets against data_contracts.yaml (or record new checksums)",
        description="Hash every dataset the manifest names and compare with its recorded sha256; exit 1 when "
        "a dataset fails and block_on_mismatch is set. --update writes the new checksums, sizes and the "
        "commit into the manifest, keeping its comments and layout.",
        epilog="examples:\n  provenance validate\n  provenance validate --update --dry-run",
    )
    check.add_argument("--contracts", default="data_contracts.yaml", metavar="FILE", help="the manifest")
    check.add_argument("--workspace", type=Path, default=Path(), metavar="DIR", help="paths are relative to it")
    check.add_argument("--update", action="store_true", help="write the new checksums into the manifest")
    check.add_argument("--dry-run", action="store_true", help="with --update: show what would change, write nothing")
    check.add_argument(
        "--audit-log",
        default="data/contracts_audit.jsonl",
        metavar="FILE",
        help="append-only audit trail (default data/contracts_audit.jsonl)",
    )

    calibrate = commands.add_parser(
        "calibrate",
        help="score failure predictions: Brier, ECE, MCE, reliability diagram",
        description='Read JSON lines {"p_fail": <0..1>, "failed": <bool>} and print one JSON object with '
        "brier_score, ece, mce, n_samples, base_rate and the reliability diagram.",
        epilog="example:\n  provenance calibrate --predictions predictions.jsonl --bins 10 --strategy quantile",
    )
    calibrate.add_argument("--predictions", required=True, metavar="FILE", help="JSON lines of predictions")
    calibrate.add_argument("--bins", type=int, default=10, metavar="N", help="number of bins (default 10)")
    calibrate.add_argument(
        "--strategy",
        choices=["uniform", "quantile"],
        default="uniform",
        help="equal-width or equal-mass bins (default uniform)",
    )
    calibrate.add_argument(
        "--min-bin-count",
        type=int,
        default=1,
        metavar="K",
        help="bins with fewer samples are left out of MCE (default 1)",
    )

    backtest = commands.add_parser(
        "backtest",
        help="replay a test history: what prediction and selection would have caught and saved",
        description="Replay a history in order (predictions for each cycle use only the cycles before it) and "
        "print Brier, log loss, ECE, MCE, APFD, APFDc, recall and detection at each budget, and the time "
        "saved at 95%%, 99%% and 100%% failing-cycle detection.",
        epilog="examples:\n  provenance backtest --history data/ci_runs.jsonl\n"
        "  provenance backtest --history history.csv --format atcs --emit-predictions predictions.jsonl\n"
        "  provenance backtest --history data/ci_runs.jsonl --reference",
    )
    backtest.add_argument("--history", required=True, type=Path, metavar="FILE", help="the ledger or an ATCS CSV")
    backtest.add_argument(
        "--format",
        choices=["auto", "ledger", "atcs"],
        default="auto",
        help="history format (default: from the content)",
    )
    backtest.add_argument(
        "--emit-predictions",
        type=Path,
        metavar="FILE",
        help="write one JSON line per (cycle, test): cycle, test, p_fail, rank, failed, duration",
    )
    backtest.add_argument(
        "--budgets",
        default="0.1,0.2,0.3,0.4,0.5,0.6,0.7",
        metavar="LIST",
        help="fractions of each cycle's time (default 0.1,...,0.7)",
    )
    backtest.add_argument("--warmup", type=int, default=10, metavar="N", help="cycles learnt from, not scored (10)")
    backtest.add_argument(
        "--reference",
        action="store_true",
        help="also replay the baseline (each test's failure rate shrunk toward the global rate, ranked per "
        "second of its last duration) and print its figures under 'reference', and the model's "
        "difference from them with a 95%% interval (a paired bootstrap over the cycles) under "
        "'model_minus_reference'",
    )

    verify = commands.add_parser(
        "verify",
        help="check a ledger's hash chain (and, with a checkpoint, that nothing was cut or rewritten)",
        description="Recompute every entry's hash, link and the Merkle root; exit 1 at the first entry that does "
        "not verify. With --checkpoint (written by an earlier run), also detect a truncated ledger or one "
        "rewritten with a consistent chain.",
        epilog="examples:\n  provenance verify data/ci_runs.jsonl\n"
        "  provenance verify data/ci_runs.jsonl --checkpoint evidence/ledger_checkpoint_123.json",
    )
    verify.add_argument("ledger", type=Path, metavar="LEDGER")
    verify.add_argument("--checkpoint", type=Path, metavar="FILE", help="a checkpoint from an earlier run")
    verify.add_argument(
        "--strict",
        action="store_true",
        help="also check every entry against the schema, and every line against the RFC 8785 "
        "encoder alone (exact for any number, slower)",
    )

    determinism = commands.add_parser(
        "determinism",
        help="compare two builds' digests; exit 1 on any difference, naming the files",
        description="Each build is a directory (every file is hashed) or a sha256sum-format file such as the "
        "run's subject-checksums. Files present in one build only, or with different bytes, fail the check.",
        epilog="example:\n  provenance determinism build-1/dist build-2/dist",
    )
    determinism.add_argument("a", type=Path, metavar="A")
    determinism.add_argument("b", type=Path, metavar="B")

    fetch = commands.add_parser(
        "fetch",
        help="download a past run's provenance artifacts through the GitHub API and verify them",
        description="List the run's artifacts, download each (or --name) through GitHub's short-lived redirect, "
        "unpack it safely into --dest, then verify every ledger (and checkpoint) and every provenance file. "
        "Exit 1 when anything does not verify.",
        epilog="example:\n  provenance fetch --repo acme/app --run-id 9876543210 --name provenance --dest audit/",
    )
    fetch.add_argument("--repo", required=True, metavar="OWNER/NAME")
    fetch.add_argument("--run-id", required=True, type=int, metavar="N")
    fetch.add_argument("--name", metavar="ARTIFACT", help="only this artifact (default: all of the run's)")
    fetch.add_argument("--token", metavar="T", help="API token (default: GITHUB_TOKEN)")
    fetch.add_argument("--api-url", metavar="URL", help="API base, for GitHub Enterprise Server (default: "
                       "GITHUB_API_URL or https://api.github.com)")  # fmt: skip
    fetch.add_argument("--dest", type=Path, default=Path("provenance-download"), metavar="DIR")

    prove = commands.add_parser(
        "prove",
        help="an inclusion proof for one ledger entry, checkable without the other entries",
        description="Print the entry, its RFC 6962 audit path and the Merkle root of the ledger: an auditor checks "
        "the one run against a published root with `provenance check-proof` and never sees the others.",
        epilog="example:\n  provenance prove data/ci_runs.jsonl --seq 41 > proof.json",
    )
    prove.add_argument("ledger", type=Path, metavar="LEDGER")
    prove.add_argument("--seq", type=int, required=True, metavar="N", help="the entry's seq")

    check_proof = commands.add_parser(
        "check-proof",
        help="check an inclusion proof (from `provenance prove`), optionally against a checkpoint",
        description="Recompute the entry's hash and, from the audit path, the Merkle root; exit 1 when they do "
        "not match the proof's root, or the checkpoint's root when one is given.",
        epilog="example:\n  provenance check-proof proof.json --checkpoint ledger_checkpoint_123.json",
    )
    check_proof.add_argument("proof", type=Path, metavar="PROOF")
    check_proof.add_argument("--checkpoint", type=Path, metavar="FILE", help="the published checkpoint to trust")
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 gate failed, 2 bad input, 3 internal error)."""
    env = os.environ if env is None else env
    args = _parser().parse_args(argv)
    in_github = env.get("GITHUB_ACTIONS") == "true"
    debug = bool(args.debug) or env.get("RUNNER_DEBUG") == "1"
    try:
        with _cycle_collector_paused():
            return _dispatch(args, env, in_github)
    except ProvenanceError as exc:
        _report_error(exc.diagnosis(), in_github)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _report_error("interrupted", in_github)
        return int(ExitCode.INTERNAL)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: exit 3, never a bare traceback
        if debug:
            traceback.print_exc()
        _report_error(f"internal error: {type(exc).__name__}: {one_line(str(exc), 500)}", in_github)
        return int(ExitCode.INTERNAL)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for one command, and restore it (tests call `main` in-process).

    A run over a large report makes and keeps hundreds of thousands of objects, none in cycles
    (reference counting frees what is dropped), and the collector would only walk them over and
    over: a fifth of the time of a 100,000-test run.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _dispatch(args: argparse.Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """The command the arguments name."""
    if args.command == "verify":
        return _verify(args.ledger, args.checkpoint, args.strict)
    if args.command == "determinism":
        return _determinism(args.a, args.b)
    if args.command == "fetch":
        return _fetch(args, env)
    if args.command == "prove":
        return _prove(args.ledger, args.seq)
    if args.command == "check-proof":
        return _check_proof(args.proof, args.checkpoint)
    if args.command == "calibrate":
        return _calibrate(args)
    if args.command == "validate":
        return _validate(args, env)
    if args.command == "backtest":
        return _backtest(args, env)
    from provenance.config import Mode, Settings

    settings = Settings.from_inputs(env) if args.command == "action" else _settings_from_args(args)
    if args.command == "select" or settings.mode is Mode.SELECT:
        # Relative to the workspace, like every other file the command reads or writes.
        given = getattr(args, "changed_files", None)
        changed = _read_lines(settings.workspace / given) if given else None
        return _select(settings, env, in_github, changed)
    return _run(settings, env, in_github)


def _settings_from_args(args: argparse.Namespace) -> Settings:
    from provenance.config import Settings

    raw: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(args, name, None)
        if value is not None:
            raw[name] = tuple(value) if name in ("report", "artifacts") else value
    return Settings.build(raw, source="command line", spell=lambda n: "--" + n.replace("_", "-"))


def _read_lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read ({exc})", source=str(path)) from None


def _select(settings: Settings, env: Mapping[str, str], in_github: bool, changed: list[str] | None) -> int:
    from provenance.context import read_context
    from provenance.github.commands import append_file, format_outputs
    from provenance.gitmeta import read_git
    from provenance.selection.budget import Budget
    from provenance.selection.plan import plan, read_test_list, write_plan

    workspace = settings.workspace
    if changed is None:
        context = read_context(env)
        git = read_git(workspace, compare_base=context.compare_base, branch_hint=context.branch)
        changed = [f.path for f in git.changed_files] if git.changed_files is not None else None
    budget = Budget.given(settings.budget, settings.budget_seconds, settings.confidence)
    tests = read_test_list(workspace / settings.tests) if settings.tests else None
    chosen = plan(workspace / settings.ledger, tests, budget, changed_files=changed,
                  exploration=settings.exploration, full_run_every=settings.full_run_every)  # fmt: skip
    out = workspace / settings.selection_out
    audit = out.with_name(out.name + ".audit.json")
    write_plan(chosen, out, audit, budget)
    outputs = chosen.outputs(settings.selection_out)
    if env.get("GITHUB_OUTPUT"):
        append_file(Path(env["GITHUB_OUTPUT"]), format_outputs(outputs))
    else:
        print(json.dumps(outputs, indent=2))
    selection = chosen.selection
    what = (
        "full run: every test" if selection.full_run else f"{outputs['selected-count']} of {len(selection.tests)} tests"
    )
    print(f"selected {what}, {selection.expected_seconds:.1f} s of {float(selection.seconds.sum()):.1f} s expected; "
          f"P(no skipped test fails) = {selection.confidence:.4f}; written to {settings.selection_out}",
          file=sys.stdout if in_github else sys.stderr)  # fmt: skip
    return int(ExitCode.OK)


def _run(settings: Settings, env: Mapping[str, str], in_github: bool) -> int:
    # Imported here so `provenance --version` and `--help` stay fast.
    from provenance.github import publish
    from provenance.pipeline import run as pipeline

    token = settings.github_token.get_secret_value() if settings.github_token else env.get("GITHUB_TOKEN")
    if in_github and token:
        print(f"::add-mask::{token}", flush=True)  # the runner hides it from every later log line
    inputs = pipeline.gather(settings, env)
    outcome = pipeline.execute(inputs)
    publish.publish(outcome, settings, env, in_github, stdout=sys.stdout, stderr=sys.stderr)
    if settings.check_name:
        _check_run(settings.check_name, token, inputs.context, outcome, env, in_github)
    return int(ExitCode.GATE_FAILED if outcome.verdict.gate_failed else ExitCode.OK)


def _check_run(
    name: str, token: str | None, context: Any, outcome: Any, env: Mapping[str, str], in_github: bool
) -> None:
    """Publish the check run after everything local is written; problems are warnings, an outage an error."""
    from provenance.github.api import DEFAULT_API_URL, GitHubApi
    from provenance.github.checks import publish_check
    from provenance.github.commands import command

    def warn(message: str) -> None:
        print(command("warning", message, title="provenance") if in_github else f"provenance: warning: {message}",
              file=sys.stdout if in_github else sys.stderr, flush=True)  # fmt: skip

    head = context.pr_head_sha or context.sha
    if context.read_only_token:
        warn("no check run: a pull request from a fork or by Dependabot gets a read-only token; use the "
             "workflow_run recipe in the README")  # fmt: skip
        return
    if not token or not context.repository or not head:
        warn("no check run: it needs a token (github-token or GITHUB_TOKEN), GITHUB_REPOSITORY and a commit")
        return
    api = GitHubApi(api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL, token=token)
    result = publish_check(api, context.repository, head, name, outcome)
    for warning in result.warnings:
        warn(warning)
    if result.check_run_id is not None:
        where = f" {result.html_url}" if result.html_url else ""
        print(f"check run {name!r} published with {result.annotations} annotations{where}",
              file=sys.stdout if in_github else sys.stderr)  # fmt: skip


def _validate(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from provenance.datasets import contracts
    from provenance.gitmeta import read_git
    from provenance.schemas import utc_now
    from provenance.text import printable
    from provenance.workspace import append_lines

    workspace: Path = args.workspace
    manifest_path = workspace / args.contracts
    manifest = contracts.load_manifest(manifest_path)
    with Progress("hashing datasets", len(manifest.datasets), sys.stderr, env) as progress:
        validation = contracts.validate(manifest, workspace, args.contracts, progress.advance)
    commit = read_git(workspace, compare_base=None, branch_hint=None).commit
    actor = env.get("GITHUB_ACTOR") or env.get("USER")
    at = utc_now().isoformat().replace("+00:00", "Z")
    run_id = env.get("GITHUB_RUN_ID")
    report: dict[str, Any] = {
        "manifest": args.contracts,
        "status": "failed" if validation.failures else "ok",
        "blocks": validation.blocks,
        "datasets": [
            {"id": r.dataset_id, "path": r.path, "kind": r.kind, "status": r.status, "expected": r.expected,
             "actual": r.actual, "size": r.size, "nfiles": r.nfiles, "problems": r.problems}
            for r in validation.results
        ],
    }  # fmt: skip
    if args.update:
        changes = contracts.planned_updates(manifest, validation, commit)
        report["changes"] = {k: {f: {"old": o, "new": n} for f, (o, n) in v.items()} for k, v in changes.items()}
        if not args.dry_run:
            contracts.write_updates(manifest_path, changes)
            audit = contracts.audit_records(
                validation, "update", actor=actor, commit=commit, run_id=run_id, at=at, changes=changes
            )
            append_lines(workspace / args.audit_log, [json.dumps(r).encode() for r in audit])
        print(json.dumps(report))
        verb = "would change" if args.dry_run else "changed"
        for dataset_id, fields in changes.items():
            for name, (old, new) in fields.items():
                print(printable(f"{dataset_id}: {name} {verb}: {old} -> {new}"), file=sys.stderr)
        if not changes:
            print("every dataset already matches the manifest", file=sys.stderr)
        return int(ExitCode.OK)
    audit = contracts.audit_records(validation, "validate", actor=actor, commit=commit, run_id=run_id, at=at)
    append_lines(workspace / args.audit_log, [json.dumps(r).encode() for r in audit])
    print(json.dumps(report))
    for result in validation.results:
        mark = "ok" if result.status == "ok" else result.status.upper()
        print(printable(f"{mark:10} {result.dataset_id}: {result.describe()}"), file=sys.stderr)
    return int(ExitCode.GATE_FAILED if validation.blocks else ExitCode.OK)


def _backtest(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from provenance.learning import history
    from provenance.learning.model import MODEL_VERSION, Model
    from provenance.selection import backtest
    from provenance.selection.comparison import compare
    from provenance.workspace import atomic_write

    budgets = _fractions(args.budgets)
    if args.warmup < 0:
        raise InputError(f"expected a number of cycles >= 0, got {args.warmup}", field="--warmup")
    path: Path = args.history
    fmt = args.format if args.format != "auto" else history.detect_format(path)
    cycles = history.read_atcs(path) if fmt == "atcs" else history.read_ledger(path)
    model = Model()
    with Progress("backtest: scored cycles", max(0, len(cycles) - args.warmup), sys.stderr, env) as progress:
        figures, scored = backtest.run_backtest(cycles, lambda: model, args.warmup, budgets, progress.advance)
    if args.emit_predictions is not None:
        import orjson

        atomic_write(
            args.emit_predictions, b"".join(orjson.dumps(row) + b"\n" for row in backtest.predictions_rows(scored))
        )
    out = {"history": str(path), "format": fmt, "model": MODEL_VERSION, "cycles": len(cycles),
           "warmup": args.warmup, **figures, "learnt": model.learnt()}  # fmt: skip
    if args.reference:
        with Progress("backtest: reference", max(0, len(cycles) - args.warmup), sys.stderr, env) as progress:
            out["reference"], reference = backtest.run_backtest(cycles, backtest.ReferencePredictor, args.warmup,
                                                                budgets, progress.advance)  # fmt: skip
        out["model_minus_reference"] = compare(reference, scored, budgets)
    print(json.dumps(out))
    return int(ExitCode.OK)


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or not all(0.0 < v <= 1.0 for v in values):
        raise InputError(f"expected fractions in (0, 1] separated by commas, got {text!r}", field="--budgets")
    return values


def _calibrate(args: argparse.Namespace) -> int:
    from provenance.learning.calibration import BinStrategy, calibrate, read_predictions

    p, y = read_predictions(args.predictions)
    report = calibrate(
        p, y, n_bins=args.bins, strategy=BinStrategy(args.strategy), min_bin_count=args.min_bin_count,
        source=args.predictions,
    )  # fmt: skip
    print(json.dumps(report.as_dict()))
    return int(ExitCode.OK)


def _verify(path: Path, checkpoint_file: Path | None, strict: bool = False) -> int:
    from provenance.ledger.checkpoint import load_checkpoint
    from provenance.ledger.verify import verify

    if not path.is_file():
        raise InputError("expected an existing ledger file", source=str(path))
    checkpoint = load_checkpoint(checkpoint_file) if checkpoint_file is not None else None
    result = verify(path, checkpoint, strict)
    report = {
        "ledger": str(path),
        "entries": result.entries,
        "head": result.head,
        "merkle_root": result.merkle_root,
        "ok": result.problem is None,
        "problem": result.problem,
        "line": result.line,
        "checkpoint": str(checkpoint_file) if checkpoint_file else None,
    }
    print(json.dumps(report))
    if result.problem:
        where = f"line {result.line}: " if result.line else ""
        print(f"{path}: {where}{result.problem}", file=sys.stderr)
        return int(ExitCode.GATE_FAILED)
    noun = "entry" if result.entries == 1 else "entries"
    print(f"{path}: {result.entries} {noun} verified; Merkle root {result.merkle_root}", file=sys.stderr)
    return int(ExitCode.OK)


def _determinism(a: Path, b: Path) -> int:
    from provenance.ledger.attestation import compare_builds, read_digests
    from provenance.text import printable

    for path in (a, b):
        if not path.exists():
            raise InputError("no such file or directory", source=str(path))
    first, second = read_digests(a), read_digests(b)
    differences = compare_builds(first, second)
    identical = not any(differences.values())
    print(json.dumps({"a": str(a), "b": str(b), "files": len(first), "identical": identical, **differences}))
    labels = {"only_in_a": f"only in {a}", "only_in_b": f"only in {b}", "differing": "different bytes"}
    for key, names in differences.items():
        for name in names:
            print(printable(f"{labels[key]}: {name}"), file=sys.stderr)
    if identical:
        print(f"{len(first)} files identical in both builds", file=sys.stderr)
    return int(ExitCode.OK if identical else ExitCode.GATE_FAILED)


def _fetch(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    import re

    from provenance.github.api import DEFAULT_API_URL, GitHubApi
    from provenance.github.fetch import fetch_run

    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.repo):
        raise InputError(f"expected OWNER/NAME, got {args.repo!r}", field="--repo")
    api = GitHubApi(
        api_url=args.api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL,
        token=args.token or env.get("GITHUB_TOKEN") or None,
    )
    report = fetch_run(api, args.repo, args.run_id, args.dest, args.name)
    print(json.dumps({"repo": args.repo, "run_id": args.run_id, "dest": str(args.dest), "ok": report.ok,
                      "artifacts": report.artifacts, "checks": report.checks}))  # fmt: skip
    for check in report.checks:
        mark = "ok" if check["ok"] else "FAILED"
        print(f"{mark:7} {check['check']}: {check['path']}" + (f": {check['problem']}" if check["problem"] else ""),
              file=sys.stderr)  # fmt: skip
    return int(ExitCode.OK if report.ok else ExitCode.GATE_FAILED)


def _prove(path: Path, seq: int) -> int:
    from provenance.ledger.proofs import prove

    print(json.dumps(prove(path, seq), indent=2))
    return int(ExitCode.OK)


def _check_proof(path: Path, checkpoint_file: Path | None) -> int:
    from provenance.ledger.checkpoint import load_checkpoint
    from provenance.ledger.proofs import check_proof
    from provenance.workspace import read_json

    proof = read_json(path)
    checkpoint = load_checkpoint(checkpoint_file) if checkpoint_file is not None else None
    problem = check_proof(proof, checkpoint, source=str(path))
    found = {} if problem else {"seq": proof["entry"]["seq"], "merkle_root": proof["merkle_root"]}
    print(json.dumps({"proof": str(path), "ok": problem is None, "problem": problem, **found}))
    if problem:
        print(f"{path}: {problem}", file=sys.stderr)
        return int(ExitCode.GATE_FAILED)
    print(f"{path}: entry {proof['entry']['seq']} is in the ledger whose Merkle root is {proof['merkle_root']}",
          file=sys.stderr)  # fmt: skip
    return int(ExitCode.OK)


def _report_error(message: str, in_github: bool) -> None:
    """One line: an error annotation on GitHub (escaped, so it cannot issue commands), else stderr."""
    from provenance.github.commands import command

    if in_github:
        print(command("error", message, title="provenance"), flush=True)
    else:
        print(f"provenance: error: {message}", file=sys.stderr, flush=True)
