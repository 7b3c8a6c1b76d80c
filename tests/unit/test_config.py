from __future__ import annotations

import pytest

from provenance.config import FailOn, IfNoReport, Settings
from provenance.errors import InputError


def test_defaults_when_inputs_are_empty() -> None:
    settings = Settings.from_inputs({"INPUT_REPORT": "", "INPUT_FAIL-ON": ""})
    assert settings.report == ("report.json",)
    assert settings.fail_on is FailOn.TEST_FAILURES
    assert settings.if_no_report is IfNoReport.FAIL
    assert settings.ledger == "data/ci_runs.jsonl"
    assert settings.summary is True
    assert settings.export is False


def test_inputs_as_the_runner_names_them() -> None:
    settings = Settings.from_inputs(
        {
            "INPUT_REPORT": "shard-1/report.json\nshard-2/*.xml\n",
            "INPUT_FAIL-ON": "none",
            "INPUT_IF-NO-REPORT": "warn",
            "INPUT_EVIDENCE-DIR": "out/evidence",
            "INPUT_SUMMARY": "false",
            "INPUT_RETENTION-YEARS": "7",
            "INPUT_EXPORT": "true",
        }
    )
    assert settings.report == ("shard-1/report.json", "shard-2/*.xml")
    assert settings.fail_on is FailOn.NONE
    assert settings.if_no_report is IfNoReport.WARN
    assert settings.evidence_dir == "out/evidence"
    assert settings.summary is False
    assert settings.retention_years == 7
    assert settings.export is True


def test_the_jobs_check_run_id_or_nothing() -> None:
    assert Settings.from_inputs({"INPUT_CHECK-RUN-ID": "51725241954"}).check_run_id == 51725241954
    assert Settings.from_inputs({"INPUT_CHECK-RUN-ID": ""}).check_run_id is None  # off GitHub, older runners


def test_comma_separated_reports() -> None:
    assert Settings.from_inputs({"INPUT_REPORT": "a.json, b.xml"}).report == ("a.json", "b.xml")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"INPUT_FAIL-ON": "sometimes"},
            "action inputs: fail-on: expected one of test-failures, regression, duration-regression, none "
            "(got 'sometimes')",
        ),
        ({"INPUT_SUMMARY": "yes"}, "action inputs: summary: expected true or false (got 'yes')"),
        ({"INPUT_RETENTION-YEARS": "0"}, "action inputs: retention-years: Input should be greater than or equal to 1"),
        ({"INPUT_IF-NO-REPORT": "ignore"}, "action inputs: if-no-report: expected one of warn, fail"),
        ({"INPUT_CHECK-RUN-ID": "job-7"}, "action inputs: check-run-id: Input should be a valid integer"),
        ({"INPUT_CHECK-RUN-ID": "0"}, "action inputs: check-run-id: Input should be greater than or equal to 1"),
        ({"INPUT_COMMENT": "sometimes"}, "action inputs: comment: expected one of off, changes, failures, always"),
        (
            {"INPUT_COMMENT-AUTHOR": "bot\n::set-output name=x::y"},
            "action inputs: comment-author: expected a GitHub login (letters, digits, `-` and `_`, at most 39)",
        ),
        (
            {"INPUT_DURATION-REGRESSION": "1"},
            "action inputs: duration-regression: expected FACTOR or FACTOR,FLOOR_SECONDS (e.g. 2 or 1.5,0.25)",
        ),
        ({"INPUT_DURATION-REGRESSION": "2,-1"}, "action inputs: duration-regression: expected FACTOR"),
        ({"INPUT_DURATION-REGRESSION": "2,1,3"}, "action inputs: duration-regression: expected FACTOR"),
        ({"INPUT_DURATION-REGRESSION": "twice"}, "action inputs: duration-regression: expected FACTOR"),
        ({"INPUT_DURATION-REGRESSION": "nan"}, "action inputs: duration-regression: expected FACTOR"),
        ({"INPUT_DURATION-REGRESSION": "inf"}, "action inputs: duration-regression: Input should be a finite number"),
        (
            {"INPUT_FAIL-ON": "duration-regression"},
            "action inputs: fail-on duration-regression needs duration-regression (e.g. 2 or 1.5,0.25)",
        ),
    ],
)
def test_bad_inputs_name_the_input(env: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        Settings.from_inputs(env)
    assert caught.value.diagnosis().startswith(message)


@pytest.mark.parametrize(
    ("given", "factor", "floor"),
    [("2", 2.0, 0.5), ("1.5,0.25", 1.5, 0.25), (" 3 , 0 ", 3.0, 0.0), ("OFF", None, None), ("off", None, None)],
)
def test_duration_regression_is_factor_and_optional_floor(given: str, factor: float | None,
                                                          floor: float | None) -> None:  # fmt: skip
    threshold = Settings.from_inputs({"INPUT_DURATION-REGRESSION": given}).duration_regression
    if factor is None:
        assert threshold is None
    else:
        assert threshold is not None and (threshold.factor, threshold.floor_seconds) == (factor, floor)
        assert str(threshold) == f"{factor:g},{floor:g}"


def test_fail_on_duration_regression_with_a_threshold() -> None:
    settings = Settings.from_inputs({"INPUT_FAIL-ON": "duration-regression", "INPUT_DURATION-REGRESSION": "2"})
    assert settings.fail_on is FailOn.DURATION_REGRESSION


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError):
        settings.ledger = "x"  # type: ignore[misc]
