"""`provenance determinism`: compare two builds' digests, naming every difference."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode, InputError


def add_parser(commands: Commands) -> None:
    """Declare the `determinism` command and its options."""
    parser = commands.add_parser(
        "determinism",
        help="compare two builds' digests; exit 1 on any difference, naming the files",
        description="Each build is a directory (every file is hashed) or a sha256sum-format file such as the "
        "run's subject-checksums. Files present in one build only, or with different bytes, fail the check.",
        epilog="example:\n  provenance determinism build-1/dist build-2/dist",
    )
    parser.add_argument("a", type=Path, metavar="A")
    parser.add_argument("b", type=Path, metavar="B")
    add_input_limit(parser)
    parser.set_defaults(handler=limited(compare))


def compare(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Exit 1 on any file present in one build only or with different bytes."""
    from provenance.ledger.attestation import compare_builds, read_digests
    from provenance.text import printable

    a: Path = args.a
    b: Path = args.b
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
