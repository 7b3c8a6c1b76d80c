"""Step outputs and workflow commands, written the way GitHub's own toolkit writes them.

Untrusted text (test names, messages, paths) only ever reaches the runner through these
functions: command data and properties are percent-escaped, so a CR or LF can never start a new
command, and each output value is framed by a random delimiter that it must not contain.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import InputError
from provenance.text import printable, printable_lines

MAX_ANNOTATIONS_PER_STEP = 10  # GitHub shows at most 10 error annotations from one step


def escape_data(text: str) -> str:
    """Escape a command's message (toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value (toolkit `escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: str | int | None) -> str:
    """One workflow command line, e.g. `::error file=a.py,line=3::boom`.

    Control and format characters (ESC, bidi overrides) in the message or a property are shown as
    escapes: a test's output must not colour, move or hide text in the log or the annotation.
    """
    props = ",".join(
        f"{key}={escape_property(printable(str(value)))}" for key, value in properties.items() if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(printable_lines(message))}"


@dataclass(frozen=True)
class Annotation:
    """An annotation on a file and line of the pull request."""

    level: str  # error | warning | notice
    message: str
    title: str | None = None
    file: str | None = None
    line: int | None = None

    def as_command(self) -> str:
        """The workflow command that raises this annotation."""
        return command(self.level, self.message, file=self.file, line=self.line, title=self.title)


def repository_path(file: str | None) -> str | None:
    """`file` when inside the repository: elsewhere (`/usr/lib/...`, a made-up crash site) is no place to annotate."""
    inside = file is not None and not file.startswith("/") and ".." not in file.split("/")
    return file if inside else None


def new_delimiter() -> str:
    """A delimiter nobody can predict, as the toolkit makes them."""
    return f"ghadelimiter_{uuid.uuid4()}"


def format_outputs(outputs: Mapping[str, str], delimiter_for: Callable[[], str] = new_delimiter) -> str:
    """The `GITHUB_OUTPUT` file text: `name<<DELIM` / value / `DELIM`, a fresh delimiter per value."""
    chunks = []
    for name, value in outputs.items():
        delimiter = delimiter_for()
        if delimiter in name or delimiter in value:
            raise InputError("an output value contains its own delimiter", field=name)
        chunks.append(f"{name}<<{delimiter}{os.linesep}{value}{os.linesep}{delimiter}{os.linesep}")
    return "".join(chunks)


def outputs_as_json(outputs: Mapping[str, str]) -> str:
    """The step outputs printed off GitHub: one JSON object, its keys in snake case like every command's JSON.

    Step outputs are kebab-case on GitHub (`tests-failed`); a script reads `.tests_failed`.
    """
    return json.dumps({name.replace("-", "_"): value for name, value in outputs.items()}, indent=2) + "\n"


def append_file(path: Path, text: str) -> None:
    """Append to a runner file command (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`) in one write."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def stop_commands_token() -> str:
    """A fresh token for `::stop-commands::`, so logged untrusted text cannot issue commands."""
    return uuid.uuid4().hex
