"""The model's state on disk: an npz archive beside the ledger, the same state always the same bytes.

The state is trusted only when it was saved at the ledger's head, by this model version; otherwise
it is rebuilt from the ledger (a state of an earlier version included), so it can never drift from
the record.
"""

from __future__ import annotations

import contextlib
import io
import math
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from provenance.errors import InputError
from provenance.learning.changes import Changes
from provenance.learning.experts import CONTEXTS, EXPERTS
from provenance.learning.history import read_ledger
from provenance.learning.model import DECAYED, MODEL_VERSION, PER_TEST, Model


def encode(model: Model) -> bytes:
    """The state as an npz archive (names as JSON); the same state gives the same bytes."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        version=np.frombuffer(MODEL_VERSION.encode(), dtype=np.uint8),
        names=np.frombuffer(orjson.dumps(model.names), dtype=np.uint8),
        stats=np.vstack([*(getattr(model, name) for name in PER_TEST), model.decayed]),
        totals=np.array(
            [
                model.total_runs,
                model.total_fails,
                float(model.cycles),
                model.total_runs_after_failure,
                model.total_fails_after_failure,
                model.total_runs_after_any_failure,
                model.total_fails_after_any_failure,
                model.recent_runs,
                model.recent_fails,
                *model.cost_error,
                *model.ranking_lead,
            ]
        ),
        expert_loss=model.expert_loss,
        ledger_head=np.frombuffer(model.ledger_head.encode(), dtype=np.uint8),
        scored_runs=model.scored_runs,
        files=np.frombuffer(orjson.dumps(model.changes.files), dtype=np.uint8),
        file_changes=model.changes.file_changes,
        co_failures=np.array(
            [(f, t, n) for f, tests in sorted(model.changes.co_failures.items()) for t, n in sorted(tests.items())],
            dtype=np.float64,
        ).reshape(-1, 3),
        mentioned=np.array([model.changes.mentioned_runs, model.changes.mentioned_fails]),
    )
    return buffer.getvalue()


def _declared_sizes_fit(data: bytes) -> None:
    """Refuse an archive whose arrays declare more bytes than their members hold (a bomb), before loading.

    `np.load` allocates what an array's header declares before reading it: a small member could
    otherwise claim gigabytes.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            with archive.open(member) as handle:
                version = np.lib.format.read_magic(handle)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else (
                    np.lib.format.read_array_header_2_0)  # fmt: skip
                shape, _, dtype = read_header(handle)
            if dtype.hasobject or math.prod(shape) * dtype.itemsize > member.file_size:
                raise ValueError(f"{member.filename} declares more than it holds")


def _check(model: Model) -> Model:
    """A state whose arrays do not fit its names, or hold a number that is not finite, is no state."""
    n = len(model.names)
    if not all(isinstance(name, str) for name in model.names) or len(set(model.names)) != n:
        raise ValueError("its tests are not distinct names")
    if any(getattr(model, name).shape != (n,) for name in PER_TEST) or model.decayed.shape != (DECAYED, n):
        raise ValueError("its per-test arrays do not match its tests")
    if any((getattr(model, name) < 0).any() for name in PER_TEST) or (model.fails > model.runs).any():
        raise ValueError("a test's counts are negative, or it failed more often than it ran")
    if model.ranking_lead[1] < 0 or model.ranking_lead[2] not in (0.0, 1.0):  # shape: that of `totals`, checked
        raise ValueError("its ranking record holds a negative sum of squares, or a leader that is not 0 or 1")
    if len(model.changes.file_changes) != len(model.changes.files):
        raise ValueError("its file counts do not match its files")
    if any(not (0 <= f < len(model.changes.files) and all(0 <= t < n for t in tests))
           for f, tests in model.changes.co_failures.items()):  # fmt: skip
        raise ValueError("a co-failure names a test or file it does not have")
    numbers = [*(getattr(model, name) for name in PER_TEST), model.decayed, model.expert_loss, model.cost_error,
               model.ranking_lead, model.scored_runs, model.changes.file_changes]  # fmt: skip
    totals = [model.total_runs, model.total_fails, model.total_runs_after_failure, model.total_fails_after_failure,
              model.total_runs_after_any_failure, model.total_fails_after_any_failure, model.recent_runs,
              model.recent_fails, model.changes.mentioned_runs, model.changes.mentioned_fails,
              *(n for tests in model.changes.co_failures.values() for n in tests.values())]  # fmt: skip
    if not all(np.isfinite(a).all() for a in numbers) or not all(math.isfinite(t) and t >= 0 for t in totals):
        raise ValueError("it holds a number that is not finite, or a negative count")
    return model


def decode(data: bytes, source: str = "model state") -> Model:
    """Load a state written by `encode`; anything else is bad input naming `source`."""
    try:
        _declared_sizes_fit(data)
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            version = bytes(archive["version"]).decode()
            if version != MODEL_VERSION:
                raise ValueError(f"written by {version}, expected {MODEL_VERSION}")
            stats, totals = archive["stats"], archive["totals"]
            if totals.shape != (14,):
                raise ValueError(f"its totals are {totals.shape}, not 14 numbers")
            co_failures: dict[int, dict[int, float]] = {}
            for f, t, n in archive["co_failures"].tolist():
                co_failures.setdefault(int(f), {})[int(t)] = n
            model = Model(
                names=list(orjson.loads(bytes(archive["names"]))),
                **{name: stats[row].copy() for row, name in enumerate(PER_TEST)},
                total_runs=float(totals[0]),
                total_fails=float(totals[1]),
                cycles=int(totals[2]),
                total_runs_after_failure=float(totals[3]),
                total_fails_after_failure=float(totals[4]),
                total_runs_after_any_failure=float(totals[5]),
                total_fails_after_any_failure=float(totals[6]),
                recent_runs=float(totals[7]),
                recent_fails=float(totals[8]),
                cost_error=totals[9:11].copy(),
                ranking_lead=totals[11:14].copy(),
                decayed=stats[len(PER_TEST) : len(PER_TEST) + DECAYED].copy(),
                expert_loss=archive["expert_loss"].reshape(len(CONTEXTS), EXPERTS).copy(),
                ledger_head=bytes(archive["ledger_head"]).decode(),
                scored_runs=archive["scored_runs"],
                changes=Changes(
                    files=list(orjson.loads(bytes(archive["files"]))),
                    file_changes=archive["file_changes"].copy(),
                    co_failures=co_failures,
                    mentioned_runs=float(archive["mentioned"][0]),
                    mentioned_fails=float(archive["mentioned"][1]),
                ),
            )
        return _check(model)
    # What zipfile and numpy raise for what this version never writes: an encrypted member
    # (RuntimeError), a compression zipfile cannot read (NotImplementedError), an allocation refused.
    except (OSError, ValueError, KeyError, IndexError, OverflowError, TypeError, EOFError, MemoryError, RuntimeError,
            NotImplementedError, zipfile.BadZipFile, zlib.error) as exc:  # fmt: skip
        raise InputError(f"not a model state ({exc})", source=source) from None


def rebuild(cycles: list[Any]) -> Model:
    """The state after learning from every cycle of a history, in order."""
    model = Model()
    for cycle in cycles:
        model.update(cycle.tests, cycle.failed, cycle.durations, cycle.changed_files)
    return model


def load_model(ledger_path: Path, head: str) -> Model:
    """The model state beside the ledger when it was saved at the ledger's head, else rebuilt from it."""
    path = model_path(ledger_path)
    if path.is_file():
        with contextlib.suppress(InputError):
            model = Model.load(path)
            if model.ledger_head == head:
                return model
    model = rebuild(read_ledger(ledger_path)) if ledger_path.is_file() and ledger_path.stat().st_size else Model()
    model.ledger_head = head
    return model


def model_path(ledger_path: Path) -> Path:
    """Where the model state lives: beside the ledger (and on the ledger branch with it)."""
    return ledger_path.with_name(ledger_path.name + ".model.npz")
