"""Ledgers as tables: Parquet export (`parquet`) and SQL over it and over ledgers (`engine`).

One row per test per run, under the OpenTelemetry CI/CD and test names where they exist and our
own under `provenance.` (`columns`); the entries are read from a verified ledger (`entries`), and
what an export directory already holds is recorded in it (`state`).
"""
