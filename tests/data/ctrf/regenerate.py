"""Regenerate the CTRF report of a non-pytest tool: mocha running `mocha/test/cart.spec.js`.

    python tests/data/ctrf/regenerate.py      (needs node, npm and the npm registry; about a minute)

mocha 12.0.3 runs the suite once with mocha-ctrf-json-reporter 0.0.11 in a temporary project; the
report is kept as `mocha/report.ctrf.json` with the temporary folder rewritten to what a GitHub
runner shows, and mocha's exit status (the number of failed tests) in `mocha/expected.json`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOLS = ["mocha@12.0.3", "mocha-ctrf-json-reporter@0.0.11"]
RUNNER_ROOT = "/home/runner/work/shop/shop"


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        work = Path(name) / "shop"
        shutil.copytree(HERE / "mocha" / "test", work / "test", ignore=shutil.ignore_patterns("attempts.txt"))
        (work / "package.json").write_text('{"name": "shop", "version": "1.0.0", "private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", *TOOLS], cwd=work, check=True)
        done = subprocess.run(["npx", "mocha", "--reporter", "mocha-ctrf-json-reporter", "test/"], cwd=work,
                              capture_output=True, text=True, check=False)  # fmt: skip
        report = (work / "ctrf" / "ctrf-report.json").read_text(encoding="utf-8")
        (HERE / "mocha" / "report.ctrf.json").write_text(report.replace(str(work), RUNNER_ROOT), encoding="utf-8")
        expected = {"tools": TOOLS, "exit_status": done.returncode,
                    "notes": "mocha exits with the number of failed tests; a failing hook counts as one"}  # fmt: skip
        (HERE / "mocha" / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
        print(f"mocha: exit {done.returncode}")


if __name__ == "__main__":
    main()
