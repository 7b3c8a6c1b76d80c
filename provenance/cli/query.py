"""`provenance query`: SQL over exported Parquet and over ledgers read directly, with DuckDB embedded."""

from __future__ import annotations

import sys
from argparse import Namespace
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, assert_never

import orjson

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode, InputError
from provenance.text import printable

if TYPE_CHECKING:
    from provenance.export.engine import Answer


class Format(StrEnum):
    """How the rows are printed."""

    JSONL = "jsonl"
    TABLE = "table"


def add_parser(commands: Commands) -> None:
    """Declare the `query` command and its options."""
    parser = commands.add_parser(
        "query",
        help="run SQL over exported Parquet and ledgers (the view `results`), no server",
        description="The rows of `provenance export` (directories given with --from) and of ledgers read directly "
        "(--ledger, verified first) are one view, `results`, in the same columns (docs/export.md). The query may "
        "read those and nothing else. Rows are printed as JSON lines, or as a table.",
        epilog="examples:\n"
        '  provenance query "SELECT repository, count(*) FROM results GROUP BY ALL" --from warehouse\n'
        '  provenance query "SELECT * FROM results WHERE \\"test.case.result.status\\" = \'fail\'" '
        "--ledger data/ci_runs.jsonl --format table",
    )
    parser.add_argument("sql", metavar="SQL", help="one query over the view `results`")
    parser.add_argument("--from", dest="directories", action="append", type=Path, default=[], metavar="DIR",
                        help="an export directory (repeatable)")  # fmt: skip
    parser.add_argument("--ledger", dest="ledgers", action="append", type=Path, default=[], metavar="FILE",
                        help="a ledger, read directly (repeatable)")  # fmt: skip
    parser.add_argument("--workspace", type=Path, metavar="DIR",
                        help="where the ledgers' provenance files are (default .)")  # fmt: skip
    parser.add_argument("--format", choices=[f.value for f in Format], default=Format.JSONL.value,
                        help="jsonl (default) or table")  # fmt: skip
    add_input_limit(parser)
    parser.set_defaults(handler=limited(run_query))


def run_query(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Print the query's rows."""
    from provenance.cli.export import engine_needed

    engine_needed()
    from provenance.export.engine import query

    if not args.directories and not args.ledgers:
        raise InputError("expected at least one export directory (--from) or ledger (--ledger)", field="query")
    for ledger in args.ledgers:
        if not ledger.is_file():
            raise InputError("expected an existing ledger file", source=str(ledger), field="--ledger")
    answer = query(args.sql, args.directories, args.ledgers, args.workspace or Path.cwd())
    shape = Format(args.format)
    if shape is Format.JSONL:
        write_jsonl(answer)
    elif shape is Format.TABLE:
        write_table(answer)
    else:
        assert_never(shape)
    return int(ExitCode.OK)


def write_jsonl(answer: Answer) -> None:
    """One JSON object per row (control characters escaped by JSON itself)."""
    out = sys.stdout.buffer
    option = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
    for row in answer.rows:
        out.write(orjson.dumps(dict(zip(answer.columns, row, strict=True)), default=_plain, option=option))
    out.flush()


def _plain(value: Any) -> Any:
    """What orjson does not write itself (decimals, intervals, blobs, times with a zone database's zone)."""
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def write_table(answer: Answer) -> None:
    """Aligned columns; every cell shown with its control characters escaped, so no text can drive the terminal."""
    cells = [[_cell(value) for value in row] for row in answer.rows]
    header = [printable(name) for name in answer.columns]
    widths = [max([len(header[i]), *(len(row[i]) for row in cells)]) for i in range(len(header))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]  # fmt: skip
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    noun = "row" if len(cells) == 1 else "rows"
    sys.stdout.write("\n".join(lines) + f"\n({len(cells)} {noun})\n")


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    return printable(str(value))
