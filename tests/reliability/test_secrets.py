"""The token never leaves: not in outputs, the summary, a file, a log line or an error message.

Each scenario runs with a token of its own against the loopback GitHub server (answering
normally, refusing, failing, rate-limiting, or not listening), with debug logging on, and then
every byte the run produced is searched for the token, raw and in the encodings that carry it.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.config import Settings
from tests.support.github_server import Artifact, GitHubServer

HEAD = "a" * 40
REPORT = (
    '<testsuite><testcase classname="tests.test_x" name="test_fails" time="0.01">'
    '<failure message="assert 1 == 0">tests/test_x.py:3: AssertionError</failure></testcase></testsuite>'
)


def forms(token: str) -> list[str]:
    """The token as it could leak: raw, URL-quoted, in Basic auth, hex."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return [token, token.replace("_", "%5F"), basic, token.encode().hex(), token[4:-4]]


def everything_written(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in sorted(root.rglob("*")) if p.is_file())


def _run(server: GitHubServer, workspace: Path, token: str) -> int:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_SHA": HEAD, "GITHUB_RUN_ID": "5",
           "GITHUB_API_URL": server.api_url, "GITHUB_TOKEN": token, "RUNNER_DEBUG": "1",
           "GITHUB_OUTPUT": str(workspace / "out.txt"),
           "GITHUB_STEP_SUMMARY": str(workspace / "summary.md")}  # fmt: skip
    return main(["--debug", "run", "--workspace", str(workspace), "--report", "r.xml", "--check-name", "tests"], env)


def _fetch(server: GitHubServer, workspace: Path, token: str) -> int:
    return main(["--debug", "fetch", "--repo", "acme/app", "--run-id", "42", "--api-url", server.api_url,
                 "--token", token, "--dest", str(workspace / "fetched")], {})  # fmt: skip


def _refuse(status: int, times: int = 20, **headers: str) -> Callable[[GitHubServer], None]:
    def arrange(server: GitHubServer) -> None:
        server.failures.extend([(status, headers)] * times)

    return arrange


def _closed(server: GitHubServer) -> None:
    server.stop()


SCENARIOS: dict[str, tuple[Callable[[GitHubServer], None] | None, Callable[[GitHubServer, Path, str], int]]] = {
    "check run accepted": (None, _run),
    "401 bad credentials": (_refuse(401), _run),
    "403 forbidden": (_refuse(403), _run),
    "429 rate limited": (_refuse(429, 20, **{"Retry-After": "0"}), _run),
    "500 outage": (_refuse(500), _run),
    "API not listening": (_closed, _run),
    "fetch: no artifact": (None, _fetch),
    "fetch: 500 outage": (_refuse(500), _fetch),
    "fetch: a corrupt archive": (
        lambda s: s.artifacts.append(Artifact(7, "provenance", b"PK\x03\x04broken", 42)),
        _fetch,
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_token_appears_nowhere(
    scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("provenance.github.client.BACKOFF_FACTOR", 0.0)  # retries, without the waits
    token = "ghs_" + secrets.token_urlsafe(27)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "r.xml").write_text(REPORT)
    server = GitHubServer().start()
    arrange, act = SCENARIOS[scenario]
    try:
        if arrange is not None:
            arrange(server)
        code = act(server, workspace, token)
    finally:
        if scenario != "API not listening":
            server.stop()
    out, err = capsys.readouterr()
    out = out.replace(f"::add-mask::{token}\n", "", 1)  # the runner consumes this line; it is never logged
    sent = json.dumps([r.body for r in server.requests])
    for form in forms(token):
        assert form not in out and form not in err, scenario
        assert form not in everything_written(tmp_path), scenario
        assert form not in sent, scenario
    assert code in (0, 1, 2, 3)
    assert "Traceback" not in out


def test_settings_never_show_the_token() -> None:
    token = "ghp_" + secrets.token_urlsafe(27)
    settings = Settings.build({"github_token": token}, source="test")
    for text in (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        json.dumps(settings.model_dump(mode="json")),
    ):
        assert token not in text


def test_a_bad_setting_next_to_the_token_does_not_echo_it(capsys: pytest.CaptureFixture[str]) -> None:
    token = "ghp_" + secrets.token_urlsafe(27)
    for bad in (["--retention-years", "-1"], ["--run-id", "a b"], ["--check-name", ""]):
        assert main(["run", "--github-token", token, *bad], {}) == 2
    assert main(["action"], {"INPUT_GITHUB-TOKEN": token, "INPUT_FAIL-ON": token}) == 2
    out, err = capsys.readouterr()
    assert token not in out + err
