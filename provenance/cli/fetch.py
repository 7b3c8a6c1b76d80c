"""`provenance fetch`: download a past run's provenance artifacts and verify them."""

from __future__ import annotations

import json
import re
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path

from provenance.cli.common import Commands
from provenance.errors import ExitCode, InputError


def add_parser(commands: Commands) -> None:
    """Declare the `fetch` command and its options."""
    parser = commands.add_parser(
        "fetch",
        help="download a past run's provenance artifacts through the GitHub API and verify them",
        description="List the run's artifacts, download each (or --name) through GitHub's short-lived redirect, "
        "unpack it safely into --dest, then verify every ledger (and checkpoint) and every provenance file. "
        "Exit 1 when anything does not verify.",
        epilog="example:\n  provenance fetch --repo acme/app --run-id 9876543210 --name provenance --dest audit/",
    )
    parser.add_argument("--repo", required=True, metavar="OWNER/NAME")
    parser.add_argument("--run-id", required=True, type=int, metavar="N")
    parser.add_argument("--name", metavar="ARTIFACT", help="only this artifact (default: all of the run's)")
    parser.add_argument("--token", metavar="T", help="API token (default: GITHUB_TOKEN)")
    parser.add_argument("--api-url", metavar="URL", help="API base, for GitHub Enterprise Server (default: "
                       "GITHUB_API_URL or https://api.github.com)")  # fmt: skip
    parser.add_argument("--dest", type=Path, default=Path("provenance-download"), metavar="DIR")
    parser.add_argument(
        "--deadline",
        type=float,
        default=600.0,
        metavar="S",
        help="give up (exit 2) when the whole fetch has not finished in S seconds (default 600)",
    )
    parser.add_argument("--max-download-mb", type=int, default=1024, metavar="N",
                        help="refuse an artifact whose zip is larger than N MiB (default 1024)")  # fmt: skip
    parser.set_defaults(handler=fetch_artifacts)


def fetch_artifacts(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Exit 1 when anything downloaded does not verify; 2 when GitHub cannot be reached or is too slow."""
    from provenance.github.client import DeadlinePassed, Unreachable, connect
    from provenance.github.download import Deadline
    from provenance.github.fetch import fetch_run
    from provenance.text import printable

    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.repo):
        raise InputError(f"expected OWNER/NAME, got {printable(args.repo)!r}", field="--repo")
    if not 0 < args.deadline <= 86_400:
        raise InputError(f"expected seconds between 0 and 86400, got {args.deadline:g}", field="--deadline")
    if not 0 < args.max_download_mb <= 1024 * 1024:
        raise InputError(f"expected MiB between 1 and 1048576, got {args.max_download_mb}", field="--max-download-mb")
    deadline = Deadline(args.deadline)
    client = connect(args.api_url or env.get("GITHUB_API_URL"), args.token or env.get("GITHUB_TOKEN") or None,
                     timeout=min(30.0, args.deadline), deadline=deadline.at)  # fmt: skip
    try:
        report = fetch_run(client, args.repo, args.run_id, args.dest, args.name, deadline=deadline,
                           max_download_bytes=args.max_download_mb * 1024 * 1024)  # fmt: skip
    except DeadlinePassed as exc:  # a setting the user can raise, or a host too slow: bad input, exit 2
        raise InputError(f"{exc.message} (the API host is {client.host}); raise --deadline or check the network",
                         field="--deadline") from None  # fmt: skip
    except Unreachable as exc:  # the user's setting or network, not an outage: bad input, exit 2
        raise InputError(str(exc), field="--api-url") from None
    print(json.dumps({"repo": args.repo, "run_id": args.run_id, "dest": str(args.dest), "ok": report.ok,
                      "artifacts": report.artifacts, "checks": report.checks}))  # fmt: skip
    for check in report.checks:
        mark = "ok" if check["ok"] else "FAILED"
        line = f"{mark:7} {check['check']}: {check['path']}" + (f": {check['problem']}" if check["problem"] else "")
        print(printable(line), file=sys.stderr)
    return int(ExitCode.OK if report.ok else ExitCode.GATE_FAILED)
