"""A small GitHub REST client over requests: the token, retries, and errors that never leak it.

Retries with backoff on 5xx answers and on rate limits (429, or 403 with a rate-limit message or a
`Retry-After`), up to a bounded total wait; `GITHUB_API_URL` (GitHub Enterprise Server) is honoured.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from provenance import __version__
from provenance.errors import ExternalServiceError

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
_ATTEMPTS = 5


class ApiError(ExternalServiceError):
    """GitHub answered with an error we cannot work around (after retries)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message, source="GitHub API")
        self.status = status


class Unreachable(ApiError):
    """No answer at all from the API host after every retry: the network or the URL, not GitHub's word."""


@dataclass
class GitHubApi:
    """Authenticated requests to one GitHub API base URL."""

    api_url: str = DEFAULT_API_URL
    token: str | None = None
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.api_url = self.api_url.rstrip("/")
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"provenance-action/{__version__}",
            }
        )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                allow_redirects: bool = True) -> requests.Response:  # fmt: skip
        """One call, retried on server errors and rate limits; raises `ApiError` otherwise."""
        url = path if path.startswith("http") else f"{self.api_url}{path}"
        for attempt in range(_ATTEMPTS):
            try:
                response = self.session.request(method, url, json=json, params=params, headers=self._headers(),
                                                timeout=self.timeout, allow_redirects=allow_redirects)  # fmt: skip
            except requests.RequestException as exc:
                if attempt == _ATTEMPTS - 1:
                    host = urlsplit(url).hostname or url
                    raise Unreachable(
                        f"cannot reach {host} ({type(exc).__name__}): check the network, and the "
                        "API URL (--api-url, GITHUB_API_URL) for GitHub Enterprise Server"
                    ) from None
                self.sleep(_backoff(attempt))
                continue
            if response.status_code < 400:
                return response
            wait = _retry_after(response, attempt)
            if wait is None or attempt == _ATTEMPTS - 1:
                raise ApiError(f"{method} {path}: {response.status_code} {_message(response)}", response.status_code)
            self.sleep(wait)
        raise AssertionError("unreachable")

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document."""
        return self.request("GET", path, params=params).json()

    def download(self, path: str) -> bytes:
        """Follow GitHub's short-lived redirect to the file itself, without sending the token there."""
        response = self.request("GET", path, allow_redirects=False)
        location = response.headers.get("Location")
        if response.status_code in (301, 302, 303, 307, 308) and location:
            blob = self.session.get(location, timeout=self.timeout)  # the token stays with the API
            if blob.status_code >= 400:
                raise ApiError(f"download of {path}: {blob.status_code}", blob.status_code)
            return blob.content
        return response.content


def _backoff(attempt: int) -> float:
    return min(30.0, 0.5 * 2.0**attempt) * random.uniform(0.5, 1.0)


def _retry_after(response: requests.Response, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None when the error is final."""
    status = response.status_code
    header = response.headers.get("Retry-After")
    rate_limited = status == 429 or (
        status == 403 and (header is not None or "rate limit" in response.text.lower()
                           or response.headers.get("X-RateLimit-Remaining") == "0")
    )  # fmt: skip
    if status >= 500 or rate_limited:
        if header is not None and header.isdigit():
            return min(60.0, float(header))
        return _backoff(attempt)
    return None


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""
