"""The exported table: one row per test per run, its columns and the SQL that makes them from entries.

The OpenTelemetry semantic conventions name what they cover (CI/CD pipelines, VCS, tests); the
rest is ours, under `provenance.`. `test.case.result.status` holds the convention's two values,
`pass` and `fail` (an error is a failure), and `skip`, a value of our own the convention allows
where neither applies; the finer outcome stays in `provenance.test.result` (pass, fail, skip,
error, as the ledger records it) and `provenance.test.outcome` (pytest's: passed, failed, error,
skipped, xfailed, xpassed, flaky; from the run's provenance file, when it is there and matches the
digest the ledger holds, else null). Every row carries its entry's seq and hash, so any row can be
proved against the ledger with `provenance prove`.
"""

from __future__ import annotations

# name, DuckDB type, what it holds (docs/export.md lists the same).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("cicd.pipeline.name", "VARCHAR", "the workflow's name (from the provenance file)"),
    ("cicd.pipeline.run.id", "VARCHAR", "the run id"),
    ("cicd.pipeline.run.url.full", "VARCHAR", "the run's page (from the provenance file)"),
    ("vcs.repository.url.full", "VARCHAR", "the repository's page (from the run's page)"),
    ("vcs.ref.head.revision", "VARCHAR", "the commit tested"),
    ("test.suite.name", "VARCHAR", "the test's file: its node id up to the first `::`"),
    ("test.case.name", "VARCHAR", "the test's node id"),
    ("test.case.result.status", "VARCHAR", "pass, fail (a failure or an error) or skip"),
    ("provenance.test.result", "VARCHAR", "pass, fail, skip or error, as the ledger records it"),
    ("provenance.test.outcome", "VARCHAR", "pytest's outcome, flaky included (from the provenance file)"),
    ("provenance.test.duration_seconds", "DOUBLE", "the test's duration"),
    ("provenance.test.p_fail", "DOUBLE", "the failure probability predicted before the run"),
    ("provenance.run.attempt", "INTEGER", "the run attempt"),
    ("provenance.run.recorded_at", "TIMESTAMP WITH TIME ZONE", "when the run was recorded (UTC)"),
    ("provenance.run.branch", "VARCHAR", "the branch tested"),
    ("provenance.run.conclusion", "VARCHAR", "success, failure or neutral"),
    ("provenance.run.walltime_seconds", "DOUBLE", "the test session's walltime"),
    ("provenance.run.supersedes", "BIGINT", "the seq of the entry this run corrects"),
    ("provenance.run.provenance_sha256", "VARCHAR", "the digest of the run's provenance file"),
    ("provenance.dataset.ids", "VARCHAR[]", "the datasets the tests used"),
    ("provenance.dataset.checksums", "VARCHAR[]", "their sha256 digests, in the same order"),
    ("provenance.model.hash", "VARCHAR", "the failure model's digest"),
    ("provenance.model.version", "VARCHAR", "the failure model's version"),
    ("provenance.ledger.id", "VARCHAR", "the ledger's first entry hash, which names the ledger"),
    ("provenance.ledger.seq", "BIGINT", "the entry's seq: its leaf index in the Merkle tree"),
    ("provenance.ledger.entry_hash", "VARCHAR", "the entry's hash: its leaf in the Merkle tree"),
    ("repository", "VARCHAR", "the repository (owner/name): the first partition"),
    ("date", "DATE", "the day the run was recorded (UTC): the second partition"),
)

PARTITIONS = ("repository", "date")

# A staged entry (`entries.staged_line`) as DuckDB's JSON reader types it: keys not named here are
# not read, and a value of another type fails the read.
_TEST = "STRUCT(nodeid VARCHAR, result VARCHAR, duration_seconds DOUBLE, p_fail DOUBLE)"
_ENTRY = (
    "STRUCT(seq BIGINT, entry_hash VARCHAR, recorded_at VARCHAR, run_id VARCHAR, run_attempt INTEGER, "
    '"repository" VARCHAR, "commit" VARCHAR, branch VARCHAR, conclusion VARCHAR, walltime_seconds DOUBLE, '
    f"tests {_TEST}[], provenance_sha256 VARCHAR, dataset_id VARCHAR[], dataset_checksum VARCHAR[], "
    "model_hash VARCHAR, model_version VARCHAR, supersedes BIGINT)"
)
STAGED = {
    "ledger_id": "VARCHAR", "workflow": "VARCHAR", "run_url": "VARCHAR", "repository_url": "VARCHAR",
    "outcomes": "VARCHAR[]", "entry": _ENTRY,
}  # fmt: skip

# What is the same for every test of a run is computed once per entry, before the tests are unnested;
# a test's pytest outcome is the item at its position in `outcomes` (null where there is none).
ROWS_SQL = """
SELECT
    workflow AS "cicd.pipeline.name",
    run_id AS "cicd.pipeline.run.id",
    run_url AS "cicd.pipeline.run.url.full",
    repository_url AS "vcs.repository.url.full",
    "commit" AS "vcs.ref.head.revision",
    split_part(test.nodeid, '::', 1) AS "test.suite.name",
    test.nodeid AS "test.case.name",
    CASE test.result WHEN 'pass' THEN 'pass' WHEN 'skip' THEN 'skip' ELSE 'fail' END AS "test.case.result.status",
    test.result AS "provenance.test.result",
    outcome AS "provenance.test.outcome",
    test.duration_seconds AS "provenance.test.duration_seconds",
    test.p_fail AS "provenance.test.p_fail",
    run_attempt AS "provenance.run.attempt",
    recorded AS "provenance.run.recorded_at",
    branch AS "provenance.run.branch",
    conclusion AS "provenance.run.conclusion",
    walltime_seconds AS "provenance.run.walltime_seconds",
    supersedes AS "provenance.run.supersedes",
    provenance_sha256 AS "provenance.run.provenance_sha256",
    dataset_id AS "provenance.dataset.ids",
    dataset_checksum AS "provenance.dataset.checksums",
    model_hash AS "provenance.model.hash",
    model_version AS "provenance.model.version",
    ledger_id AS "provenance.ledger.id",
    seq AS "provenance.ledger.seq",
    entry_hash AS "provenance.ledger.entry_hash",
    "repository",
    CAST(timezone('UTC', recorded) AS DATE) AS date
FROM (
    SELECT ledger_id, workflow, run_url, repository_url,
        entry.seq, entry.entry_hash, entry.run_id, entry.run_attempt, entry."repository", entry."commit",
        entry.branch, entry.conclusion, entry.walltime_seconds, entry.provenance_sha256, entry.dataset_id,
        entry.dataset_checksum, entry.model_hash, entry.model_version, entry.supersedes,
        CAST(entry.recorded_at AS TIMESTAMP WITH TIME ZONE) AS recorded,
        unnest(entry.tests) AS test,
        unnest(outcomes) AS outcome
    FROM {source}
)
"""


def rows_sql(source: str) -> str:
    """The SELECT that makes the exported rows from a relation of staged entries named `source`, each column typed."""
    typed = ", ".join(f'CAST("{name}" AS {kind}) AS "{name}"' for name, kind, _ in COLUMNS)
    return f"SELECT {typed} FROM ({ROWS_SQL.replace('{source}', source)})"
