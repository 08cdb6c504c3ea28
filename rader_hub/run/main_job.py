"""`rader run`: from math problems to an evaluated, publishable retriever in one command.

The stages are the commands a user could run one by one (`rader generate`, `rader review`,
`rader train retriever`, `rader eval`, `rader publish`), called through their Python APIs on one
run folder (the recipe's output folder, ``outputs/<recipe>/``):

========== ======================================================================================
generate   the recipe (validated, resumable from its per-problem checkpoints) -> ``data/``, ``summary.json``
review     ``skip``; ``push``: the judged pairs go to Argilla, training goes on; ``wait``: push, wait
           until every pushed record is answered, pull -> ``reviewed/`` (what training then uses)
train      the retriever on the dataset -> ``model/`` (with ``rader_training.json``, ``loss_curve.png``)
evaluate   the model, its base model and BM25 on the dev set (and BRIGHT splits) -> ``eval/*.json``, ``eval/ndcg.png``
publish    the dataset and model folders with their cards -> ``publish/dataset``, ``publish/model``;
           uploaded to the Hub only with ``repo``
========== ======================================================================================

Each finished stage is recorded (:mod:`rader_hub.run.ledger`) with the settings that made it (and
the content of the input files they name) and a fingerprint of what it wrote; a re-run skips it
while both are unchanged (a dataset regenerated or a model replaced since re-runs its stage). A killed stage is
re-run: generation and training resume from their own checkpoints, a publish makes its one
commit again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from rader_hub.assets import EMBEDDED
from rader_hub.errors import ConfigError
from rader_hub.files import check_writable_folder, read_json, remove_leftovers, remove_tree, write_json_atomic, write_text_atomic
from rader_hub.fingerprints import files_fingerprint, settings_hash
from rader_hub.folder_lock import hold_folder
from rader_hub.overrides import validated
from rader_hub.run.ledger import StageLedger, local_inputs, unchanged
from rader_hub.training.config import RetrieverTrainingConfig, retriever_config

SUMMARY_FILE = "run_summary.json"
STAGES = ("generate", "review", "train", "evaluate", "publish")
# Placeholder repo ids for the cards of a dry run (no --repo): replace them when you publish.
DRY_RUN_REPO = "your-org/rader"


class ReviewMode(str, Enum):
    """The review stage: ``skip`` it, ``push`` the pairs and train on, or ``wait`` for every answer and train on the reviewed data."""

    skip = "skip"
    push = "push"
    wait = "wait"


@dataclass(frozen=True)
class MainJobOptions:
    """Everything `rader run` takes; every stage's settings come from here."""

    recipe: Path
    params: tuple[str, ...] = ()
    review: ReviewMode = ReviewMode.skip
    review_sample: int | None = None  # pairs pushed (stratified); None: all
    review_poll_seconds: float = 30.0
    train: dict[str, Any] = field(default_factory=dict)  # RetrieverTrainingConfig fields
    eval_corpus: str = EMBEDDED
    eval_queries: str = EMBEDDED
    bright: tuple[str, ...] = ()
    repo: str | None = None  # publish for real: the model to REPO, the dataset to REPO-<recipe>
    dataset_repo: str | None = None
    private: bool = False
    ray: bool = False


@dataclass
class StageReport:
    """One stage of a run: whether an earlier run's result was kept, how long it took, what it wrote."""

    name: str
    skipped: bool
    seconds: float
    outputs: dict[str, Any]


Say = Callable[[str], None]


class MainJob:
    """One run of the main job over the recipe's run folder (the stages are in this module's docstring)."""

    def __init__(self, options: MainJobOptions, say: Say = lambda message: None) -> None:
        """Check everything the stages will need before any of them runs.

        Args:
            options: The recipe and every stage's settings.
            say: Called with each progress line (stage started, done, skipped). Defaults to saying nothing.

        Raises:
            ConfigError: The recipe or a ``params`` setting is invalid, a training setting is
                unknown or out of bounds, or the recipe has no SaveDataset step.
            OSError: The run folder cannot be written; the message names it.
        """
        from rader_hub.generation.recipe import dataset_path, parse_runtime_parameters, validate_recipe

        self.options = options
        self.say = say
        self.recipe = validate_recipe(options.recipe)  # every check before anything runs
        self.parameters = parse_runtime_parameters(self.recipe, options.params)
        self.training = training_config(options.train)
        data_file = dataset_path(self.recipe)
        if data_file is None:
            raise ConfigError(f"{options.recipe}: the recipe has no SaveDataset step, so there is no dataset to train on")
        self.data_file = data_file
        self.root = data_file.parent.parent
        check_writable_folder(self.root)
        self.recipe_name = self.root.name
        self.ledger = StageLedger(self.root / "run" / "stages.json")
        self.reports: list[StageReport] = []

    # -- orchestration --------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run the stages in order, skipping each one whose settings, inputs and outputs are unchanged.

        Returns:
            `dict`: the run summary (also written to ``run_summary.json``): the stages and their
            times, rows, review, training, evaluation table and chart, and what was published.

        Raises:
            FolderInUse: Another rader process works in the run folder.
            RaderError: A stage failed; each stage raises what the function it calls raises
                (`run_recipe`, `push`/`pull`, `train_retriever`, `evaluate_retrieval`,
                `publish_rendered`), e.g. GenerationFailed, DataError, HubError.
        """
        with hold_folder(self.root):  # a second run on this folder would overwrite the ledger and the model
            remove_leftovers(self.root)  # what a killed run was writing
            return self._run_stages()

    def _run_stages(self) -> dict[str, Any]:
        upstream = ""
        for number, name in enumerate(STAGES, start=1):
            stage = getattr(self, f"_{name}")
            key = settings_hash([name, stage.settings(), upstream])
            record = self.ledger.finished(name, key)
            if record is not None and unchanged(record, stage.produced(record.outputs)):
                self.say(f"[{number}/{len(STAGES)}] {name}: done earlier ({record.finished_at}), skipped")
                self.reports.append(StageReport(name, True, 0.0, record.outputs))
            else:
                self.say(f"[{number}/{len(STAGES)}] {name} ...")
                started = time.perf_counter()
                with contextlib.redirect_stdout(sys.stderr):  # libraries print progress; stdout is for the summary
                    outputs = stage.run(key)
                outputs["fingerprint"] = files_fingerprint(*stage.produced(outputs))
                record = self.ledger.record(name, key, time.perf_counter() - started, outputs)
                self.say(f"[{number}/{len(STAGES)}] {name}: done in {format_duration(record.seconds)}")
                self.reports.append(StageReport(name, False, record.seconds, outputs))
            # Everything a stage reads comes from the stages before it: its key covers all their outputs.
            upstream = settings_hash([upstream, record.outputs.get("fingerprint")])
        summary = self.summary()
        write_json_atomic(self.root / SUMMARY_FILE, summary)
        return summary

    # -- the stages: each has settings() (what its key covers) and run(key) -> outputs ----------
    @property
    def _generate(self) -> _Stage:
        def settings() -> dict[str, Any]:
            return {
                "recipe": self.options.recipe.read_text(encoding="utf-8"),
                "parameters": self.parameters,
                "inputs": local_inputs([self.recipe, self.parameters], outside=self.root),  # the problem source, corpora
            }

        def run(key: str) -> dict[str, Any]:
            from rader_hub.generation.run_recipe import run_recipe

            run_recipe(self.options.recipe, self.parameters, ray=self.options.ray)
            generated = read_json(self.root / "summary.json", {})
            return {
                "dataset": str(self.data_file),
                "rows": generated.get("rows"),
                "rows_per_query_type": generated.get("rows_per_query_type"),
            }

        return _Stage(settings, run, lambda outputs: [self.data_file])

    @property
    def _review(self) -> _Stage:
        mode = self.options.review

        def settings() -> dict[str, Any]:
            return {"mode": mode.value, "sample": self.options.review_sample}

        def run(key: str) -> dict[str, Any]:
            from rader_hub.run.reviewing import pull_when_answered, push_for_review

            if mode is ReviewMode.skip:
                return {"mode": mode.value, "training_data": str(self.root)}
            pushed = push_for_review(self.root, self.options.review_sample, self.say)
            if mode is ReviewMode.push:
                return {"mode": mode.value, **pushed, "training_data": str(self.root)}
            reviewed = self.root / "reviewed"
            review = pull_when_answered(self.root, reviewed, pushed["argilla_dataset"], self.options.review_poll_seconds, self.say)
            return {
                "mode": mode.value,
                **pushed,
                "review": review,
                "training_data": str(reviewed),
            }

        return _Stage(settings, run, lambda outputs: [Path(outputs["training_data"]) / "data"])

    @property
    def _train(self) -> _Stage:
        out_dir = self.root / "model"

        def settings() -> dict[str, Any]:
            return _config_settings(self.training)

        def run(key: str) -> dict[str, Any]:
            from rader_hub.training import train_retriever

            data = Path(self.ledger.records["review"].outputs["training_data"]) / "data"
            config = dataclasses.replace(self.training, out_dir=out_dir, resume=self._resumable(out_dir, key))
            result = train_retriever(config, str(data))
            return {
                "model": str(out_dir),
                "steps": result.steps,
                "train_rows": result.train_rows,
                "final_train_loss": result.train_loss,
                "loss_curve": str(result.loss_curve) if result.loss_curve else None,
            }

        return _Stage(settings, run, lambda outputs: [out_dir])

    @property
    def _evaluate(self) -> _Stage:
        def settings() -> dict[str, Any]:
            return {
                "corpus": self.options.eval_corpus,
                "queries": self.options.eval_queries,
                "inputs": local_inputs([self.options.eval_corpus, self.options.eval_queries], outside=self.root),
                "bright": list(self.options.bright),
                "base": self.training.base,
            }

        def run(key: str) -> dict[str, Any]:
            from rader_hub.run.evaluation import evaluate_beside_baselines

            files, chart = evaluate_beside_baselines(
                self.root / "model",
                self.training.base,
                self.root / "eval",
                self.options.eval_corpus,
                self.options.eval_queries,
                self.options.bright,
                self.say,
            )
            # The per-query scores stay in the files (model cards read them), out of the run summary.
            table = {name: {key: value for key, value in read_json(path).items() if key != "per_query"} for name, path in files.items()}
            return {
                "files": {name: str(path) for name, path in files.items()},
                "chart": str(chart),
                "table": table,
            }

        return _Stage(settings, run, lambda outputs: [Path(path) for path in outputs["files"].values()])

    @property
    def _publish(self) -> _Stage:
        model_repo = self.options.repo or DRY_RUN_REPO
        dataset_repo = self.options.dataset_repo or f"{model_repo}-{self.recipe_name}"

        def settings() -> dict[str, Any]:
            from rader_hub.publish.hub import endpoint

            return {
                "repo": self.options.repo,
                "model_repo": model_repo,
                "dataset_repo": dataset_repo,
                "private": self.options.private,
                "endpoint": endpoint() if self.options.repo else None,  # another Hub has none of it yet
            }

        def run(key: str) -> dict[str, Any]:
            from rader_hub.run.publishing import publish_both

            training_data = Path(self.ledger.records["review"].outputs["training_data"])
            evals = [Path(path) for path in self.ledger.records["evaluate"].outputs["files"].values()]
            published = publish_both(
                training_data,
                self.root / "model",
                evals,
                self.root / "publish",
                dataset_repo,
                model_repo,
                upload=self.options.repo is not None,
                private=self.options.private,
            )
            return published

        return _Stage(settings, run, lambda outputs: [self.root / "publish"])

    # -- helpers --------------------------------------------------------------------------
    def _resumable(self, out_dir: Path, key: str) -> bool:
        """Resume training from its checkpoint when the killed attempt had the same settings."""
        from rader_hub.training.runtime import last_complete_checkpoint

        marker = out_dir / "checkpoints" / ".rader-run-key"
        checkpoint = last_complete_checkpoint(out_dir / "checkpoints")
        if checkpoint is not None and marker.is_file() and marker.read_text() == key:
            self.say(f"train: resuming from {checkpoint.name} of the interrupted run")
            return True
        remove_tree(out_dir)  # another run's model or checkpoints: start clean
        write_text_atomic(marker, key)
        return False

    def summary(self) -> dict[str, Any]:
        """What the run made and where, as JSON (also written to ``run_summary.json``)."""
        outputs = {report.name: report.outputs for report in self.reports}
        return {
            "recipe": str(self.options.recipe),
            "run_folder": str(self.root),
            "stages": [{"name": r.name, "skipped": r.skipped, "seconds": r.seconds} for r in self.reports],
            "rows": outputs["generate"].get("rows"),
            "rows_per_query_type": outputs["generate"].get("rows_per_query_type"),
            "review": {k: v for k, v in outputs["review"].items() if k != "fingerprint"},
            "training": {k: v for k, v in outputs["train"].items() if k != "fingerprint"},
            "evaluation": outputs["evaluate"]["table"],
            "evaluation_chart": outputs["evaluate"]["chart"],
            "publish": {k: v for k, v in outputs["publish"].items() if k != "fingerprint"},
        }


@dataclass(frozen=True)
class _Stage:
    settings: Callable[[], dict[str, Any]]
    run: Callable[[str], dict[str, Any]]
    produced: Callable[[dict[str, Any]], list[Path]]  # from the stage's outputs: what its fingerprint covers


def training_config(overrides: dict[str, Any]) -> RetrieverTrainingConfig:
    """The retriever's training config: the library's defaults, or a preset's (``--train preset=paper``),
    with the user's other ``--train`` values on top."""
    types = typing.get_type_hints(RetrieverTrainingConfig)
    settable = set(types) - {"out_dir", "resume", "show_progress", "keep_checkpoints"}
    overrides = dict(overrides)
    preset = overrides.pop("preset", None)
    values = {}
    for name, value in overrides.items():
        if name not in settable:
            raise ConfigError(f"{name}: not a training setting (settable: {', '.join(sorted(settable))})", field="train")
        values[name] = validated(types[name], value, name, field="train")
    return retriever_config("model", preset, **values)


def _config_settings(config: RetrieverTrainingConfig) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in ("out_dir", "resume", "show_progress")}


def format_duration(seconds: float) -> str:
    """Seconds as ``1m05s`` (or ``42s`` under a minute), as the progress lines show them."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"
