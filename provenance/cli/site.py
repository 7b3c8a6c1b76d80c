"""`provenance site`: the ledger's history as a static, self-contained web page."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode
from provenance.text import plural


def add_parser(commands: Commands) -> None:
    """Declare the `site` command and its options."""
    parser = commands.add_parser(
        "site",
        help="build a static web page of the ledger's history (runs, flaky tests, calibration, datasets)",
        description="Check the ledger's hashes and links, then write a self-contained page (HTML, CSS, "
        "JavaScript and the data, no request to any other host) to --out: the run list with verdicts, "
        "each test's last results and durations, flaky tests ranked, new and known failures, the model's "
        "calibration by week, what selection would have saved and each dataset's checksum history. "
        "Open index.html, or publish the directory (GitHub Pages, an artifact).",
        epilog="examples:\n  provenance site --ledger data/ci_runs.jsonl --out site\n"
        "  python -m http.server --directory site  # or open site/index.html",
    )
    parser.add_argument("--ledger", type=Path, required=True, metavar="FILE", help="the ledger (JSON lines)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="where to write the page: a new or empty directory, or a site built before "
                        "(replaced whole)")  # fmt: skip
    parser.add_argument("--workspace", type=Path, default=Path(), metavar="DIR",
                        help="the directory --out must lie in (default .)")  # fmt: skip
    add_input_limit(parser)
    parser.set_defaults(handler=limited(build))


def build(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Build the page and say where it is."""
    from provenance.site import build_site

    built = build_site(args.ledger, args.out, args.workspace)
    print(json.dumps({"out": str(args.out), "entries": built.entries, "tests": built.tests, "flaky": built.flaky,
                      "files": built.files, "bytes": built.bytes}))  # fmt: skip
    print(f"{args.out}: page of {plural(built.entries, 'run')} and {plural(built.tests, 'test')} written "
          f"({built.bytes:,} bytes); open {Path(args.out) / 'index.html'}", file=sys.stderr)  # fmt: skip
    return int(ExitCode.OK)
