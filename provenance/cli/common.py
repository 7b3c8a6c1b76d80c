"""What the commands share: the type of the sub-parser collection, settings from flags, file lists."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from provenance.errors import InputError

if TYPE_CHECKING:
    from provenance.config import Settings

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


Handler: TypeAlias = Callable[[argparse.Namespace, Mapping[str, str], bool], int]


def add_input_limit(parser: argparse.ArgumentParser) -> None:
    """The `--max-input-mb` flag of every command that reads files (the action's `max-input-mb`)."""
    from provenance.reading import DEFAULT_MAX_INPUT_MB

    what = f"refuse input files (and ledger lines) over N MiB (default {DEFAULT_MAX_INPUT_MB})"
    parser.add_argument("--max-input-mb", type=int, metavar="N", help=what)


def limited(handler: Handler) -> Handler:
    """`handler`, reading every input under the limit its `--max-input-mb` flag sets."""

    def run(args: argparse.Namespace, env: Mapping[str, str], in_github: bool) -> int:
        from provenance.reading import input_limit

        with input_limit(getattr(args, "max_input_mb", None), "--max-input-mb"):
            return handler(args, env, in_github)

    return run


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The same validated settings the action builds from its inputs, here from the command's flags."""
    from provenance.config import Settings

    raw: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(args, name, None)
        if value is not None:
            raw[name] = tuple(value) if name in ("report", "artifacts") else value
    return Settings.build(raw, source="command line", spell=lambda n: "--" + n.replace("_", "-"))


def read_lines(path: Path) -> list[str]:
    """The non-blank lines of a text file, stripped; an unreadable file is bad input naming it."""
    from provenance.reading import read_input

    try:
        text = read_input(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot be read ({exc})", source=str(path)) from None
    return [line.strip() for line in text.split("\n") if line.strip()]  # not splitlines: U+2028 is no line end
