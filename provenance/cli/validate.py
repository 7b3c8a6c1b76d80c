"""`provenance validate`: check the datasets against their contracts, or record new checksums."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.cli.common import Commands, add_input_limit, limited
from provenance.errors import ExitCode
from provenance.terminal import Progress

if TYPE_CHECKING:
    from provenance.datasets.contracts import Manifest, Validation


def add_parser(commands: Commands) -> None:
    """Declare the `validate` command and its options."""
    parser = commands.add_parser(
        "validate",
        help="check the datasets against data_contracts.yaml (or record new checksums)",
        description="Hash every dataset the manifest names and compare with its recorded sha256; exit 1 when "
        "a dataset fails and block_on_mismatch is set. --update writes the new checksums, sizes and the "
        "commit into the manifest, keeping its comments and layout.",
        epilog="examples:\n  provenance validate\n  provenance validate --update --dry-run",
    )
    parser.add_argument("--contracts", default="data_contracts.yaml", metavar="FILE", help="the manifest")
    parser.add_argument("--workspace", type=Path, default=Path(), metavar="DIR", help="paths are relative to it")
    parser.add_argument("--update", action="store_true", help="write the new checksums into the manifest")
    parser.add_argument("--dry-run", action="store_true", help="with --update: show what would change, write nothing")
    parser.add_argument(
        "--audit-log",
        default="data/contracts_audit.jsonl",
        metavar="FILE",
        help="append-only audit trail (default data/contracts_audit.jsonl)",
    )
    add_input_limit(parser)
    parser.set_defaults(handler=limited(validate_datasets))


def validate_datasets(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Print the validation (or the update) as JSON; exit 1 when a blocking dataset fails."""
    from provenance.datasets import contracts
    from provenance.gitmeta import read_git
    from provenance.schemas import utc_now
    from provenance.text import printable
    from provenance.workspace import append_lines, writable_path

    workspace: Path = args.workspace
    manifest_path = workspace / args.contracts
    manifest = contracts.load_manifest(manifest_path)
    with Progress("hashing datasets", len(manifest.datasets), sys.stderr, env) as progress:
        validation = contracts.validate(manifest, workspace, args.contracts, progress.advance)
    commit = read_git(workspace, compare_base=None, branch_hint=None).commit
    actor = env.get("GITHUB_ACTOR") or env.get("USER")
    at = utc_now().isoformat().replace("+00:00", "Z")
    who: dict[str, Any] = {"actor": actor, "commit": commit, "run_id": env.get("GITHUB_RUN_ID"), "at": at}
    report: dict[str, Any] = {
        "manifest": args.contracts,
        "status": "failed" if validation.failures else "ok",
        "blocks": validation.blocks,
        "datasets": [
            {"id": r.dataset_id, "path": r.path, "kind": r.kind, "status": r.status, "expected": r.expected,
             "actual": r.actual, "size": r.size, "nfiles": r.nfiles, "problems": r.problems}
            for r in validation.results
        ],
    }  # fmt: skip
    if args.update:
        return _update(args, manifest, validation, report, who)
    audit = contracts.audit_records(validation, "validate", **who)
    append_lines(writable_path(workspace, args.audit_log, "--audit-log"), [json.dumps(r).encode() for r in audit])
    print(json.dumps(report))
    for result in validation.results:
        mark = "ok" if result.status == "ok" else result.status.upper()
        print(printable(f"{mark:10} {result.dataset_id}: {result.describe()}"), file=sys.stderr)
    return int(ExitCode.GATE_FAILED if validation.blocks else ExitCode.OK)


def _update(args: Namespace, manifest: Manifest, validation: Validation, report: dict[str, Any],
            audit_fields: dict[str, Any]) -> int:  # fmt: skip
    """Write (or, with --dry-run, show) the new checksums; the JSON's status says which was done."""
    from provenance.datasets import contracts
    from provenance.text import printable
    from provenance.workspace import append_lines, writable_path

    changes = contracts.planned_updates(manifest, validation, audit_fields["commit"])
    report["changes"] = {k: {f: {"old": o, "new": n} for f, (o, n) in v.items()} for k, v in changes.items()}
    if not args.dry_run:
        audit_log = writable_path(args.workspace, args.audit_log, "--audit-log")
        contracts.write_updates(writable_path(args.workspace, args.contracts, "--contracts"), changes)
        audit = contracts.audit_records(validation, "update", changes=changes, **audit_fields)
        append_lines(audit_log, [json.dumps(r).encode() for r in audit])
    if not changes or not args.dry_run:
        report.update(status="updated" if changes else "ok", blocks=False)  # the manifest records what is there
    else:
        report["status"] = "would-update"
    print(json.dumps(report))
    verb = "would change" if args.dry_run else "changed"
    for dataset_id, fields in changes.items():
        for name, (old, new) in fields.items():
            print(printable(f"{dataset_id}: {name} {verb}: {old} -> {new}"), file=sys.stderr)
    if not changes:
        print("every dataset already matches the manifest", file=sys.stderr)
    return int(ExitCode.OK)
