"""How sure a backtest's difference between two predictors is: a paired bootstrap over the cycles.

A history of a few dozen failing cycles leaves room for chance: the model may score better than
the reference on it by luck. Both predictors were replayed on the same cycles, so the cycles are
resampled together (2,000 times, from a seeded generator, so a rerun prints the same intervals),
each figure is recomputed for both on every resample from what each cycle contributes to it, and
the 2.5th and 97.5th percentiles of the difference make its 95% interval. An interval that
excludes zero is a difference the history shows beyond chance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from provenance.selection.backtest import DETECTION_TARGETS, Scored, apfdc, select_within, time_saved

FloatArray = npt.NDArray[np.float64]
RESAMPLES = 2000
SEED = 2024
_CHUNK = 250  # resamples weighed at once: bounds the memory a history of many cycles takes


def compare(reference: list[Scored], model: list[Scored], budgets: tuple[float, ...]) -> dict[str, Any]:
    """The model's figures minus the reference's, each with its 95% interval (None where undefined).

    Lower is better for Brier and log loss, higher for the rest. Both replays score the same cycles.
    """
    if [s.cycle.cycle for s in reference] != [s.cycle.cycle for s in model]:
        raise ValueError("the two replays must score the same cycles")
    k = len(model)
    if not k:
        return {"resamples": 0, "confidence": 0.95}
    ours, theirs = _contributions(model, budgets), _contributions(reference, budgets)
    point = {name: float(value[0]) for name, value in _difference(ours, theirs, np.ones((1, k))).items()}
    drawn: dict[str, list[FloatArray]] = {name: [] for name in point}
    rng = np.random.default_rng(SEED)
    for start in range(0, RESAMPLES, _CHUNK):
        rows = min(_CHUNK, RESAMPLES - start)
        weights = np.zeros((rows, k))
        np.add.at(weights, (np.arange(rows)[:, None], rng.integers(0, k, size=(rows, k))), 1.0)
        for name, values in _difference(ours, theirs, weights).items():
            drawn[name].append(values)

    def entry(name: str) -> dict[str, Any]:
        values = np.concatenate(drawn[name]) if drawn[name] else np.zeros(0)
        values = values[np.isfinite(values)]  # a resample without a failing cycle has no APFDc
        return {
            "difference": point[name] if np.isfinite(point[name]) else None,
            "interval": [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]
            if values.size
            else None,
        }

    spread = {
        "resamples": RESAMPLES,
        "confidence": 0.95,
        "brier_score": entry("brier_score"),
        "log_loss": entry("log_loss"),
        "apfdc": entry("apfdc"),
        "failure_recall": [{"budget": b, **entry(f"failure_recall@{b}")} for b in budgets],
        "time_saved_at_detection": {f"{t:g}": entry(f"time_saved@{t}") for t in DETECTION_TARGETS},
    }
    return {**spread, "shortfalls": shortfalls(spread)}


def shortfalls(spread: dict[str, Any]) -> list[str]:
    """Where the model does worse than the reference by the selection issue's bar (none: it meets it).

    Brier score and log loss count only when their whole interval is above zero, however little
    (worse beyond chance); APFDc and time saved at 95% detection when worse by point estimate, by
    more than floating-point rounding.
    """
    missed = [f"{name}: worse beyond its interval" for name in ("brier_score", "log_loss")
              if spread[name]["interval"] is not None and spread[name]["interval"][0] > 0]  # fmt: skip
    by_point = {"apfdc": spread["apfdc"], "time_saved_at_detection 0.95": spread["time_saved_at_detection"]["0.95"]}
    missed += [f"{name}: worse" for name, entry in by_point.items()
               if entry["difference"] is not None and entry["difference"] < -1e-12]  # fmt: skip
    return missed


def _contributions(scored: list[Scored], budgets: tuple[float, ...]) -> dict[str, FloatArray]:
    """What each cycle adds to the sums that make each figure (a row per cycle)."""
    p = [s.p_fail for s in scored]
    clipped = [np.clip(v, 1e-15, 1 - 1e-15) for v in p]  # as the log loss of `backtest.evaluate`
    y = [s.cycle.failed.astype(np.float64) for s in scored]
    apfdcs = [apfdc(s.order, s.cycle.failed, s.cycle.durations) for s in scored]
    parts = {
        "predictions": np.array([len(v) for v in y], dtype=np.float64),
        "squared_error": np.array([((a - b) ** 2).sum() for a, b in zip(p, y, strict=True)], dtype=np.float64),
        "log_loss": np.array([-(b * np.log(a) + (1 - b) * np.log(1 - a)).sum()
                              for a, b in zip(clipped, y, strict=True)], dtype=np.float64),
        "failing": np.array([s.cycle.failed.any() for s in scored], dtype=np.float64),
        "failures": np.array([v.sum() for v in y], dtype=np.float64),
        "apfdc": np.array([v or 0.0 for v in apfdcs], dtype=np.float64),
        "with_apfdc": np.array([v is not None for v in apfdcs], dtype=np.float64),
        "detected": np.array([s.detected for s in scored], dtype=np.float64),
    }  # fmt: skip
    for b in budgets:
        parts[f"caught@{b}"] = np.array(
            [(select_within(s.order, s.cycle.durations, b * float(s.cycle.durations.sum())) & s.cycle.failed).sum()
             for s in scored], dtype=np.float64)  # fmt: skip
    return parts


def _difference(
    ours: dict[str, FloatArray], theirs: dict[str, FloatArray], weights: FloatArray
) -> dict[str, FloatArray]:
    mine, yours = _figures(ours, weights), _figures(theirs, weights)
    return {name: mine[name] - yours[name] for name in mine}


def _figures(parts: dict[str, FloatArray], weights: FloatArray) -> dict[str, FloatArray]:
    """Each figure as `backtest.evaluate` computes it, for each resample.

    A resample is a row of `weights`: how often it draws each cycle.
    """

    def total(name: str) -> FloatArray:
        return np.asarray(weights @ parts[name], dtype=np.float64)

    with np.errstate(invalid="ignore", divide="ignore"):
        figures = {
            "brier_score": total("squared_error") / total("predictions"),
            "log_loss": total("log_loss") / total("predictions"),
            "apfdc": total("apfdc") / total("with_apfdc"),
        }
        failures, failing = total("failures"), total("failing")
        for name in parts:
            if name.startswith("caught@"):
                recall = np.where(failures > 0, total(name) / failures, 1.0)  # nothing to catch: all caught
                figures[f"failure_recall@{name.removeprefix('caught@')}"] = recall
        detection = np.where(failing[:, None] > 0, total("detected") / failing[:, None], 1.0)
    for target in DETECTION_TARGETS:
        saved = [time_saved(row, target) for row in detection]
        figures[f"time_saved@{target}"] = np.array([np.nan if v is None else v for v in saved], dtype=np.float64)
    return figures
