"""Point a release's action.yml at the image the release pushed, after checking that every version agrees.

`main` keeps `image: "Dockerfile"` (GitHub builds it in each job); a release commit names the pre-built
image instead, `image: "docker://ghcr.io/<owner>/<name>:v<version>"`, so users of the release pull it.
Run from the repository's root by the release workflow, with nothing but Python's standard library:

    python3 .github/release/pin_image.py --image ghcr.io/OWNER/NAME --tag vX.Y.Z

It checks that the tag is `v` + the package's version (provenance/__init__.py) and the Dockerfile's
version label, then rewrites the one `image:` line of action.yml in place. Exit 2 on any disagreement,
with one line naming the file; nothing is written then.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DOCKERFILE_IMAGE = '  image: "Dockerfile"\n'
IMAGE_NAME = re.compile(r"ghcr\.io/[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*")


class Disagreement(Exception):
    """A version, a name or a file is not what a release needs."""


def read_version(root: Path) -> str:
    """The package's version, as `provenance/__init__.py` declares it."""
    found = re.search(r'^__version__ = "([^"]+)"$', (root / "provenance" / "__init__.py").read_text(), re.M)
    if not found:
        raise Disagreement("provenance/__init__.py: no __version__ line")
    return found.group(1)


def check_versions(root: Path, tag: str) -> str:
    """The tag, the package and the Dockerfile's label name one version; returns it."""
    version = read_version(root)
    if tag != f"v{version}":
        raise Disagreement(
            f"provenance/__init__.py: __version__ is {version}, so the tag must be v{version}, not {tag}"
        )
    label = re.search(r'org\.opencontainers\.image\.version="([^"]+)"', (root / "Dockerfile").read_text())
    if not label or label.group(1) != version:
        got = label.group(1) if label else "missing"
        raise Disagreement(f"Dockerfile: org.opencontainers.image.version is {got}, expected {version}")
    return version


def pinned(action: str, image: str, tag: str) -> str:
    """action.yml's text with its `image:` naming `docker://<image>:<tag>`; nothing else changes."""
    if action.count(DOCKERFILE_IMAGE) != 1:
        raise Disagreement(f"action.yml: expected one line {DOCKERFILE_IMAGE.strip()!r} to replace (pinned already?)")
    return action.replace(DOCKERFILE_IMAGE, f'  image: "docker://{image}:{tag}"\n')


def pin(root: Path, image: str, tag: str) -> str:
    """Check, then rewrite `root/action.yml`; returns the image reference now named."""
    image = image.lower()  # ghcr.io refuses upper case; GitHub's owner and repository names may have it
    if not IMAGE_NAME.fullmatch(image):
        raise Disagreement(f"--image: expected ghcr.io/OWNER/NAME, got {image!r}")
    check_versions(root, tag)
    action = root / "action.yml"
    text = pinned(action.read_text(), image, tag)
    temp = action.with_name(".action.yml.tmp")
    temp.write_text(text)
    temp.replace(action)
    return f"docker://{image}:{tag}"


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, pin, and say what action.yml now names."""
    parser = argparse.ArgumentParser(description="Name the released image in action.yml.")
    parser.add_argument("--image", required=True, help="ghcr.io/OWNER/NAME, without a tag")
    parser.add_argument("--tag", required=True, help="the release's tag, v<version>")
    parser.add_argument("--root", type=Path, default=Path(), help="the repository's root (default .)")
    args = parser.parse_args(argv)
    try:
        reference = pin(args.root, args.image, args.tag)
    except (Disagreement, OSError) as exc:
        print(f"pin_image: error: {exc}", file=sys.stderr)
        return 2
    print(f"action.yml: image: {reference}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
