"""`provenance select`: before the tests, choose the ones worth running within a budget."""

from __future__ import annotations

import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.cli.common import Commands, add_input_limit, limited, read_lines, settings_from_args
from provenance.errors import ExitCode, InputError

if TYPE_CHECKING:
    from provenance.config import Settings
    from provenance.selection.budget import Budget
    from provenance.selection.plan import Plan


def add_parser(commands: Commands) -> None:
    """Declare the `select` command and its options."""
    parser = commands.add_parser(
        "select",
        help="before the tests: choose the ones worth running within a budget, from the ledger's history",
        description="Predict each test's failure from the ledger (the model state beside it, rebuilt when stale), "
        "rank by expected failures per second (with a slice of the budget for the least certain tests), always "
        "keep new tests and tests whose file changed, and write the node ids to run, one per line.",
        epilog="examples:\n  provenance select --ledger data/ci_runs.jsonl --budget 0.3 --out selected.txt\n"
        "  pytest --collect-only -q > all.txt; provenance select --tests all.txt --confidence 0.99\n"
        "  pytest @selected.txt",
    )
    parser.add_argument("--ledger", metavar="FILE", help="the ledger (default data/ci_runs.jsonl)")
    parser.add_argument("--tests", metavar="FILE", help="node ids to choose from (default: the last run's tests)")
    parser.add_argument("--budget", type=float, metavar="FRACTION", help="share of the suite's expected time")
    parser.add_argument("--budget-seconds", type=float, metavar="S", help="seconds of expected time")
    parser.add_argument(
        "--confidence",
        type=float,
        metavar="P",
        help="keep adding tests until the skipped ones would all pass with probability P",
    )
    parser.add_argument("--changed-files", type=Path, metavar="FILE", help="changed paths, one per line "
                         "(relative to the workspace; default: from git, against the PR base or the previous "
                         "commit)")  # fmt: skip
    parser.add_argument("--exploration", type=float, metavar="X", help="share of the budget for uncertain tests")
    parser.add_argument("--full-run-every", type=int, metavar="N", help="run everything every N-th run (10)")
    parser.add_argument("--out", dest="selection_out", metavar="FILE", help="default selected_tests.txt")
    parser.add_argument("--workspace", type=Path, metavar="DIR", help="the repository checkout (default .)")
    add_input_limit(parser)
    parser.set_defaults(handler=limited(select_tests))


def select_tests(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """The command: settings from the flags; changed files from --changed-files, else from git."""
    settings = settings_from_args(args)
    # Relative to the workspace, like every other file the command reads or writes.
    changed = read_lines(settings.workspace / args.changed_files) if args.changed_files else None
    return choose(settings, env, in_github, changed)


def choose(settings: Settings, env: Mapping[str, str], in_github: bool, changed: list[str] | None) -> int:
    """Write the chosen node ids, the plan's audit file, the step summary and the step outputs."""
    from provenance.context import read_context
    from provenance.github.commands import append_file, format_outputs, outputs_as_json
    from provenance.gitmeta import read_git
    from provenance.learning.state import model_path
    from provenance.ledger.checkpoint import checkpoint_path
    from provenance.pipeline.destinations import distinct_files
    from provenance.selection.budget import Budget
    from provenance.selection.plan import plan, read_test_list, write_plan
    from provenance.workspace import writable_path

    workspace = settings.workspace
    if changed is None:
        context = read_context(env)
        git = read_git(workspace, compare_base=context.compare_base, branch_hint=context.branch)
        changed = [f.path for f in git.changed_files] if git.changed_files is not None else None
    budget = Budget.given(settings.budget, settings.budget_seconds, settings.confidence)
    out = writable_path(workspace, settings.selection_out, "selection-out")
    audit = writable_path(workspace, out.with_name(out.name + ".audit.json"), "selection-out")
    for path, named in ((out, settings.selection_out), (audit, settings.selection_out + ".audit.json")):
        if path.is_dir():
            raise InputError("expected a file, found a directory", source=named, field="selection-out")
    ledger = workspace / settings.ledger  # read only, as is the model state beside it
    listed = workspace / settings.tests if settings.tests else None
    distinct_files({"ledger": ledger, "ledger checkpoint": checkpoint_path(ledger), "model state": model_path(ledger),
                    "tests": listed, "selection-out": out, "selection-out's audit file": audit}, workspace)  # fmt: skip
    tests = read_test_list(workspace / settings.tests) if settings.tests else None
    chosen = plan(workspace / settings.ledger, tests, budget, changed_files=changed,
                  exploration=settings.exploration, full_run_every=settings.full_run_every)  # fmt: skip
    write_plan(chosen, out, audit, budget)
    outputs = chosen.outputs(settings.selection_out)
    if env.get("GITHUB_STEP_SUMMARY") and settings.summary:
        audit_name = settings.selection_out + ".audit.json"
        write_summary(Path(env["GITHUB_STEP_SUMMARY"]), chosen, budget, audit_name)
    if env.get("GITHUB_OUTPUT"):
        append_file(Path(env["GITHUB_OUTPUT"]), format_outputs(outputs))
    else:
        print(outputs_as_json(outputs), end="")
    selection = chosen.selection
    what = (
        "full run: every test" if selection.full_run else f"{outputs['selected-count']} of {len(selection.tests)} tests"
    )
    print(f"selected {what}, {selection.expected_seconds:.1f} s of {float(selection.seconds.sum()):.1f} s expected; "
          f"P(no skipped test fails) = {selection.confidence:.4f}; written to {settings.selection_out}",
          file=sys.stdout if in_github else sys.stderr)  # fmt: skip
    return int(ExitCode.OK)


def write_summary(path: Path, chosen: Plan, budget: Budget, audit_path: str) -> None:
    """Append the select summary to `GITHUB_STEP_SUMMARY`, within what GitHub keeps of a step's summary."""
    from provenance.github import select_summary
    from provenance.github.summary import append_to_step_summary

    summary = select_summary.render(chosen.selection, budget, audit_path, chosen.ranked_by)
    append_to_step_summary(path, lambda _room: summary, audit_path)
