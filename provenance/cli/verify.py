"""`provenance verify`: check a ledger's hash chain, links and Merkle root."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode, InputError


def add_parser(commands: Commands) -> None:
    """Declare the `verify` command and its options."""
    parser = commands.add_parser(
        "verify",
        help="check a ledger's hash chain (and, with a checkpoint, that nothing was cut or rewritten)",
        description="Recompute every entry's hash, link and the Merkle root; exit 1 at the first entry that does "
        "not verify. With --checkpoint (written by an earlier run), also detect a truncated ledger or one "
        "rewritten with a consistent chain.",
        epilog="examples:\n  provenance verify data/ci_runs.jsonl\n"
        "  provenance verify data/ci_runs.jsonl --checkpoint evidence/ledger_checkpoint_123.json",
    )
    parser.add_argument("ledger", type=Path, metavar="LEDGER")
    parser.add_argument("--checkpoint", type=Path, metavar="FILE", help="a checkpoint from an earlier run")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also check every entry against the schema, and every line against the RFC 8785 "
        "encoder alone (exact for any number, slower)",
    )
    add_input_limit(parser)
    parser.set_defaults(handler=limited(verify_ledger))


def verify_ledger(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Print what verification found; exit 1 at the first entry that does not verify."""
    from provenance.ledger.checkpoint import load_checkpoint
    from provenance.ledger.verify import verify

    path: Path = args.ledger
    checkpoint_file: Path | None = args.checkpoint
    if not path.is_file():
        raise InputError("expected an existing ledger file", source=str(path))
    checkpoint = load_checkpoint(checkpoint_file) if checkpoint_file is not None else None
    result = verify(path, checkpoint, args.strict)
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
