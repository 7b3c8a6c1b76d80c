"""What the model adds to the reference predictor, on every history we have.

    python bench/bench_selection.py [HISTORY ...]

Each history is replayed by `provenance backtest`'s own code three times: with the reference
predictor of the selection issue (each test's failure rate shrunk toward the running global rate by
a Beta prior of weight 2, ranked by probability per second), with the model given the history only
(changed files withheld), and with the model as it is. The histories by default
(`bench/data/README.md`): dune-common's real CI, which has no changed files (the last two columns
must agree), and the suites of marshmallow, click, structlog, cachetools and platformdirs replayed
over their releases with seeded faults (the last two held out: made after the model's settings
were fixed).
"""

from __future__ import annotations

import argparse
import lzma
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from provenance.backtest import Predictor, ReferencePredictor, run_backtest  # noqa: E402
from provenance.history import Cycle, read_atcs  # noqa: E402
from provenance.model import Model  # noqa: E402

HISTORIES = (
    "dune-debian11",
    "marshmallow-seeded",
    "click-seeded",
    "structlog-seeded",
    "cachetools-seeded",
    "platformdirs-seeded",
)
DEFAULT = [HERE / "data" / f"{name}.csv.xz" for name in HISTORIES]


def read(path: Path) -> list[Cycle]:
    """An ATCS history, from an .xz archive too."""
    if path.suffix != ".xz":
        return read_atcs(path)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / path.stem
        plain.write_bytes(lzma.decompress(path.read_bytes()))
        return read_atcs(plain)


def figures(cycles: list[Cycle], model: Callable[[], Predictor] = Model) -> dict[str, float]:
    result, _ = run_backtest(cycles, model)
    saved = result["time_saved_at_detection"]
    return {
        "Brier": result["brier_score"],
        "log loss": result["log_loss"],
        "APFDc": result["apfdc"],
        "saved at 95%": saved["0.95"],
        "saved at 99%": saved["0.99"],
        "recall at 20%": next(b["failure_recall"] for b in result["budgets"] if b["budget"] == 0.2),
        "failing cycles": result["failing_cycles"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("histories", nargs="*", type=Path)
    args = parser.parse_args()
    for path in args.histories or DEFAULT:
        cycles = read(path)
        reference = figures(cycles, ReferencePredictor)
        history = figures([replace(c, changed_files=None) for c in cycles])
        model = figures(cycles)
        print(f"\n{path.name}: {len(cycles)} cycles, {model['failing cycles']:g} failing (scored)")
        print(f"{'':16}{'reference':>12}{'history':>12}{'model':>12}{'model / reference':>20}")
        for name in ("Brier", "log loss", "APFDc", "saved at 95%", "saved at 99%", "recall at 20%"):
            ratio = model[name] / reference[name] if reference[name] else float("nan")
            print(f"{name:16}{reference[name]:12.5f}{history[name]:12.5f}{model[name]:12.5f}{ratio:20.3f}")


if __name__ == "__main__":
    main()
