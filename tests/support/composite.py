"""cli/action.yml, the composite variant of the action, rendered from action.yml.

The inputs and outputs are the Docker action's, copied from its action.yml; only `runs:` differs.
Regenerate after changing an input or output of action.yml:

    python -m tests.support.composite > cli/action.yml
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
COMPOSITE = ROOT / "cli" / "action.yml"

HEADER = """\
# The composite variant of the action, for macOS and Windows runners and for jobs that do not want a
# container: it installs the package at this action's own ref with pip (the pinned requirements) and
# runs the same entry point as the image, `provenance action`, with the inputs as INPUT_* variables.
# Generated from ../action.yml: python -m tests.support.composite > cli/action.yml
name: "Test provenance (no container)"
description: "Turn a CI test run into an auditable record, on any runner: the provenance action installed with pip."
author: "provenance-action"
branding:
  icon: "shield"
  color: "blue"
"""

# Each input reaches the step as INPUT_<NAME> with `_` for `-` (a shell drops names with a hyphen);
# the step renames them to the runner's spelling, INPUT_<NAME> upper-cased with hyphens kept, and
# runs the entry point with exactly those, as the runner runs the image.
RUNS = """\
runs:
  using: "composite"
  steps:
    - id: python
      uses: actions/setup-python@v5
      with:
        python-version: "3.12"
        update-environment: false
    - id: install
      shell: bash
      env:
        ACTION_PATH: ${{{{ github.action_path }}}}
        SETUP_PYTHON: ${{{{ steps.python.outputs.python-path }}}}
      run: |
        venv="$RUNNER_TEMP/provenance-action-venv"
        "$SETUP_PYTHON" -m venv "$venv"
        if [ -x "$venv/Scripts/python.exe" ]; then python="$venv/Scripts/python.exe"; else python="$venv/bin/python"; fi
        "$python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$ACTION_PATH/../requirements.txt"
        "$python" -m pip install --quiet --disable-pip-version-check --no-deps "$ACTION_PATH/.."
        echo "python=$python" >> "$GITHUB_OUTPUT"
    - id: provenance
      shell: bash
      env:
        PROVENANCE_PYTHON: ${{{{ steps.install.outputs.python }}}}
{env}      run: |
        inputs=()
        for name in $(compgen -A export); do
          case "$name" in INPUT_*) rest="${{name#INPUT_}}"; inputs+=("INPUT_${{rest//_/-}}=${{!name}}") ;; esac
        done
        exec env "${{inputs[@]}}" "$PROVENANCE_PYTHON" -m provenance action
"""


def env_name(name: str) -> str:
    """The variable a step gets for input `name`: INPUT_FAIL_ON for `fail-on`."""
    return "INPUT_" + name.replace("-", "_").upper()


def section(text: str, key: str) -> str:
    """A top-level section of action.yml, verbatim (its key line and every indented line after it)."""
    found = re.search(rf"^{key}:\n(?:(?:  .*)?\n)*", text, re.M)
    assert found, key
    return found.group(0).rstrip("\n") + "\n"


def render() -> str:
    """cli/action.yml from action.yml: the same inputs and outputs, `runs:` a composite of pip and the CLI."""
    text = ACTION.read_text()
    metadata = yaml.safe_load(text)
    outputs = section(text, "outputs")
    for name in metadata["outputs"]:
        outputs = re.sub(
            rf"^(  {re.escape(name)}:\n    description: .*\n)",
            lambda m, n=name: m.group(1) + f"    value: ${{{{ steps.provenance.outputs.{n} }}}}\n",
            outputs,
            count=1,
            flags=re.M,
        )
    env = "".join(f"        {env_name(n)}: ${{{{ inputs.{n} }}}}\n" for n in metadata["inputs"])
    return HEADER + section(text, "inputs") + outputs + RUNS.format(env=env)


if __name__ == "__main__":
    sys.stdout.write(render())
