"""The command line: the one place that prints to the user and chooses an exit code."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from provenance import __version__
from provenance.cli import (
    action,
    backtest,
    calibrate,
    check_proof,
    determinism,
    export,
    fetch,
    prove,
    query,
    run,
    schema,
    select,
    site,
    validate,
    verify,
)
from provenance.errors import ExitCode, ProvenanceError, one_line
from provenance.text import printable, redact

# In the order `--help` lists them.
COMMANDS = (
    run,
    select,
    action,
    validate,
    calibrate,
    backtest,
    verify,
    determinism,
    fetch,
    prove,
    check_proof,
    schema,
    site,
    export,
    query,
)

_EXAMPLES = """\
examples:
  pytest --json-report --json-report-file=report.json; provenance run --report report.json
  provenance run --report 'reports/**/*.xml' --fail-on none
  provenance validate --contracts data_contracts.yaml
  provenance calibrate --predictions predictions.jsonl --bins 10
  provenance backtest --history data/ci_runs.jsonl
  provenance verify data/ci_runs.jsonl
  provenance site --ledger data/ci_runs.jsonl --out site
  provenance export data/ci_runs.jsonl --to warehouse
"""


class _Parser(argparse.ArgumentParser):
    """Subcommand parsers keep their descriptions' and examples' line breaks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: global options, then each command's own sub-parser."""
    parser = _Parser(
        prog="provenance",
        description="Turn a CI test run into an auditable record: outputs, a summary, a ledger entry "
        "and a provenance file.",
        epilog=_EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"provenance {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 gate failed, 2 bad input, 3 internal error)."""
    env = os.environ if env is None else env
    args = build_parser().parse_args(argv)
    in_github = env.get("GITHUB_ACTIONS") == "true"
    debug = bool(args.debug) or env.get("RUNNER_DEBUG") == "1"
    try:
        with _cycle_collector_paused():
            return int(args.handler(args, env, in_github))
    except ProvenanceError as exc:
        _report_error(exc.diagnosis(), in_github)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _report_error("interrupted", in_github)
        return int(ExitCode.INTERNAL)
    except BrokenPipeError:
        # Quietly: the rest of the output has nowhere to go, and Python's flush at exit must not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.PIPE_CLOSED)
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


def _report_error(message: str, in_github: bool) -> None:
    """One line: an error annotation on GitHub (escaped, so it cannot issue commands), else stderr.

    Whatever the message quotes (a setting's value, a file name) is shown with its control
    characters escaped and anything shaped like a token masked.
    """
    from provenance.github.commands import command

    message = printable(redact(message))

    if in_github:
        print(command("error", message, title="provenance"), flush=True)
    else:
        print(f"provenance: error: {message}", file=sys.stderr, flush=True)
