"""The container's entrypoint: the action's inputs arrive as INPUT_* variables."""

import sys

from provenance.cli import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["action"]))
