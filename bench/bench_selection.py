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

Beside each figure, the model's difference from the reference with a 95% interval (a paired
bootstrap over the scored cycles, `provenance.selection.comparison`, as `backtest --reference` prints it), so
that "better" can be told from what a history this short gives by chance.
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

from provenance.learning.history import Cycle, read_atcs  # noqa: E402
from provenance.learning.model import Model  # noqa: E402
from provenance.selection.backtest import DEFAULT_BUDGETS, Predictor, ReferencePredictor, Scored, run_backtest  # noqa: E402
from provenance.selection.comparison import compare  # noqa: E402

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


def figures(cycles: list[Cycle], model: Callable[[], Predictor] = Model) -> tuple[dict[str, float], list[Scored]]:
    result, scored = run_backtest(cycles, model)
    saved = result["time_saved_at_detection"]
    return {
        "Brier": result["brier_score"],
        "log loss": result["log_loss"],
        "APFDc": result["apfdc"],
        "saved at 95%": saved["0.95"],
        "saved at 99%": saved["0.99"],
        "recall at 20%": next(b["failure_recall"] for b in result["budgets"] if b["budget"] == 0.2),
        "failing cycles": result["failing_cycles"],
    }, scored


def intervals(reference: list[Scored], model: list[Scored]) -> dict[str, list[float]]:
    """The 95% interval of (model − reference) of each figure above, from `provenance.selection.comparison`."""
    spread = compare(reference, model, DEFAULT_BUDGETS)
    return {
        "Brier": spread["brier_score"]["interval"],
        "log loss": spread["log_loss"]["interval"],
        "APFDc": spread["apfdc"]["interval"],
        "saved at 95%": spread["time_saved_at_detection"]["0.95"]["interval"],
        "saved at 99%": spread["time_saved_at_detection"]["0.99"]["interval"],
        "recall at 20%": next(r["interval"] for r in spread["failure_recall"] if r["budget"] == 0.2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("histories", nargs="*", type=Path)
    args = parser.parse_args()
    for path in args.histories or DEFAULT:
        cycles = read(path)
        reference, reference_scored = figures(cycles, ReferencePredictor)
        history, _ = figures([replace(c, changed_files=None) for c in cycles])
        model, model_scored = figures(cycles)
        spread = intervals(reference_scored, model_scored)
        print(f"\n{path.name}: {len(cycles)} cycles, {model['failing cycles']:g} failing (scored)")
        print(f"{'':16}{'reference':>12}{'history':>12}{'model':>12}{'model / reference':>20}"
              f"{'model − reference, 95% interval':>36}")  # fmt: skip
        for name in ("Brier", "log loss", "APFDc", "saved at 95%", "saved at 99%", "recall at 20%"):
            ratio = model[name] / reference[name] if reference[name] else float("nan")
            low, high = spread[name]
            print(f"{name:16}{reference[name]:12.5f}{history[name]:12.5f}{model[name]:12.5f}{ratio:20.3f}"
                  f"{model[name] - reference[name]:+14.5f}  [{low:+.5f}, {high:+.5f}]")  # fmt: skip


if __name__ == "__main__":
    main()
