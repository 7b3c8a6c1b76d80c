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
    parser.set_defaults(handler=fetch_artifacts)


def fetch_artifacts(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Exit 1 when anything downloaded does not verify."""
    from provenance.github.api import DEFAULT_API_URL, GitHubApi, Unreachable
    from provenance.github.fetch import fetch_run

    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.repo):
        raise InputError(f"expected OWNER/NAME, got {args.repo!r}", field="--repo")
    api = GitHubApi(
        api_url=args.api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL,
        token=args.token or env.get("GITHUB_TOKEN") or None,
    )
    try:
        report = fetch_run(api, args.repo, args.run_id, args.dest, args.name)
    except Unreachable as exc:  # the user's setting or network, not an outage: bad input, exit 2
        raise InputError(str(exc), field="--api-url") from None
    print(json.dumps({"repo": args.repo, "run_id": args.run_id, "dest": str(args.dest), "ok": report.ok,
                      "artifacts": report.artifacts, "checks": report.checks}))  # fmt: skip
    for check in report.checks:
        mark = "ok" if check["ok"] else "FAILED"
        print(f"{mark:7} {check['check']}: {check['path']}" + (f": {check['problem']}" if check["problem"] else ""),
              file=sys.stderr)  # fmt: skip
    return int(ExitCode.OK if report.ok else ExitCode.GATE_FAILED)
