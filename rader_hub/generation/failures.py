"""A failed batch fails the run.

When a non-global step raises (an LLM server's 5xx or timeout, a full disk while checkpointing),
distilabel 1.5.3 calls the step's ``impute_step_outputs`` inside its ``except`` block, fills the
batch's outputs with None and goes on: the dataset silently loses those rows. The steps that do the
work inherit :class:`FailsTheRun`, which records the failure in the run folder instead and passes
one marker row on. The save step writes no dataset when a marker reaches it, and
:func:`rader_hub.generation.run_recipe.run_recipe` raises the recorded failure as one line. What finished before the failure
stays checkpointed, so the re-run after the fault is cleared redoes only the rest.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, PrivateAttr

from rader_hub.errors import RaderError
from rader_hub.files import read_json, write_json_atomic
from rader_hub.schema import RUN

# The column of the one row a failed batch becomes; its value names the step and the cause.
FAILED_BATCH = "rader_failed_batch"


class GenerationFailed(RaderError):
    """A step's batch failed: the run wrote no dataset; the message names the step and the cause."""


class FailedBatches:
    """The failures recorded in one run folder (``run/failed_batches/``), one file per failed batch."""

    def __init__(self, run_folder: str | Path) -> None:
        self.folder = Path(run_folder) / RUN / "failed_batches"

    def clear(self) -> None:
        """Forget the failures of an earlier run (called before a run starts)."""
        for path in self.folder.glob("*.json"):
            path.unlink(missing_ok=True)

    def record(self, step: str, error: BaseException | None) -> None:
        cause = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
        # Named by time, so the first failure sorts first; replicas of a step never share a name.
        name = f"{time.time_ns()}-{os.getpid()}-{step}.json"
        write_json_atomic(self.folder / name, {"step": step, "cause": " ".join(cause.split())})

    def first(self) -> str | None:
        """One line naming the step and the cause of the first recorded failure, or None."""
        paths = sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []
        records = [read_json(path, {}) for path in paths]
        if not records:
            return None
        more = f" (and {len(records) - 1} more failed batch(es))" if len(records) > 1 else ""
        first = records[0]
        return f"step {first.get('step')!r} failed: {first.get('cause')}{more}"

    def raise_if_any(self) -> None:
        failure = self.first()
        if failure is not None:
            raise GenerationFailed(f"{failure}; no dataset was written, finished work is checkpointed: run again once the cause is fixed")


def split_failed(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the rows a step works on, the markers of failed batches it passes on untouched)."""
    failed = [row for row in rows if FAILED_BATCH in row]
    return ([row for row in rows if FAILED_BATCH not in row], failed) if failed else (rows, [])


class FailsTheRun(BaseModel):
    """Mixin for a step whose failed batch must fail the run instead of reaching the dataset as None.

    A failed batch is recorded in the run folder (``run_recipe`` sets it with
    :meth:`record_failures_in` before the step is sent to its process) and becomes one marker row,
    which the steps after it pass on without working on it, up to the save step, which then writes
    no dataset. The pipeline runs to its end as distilabel expects (raising instead, or passing an
    empty batch on, leaves distilabel waiting forever), so the other batches finish and are
    checkpointed."""

    _failed_batches_folder: str | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        # Declared so that pydantic's set-up of the private attribute above chains to the step's own
        # model_post_init (distilabel's: it joins the step to its pipeline) instead of replacing it.
        super().model_post_init(context)

    def record_failures_in(self, run_folder: str | Path) -> None:
        self._failed_batches_folder = str(run_folder)

    def impute_step_outputs(self, step_output: list[dict[str, Any]]) -> list[dict[str, Any]]:
        error = sys.exc_info()[1]  # distilabel calls this inside the `except` around process()
        step = getattr(self, "name", type(self).__name__)
        if self._failed_batches_folder is not None:
            FailedBatches(self._failed_batches_folder).record(step, error)
        return [{FAILED_BATCH: f"step {step!r} failed: {type(error).__name__}: {error}"}]

    def process_applying_mappings(self, *inputs: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        split = [split_failed(rows) for rows in inputs]
        failed = [marker for _, markers in split for marker in markers]
        if failed and not any(rows for rows, _ in split):
            yield failed
            return
        for outputs in super().process_applying_mappings(*(rows for rows, _ in split)):  # type: ignore[misc]
            yield [*outputs, *failed]
