"""What a recorded run produced, and the step outputs it gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provenance.ledger.attestation import TEST_RESULT_PREDICATE
from provenance.pipeline.changes import BaseChanges
from provenance.schemas import CIProvenance, ExperimentLedgerEntry, Verdict


@dataclass
class RunOutcome:
    """What a run produced: the records, where they were written, and what to warn about."""

    provenance: CIProvenance
    entry: ExperimentLedgerEntry
    provenance_path: str
    provenance_sha256: str
    ledger_path: str
    checkpoint_path: str
    checkpoint: dict[str, Any]
    attestations: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ledger_commit: str = ""
    badge_path: str = ""
    export_path: str = ""  # with `export`: the directory of the run's rows as Parquet
    entry_line: bytes = b""  # the ledger line the run appended, as written (what `export` exports)
    # Against the base branch's last recorded run, for the pull-request comment (None when it is off).
    changes: BaseChanges | None = None
    server_url: str | None = None  # GITHUB_SERVER_URL: where the summary's links to files point
    ctrf_path: str = ""  # the run as a CTRF report, when `ctrf-out` asked for one

    @property
    def verdict(self) -> Verdict:
        """The run's verdict."""
        return self.provenance.verdict

    def outputs(self) -> dict[str, str]:
        """The step outputs, by their action.yml names."""
        counts = self.provenance.run.counts
        return {
            "conclusion": self.verdict.conclusion.value,
            "tests-total": str(counts.total),
            "tests-passed": str(counts.passed),
            "tests-failed": str(counts.failed),
            "tests-skipped": str(counts.skipped),
            "tests-errors": str(counts.errors),
            "tests-flaky": str(counts.flaky),
            "duration-seconds": f"{self.provenance.run.walltime_seconds or 0.0:.3f}",
            "run-id": self.provenance.run.run_id,
            "ledger-path": self.ledger_path,
            "ledger-seq": str(self.entry.seq),
            "ledger-head": self.entry.entry_hash,
            "ledger-commit": self.ledger_commit,
            "provenance-path": self.provenance_path,
            "provenance-sha256": self.provenance_sha256,
            "checkpoint-path": self.checkpoint_path,
            "merkle-root": self.checkpoint["merkle_root"],
            "attestation-path": self.attestations["statement"],
            "lineage-attestation-path": self.attestations["lineage"],
            "predicate-path": self.attestations["predicate"],
            "predicate-type": TEST_RESULT_PREDICATE,
            "subject-checksums": self.attestations["subjects"],
            "badge-path": self.badge_path,
            "export-path": self.export_path,
            "ctrf-path": self.ctrf_path,
            **self._calibration_outputs(),
            **self._contract_outputs(),
        }

    def _contract_outputs(self) -> dict[str, str]:
        datasets = self.provenance.datasets
        if self.provenance.contracts_manifest is None:
            return {"contracts-status": "none", "contracts-failed": "0"}
        failed = [d for d in datasets if d.status != "ok"]
        return {"contracts-status": "failed" if failed else "ok", "contracts-failed": str(len(failed))}

    def _calibration_outputs(self) -> dict[str, str]:
        window = self.provenance.calibration.window if self.provenance.calibration else None
        return {
            "brier-score": f"{window.brier_score:.6f}" if window else "",
            "ece": f"{window.ece:.6f}" if window else "",
            "mce": f"{window.mce:.6f}" if window else "",
            "calibration-samples": str(window.n_samples) if window else "0",
        }
