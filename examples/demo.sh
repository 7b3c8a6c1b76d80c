#!/usr/bin/env bash
# Set up a virtualenv and run the action's main job on the bundled sample project, no GitHub needed:
# real pytest reports in three formats, then `provenance run` on each of them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ ! -x .venv/bin/provenance ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
  .venv/bin/python -m pip install --quiet --no-deps -e .
fi
cd examples/sample-project
echo "== pytest on the sample project (some tests fail on purpose)"
../../.venv/bin/python -m pytest -q -p no:cacheprovider \
  --json-report --json-report-file=report.json --junitxml=report.xml --report-log=report.jsonl || true
echo
echo "== provenance run --report report.json"
status=0
../../.venv/bin/provenance run --report report.json || status=$?
echo
echo "provenance exited with $status: 1 means the gate failed (the sample's failing tests), as it should."
echo "Written: examples/sample-project/data/ci_runs.jsonl (ledger) and examples/sample-project/evidence/."
../../.venv/bin/provenance verify data/ci_runs.jsonl >/dev/null
echo
echo "== provenance site: the ledger's history as a web page"
../../.venv/bin/provenance site --ledger data/ci_runs.jsonl --out site >/dev/null
echo "Open examples/sample-project/site/index.html (run the demo again to add runs to the history)."
[ "$status" -eq 1 ]
