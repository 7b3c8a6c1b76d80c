"""Settings: one frozen model built from action inputs or CLI flags, validated before any side effect."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from provenance.choices import CommentMode, FailOn, IfNoReport, Mode
from provenance.errors import InputError
from provenance.reading import DEFAULT_MAX_INPUT_MB, MAX_INPUT_MB_CEILING

__all__ = ["CommentMode", "DurationRegression", "FailOn", "IfNoReport", "Mode", "Settings"]

DEFAULT_NOISE_FLOOR_SECONDS = 0.5


class DurationRegression(BaseModel):
    """`duration-regression: FACTOR[,FLOOR_SECONDS]`: when a test counts as slower than it used to be.

    Slower means more than `factor` times its recorded median and more than `floor_seconds` longer
    than it, so a 2 ms test taking 5 ms is not news.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    factor: float = Field(gt=1, allow_inf_nan=False)
    floor_seconds: float = Field(default=DEFAULT_NOISE_FLOOR_SECONDS, ge=0, allow_inf_nan=False)

    def __str__(self) -> str:
        return f"{self.factor:g},{self.floor_seconds:g}"


def parse_duration_regression(value: object) -> object:
    """`2`, `1.5,0.25`, `off` or empty: the input's spelling, before pydantic checks the numbers."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text in ("", "off"):
        return None
    parts = [part.strip() for part in text.split(",")]
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(parts) > 2 or len(numbers) != len(parts) or not numbers[0] > 1 or not min(numbers) >= 0:
        raise ValueError(
            "expected FACTOR or FACTOR,FLOOR_SECONDS (e.g. 2 or 1.5,0.25): FACTOR above 1, FLOOR_SECONDS 0 or more, "
            "or off"
        )
    return {"factor": numbers[0], **({"floor_seconds": numbers[1]} if len(numbers) == 2 else {})}


class Settings(BaseModel):
    """Everything the `run` command needs to know, in one validated place.

    Field names are the action's input names in snake case; `INPUT_<NAME>` variables use the
    kebab-case spelling, upper-cased, as the runner passes them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = Mode.RUN
    report: tuple[str, ...] = Field(default=("report.json",), min_length=1)
    fail_on: FailOn = FailOn.TEST_FAILURES
    if_no_report: IfNoReport = IfNoReport.FAIL
    ledger: str = Field(default="data/ci_runs.jsonl", min_length=1)
    ledger_branch: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._/-]{1,200}$")
    evidence_dir: str = Field(default="evidence", min_length=1)
    badge_path: str | None = Field(default=None, min_length=1)
    export: bool = False
    ctrf_out: str | None = Field(default=None, min_length=1)
    workspace: Path = Field(default_factory=Path.cwd)
    summary: bool = True
    annotate: bool = True
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,100}$")
    retention_years: int = Field(default=5, ge=1, le=100)
    artifacts: tuple[str, ...] = ()
    check_name: str | None = Field(default=None, min_length=1, max_length=200)
    github_token: SecretStr | None = None
    # The job's own check run (`${{ job.check_run_id }}`); empty off GitHub and on older runners.
    check_run_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    contracts: str | None = None
    contracts_audit_log: str = Field(default="data/contracts_audit.jsonl", min_length=1)
    predictions: str | None = None
    supersedes: int | None = Field(default=None, ge=0)
    correction_reason: str | None = Field(default=None, min_length=1, max_length=2000, validate_default=True)
    budget: float | None = Field(default=None, gt=0, le=1)
    budget_seconds: float | None = Field(default=None, gt=0)
    confidence: float | None = Field(default=None, gt=0, lt=1)
    tests: str | None = None
    selection_out: str = Field(default="selected_tests.txt", min_length=1)
    full_run_every: int = Field(default=10, ge=0)
    exploration: float = Field(default=0.1, ge=0, le=1)
    calibration_window: int = Field(default=20, ge=1, le=10_000)
    max_ece: float | None = Field(default=None, ge=0, le=1)
    max_brier: float | None = Field(default=None, ge=0, le=1)
    max_input_mb: int = Field(default=DEFAULT_MAX_INPUT_MB, ge=1, le=MAX_INPUT_MB_CEILING)
    # The published history page, linked from the job summary: https, and nothing that could end a Markdown link.
    site_url: str | None = Field(
        default=None,
        pattern=r"^https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%!$&'*+,;=:@/?#-]*)?$",
        max_length=500,
    )
    comment: CommentMode = CommentMode.OFF
    # Whose comment is ours: the token's login (GITHUB_TOKEN writes as github-actions[bot]). A comment
    # by anyone else that starts with our marker is not edited: it stays its author's to change.
    comment_author: str = Field(default="github-actions[bot]", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,38}(\[bot\])?$")
    duration_regression: DurationRegression | None = None

    @field_validator("report")
    @classmethod
    def _non_empty_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        patterns = tuple(p.strip() for p in value if p.strip())
        if not patterns:
            raise ValueError("at least one report path or glob is required")
        return patterns

    @model_validator(mode="after")
    def _one_budget(self) -> Settings:
        given = [n for n in ("budget", "budget_seconds", "confidence") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError("give one budget, not " + " and ".join(f"`{name}`" for name in given))
        return self

    _durations = field_validator("duration_regression", mode="before")(parse_duration_regression)

    @model_validator(mode="after")
    def _durations_to_gate_on(self) -> Settings:
        if self.fail_on is FailOn.DURATION_REGRESSION and self.duration_regression is None:
            raise ValueError("`fail_on` duration-regression needs `duration_regression` (e.g. 2 or 1.5,0.25)")
        return self

    @field_validator("correction_reason")
    @classmethod
    def _reason_for_correction(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("supersedes") is not None:
            raise ValueError("a correction needs a reason")
        return value

    @field_validator("ledger_branch")
    @classmethod
    def _branch_name(cls, value: str | None) -> str | None:
        """What `git check-ref-format --branch` refuses, refused up front with a clear message."""
        if value is None:
            return value
        bad = ".." in value or "//" in value or value.startswith(("/", "-", ".")) or value.endswith(("/", ".", ".lock"))
        if bad:
            raise ValueError("expected a git branch name such as provenance-ledger")
        return value

    @classmethod
    def from_inputs(cls, env: Mapping[str, str]) -> Settings:
        """Build from the `INPUT_*` variables of a container action; empty means "use the default"."""
        raw: dict[str, Any] = {}
        for name in cls.model_fields:
            value = env.get("INPUT_" + name.replace("_", "-").upper(), "").strip()
            if not value:
                continue
            if name in ("report", "artifacts"):
                raw[name] = split_list(value)
            elif cls.model_fields[name].annotation is bool:
                raw[name] = parse_bool(value, name)
            else:
                raw[name] = value
        return cls.build(raw, source="action inputs", spell=lambda n: n.replace("_", "-"))

    @classmethod
    def build(cls, raw: Mapping[str, Any], *, source: str, spell: Callable[[str], str] | None = None) -> Settings:
        """Validate, turning pydantic's report into one line naming the setting and what it expects."""
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            message = error["msg"].removeprefix("Value error, ")
            spelt = spell or (lambda n: n)
            if not error["loc"]:  # a rule across settings: name each, as the user spells it
                for name in cls.model_fields:
                    message = message.replace(f"`{name}`", spelt(name))
                raise InputError(message, source=source) from None
            name = str(error["loc"][0])
            given = raw.get(name)
            token = raw.get("github_token")
            if name == "github_token" or (token and str(token) in str(given)):
                given = "***"  # a secret is never echoed, whichever input it was given to
            got = f" (got {given!r})" if name in raw else ""
            raise InputError(_expected(name, message) + got, source=source, field=spelt(name)) from None


def _expected(name: str, pydantic_message: str) -> str:
    choices: dict[str, type[StrEnum]] = {"fail_on": FailOn, "if_no_report": IfNoReport, "mode": Mode,
                                         "comment": CommentMode}  # fmt: skip
    if name in choices:
        return "expected one of " + ", ".join(m.value for m in choices[name])
    if name == "comment_author":
        return "expected a GitHub login (letters, digits, `-` and `_`, at most 39), an app's ending in [bot]"
    if name == "site_url":
        return "expected an https:// address with no spaces, quotes, brackets or parentheses"
    return pydantic_message


_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


def parse_bool(value: str, name: str) -> bool:
    """Booleans as the Actions toolkit reads them (YAML 1.2 core schema), nothing looser."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"expected true or false (got {value!r})", source="action inputs", field=name.replace("_", "-"))


def split_list(value: str) -> list[str]:
    """A list input: one item per line, or comma-separated on one line."""
    items = value.splitlines() if "\n" in value else value.split(",")
    return [item.strip() for item in items if item.strip()]
