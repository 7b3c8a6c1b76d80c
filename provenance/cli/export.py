"""`provenance export`: ledgers as Parquet, one row per test per run, Hive-partitioned by repository and date."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode, InputError


def add_parser(commands: Commands) -> None:
    """Declare the `export` command and its options."""
    parser = commands.add_parser(
        "export",
        help="write ledgers' runs as Parquet (one row per test per run), for SQL and warehouses",
        description="Verify each ledger, then write the entries the directory does not hold yet as Parquet files "
        "partitioned by repository and date (repository=OWNER%2FNAME/date=YYYY-MM-DD/). A second export of a "
        "grown ledger writes only its new entries; nothing changes in the directory unless every ledger "
        "verifies. The columns are in docs/export.md.",
        epilog="examples:\n  provenance export data/ci_runs.jsonl --to warehouse\n"
        '  provenance query "SELECT count(*) FROM results" --from warehouse',
    )
    parser.add_argument("ledgers", nargs="+", type=Path, metavar="LEDGER")
    parser.add_argument("--to", required=True, metavar="DIR", help="the export directory, inside the current one")
    parser.add_argument("--workspace", type=Path, metavar="DIR",
                        help="the checkout the runs' provenance file paths are relative to (default .)")  # fmt: skip
    add_input_limit(parser)
    parser.set_defaults(handler=limited(export_ledgers))


def export_ledgers(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Export, then print what was written as one JSON object (and a line on stderr)."""
    from provenance.schemas import utc_now
    from provenance.workspace import writable_path

    engine_needed()
    from provenance.export.parquet import export

    workspace: Path = args.workspace or Path.cwd()
    for ledger in args.ledgers:
        if not ledger.is_file():
            raise InputError("expected an existing ledger file", source=str(ledger))
    directory = writable_path(Path.cwd(), args.to, "--to")
    if directory.exists() and not directory.is_dir():
        raise InputError("expected a directory, found a file", source=str(args.to), field="--to")
    result = export(args.ledgers, directory, utc_now(), workspace=workspace)
    report = {
        "directory": str(args.to),
        "rows": result.rows,
        "files": result.files,
        "ledgers": [
            {"ledger": item.ledger, "ledger_id": item.ledger_id or None, "entries": item.entries,
             "first_seq": item.first_seq, "last_seq": item.last_seq, "rows": item.rows}
            for item in result.ledgers
        ],
    }  # fmt: skip
    print(json.dumps(report))
    entries = sum(item.entries for item in result.ledgers)
    print(f"{args.to}: {entries} new entries, {result.rows} rows in {len(result.files)} files", file=sys.stderr)
    return int(ExitCode.OK)


def engine_needed() -> None:
    """DuckDB is an optional dependency of the command line (the action's image has it): say how to get it."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        raise InputError("needs DuckDB: pip install 'provenance-action[export]'", field="export") from None
