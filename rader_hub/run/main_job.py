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

Each finished stage is recorded (:mod:`rader_hub.run.ledger`) with the settings that made it and a
fingerprint of what it wrote; a re-run skips it while both are unchanged. A killed stage is
re-run: generation and training resume from their own checkpoints, a publish makes its one
commit again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
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
from rader_hub.files import check_writable_folder, read_json, write_json_atomic
from rader_hub.run.ledger import StageLedger, StageRecord, fingerprint, settings_key
from rader_hub.training.config import RetrieverTrainingConfig

SUMMARY_FILE = "run_summary.json"
STAGES = ("generate", "review", "train", "evaluate", "publish")
# Placeholder repo ids for the cards of a dry run (no --repo): replace them when you publish.
DRY_RUN_REPO = "your-org/rader"


class ReviewMode(str, Enum):
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
    name: str
    skipped: bool
    seconds: float
    outputs: dict[str, Any]


Say = Callable[[str], None]


class MainJob:
    """One run of the main job over the recipe's run folder."""

    def __init__(self, options: MainJobOptions, say: Say = lambda message: None) -> None:
        from rader_hub.generation.recipe import dataset_path, parse_runtime_parameters, validate_recipe

        self.options = options
        self.say = say
        recipe = validate_recipe(options.recipe)  # every check before anything runs
        self.parameters = parse_runtime_parameters(recipe, options.params)
        self.training = training_config(options.train)
        data_file = dataset_path(recipe)
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
        upstream = ""
        for number, name in enumerate(STAGES, start=1):
            stage = getattr(self, f"_{name}")
            key = settings_key(name, stage.settings(), upstream)
            record = self.ledger.finished(name, key)
            if record is not None and _outputs_exist(record):
                self.say(f"[{number}/{len(STAGES)}] {name}: done earlier ({record.finished_at}), skipped")
                self.reports.append(StageReport(name, True, 0.0, record.outputs))
            else:
                self.say(f"[{number}/{len(STAGES)}] {name} ...")
                started = time.perf_counter()
                with contextlib.redirect_stdout(sys.stderr):  # libraries print progress; stdout is for the summary
                    outputs = stage.run(key)
                record = self.ledger.record(name, key, time.perf_counter() - started, outputs)
                self.say(f"[{number}/{len(STAGES)}] {name}: done in {format_duration(record.seconds)}")
                self.reports.append(StageReport(name, False, record.seconds, outputs))
            # Everything a stage reads comes from the stages before it: its key covers all their outputs.
            upstream = settings_key(upstream, record.outputs.get("fingerprint"))
        summary = self.summary()
        write_json_atomic(self.root / SUMMARY_FILE, summary)
        return summary

    # -- the stages: each has settings() (what its key covers) and run(key) -> outputs ----------
    @property
    def _generate(self) -> _Stage:
        def settings() -> dict[str, Any]:
            return {"recipe": self.options.recipe.read_text(encoding="utf-8"), "parameters": self.parameters}

        def run(key: str) -> dict[str, Any]:
            from rader_hub.generation.run import run_recipe

            run_recipe(self.options.recipe, self.parameters, ray=self.options.ray)
            generated = read_json(self.root / "summary.json", {})
            return {
                "dataset": str(self.data_file),
                "rows": generated.get("rows"),
                "rows_per_query_type": generated.get("rows_per_query_type"),
                "fingerprint": fingerprint(self.data_file),
            }

        return _Stage(settings, run)

    @property
    def _review(self) -> _Stage:
        mode = self.options.review

        def settings() -> dict[str, Any]:
            return {"mode": mode.value, "sample": self.options.review_sample}

        def run(key: str) -> dict[str, Any]:
            from rader_hub.run.review import pull_when_answered, push_for_review

            if mode is ReviewMode.skip:
                return {"mode": mode.value, "training_data": str(self.root), "fingerprint": fingerprint(self.data_file)}
            pushed = push_for_review(self.root, self.options.review_sample, self.say)
            if mode is ReviewMode.push:
                return {"mode": mode.value, **pushed, "training_data": str(self.root), "fingerprint": fingerprint(self.data_file)}
            reviewed = self.root / "reviewed"
            review = pull_when_answered(self.root, reviewed, pushed["argilla_dataset"], self.options.review_poll_seconds, self.say)
            return {
                "mode": mode.value,
                **pushed,
                "review": review,
                "training_data": str(reviewed),
                "fingerprint": fingerprint(reviewed / "data"),
            }

        return _Stage(settings, run)

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
                "fingerprint": fingerprint(out_dir),
            }

        return _Stage(settings, run)

    @property
    def _evaluate(self) -> _Stage:
        def settings() -> dict[str, Any]:
            return {
                "corpus": self.options.eval_corpus,
                "queries": self.options.eval_queries,
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
            table = {name: read_json(path) for name, path in files.items()}
            return {
                "files": {name: str(path) for name, path in files.items()},
                "chart": str(chart),
                "table": table,
                "fingerprint": fingerprint(*files.values()),
            }

        return _Stage(settings, run)

    @property
    def _publish(self) -> _Stage:
        model_repo = self.options.repo or DRY_RUN_REPO
        dataset_repo = self.options.dataset_repo or f"{model_repo}-{self.recipe_name}"

        def settings() -> dict[str, Any]:
            return {"repo": self.options.repo, "model_repo": model_repo, "dataset_repo": dataset_repo, "private": self.options.private}

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
            return {**published, "fingerprint": fingerprint(self.root / "publish")}

        return _Stage(settings, run)

    # -- helpers --------------------------------------------------------------------------
    def _resumable(self, out_dir: Path, key: str) -> bool:
        """Resume training from its checkpoint when the killed attempt had the same settings."""
        from rader_hub.training.runtime import last_complete_checkpoint

        marker = out_dir / "checkpoints" / ".rader-run-key"
        checkpoint = last_complete_checkpoint(out_dir / "checkpoints")
        if checkpoint is not None and marker.is_file() and marker.read_text() == key:
            self.say(f"train: resuming from {checkpoint.name} of the interrupted run")
            return True
        shutil.rmtree(out_dir, ignore_errors=True)  # another run's model or checkpoints: start clean
        marker.parent.mkdir(parents=True)
        marker.write_text(key)
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


def training_config(overrides: dict[str, Any]) -> RetrieverTrainingConfig:
    """The retriever's training config: the library's defaults with the user's ``--train`` values."""
    from pydantic import TypeAdapter, ValidationError

    types = typing.get_type_hints(RetrieverTrainingConfig)
    settable = set(types) - {"out_dir", "resume", "show_progress", "keep_checkpoints"}
    values = {}
    for name, value in overrides.items():
        if name not in settable:
            raise ConfigError(f"--train {name}: not a training setting (settable: {', '.join(sorted(settable))})")
        try:
            values[name] = TypeAdapter(types[name]).validate_python(value)
        except ValidationError as exc:
            raise ConfigError(f"--train {name}: {exc.errors()[0]['msg']} (got {value!r})") from None
    return RetrieverTrainingConfig(out_dir="model", **values)


def _config_settings(config: RetrieverTrainingConfig) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in ("out_dir", "resume", "show_progress")}


def _outputs_exist(record: StageRecord) -> bool:
    paths = [value for key, value in record.outputs.items() if key in ("dataset", "model", "training_data", "chart")]
    paths += list((record.outputs.get("files") or {}).values()) + list((record.outputs.get("folders") or {}).values())
    return all(Path(path).exists() for path in paths)


def format_duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"
