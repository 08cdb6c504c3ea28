"""Run a generation recipe: the one path `rader generate` and `rader run` take.

The recipe and its runtime parameters are checked before anything starts
(:mod:`rader_hub.generation.recipe`), the servers its LLMs need are asked whether they answer, and
distilabel runs the pipeline. A killed run resumes when run again: finished problems and samples
are read back from the run folder's checkpoints (distilabel's own cache is not used: its resume
hangs).

A failed batch of any step fails the run (:mod:`rader_hub.generation.failures`): no dataset is
written and :class:`~rader_hub.generation.failures.GenerationFailed` names the step and the cause.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from rader_hub.errors import ConfigError
from rader_hub.files import check_writable_folder, remove_leftovers
from rader_hub.folder_lock import hold_folder
from rader_hub.generation.failures import FailedBatches, FailsTheRun, GenerationFailed
from rader_hub.generation.hardware import record_run
from rader_hub.generation.steps.save import SaveDataset
from rader_hub.schema import CHECKPOINTS, DATA_FILE, RunFolder


def run_recipe(recipe: Path, parameters: dict[str, dict[str, Any]], ray: bool = False, ray_address: str | None = None) -> None:
    """Run ``recipe`` with distilabel; the dataset lands where its SaveDataset step says.

    Before anything starts, the output folders are checked writable and every OpenAI-compatible
    LLM server is asked whether it answers. A killed run resumes when run again from the run
    folder's per-problem checkpoints. See `rader_hub.generation.recipe.dataset_path` for where
    the dataset is written.

    Args:
        recipe: The recipe file, already checked with `rader_hub.generation.recipe.validate_recipe`.
        parameters: Runtime parameters per step, checked with
            `rader_hub.generation.recipe.parse_runtime_parameters` (``{}`` for none).
        ray: Run the pipeline on Ray (a local instance unless ``ray_address``). Defaults to ``False``.
        ray_address: The head node of a running Ray cluster; implies ``ray``. Defaults to ``None``.

    Raises:
        GenerationFailed: A step's batch failed, or the dataset was not written; no dataset is left.
        FolderInUse: Another rader process works in the run folder.
        ServerError: An LLM server of the recipe does not answer or does not serve its model.
        ConfigError: ``ray`` is asked for and Ray is not installed.
        OSError: An output folder cannot be written (read-only, no permission, full disk); the
            message names the folder.
    """
    from distilabel.pipeline import Pipeline

    from rader_hub.generation.llm import check_llm_servers

    pipeline = Pipeline.from_yaml(recipe)
    for folder in sorted({step.output_dir for step in _steps(pipeline) if isinstance(getattr(step, "output_dir", None), str)}):
        check_writable_folder(folder)  # one clear line now, not steps that fail to load minutes later
    check_llm_servers(pipeline, parameters)  # one clear line now, not a failed step process later
    if ray or ray_address:
        _require_ray()
        pipeline = pipeline.ray(ray_head_node_url=ray_address)
    save = _save_step(pipeline)
    if save is None:  # a recipe that writes no dataset (distilabel's own steps only)
        _run(pipeline, parameters)
        return
    run = RunFolder(save.output_dir)
    with hold_folder(run.root):
        remove_leftovers(run.root)  # what a killed run was writing
        failures = FailedBatches(run.root)
        failures.clear()
        for step in _steps(pipeline):
            if isinstance(step, FailsTheRun):
                step.record_failures_in(run.root)
        earlier_checkpoints = any(path.is_file() for path in (run.root / CHECKPOINTS).rglob("*"))  # work that may be read back
        started = time.time()
        _run(pipeline, parameters)
        failures.raise_if_any()
        data_file = run.data_dir / DATA_FILE
        if not data_file.is_file() or data_file.stat().st_mtime < started:
            # distilabel logs a failed save step (or a stopped pipeline) and returns as if all went well.
            raise GenerationFailed(f"the dataset was not written to {data_file}: the pipeline stopped early (see the log above)")
        record_run(run.summary_file, started, earlier_checkpoints)


def _run(pipeline: Any, parameters: dict[str, dict[str, Any]]) -> None:
    from distilabel.utils.logging import stop_logging

    handlers, level = logging.root.handlers[:], logging.root.level
    try:
        pipeline.run(parameters=parameters, use_cache=False)
    finally:
        # A failed run (steps that do not load) leaves distilabel's log listener thread running: it
        # would print a traceback of its own after rader's one error line, when the process exits.
        stop_logging()
        # distilabel routes the root logger into a queue it closes at the end of the run: without
        # this, every later log line of the process (training, evaluation) fails to be written.
        logging.root.handlers[:] = handlers
        logging.root.setLevel(level)


def _steps(pipeline: Any) -> list[Any]:
    from distilabel.constants import STEP_ATTR_NAME

    return [pipeline.dag.get_step(name)[STEP_ATTR_NAME] for name in pipeline.dag]


def _save_step(pipeline: Any) -> SaveDataset | None:
    return next((step for step in _steps(pipeline) if isinstance(step, SaveDataset)), None)


def _require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise ConfigError('ray=True needs Ray: pip install "rader-hub[ray]"', field="ray") from exc
