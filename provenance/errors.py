"""One error hierarchy; the CLI maps each kind to its exit code in one place."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes shared by every command and the container."""

    OK = 0
    GATE_FAILED = 1
    BAD_INPUT = 2
    INTERNAL = 3
    # The reader of stdout went away (`provenance ... | head`): what a command killed by SIGPIPE exits with.
    PIPE_CLOSED = 128 + 13


class ProvenanceError(Exception):
    """Base of every error the tool reports to the user as one line."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.field = field

    def diagnosis(self) -> str:
        """The one line a user reads: where (file, field) and what was expected."""
        where = ""
        if self.source:
            where = self.source
            if self.field:
                where += f": {self.field}"
            where += ": "
        elif self.field:
            where = f"{self.field}: "
        return one_line(where + self.message)


class InputError(ProvenanceError):
    """Bad input or configuration: a file, a field or a setting is not what was expected."""

    exit_code = ExitCode.BAD_INPUT


class GateError(ProvenanceError):
    """A gate failed: the run completed but must not pass."""

    exit_code = ExitCode.GATE_FAILED


class IntegrityError(ProvenanceError):
    """A record does not verify (a ledger edited, truncated or torn)."""

    exit_code = ExitCode.GATE_FAILED


class ExternalServiceError(ProvenanceError):
    """A service we depend on (git, the GitHub API) failed in a way we cannot work around."""

    exit_code = ExitCode.INTERNAL


def one_line(text: str, limit: int = 2000) -> str:
    """Collapse line breaks so a message can never span lines (or smuggle a workflow command)."""
    flat = " ".join(text.split("\n"))
    flat = flat.replace("\r", " ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
