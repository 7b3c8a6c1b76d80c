"""What the commands share: the type of the sub-parser collection, settings from flags, file lists."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from provenance.errors import InputError

if TYPE_CHECKING:
    from provenance.config import Settings

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


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
