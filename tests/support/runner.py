"""What the GitHub runner does with the files and lines a step writes, for checking ours.

`parse_output_file` follows the runner's file-command parser (`name=value` lines and
`name<<DELIMITER` blocks); `parse_commands` finds `::cmd props::data` lines and undoes the
toolkit's escaping, honouring `::stop-commands::`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_COMMAND = re.compile(r"^::(?P<name>[A-Za-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def parse_output_file(path: Path) -> dict[str, str]:
    """Parse `GITHUB_OUTPUT` as the runner does; raises on anything it would reject."""
    lines = path.read_text(encoding="utf-8").split("\n")
    outputs: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value_lines = []
            while True:
                if index >= len(lines):
                    raise ValueError(f"matching delimiter not found {delimiter!r}")
                current = lines[index]
                index += 1
                if current == delimiter:
                    break
                value_lines.append(current)
            outputs[name] = "\n".join(value_lines)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        else:
            raise ValueError(f"invalid format {line!r}")
    return outputs


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


@dataclass
class Command:
    name: str
    data: str
    properties: dict[str, str] = field(default_factory=dict)


def parse_commands(log: str) -> list[Command]:
    """The workflow commands the runner would act on in a step's log."""
    commands: list[Command] = []
    stop_token: str | None = None
    # The runner reads lines as .NET's ReadLine does: split on CR, LF or CRLF, nothing else.
    for line in re.split(r"\r\n|\r|\n", log):
        if stop_token is not None:
            if line == f"::{stop_token}::":
                stop_token = None
            continue
        match = _COMMAND.match(line)
        if not match:
            continue
        if match["name"] == "stop-commands":
            stop_token = match["data"]
            continue
        props = {}
        if match["props"]:
            for pair in match["props"].split(","):
                key, _, value = pair.partition("=")
                props[key] = _unescape_property(value)
        commands.append(Command(match["name"], _unescape_data(match["data"]), props))
    return commands
