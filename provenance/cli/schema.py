"""`provenance schema`: the JSON Schema of each record the project writes or reads, from its models."""

from __future__ import annotations

import json
from argparse import Namespace
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from provenance.cli.common import Commands

if TYPE_CHECKING:
    from pydantic import BaseModel

# The record, the model that defines it, and what it is, in the order `--help` lists them.
RECORDS = {
    "contracts": "the dataset contracts manifest, data_contracts.yaml",
    "ledger-entry": "one line of the ledger (JSON lines)",
    "provenance": "the provenance file of one run, ci_provenance_<run_id>.json",
}
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def add_parser(commands: Commands) -> None:
    """Declare the `schema` command and its argument."""
    parser = commands.add_parser(
        "schema",
        help="print the JSON Schema of a record (contracts, ledger-entry, provenance)",
        description="Print the JSON Schema (draft 2020-12) of one record, generated from the models that "
        "read and write it; the same files are shipped in schemas/ for editors.\n"
        + "\n".join(f"  {name:13} {what}" for name, what in RECORDS.items()),
        epilog="example:\n  provenance schema ledger-entry > ledger-entry.schema.json",
    )
    parser.add_argument("record", choices=list(RECORDS), metavar="RECORD", help=", ".join(RECORDS))
    parser.set_defaults(handler=print_schema)


def print_schema(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Print one record's schema: the bytes of the shipped `schemas/<record>.schema.json`."""
    print(render(args.record), end="")
    return 0


def render(record: str) -> str:
    """The schema as the shipped `schemas/<record>.schema.json` holds it: indented, keys in model order."""
    return json.dumps(schema_of(record), indent=2, ensure_ascii=False) + "\n"


def schema_of(record: str) -> dict[str, Any]:
    """One record's JSON Schema, from the pydantic model that validates it."""
    from provenance.datasets.contracts import Manifest
    from provenance.schemas import CIProvenance, ExperimentLedgerEntry

    models: dict[str, type[BaseModel]] = {
        "contracts": Manifest,
        "ledger-entry": ExperimentLedgerEntry,
        "provenance": CIProvenance,
    }
    schema = models[record].model_json_schema(mode="validation")
    return {"$schema": DIALECT, **schema}
