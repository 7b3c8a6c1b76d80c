"""The shipped schemas are the models' own, and they accept the records a real run writes."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from provenance.cli import main
from provenance.cli.schema import RECORDS, render
from tests.support.project import ROOT, copy_sample, run_pytest

SHIPPED = ROOT / "schemas"


def validator(record: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SHIPPED / f"{record}.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("record", list(RECORDS))
def test_the_shipped_file_is_what_the_command_prints(record: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Regenerate with `provenance schema RECORD > schemas/RECORD.schema.json` after changing a model."""
    assert main(["schema", record], {}) == 0
    printed = capsys.readouterr().out
    assert printed == render(record)
    assert (SHIPPED / f"{record}.schema.json").read_text() == printed, f"schemas/{record}.schema.json is stale"


def test_nothing_else_is_shipped() -> None:
    assert sorted(p.name for p in SHIPPED.iterdir()) == sorted(f"{r}.schema.json" for r in RECORDS)


def test_an_unknown_record_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["schema", "ledger"], {})
    assert exited.value.code == 2
    assert "invalid choice: 'ledger'" in capsys.readouterr().err


@pytest.mark.parametrize("manifest", ["data_contracts.yaml", "examples/sample-project/data_contracts.yaml"])
def test_the_contracts_schema_accepts_the_real_manifests(manifest: str) -> None:
    document = yaml.safe_load((ROOT / manifest).read_text())
    validator("contracts").validate(document)
    misspelt = copy.deepcopy(document)
    dataset = next(iter(misspelt["datasets"].values()))
    dataset["checksumm"] = dataset.pop("checksum")
    assert not validator("contracts").is_valid(misspelt)


def test_the_contracts_schema_accepts_what_validate_does_and_no_more() -> None:
    """A blank checksum is one not recorded yet for `validate`, and for an editor too; a short one is not."""
    document = yaml.safe_load((ROOT / "data_contracts.yaml").read_text())
    dataset = next(iter(document["datasets"].values()))
    dataset["checksum"] = ""
    assert validator("contracts").is_valid(document)
    dataset["checksum"] = "abc123"
    assert not validator("contracts").is_valid(document)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The provenance file and ledger entries of two `provenance run`s over the sample project's real suite."""
    workspace = copy_sample(tmp_path_factory.mktemp("run") / "project")
    assert run_pytest(workspace, "--json-report", "--json-report-file=report.json").exit_status == 1
    for run_id in ("1", "2"):
        args = ["run", "--workspace", str(workspace), "--report", "report.json", "--run-id", run_id]
        assert main(args, {}) == 1  # the sample fails on purpose
    provenance = json.loads((workspace / "evidence" / "ci_provenance_2.json").read_text())
    entries = [json.loads(line) for line in (workspace / "data" / "ci_runs.jsonl").read_text().splitlines()]
    return provenance, entries


def test_the_ledger_entry_schema_accepts_a_real_ledger(real_run: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    _, entries = real_run
    assert len(entries) == 2
    for entry in entries:
        validator("ledger-entry").validate(entry)
    broken = {**entries[1], "prev": "not a hash"}
    assert not validator("ledger-entry").is_valid(broken)
    assert not validator("ledger-entry").is_valid({**entries[1], "extra": 1})


def test_the_provenance_schema_accepts_a_real_provenance_file(
    real_run: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    provenance, _ = real_run
    assert provenance["run"]["counts"]["failed"] > 0
    validator("provenance").validate(provenance)
    broken = copy.deepcopy(provenance)
    broken["run"]["tests"][0]["result"] = "flaky"
    assert not validator("provenance").is_valid(broken)


def test_the_docs_point_editors_at_the_shipped_files() -> None:
    contracts = (ROOT / "docs" / "contracts.md").read_text()
    modeline = re.search(r"^# yaml-language-server: \$schema=https://\S+/v[\d.]+/(\S+)$", contracts, re.M)
    assert modeline and (ROOT / modeline.group(1)).is_file()
    assert modeline.group(1) == "schemas/contracts.schema.json"
    records = (ROOT / "docs" / "records.md").read_text()
    for record in ("ledger-entry", "provenance"):
        assert f"(../schemas/{record}.schema.json)" in records
