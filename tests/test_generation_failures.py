"""A failed batch fails the run: distilabel would fill it with None and save a dataset short of its
rows; rader names the step and the cause, writes no dataset, and a re-run once the fault is gone
makes the full dataset."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from distilabel.steps import Step, StepInput
from helpers import run_rader

from rader_hub.generation.failures import FAILED_BATCH, FailedBatches, FailsTheRun, GenerationFailed

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "math.yaml"
SMALL = ["--param", "load_problems.num_problems=1", "--param", "mcts_search.rollouts=1"]


def test_the_first_recorded_failure_is_one_line_naming_the_step_and_cause(tmp_path):
    failures = FailedBatches(tmp_path)
    assert failures.first() is None
    failures.raise_if_any()  # nothing recorded: nothing raised
    failures.record("mcts_search", OSError(28, "No space left on device"))
    failures.record("synthesize_queries", TimeoutError("read timed out\nafter 30 s"))
    with pytest.raises(GenerationFailed) as raised:
        failures.raise_if_any()
    message = str(raised.value)
    assert message.startswith("step 'mcts_search' failed: OSError: [Errno 28] No space left on device (and 1 more failed batch(es))")
    assert "\n" not in message
    failures.clear()
    assert failures.first() is None


class Doubling(FailsTheRun, Step):
    """A step that fails on a row with x == 0, as a step whose LLM server answers 500."""

    @property
    def inputs(self) -> list[str]:
        return ["x"]

    @property
    def outputs(self) -> list[str]:
        return ["y"]

    def process(self, inputs: StepInput):  # type: ignore[override]
        if any(row["x"] == 0 for row in inputs):
            raise ConnectionError("server answered 500")
        yield [{**row, "y": 2 * row["x"]} for row in inputs]


def test_a_failed_batch_becomes_a_recorded_marker_the_next_steps_pass_on(tmp_path):
    first, second = Doubling(name="first"), Doubling(name="second")
    first.record_failures_in(tmp_path)
    try:  # as distilabel's step process does: impute_step_outputs inside the `except`
        next(first.process_applying_mappings([{"x": 0}, {"x": 1}]))
    except ConnectionError:
        marker = first.impute_step_outputs([{"x": 0}, {"x": 1}])
    assert marker == [{FAILED_BATCH: "step 'first' failed: ConnectionError: server answered 500"}]
    assert FailedBatches(tmp_path).first() == "step 'first' failed: ConnectionError: server answered 500"
    # The next step works on the other rows and passes the marker on; alone, the marker goes through.
    assert next(second.process_applying_mappings([{"x": 3}, *marker])) == [{"x": 3, "y": 6}, *marker]
    assert next(second.process_applying_mappings(marker)) == marker


@pytest.mark.slow
def test_a_failed_batch_fails_generation_and_the_rerun_makes_the_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("DISTILABEL_CACHE_DIR", str(tmp_path / "distilabel"))
    run_dir = tmp_path / "outputs" / "math"
    data_file = run_dir / "data" / "train-00000-of-00001.parquet"
    checkpoints = run_dir / "checkpoints" / "search"
    checkpoints.parent.mkdir(parents=True)
    checkpoints.write_text("")  # a file where the search's checkpoint folder goes: its batch fails
    failed = run_rader("generate", str(RECIPE), *SMALL, cwd=str(tmp_path), timeout=900)
    assert failed.returncode == 2, failed.stderr[-3000:]
    last = failed.stderr.strip().splitlines()[-1]
    cause = "FileExistsError: [Errno 17] File exists: 'outputs/math/checkpoints/search'"  # the recipe's relative output_dir
    advice = "no dataset was written, finished work is checkpointed: run again once the cause is fixed"
    assert last == f"error: step 'mcts_search' failed: {cause}; {advice}"
    assert not data_file.exists()  # distilabel alone saved a dataset without the batch's rows

    checkpoints.unlink()  # the fault is cleared
    again = run_rader("generate", str(RECIPE), *SMALL, cwd=str(tmp_path), timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    rows = pq.read_table(data_file).to_pylist()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert rows and summary["rows"] == len(rows) and summary["problems"] == 1
    assert summary["provenance"]["wall_seconds"] > 0 and summary["provenance"]["hardware"]["cpu_count"] == os.cpu_count()
    assert FailedBatches(run_dir).first() is None
