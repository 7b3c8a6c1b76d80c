"""A loopback GitHub REST server for the tests, checked against GitHub's own OpenAPI description.

Every request our code sends and every response this server returns is validated with
openapi-core against `tests/github_api/operations.json` (vendored from `@octokit/openapi`); any
mismatch is recorded in `violations`, which the tests require to be empty. It listens on an
ephemeral port of 127.0.0.1 (never a fixed one) and serves, like GitHub, artifact downloads as a
302 to a short-lived URL on another host name (`localhost`), where the token must not follow.

Hostile behaviours for the fetch's limits: `trickle` answers the API a byte at a time, `endless`
lists a next page forever, `blob_bytes` makes every download that many zeros (streamed, with or
without a Content-Length), and `redirect_to` sends the download elsewhere first.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC = Path(__file__).resolve().parents[1] / "github_api" / "operations.json"
_DESCRIPTION = json.loads(SPEC.read_text())
_API = OpenAPI.from_dict(_DESCRIPTION)
_API_EXAMPLE_RUN = _DESCRIPTION["components"]["examples"]["workflow-run"]["value"]


class _Request:
    def __init__(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes | None) -> None:
        self.host_url = "https://api.github.com"
        self.path = path
        self.method = method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(query)), header=Headers(headers), cookie=ImmutableMultiDict({})
        )
        self.content_type = headers.get("Content-Type", "application/json").split(";")[0]
        self.body = body


class _Response:
    def __init__(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.status_code = status
        self.data = data
        self.headers = Headers(headers)
        self.content_type = headers.get("Content-Type", "application/json")


@dataclass
class Artifact:
    """An artifact of a run, with the zip it downloads as."""

    id: int
    name: str
    data: bytes
    run_id: int
    expired: bool = False


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class GitHubServer:
    """Start with `start()`, stop with `stop()`; `api_url` is what our code is pointed at."""

    prefix: str = ""  # "/api/v3" for GitHub Enterprise Server
    artifacts: list[Artifact] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    blob_requests: list[Recorded] = field(default_factory=list)  # what reached the download host
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # answers to give first
    page_size: int | None = None
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    refuse_patch: set[int] = field(default_factory=set)  # the n-th PATCH (1-based) gets a 422
    trickle: float | None = None  # seconds between the bytes of each API answer
    endless: bool = False  # every page of artifacts is full and names a next one
    blob_bytes: int | None = None  # downloads are this many zero bytes instead of the artifact
    blob_length_header: bool = True  # whether a download declares its Content-Length
    redirect_to: str | None = None  # "host:port" of a second redirect hop, before the blob itself
    run_overrides: dict[str, Any] = field(default_factory=dict)  # fields of the workflow run to answer instead
    check_run_url: str | None = None  # the `url` a check run is answered with, instead of its own
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # issue comments by id
    comment_url: str | None = None  # the `url` a comment is answered with, instead of its own

    def start(self) -> GitHubServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                server._handle(self)

            do_GET = do_POST = do_PATCH = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    # --- routing ------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else None
        headers = dict(handler.headers.items())
        if split.path.startswith(("/blobs/", "/hop/")):
            self._blob(handler, split.path, headers)
            return
        path = split.path.removeprefix(self.prefix) if self.prefix else split.path
        body = json.loads(raw) if raw else None
        self.requests.append(Recorded(handler.command, path, headers, body))
        request = _Request(handler.command, path, split.query, headers, raw)
        try:
            _API.validate_request(request)
        except Exception as exc:  # noqa: BLE001 - every validation failure is a finding
            self.violations.append(f"request {handler.command} {path}: {exc}")
        if handler.command == "PATCH":
            self._patches = getattr(self, "_patches", 0) + 1
            if self._patches in self.refuse_patch:
                # GitHub answers a bad annotation with 422, which its description omits for this call.
                message = {"message": "Invalid request.", "documentation_url": "x", "status": "422"}
                self._send(handler, request, 422, message, {}, validate=False)
                return
        if self.failures:
            # Outages and rate limits: GitHub answers them on every operation, though its description
            # lists them for few, so these injected answers are not checked against it.
            status, extra = self.failures.pop(0)
            body = {"message": "injected failure", "documentation_url": "x"}
            self._send(handler, request, status, body, extra, validate=False)
            return
        status, payload, extra = self._route(handler.command, path, dict(parse_qsl(split.query)), body)
        self._send(handler, request, status, payload, extra)

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any = None
    ) -> tuple[int, Any, dict[str, str]]:
        checks = self._route_checks(method, path, query, body)
        if checks is not None:
            return checks
        comments = self._route_comments(method, path, query, body)
        if comments is not None:
            return comments
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/actions/runs/(\d+)", path)
        if method == "GET" and match:
            return 200, self._workflow_run(match.group(1), match.group(2), int(match.group(3))), {}
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/actions/runs/(\d+)/artifacts", path)
        if method == "GET" and match:
            owner, repo, run_id = match.group(1), match.group(2), int(match.group(3))
            found = [a for a in self.artifacts if a.run_id == run_id]
            per_page = self.page_size or int(query.get("per_page", 30))
            page = int(query.get("page", 1))
            if self.endless:
                found = [Artifact(page * 1000 + i, f"a{page}-{i}", b"", run_id) for i in range(per_page)]
                listed = {"total_count": 10**9, "artifacts": [self._artifact(owner, repo, a) for a in found]}
                link = f'<{self.api_url}{path}?per_page={per_page}&page={page + 1}>; rel="next"'
                return 200, listed, {"Link": link}
            chosen = found[(page - 1) * per_page : page * per_page]
            return 200, {"total_count": len(found), "artifacts": [self._artifact(owner, repo, a) for a in chosen]}, {}
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/actions/artifacts/(\d+)/zip", path)
        if method == "GET" and match:
            artifact = next((a for a in self.artifacts if a.id == int(match.group(3))), None)
            if artifact is None:
                return 404, {"message": "Not Found", "documentation_url": "x"}, {}
            if self.redirect_to:
                return 302, None, {"Location": f"http://{self.redirect_to}/hop/{artifact.id}?sig=short-lived"}
            return 302, None, {"Location": f"http://localhost:{self.port}/blobs/{artifact.id}?sig=short-lived"}
        return 404, {"message": "Not Found", "documentation_url": "x"}, {}

    def _route_checks(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]] | None:
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/commits/([^/]+)/check-runs", path)
        if method == "GET" and match:
            runs = [r for r in self.check_runs.values() if r["head_sha"] == match.group(3)
                    and ("check_name" not in query or r["name"] == query["check_name"])
                    and ("status" not in query or r["status"] == query["status"])]  # fmt: skip
            return 200, {"total_count": len(runs), "check_runs": [self._check_run(r) for r in runs]}, {}
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/check-runs", path)
        if method == "POST" and match:
            run_id = 1000 + len(self.check_runs)
            self.check_runs[run_id] = {
                "id": run_id, "name": body["name"], "head_sha": body["head_sha"], "status": "queued",
                "conclusion": None, "annotations": [], "output": {},
            }  # fmt: skip
            self._apply(self.check_runs[run_id], body)
            return 201, self._check_run(self.check_runs[run_id]), {}
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/check-runs/(\d+)", path)
        if method == "PATCH" and match:
            run = self.check_runs.get(int(match.group(3)))
            if run is None:
                return 404, {"message": "Not Found", "documentation_url": "x"}, {}
            self._apply(run, body)
            return 200, self._check_run(run), {}
        return None

    def _route_comments(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]] | None:
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/(\d+)/comments", path)
        if match and method == "GET":
            found = [c for c in self.comments.values() if c["issue"] == int(match.group(3))]
            per_page = self.page_size or int(query.get("per_page", 30))
            page = int(query.get("page", 1))
            chosen = found[(page - 1) * per_page : page * per_page]
            return 200, [self._comment(c) for c in chosen], {}
        if match and method == "POST":
            comment_id = 5000 + len(self.comments)
            self.comments[comment_id] = {"id": comment_id, "issue": int(match.group(3)), "body": body["body"],
                                         "login": "github-actions[bot]", "edits": 0}  # fmt: skip
            return 201, self._comment(self.comments[comment_id]), {}
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/comments/(\d+)", path)
        if match and method == "PATCH":
            comment = self.comments.get(int(match.group(3)))
            if comment is None:
                return 404, {"message": "Not Found", "documentation_url": "x"}, {}
            comment["body"], comment["edits"] = body["body"], comment["edits"] + 1
            return 200, self._comment(comment), {}
        return None

    def _comment(self, comment: dict[str, Any]) -> dict[str, Any]:
        url = self.comment_url or f"{self.api_url}/repos/acme/app/issues/comments/{comment['id']}"
        login = comment["login"]
        kind = "Bot" if login.endswith("[bot]") else "User"
        user = {"login": login, "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=", "type": kind,
                "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4", "gravatar_id": "",
                "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/apps/{login}",
                "site_admin": False, **{f"{k}_url": f"https://api.github.com/users/{login}/{k}" for k in (
                    "followers", "following", "gists", "starred", "subscriptions", "organizations", "repos",
                    "events", "received_events")}}  # fmt: skip
        return {
            "id": comment["id"], "node_id": f"IC_{comment['id']}", "url": url, "body": comment["body"],
            "html_url": f"https://github.com/acme/app/pull/{comment['issue']}#issuecomment-{comment['id']}",
            "issue_url": f"{self.api_url}/repos/acme/app/issues/{comment['issue']}", "user": user,
            "created_at": "2026-11-28T09:00:00Z", "updated_at": "2026-11-28T09:00:00Z",
            "author_association": "NONE",
        }  # fmt: skip

    @staticmethod
    def _apply(run: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("status", "conclusion"):
            if key in body:
                run[key] = body[key]
        if "conclusion" in body:
            run["status"] = "completed"
        output = body.get("output") or {}
        run["annotations"].extend(output.get("annotations") or [])
        run["output"].update({k: v for k, v in output.items() if k != "annotations"})

    def _check_run(self, run: dict[str, Any]) -> dict[str, Any]:
        url = self.check_run_url or f"{self.api_url}/repos/acme/app/check-runs/{run['id']}"
        return {
            "id": run["id"], "node_id": f"CR_{run['id']}", "head_sha": run["head_sha"], "name": run["name"],
            "url": url, "html_url": f"https://github.com/acme/app/runs/{run['id']}", "details_url": None,
            "status": run["status"], "conclusion": run["conclusion"], "started_at": "2026-11-28T09:00:00Z",
            "completed_at": "2026-11-28T09:01:00Z" if run["status"] == "completed" else None,
            "external_id": None, "check_suite": {"id": 5},
            "output": {"title": run["output"].get("title"), "summary": run["output"].get("summary"), "text": None,
                       "annotations_count": len(run["annotations"]), "annotations_url": f"{url}/annotations"},
            "app": None, "pull_requests": [],
        }  # fmt: skip

    def _workflow_run(self, owner: str, repo: str, run_id: int) -> dict[str, Any]:
        """A workflow run as GitHub describes one (its example, with our ids and URLs)."""
        run = json.loads(json.dumps(_API_EXAMPLE_RUN))
        base = f"{self.api_url}/repos/{owner}/{repo}/actions/runs/{run_id}"
        run.update({"id": run_id, "url": base, "html_url": f"https://github.com/{owner}/{repo}/actions/runs/{run_id}",
                    "jobs_url": f"{base}/jobs", "logs_url": f"{base}/logs", "artifacts_url": f"{base}/artifacts",
                    "cancel_url": f"{base}/cancel", "rerun_url": f"{base}/rerun",
                    "previous_attempt_url": None,
                    "check_suite_url": f"{self.api_url}/repos/{owner}/{repo}/check-suites/5",
                    "workflow_url": f"{self.api_url}/repos/{owner}/{repo}/actions/workflows/159038"})  # fmt: skip
        run.update(self.run_overrides)
        return run

    def _artifact(self, owner: str, repo: str, artifact: Artifact) -> dict[str, Any]:
        base = f"{self.api_url}/repos/{owner}/{repo}/actions/artifacts/{artifact.id}"
        return {
            "id": artifact.id,
            "node_id": f"MDg6QXJ0aWZhY3Q{artifact.id}",
            "name": artifact.name,
            "size_in_bytes": len(artifact.data),
            "url": base,
            "archive_download_url": f"{base}/zip",
            "expired": artifact.expired,
            "created_at": "2026-11-28T09:00:00Z",
            "expires_at": "2027-02-26T09:00:00Z",
            "updated_at": "2026-11-28T09:00:00Z",
            "workflow_run": {"id": artifact.run_id, "head_branch": "main"},
        }

    def _send(self, handler: BaseHTTPRequestHandler, request: _Request, status: int, payload: Any,
              extra: dict[str, str], validate: bool = True) -> None:  # fmt: skip
        data = b"" if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", **extra} if payload is not None else dict(extra)
        try:
            if validate:
                _API.validate_response(request, _Response(status, data, headers))
        except Exception as exc:  # noqa: BLE001
            problem = str(exc)
            # GitHub's description declares `conclusion` a nullable enum without null among the values,
            # while the API answers null for every check run still in progress: not a finding.
            if "None is not one of ['success', 'failure'" not in problem:
                self.violations.append(f"response {status} to {request.method.upper()} {request.path}: {problem}")
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if self.trickle is None:
            handler.wfile.write(data)
            return
        for index in range(len(data)):  # a byte at a time, each within any read timeout
            try:
                handler.wfile.write(data[index : index + 1])
                handler.wfile.flush()
            except OSError:
                return  # the client gave up
            time.sleep(self.trickle)

    def _blob(self, handler: BaseHTTPRequestHandler, path: str, headers: dict[str, str]) -> None:
        self.blob_requests.append(Recorded("GET", path, headers, None))
        if any(k.lower() == "authorization" and v for k, v in headers.items()):
            self.violations.append("the token was sent to the download URL")
        if path.startswith("/hop/"):  # the second hop of a redirect, on another host name
            handler.send_response(302)
            handler.send_header("Location", f"http://localhost:{self.port}/blobs/{path.rsplit('/', 1)[1]}")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if self.blob_bytes is not None:
            self._zeros(handler, self.blob_bytes)
            return
        artifact = next((a for a in self.artifacts if a.id == int(path.rsplit("/", 1)[1])), None)
        data = artifact.data if artifact else b""
        handler.send_response(200 if artifact else 404)
        handler.send_header("Content-Type", "application/zip")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _zeros(self, handler: BaseHTTPRequestHandler, size: int) -> None:
        """`size` zero bytes, streamed in 1 MiB writes (never held whole), until the client hangs up."""
        handler.send_response(200)
        handler.send_header("Content-Type", "application/zip")
        if self.blob_length_header:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        chunk = bytes(1024 * 1024)
        sent = 0
        try:
            while sent < size:
                piece = chunk[: min(len(chunk), size - sent)]
                handler.wfile.write(piece)
                sent += len(piece)
        except OSError:
            return
