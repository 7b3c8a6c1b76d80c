"""Build the action's image from the real Dockerfile and run it as the GitHub runner runs it.

Usable alone (`python tests/container/container_check.py`, as root, with buildah, podman and
debootstrap installed) or from `test_container.py`. It:

1. makes a Debian bookworm base image with python3 by debootstrap (no registry is reachable), cached
   in `/var/cache/provenance-action` and in the local image store between runs on one machine;
2. builds the action image with buildah from the real Dockerfile (`--build-arg BASE_IMAGE=...`);
3. runs the image's own ENTRYPOINT, read from the image, with the runner's mounts and variables,
   over a real git checkout of the sample project owned by another user, and its pytest report;
4. checks the outputs, the summary, the ledger line and the provenance file, and that a later step
   running as the checkout's owner can use the files left in the workspace.

It prints its figures (build and run times, image sizes) as one JSON object.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.project import (  # noqa: E402
    RunnerDirs,
    pull_request_event,
    run_pytest,
    runner_env,
    sample_checkout,
    write_event,
)
from tests.support.runner import parse_commands, parse_output_file  # noqa: E402

CACHE = Path(os.environ.get("PROVENANCE_IMAGE_CACHE", "/var/cache/provenance-action"))
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_TAG = "localhost/provenance-base:bookworm-" + hashlib.sha256(",".join(BASE_PACKAGES).encode()).hexdigest()[:8]
IMAGE_TAG = "localhost/provenance-action:test"
RUNNER_UID = 1001  # the runner's user owns the checkout; the container runs as root
TOOLS = ("buildah", "podman", "debootstrap", "setpriv")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def sh(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def image_exists(tag: str) -> bool:
    return subprocess.run(["buildah", "inspect", "--type", "image", tag], capture_output=True).returncode == 0


def image_size(tag: str) -> int:
    return int(sh("podman", "image", "inspect", tag, "--format", "{{.Size}}").stdout.strip())


def ensure_base() -> float:
    """The debootstrap base, built once per machine; returns the seconds spent (0 when cached)."""
    if image_exists(BASE_TAG):
        return 0.0
    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / (BASE_TAG.rsplit(":", 1)[1] + ".tar")
    if not tarball.exists():
        with tempfile.TemporaryDirectory(dir=CACHE) as temp:
            rootfs = Path(temp) / "rootfs"
            sh("debootstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES), "bookworm", str(rootfs))
            sh("tar", "-C", str(rootfs), "-cf", str(tarball) + ".part", ".")
            Path(str(tarball) + ".part").rename(tarball)
    sh("podman", "import", str(tarball), BASE_TAG)
    return time.monotonic() - started


def build() -> float:
    started = time.monotonic()
    sh(
        "buildah", "bud", "--isolation", "chroot", "--network", "host",
        "-v", "/etc/ssl/certs:/etc/ssl/certs:ro",
        "--build-arg", f"BASE_IMAGE={BASE_TAG}",
        "-t", IMAGE_TAG, str(ROOT),
    )  # fmt: skip
    return time.monotonic() - started


def entrypoint() -> list[str]:
    config = json.loads(sh("buildah", "inspect", "--type", "image", IMAGE_TAG).stdout)["OCIv1"]["config"]
    assert not config.get("WorkingDir"), "GitHub forbids WORKDIR in an action's image"
    assert not config.get("User"), "GitHub forbids USER in an action's image"
    return list(config["Entrypoint"]) + list(config.get("Cmd") or [])


def run_action(host: Path, inputs: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float, dict[str, str]]:
    """Run the image with the runner's mounts; `host` holds workspace/, home/, workflow/, file_commands/."""
    dirs = RunnerDirs.in_container()
    event = json.loads((host / "workflow" / "event.json").read_text())
    env = runner_env(dirs, event, **inputs)
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"):
        (host / "file_commands" / Path(env[name]).name).touch()
    done, seconds = run_image(host, ("workspace", "home", "workflow", "file_commands"), env, [])
    host_env = {
        k: str(host / "file_commands" / Path(v).name) for k, v in env.items() if v.startswith(dirs.file_commands)
    }
    return done, seconds, host_env


def run_image(
    host: Path, mounts: tuple[str, ...], env: dict[str, str], args: list[str]
) -> tuple[subprocess.CompletedProcess[str], float]:
    """The image's entrypoint with `args`, `host/<name>` mounted at `/github/<name>`; returns it and its time."""
    container = sh("buildah", "from", IMAGE_TAG).stdout.strip()
    try:
        command = ["buildah", "run", "--isolation", "chroot", "--workingdir", "/github/workspace"]
        for name in mounts:
            command += ["-v", f"{host / name}:/github/{name}"]
        for key, value in env.items():
            command += ["-e", f"{key}={value}"]
        started = time.monotonic()
        done = subprocess.run([*command, container, "--", *entrypoint(), *args], capture_output=True, text=True)
        return done, time.monotonic() - started
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True)


def check_command_line(host: Path) -> None:
    """The image outside GitHub, as the README shows it: the `provenance` command's arguments."""
    args = ["run", "--report", "report.json", "--ledger", "local/ci_runs.jsonl", "--run-id", "local-1"]
    done, _ = run_image(host, ("workspace",), {"PATH": "/usr/local/bin:/usr/bin:/bin"}, args)
    assert done.returncode == 1, f"expected the gate to fail (exit 1), got {done.returncode}: {done.stderr}"
    outputs = json.loads(done.stdout)  # outside GitHub the outputs are JSON on stdout
    assert outputs["run_id"] == "local-1" and outputs["conclusion"] == "failure"
    assert (host / "workspace" / outputs["provenance_path"]).is_file()
    assert done.stderr.startswith("FAILED"), done.stderr[:200]


def check_run(host: Path) -> float:
    """Steps 3 and 4 on a fresh checkout; returns the container's run time."""
    (host / "project").mkdir()
    checkout = sample_checkout(host / "project")
    workspace = host / "workspace"
    checkout.path.rename(workspace)
    pytest_run = run_pytest(workspace, "--json-report", "--json-report-file=report.json")
    assert pytest_run.exit_status == 1, pytest_run
    for name in ("home", "workflow", "file_commands"):
        (host / name).mkdir()
    write_event(host / "workflow", pull_request_event(checkout))
    sh("chown", "-R", f"{RUNNER_UID}:{RUNNER_UID}", str(workspace))

    done, seconds, files = run_action(host, {"report": "report.json", "fail-on": "test-failures", "export": "true"})
    assert done.returncode == 1, f"expected the gate to fail (exit 1), got {done.returncode}: {done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr, done.stderr

    outputs = parse_output_file(Path(files["GITHUB_OUTPUT"]))
    expected = pytest_run.as_outputs()
    assert {k: int(outputs[k]) for k in expected} == expected, outputs
    assert outputs["conclusion"] == "failure"

    record = json.loads((workspace / outputs["provenance-path"]).read_text())
    assert record["run"]["git"]["status"] == "ok", record["run"]["git"]  # git works on a foreign-owned checkout
    assert record["run"]["git"]["commit"] == checkout.head_sha
    assert [f["path"] for f in record["run"]["git"]["changed_files"]] == ["tests/test_stats.py"]
    provenance_bytes = (workspace / outputs["provenance-path"]).read_bytes()
    assert hashlib.sha256(provenance_bytes).hexdigest() == outputs["provenance-sha256"]

    summary = Path(files["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("## ❌ Tests failed"), summary[:200]

    errors = [c for c in parse_commands(done.stdout) if c.name == "error"]
    assert len(errors) == expected["tests-failed"] + expected["tests-errors"]
    # pytest ran on the host with the checkout at another path: annotations still name repo paths.
    assert {c.properties["file"] for c in errors} <= {
        "tests/test_stats.py",
        "tests/test_records.py",
        "src/sample/__init__.py",
    }

    ledger = workspace / outputs["ledger-path"]
    assert json.loads(ledger.read_text().splitlines()[-1])["entry_hash"] == outputs["ledger-head"]
    # The `export` input: the run's rows as Parquet beside the evidence (DuckDB is in the image).
    results = workspace / outputs["export-path"]
    assert outputs["export-path"] == "evidence/results" and list(results.rglob("*.parquet")), outputs

    # A later step runs as the checkout's owner: it can read the evidence and append to the ledger.
    later = subprocess.run(
        ["setpriv", f"--reuid={RUNNER_UID}", f"--regid={RUNNER_UID}", "--clear-groups", "sh", "-c",
         f'cat "{workspace / outputs["provenance-path"]}" >/dev/null && printf "" >> "{ledger}" '
         f'&& touch "{workspace / "evidence" / "later-step"}" "{results / "later-step"}"'],
        capture_output=True, text=True,
    )  # fmt: skip
    assert later.returncode == 0, f"a later step cannot use the files: {later.stderr}"
    return seconds


def main() -> dict[str, float | int]:
    missing = missing_tools()
    if missing:
        raise SystemExit(f"container check needs {', '.join(missing)} (apt-get install buildah podman debootstrap)")
    base_seconds = ensure_base()
    build_seconds = build()
    with tempfile.TemporaryDirectory() as temp:
        Path(temp).chmod(0o755)  # the runner's user must reach the workspace inside it
        run_seconds = check_run(Path(temp))
        check_command_line(Path(temp))
    base, image = image_size(BASE_TAG), image_size(IMAGE_TAG)
    return {
        "base_image_seconds": round(base_seconds, 1),
        "build_seconds": round(build_seconds, 1),
        "run_seconds": round(run_seconds, 2),
        "base_image_bytes": base,
        "image_bytes": image,
        "added_bytes": image - base,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
