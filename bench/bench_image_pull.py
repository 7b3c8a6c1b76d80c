"""What a released image saves a user's job: building the action's image against pulling it.

    python bench/bench_image_pull.py [--rounds 3]     (as root, with buildah, podman and debootstrap)

A `Dockerfile` action is built in every job that uses it; a release's action.yml names a pushed
image, which the runner pulls instead. Both need the base image (`FROM`, or the image's own first
layers), so the difference is the action's own layers: built (apt-get git, pip install of the pinned
wheels from the package index, compileall), or pulled. No registry is reachable here, so the pull is
the local half of one: the image pushed once to an OCI archive with gzip-compressed layers (as a
registry serves them), removed from the store, then `buildah pull oci-archive:...` (read, decompress,
verify, store); the base's layers stay in the store as they would be after pulling the base. The
download itself is not measured: its size is printed. Each round builds from scratch (no layer cache,
as on a fresh runner) and pulls. Floor: the pull takes at most half the build.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.container import container_check  # noqa: E402

TAG = "localhost/provenance-action:bench-pull"
FLOOR = 0.5  # the pull's time over the build's, at most


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def build() -> float:
    started = time.perf_counter()
    sh("buildah", "bud", "--isolation", "chroot", "--network", "host", "-v", "/etc/ssl/certs:/etc/ssl/certs:ro",
       "--build-arg", f"BASE_IMAGE={container_check.BASE_TAG}", "-t", TAG, str(ROOT))  # fmt: skip
    return time.perf_counter() - started


def layers(archive: Path) -> list[int]:
    """The compressed sizes of the image's layers in an OCI archive, base first."""
    with tempfile.TemporaryDirectory() as temp:
        sh("tar", "-C", temp, "-xf", str(archive))
        index = json.loads((Path(temp) / "index.json").read_text())
        digest = index["manifests"][0]["digest"].split(":")[1]
        manifest = json.loads((Path(temp) / "blobs" / "sha256" / digest).read_text())
        return [layer["size"] for layer in manifest["layers"]]


def pull(archive: Path) -> float:
    sh("buildah", "rmi", "-f", TAG)
    started = time.perf_counter()
    sh("buildah", "pull", "--quiet", f"oci-archive:{archive}:{TAG}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if missing := container_check.missing_tools():
        raise SystemExit(f"needs {', '.join(missing)} (apt-get install buildah podman debootstrap), as root")
    container_check.ensure_base()
    base_layers = len(json.loads(sh("buildah", "inspect", "--type", "image", container_check.BASE_TAG))
                      ["OCIv1"]["rootfs"]["diff_ids"])  # fmt: skip
    builds, pulls = [], []
    with tempfile.TemporaryDirectory() as temp:
        archive = Path(temp) / "image.tar"
        for _ in range(args.rounds):
            builds.append(build())
            archive.unlink(missing_ok=True)
            sh("buildah", "push", "--quiet", TAG, f"oci-archive:{archive}:{TAG}")  # layers gzip-compressed
            pulls.append(pull(archive))
        sizes = layers(archive)
    sh("buildah", "rmi", "-f", TAG)
    own = sum(sizes[base_layers:])
    build_s, pull_s = statistics.median(builds), statistics.median(pulls)
    print(f"build (s): {', '.join(f'{b:.1f}' for b in builds)}; median {build_s:.1f}")
    print(f"pull of the action's layers from a gzip OCI archive (s): {', '.join(f'{p:.2f}' for p in pulls)}; "
          f"median {pull_s:.2f}")  # fmt: skip
    print(f"the action's layers: {len(sizes) - base_layers}, {own:,} bytes compressed (to download); "
          f"base: {base_layers} layer(s), {sum(sizes[:base_layers]):,} bytes")  # fmt: skip
    ratio = pull_s / build_s
    print(f"pull / build: {ratio:.3f} (floor {FLOOR}): {'met' if ratio <= FLOOR else 'NOT met'}; "
          f"saved per job: {build_s - pull_s:.1f} s before the download of {own / 1e6:.1f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
