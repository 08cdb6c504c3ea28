"""Checks and bookkeeping shared by the retriever and reranker trainers."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rader_hub.errors import ConfigError
from rader_hub.files import remove_tree, write_text_atomic
from rader_hub.training.config import RerankerTrainingConfig, TrainingRunConfig
from rader_hub.training.data import DataInput, TrainingData, effective_negatives, to_dataset, training_data
from rader_hub.training.loss_curve import plot_loss_curve
from rader_hub.training.reproduce import data_argument, dataset_revision, reproduce_commands

SUMMARY_FILE = "rader_training.json"
LOSS_CURVE_FILE = "loss_curve.png"
CHECKPOINT_DIR = "checkpoints"


@dataclass
class TrainingResult:
    """What a finished run returns (and records in ``out_dir/rader_training.json``)."""

    out_dir: Path
    steps: int
    train_rows: int
    eval_rows: int
    train_loss: float | None
    eval_loss: float | None
    num_negatives: int
    loss_curve: Path | None


def check_precision(bf16: bool) -> None:
    """bf16 is for GPUs here: on a CPU-only machine say so before any model is loaded."""
    if not bf16:
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError("bf16=True needs a CUDA GPU, and none is available on this machine (train in fp32 instead)", field="bf16")
    if not torch.cuda.is_bf16_supported():
        raise ConfigError("bf16=True: this GPU does not support bfloat16 (train in fp32 instead)", field="bf16")


def last_complete_checkpoint(checkpoints: Path) -> Path | None:
    """Find the latest checkpoint under ``checkpoints`` that was written to the end, if any.

    transformers writes a checkpoint's files in place and its trainer_state.json last: a run killed
    while saving leaves a folder without it (or without its weights), which cannot be resumed from.
    Measured with bench/fault_injection.py: resuming from such a folder failed every re-run. So a
    checkpoint counts only with both its trainer state and its weights.

    Args:
        checkpoints: The trainer's checkpoint folder (``out_dir/checkpoints``); it may not exist.

    Returns:
        `Path` or `None`: the ``checkpoint-<step>`` folder with the highest step, or ``None``.
    """
    from transformers.trainer import TRAINER_STATE_NAME
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    steps = {}
    for folder in checkpoints.glob(f"{PREFIX_CHECKPOINT_DIR}-*") if checkpoints.is_dir() else []:
        step = folder.name.removeprefix(f"{PREFIX_CHECKPOINT_DIR}-")
        if step.isdigit() and (folder / TRAINER_STATE_NAME).is_file() and _has_weights(folder):
            steps[int(step)] = folder
    return steps[max(steps)] if steps else None


def _has_weights(checkpoint: Path) -> bool:
    """Model weights (safetensors, or PyTorch's .bin) somewhere in the checkpoint: sentence-transformers
    saves them at the top, a LoRA run saves adapter weights."""
    return any(checkpoint.rglob("*.safetensors")) or any(checkpoint.rglob("*.bin"))


def checkpoint_to_resume(checkpoints: Path) -> Path:
    """The latest complete checkpoint under ``checkpoints``; an error if there is none to resume from."""
    last = last_complete_checkpoint(checkpoints)
    if last is None:
        raise ConfigError(f"resume=True: no complete checkpoint found in {checkpoints}", field="resume")
    return last


@dataclass(frozen=True)
class TrainingLog:
    """Loss points from the trainer's log history: (step, loss)."""

    train: list[tuple[int, float]]
    eval: list[tuple[int, float]]

    @property
    def final_train_loss(self) -> float | None:
        """The last logged training loss; None if none was logged."""
        return self.train[-1][1] if self.train else None

    @property
    def final_eval_loss(self) -> float | None:
        """The last eval loss; None without a held-out split."""
        return self.eval[-1][1] if self.eval else None


def training_log(history: Sequence[dict]) -> TrainingLog:
    """The training and eval loss points of a trainer's ``state.log_history``."""
    train = [(int(entry["step"]), float(entry["loss"])) for entry in history if "loss" in entry]
    evaluation = [(int(entry["step"]), float(entry["eval_loss"])) for entry in history if "eval_loss" in entry]
    return TrainingLog(train=train, eval=evaluation)


def config_record(config: Any) -> dict[str, Any]:
    """A training config as rader_training.json records it (paths as strings)."""
    return {key: str(value) if isinstance(value, Path) else value for key, value in asdict(config).items()}


def write_summary(path: Path, config: Any, history: Sequence[dict], **facts: Any) -> None:
    """Record how a model was trained (config, data sizes, losses) next to it, as JSON."""
    summary = {
        "config": config_record(config),
        **facts,
        "log_history": list(history),
    }
    write_text_atomic(path, json.dumps(summary, indent=2, default=str))


@dataclass
class PreparedRun:
    """What a trainer needs before it loads a model: the data as datasets, and where to resume from."""

    data: TrainingData
    num_negatives: int
    train_dataset: Any  # datasets.Dataset
    eval_dataset: Any | None
    resume_from: str | None


def load_data(config: TrainingRunConfig, data: DataInput | TrainingData) -> TrainingData:
    """The triples a run trains on: ``data`` with ``config``'s query types and held-out fraction. Imports
    nothing heavy, so `rader train` reports bad data before torch is loaded."""
    if isinstance(data, TrainingData):
        return data
    return training_data(data, config.query_types, config.eval_fraction, config.seed)


def prepare_run(config: TrainingRunConfig, data: DataInput | TrainingData) -> PreparedRun:
    """The checks and data loading both trainers start with, all before a model is loaded, so bad
    input fails fast; then the seed, so that new weights (a reranker's score head, LoRA adapters)
    start the same way in every run with the same seed."""
    from transformers import set_seed

    check_precision(config.bf16)
    resume_from = checkpoint_to_resume(Path(config.out_dir) / CHECKPOINT_DIR) if config.resume else None
    data = load_data(config, data)
    num_negatives = effective_negatives(data.train, config.num_negatives)
    set_seed(config.seed)
    return PreparedRun(
        data=data,
        num_negatives=num_negatives,
        train_dataset=to_dataset(data.train, num_negatives, config.seed),
        eval_dataset=to_dataset(data.held_out, num_negatives, config.seed) if data.held_out else None,
        resume_from=str(resume_from) if resume_from else None,
    )


def trainer_arguments(config: TrainingRunConfig, learning_rate: float, has_eval: bool) -> dict[str, Any]:
    """The training arguments both trainers share (schedule, seeds, checkpoints, logging)."""
    return {
        "output_dir": str(Path(config.out_dir) / CHECKPOINT_DIR),
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps,
        "per_device_train_batch_size": config.batch_size,
        "per_device_eval_batch_size": config.batch_size,
        "learning_rate": learning_rate,
        "gradient_accumulation_steps": gradient_accumulation_steps(config),
        "lr_scheduler_type": "linear",
        # A float below 1 is a ratio of all steps (transformers 5); an int, a number of steps.
        "warmup_steps": config.warmup_steps if config.warmup_steps is not None else config.warmup_ratio,
        "seed": config.seed,
        "data_seed": config.seed,
        "bf16": config.bf16,
        "save_strategy": "steps",
        "save_steps": config.save_steps,
        "save_total_limit": 2,
        "logging_steps": config.logging_steps,
        "eval_strategy": "epoch" if has_eval else "no",
        "report_to": "none",
        "disable_tqdm": not config.show_progress,
        "dataloader_num_workers": 0,
        "use_cpu": _several_processes_without_gpu(),
    }


def gradient_accumulation_steps(config: TrainingRunConfig) -> int:
    """Batches whose gradients add up to one optimizer step, so that it sees ``effective_batch_size``
    queries over every process (torchrun, accelerate launch); 1 when that is not set."""
    if config.effective_batch_size is None:
        return 1
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    per_step = config.batch_size * processes
    if config.effective_batch_size % per_step:
        raise ConfigError(
            f"effective_batch_size {config.effective_batch_size} is not a multiple of batch_size {config.batch_size} "
            f"x {processes} process(es)"
        )
    return config.effective_batch_size // per_step


def _several_processes_without_gpu() -> bool:
    """Launched as several processes (torchrun, accelerate launch) on a machine without CUDA: without
    ``use_cpu`` transformers trains each process alone; with it, data-parallel over gloo."""
    import torch

    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()


def save_model(trainer: Any, model: Any, out_dir: Path | str) -> None:
    """Save the trained model to ``out_dir``; with several processes (torchrun, accelerate launch)
    every one gets here with the same weights, and only the main one writes."""
    if trainer.is_world_process_zero():
        model.save(str(out_dir))


def finish_training(trainer: Any, config: TrainingRunConfig, run: PreparedRun, title: str, **facts: Any) -> TrainingResult:
    """After the final model is saved to ``config.out_dir``: loss curve, summary JSON, and the
    checkpoints removed (only now, so a crash before saving can still resume)."""
    out_dir = Path(config.out_dir)
    kind = "reranker" if isinstance(config, RerankerTrainingConfig) else "retriever"
    log = training_log(trainer.state.log_history)
    main_process = trainer.is_world_process_zero()  # under torchrun or accelerate launch, one process writes
    result = TrainingResult(
        out_dir=out_dir,
        steps=trainer.state.global_step,
        train_rows=len(run.data.train),
        eval_rows=len(run.data.held_out),
        train_loss=log.final_train_loss,
        eval_loss=log.final_eval_loss,
        num_negatives=run.num_negatives,
        loss_curve=plot_loss_curve(log, out_dir / LOSS_CURVE_FILE, title=title) if main_process else None,
    )
    if not main_process:
        return result
    write_summary(
        out_dir / SUMMARY_FILE,
        config,
        trainer.state.log_history,
        data=asdict(run.data.source) if run.data.source else None,  # {"path", "config", "split"}; None: in memory
        dataset_revision=dataset_revision(run.data.source),
        reproduce=reproduce_commands(kind, config_record(config), data_argument(run.data.source)),
        train_rows=result.train_rows,
        eval_rows=result.eval_rows,
        num_negatives=run.num_negatives,
        steps=result.steps,
        resumed_from=Path(run.resume_from).name if run.resume_from else None,  # a killed run's checkpoint it went on from
        final_train_loss=result.train_loss,
        final_eval_loss=result.eval_loss,
        **facts,
    )
    if not config.keep_checkpoints:
        remove_tree(out_dir / CHECKPOINT_DIR)  # a kill part-way leaves no half checkpoint to resume from
    return result
