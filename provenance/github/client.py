"""The GitHub REST client: PyGithub, with bounded retries and errors that never carry the token.

Every REST call goes through PyGithub (`github.Github`), which knows GitHub's pagination, GitHub
Enterprise Server base URLs (`GITHUB_API_URL`, `--api-url`) and, through `GithubRetry`, primary and
secondary rate limits. What we add is what a CI step needs on top:

- retries bounded overall: a few attempts, each wait capped (`Retry-After`, rate-limit resets and
  backoff alike), and never past the caller's deadline;
- one error type (`ApiError`) naming the call, GitHub's status and message, never the token; a
  host that does not answer at all is `Unreachable`, naming the host;
- the token only for the API host: before PyGithub follows a URL GitHub returned (a check run's
  `url`, a run's `artifacts_url`), `expect_url` checks it is the one we would have built.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from github import Auth, Github, GithubException, GithubRetry, set_log_level

from provenance import __version__
from provenance.errors import ExternalServiceError

DEFAULT_API_URL = "https://api.github.com"
ATTEMPTS = 4  # the first try and three retries
MAX_WAIT_SECONDS = 60.0  # the longest single wait: a Retry-After, a rate-limit reset or a backoff
BACKOFF_FACTOR = 0.5  # seconds; doubled after each failed attempt (a module setting the tests lower)
DEFAULT_TIMEOUT_SECONDS = 30.0

T = TypeVar("T")


class ApiError(ExternalServiceError):
    """GitHub answered with an error we cannot work around (after the retries)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message, source="GitHub API")
        self.status = status


class Unreachable(ApiError):
    """No answer at all from the API host: the network or the URL, not GitHub's word."""


class DeadlinePassed(ApiError):
    """The caller's overall deadline passed before GitHub answered."""


class BoundedRetry(GithubRetry):
    """`GithubRetry` that stops at a deadline (a `time.monotonic()` value) and caps every wait."""

    def __init__(self, deadline: float | None = None, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> BoundedRetry:
        """Carry the deadline to the next attempt (urllib3 makes a new object per attempt)."""
        kw["deadline"] = self.deadline
        return super().new(**kw)

    def increment(self, *args: Any, **kwargs: Any) -> BoundedRetry:
        """Refuse another attempt once the deadline has passed; otherwise as `GithubRetry` decides."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise DeadlinePassed("the deadline passed while GitHub was retried")
        return super().increment(*args, **kwargs)  # type: ignore[return-value]

    def get_backoff_time(self) -> float:
        """The backoff, never longer than the time left."""
        return min(super().get_backoff_time(), self._left())

    def get_retry_after(self, response: Any) -> float | None:
        """GitHub's `Retry-After`, capped at `MAX_WAIT_SECONDS` and the time left."""
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, MAX_WAIT_SECONDS, self._left())

    def _left(self) -> float:
        return MAX_WAIT_SECONDS if self.deadline is None else max(0.0, self.deadline - time.monotonic())


@dataclass
class Client:
    """A PyGithub connection to one API base URL, and what we need to know about it."""

    github: Github
    api_url: str

    @property
    def host(self) -> str:
        """The API host name, as error messages name it."""
        return urlsplit(self.api_url).hostname or self.api_url

    def expect_url(self, url: str, path: str) -> None:
        """Refuse a URL from a response unless it is `api_url + path`: the token goes nowhere else."""
        if url.rstrip("/") != self.api_url + path:
            raise ApiError(f"GitHub returned an unexpected URL for {path} ({url[:200]!r}); nothing sent there")

    @contextmanager
    def calling(self, what: str) -> Iterator[None]:
        """Translate PyGithub's and requests' errors into ours, naming `what` (e.g. `GET /repos/a/b`)."""
        try:
            yield
        except GithubException as exc:
            raise ApiError(f"{what}: {exc.status} {_message(exc)}", exc.status) from None
        except requests.Timeout as exc:
            raise Unreachable(f"{what}: {self.host} did not answer in time ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise Unreachable(
                f"cannot reach {self.host} ({type(exc).__name__}): check the network, and the API URL "
                "(--api-url, GITHUB_API_URL) for GitHub Enterprise Server"
            ) from None

    def call(self, what: str, function: Callable[[], T]) -> T:
        """Run one PyGithub call under `calling(what)`."""
        with self.calling(what):
            return function()


def connect(
    api_url: str | None,
    token: str | None,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    deadline: float | None = None,
) -> Client:
    """A client for `api_url` (default api.github.com); `deadline` bounds every retry of every call."""
    # PyGithub puts a stderr handler at INFO on its logger when imported and logs every retry there;
    # the user is told once, by the CLI, in one line.
    set_log_level(logging.CRITICAL)
    base = (api_url or DEFAULT_API_URL).rstrip("/")
    retry = BoundedRetry(
        deadline=deadline,
        total=ATTEMPTS - 1,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=MAX_WAIT_SECONDS,
        retry_after_max=int(MAX_WAIT_SECONDS),
        secondary_rate_wait=MAX_WAIT_SECONDS,
        max_rate_limit_wait=MAX_WAIT_SECONDS,
        raise_on_status=False,  # the last answer reaches PyGithub, which raises it with GitHub's message
    )
    github = Github(
        auth=Auth.Token(token) if token else None,
        base_url=base,
        timeout=max(1, round(timeout)),
        user_agent=f"provenance-action/{__version__}",
        per_page=100,
        retry=retry,
        lazy=True,  # objects whose URL we know are not fetched before they are used
    )
    return Client(github, base)


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return exc.message or ""
