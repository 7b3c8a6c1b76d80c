"""`provenance check-proof`: check an inclusion proof, optionally against a checkpoint."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode


def add_parser(commands: Commands) -> None:
    """Declare the `check-proof` command and its options."""
    parser = commands.add_parser(
        "check-proof",
        help="check an inclusion proof (from `provenance prove`), optionally against a checkpoint",
        description="Recompute the entry's hash and, from the audit path, the Merkle root; exit 1 when they do "
        "not match the proof's root, or the checkpoint's root when one is given.",
        epilog="example:\n  provenance check-proof proof.json --checkpoint ledger_checkpoint_123.json",
    )
    parser.add_argument("proof", type=Path, metavar="PROOF")
    parser.add_argument("--checkpoint", type=Path, metavar="FILE", help="the published checkpoint to trust")
    add_input_limit(parser)
    parser.set_defaults(handler=limited(check_inclusion))


def check_inclusion(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Exit 1 when the proof does not lead to its root (or the checkpoint's)."""
    from provenance.ledger.checkpoint import load_checkpoint
    from provenance.ledger.proofs import check_proof
    from provenance.reading import read_json

    path: Path = args.proof
    proof = read_json(path)
    checkpoint = load_checkpoint(args.checkpoint) if args.checkpoint is not None else None
    problem = check_proof(proof, checkpoint, source=str(path))
    found = {} if problem else {"seq": proof["entry"]["seq"], "merkle_root": proof["merkle_root"]}
    print(json.dumps({"proof": str(path), "ok": problem is None, "problem": problem, **found}))
    if problem:
        print(f"{path}: {problem}", file=sys.stderr)
        return int(ExitCode.GATE_FAILED)
    print(f"{path}: entry {proof['entry']['seq']} is in the ledger whose Merkle root is {proof['merkle_root']}",
          file=sys.stderr)  # fmt: skip
    return int(ExitCode.OK)
