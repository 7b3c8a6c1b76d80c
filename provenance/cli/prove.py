"""`provenance prove`: an inclusion proof for one ledger entry."""

from __future__ import annotations

import json
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode


def add_parser(commands: Commands) -> None:
    """Declare the `prove` command and its options."""
    parser = commands.add_parser(
        "prove",
        help="an inclusion proof for one ledger entry, checkable without the other entries",
        description="Print the entry, its RFC 6962 audit path and the Merkle root of the ledger: an auditor checks "
        "the one run against a published root with `provenance check-proof` and never sees the others.",
        epilog="example:\n  provenance prove data/ci_runs.jsonl --seq 41 > proof.json",
    )
    parser.add_argument("ledger", type=Path, metavar="LEDGER")
    parser.add_argument("--seq", type=int, required=True, metavar="N", help="the entry's seq")
    add_input_limit(parser)
    parser.set_defaults(handler=limited(prove_entry))


def prove_entry(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Print the proof as JSON."""
    from provenance.ledger.proofs import prove

    print(json.dumps(prove(args.ledger, args.seq), indent=2))
    return int(ExitCode.OK)
