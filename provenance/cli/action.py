"""`provenance action`: what the container runs, every setting from the action's `INPUT_*` variables."""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Mapping

from provenance.cli.common import Commands


def add_parser(commands: Commands) -> None:
    """Declare the `action` command and its options."""
    parser = commands.add_parser(
        "action",
        help="what the container runs: settings from the action's INPUT_* variables",
        description="Run as the GitHub Action: every setting comes from INPUT_<NAME> variables.",
    )
    parser.set_defaults(handler=run_action)


def run_action(args: Namespace, env: Mapping[str, str], in_github: bool) -> int:
    """Run or select, as the `mode` input says."""
    from provenance.cli import run, select
    from provenance.config import Mode, Settings
    from provenance.reading import input_limit

    settings = Settings.from_inputs(env)
    with input_limit(settings.max_input_mb, "max-input-mb"):
        if settings.mode is Mode.SELECT:
            return select.choose(settings, env, in_github, None)
        return run.record(settings, env, in_github)
