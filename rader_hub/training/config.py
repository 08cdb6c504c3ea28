"""How a training run is configured: plain dataclasses holding every default in one place.

The `rader train` commands read their option defaults from these classes, and the Python API
takes them directly::

    from rader_hub.training import RetrieverTrainingConfig, train_retriever

    result = train_retriever(RetrieverTrainingConfig(out_dir="models/my-retriever", epochs=2), "outputs/math/data")

Each numeric field carries its bounds (``Annotated[int, Ge(1)]``); a config is checked against
them when it is made, so a bad value is one line naming the field before any data or model loads.
This module imports nothing heavy, so the command line can read it before torch is loaded.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from annotated_types import Ge, Gt, Le, Lt

from rader_hub.assets import EMBEDDED
from rader_hub.errors import ConfigError

PAPER_TEMPERATURE = 0.01  # InfoNCE temperature in the paper
PAPER_TRAIN_GROUP = 12  # hard negatives per query in the paper
QUERY_PROMPT = "Query: "
PASSAGE_PROMPT = "Passage: "
LORA_LEARNING_RATE = 1e-4  # the paper's, with LoRA
FULL_FINE_TUNING_LEARNING_RATE = 2e-5
DEFAULT_RERANK_NEGATIVES = 7


@dataclass
class TrainingRunConfig:
    """What every training run has: its output, base model, data selection, schedule, checkpoints.
    The retriever and reranker configs add their loss and batch settings. The whole config is
    recorded next to the trained model (``rader_training.json``)."""

    out_dir: Path | str
    base: str = EMBEDDED
    query_types: list[str] | None = None  # keep only rows of these query types (e.g. ["llmq", "cot"])
    eval_fraction: Annotated[float, Ge(0), Lt(1)] = 0.0  # problems held out for an eval loss; a problem's rows never span both sides
    epochs: Annotated[float, Gt(0)] = 1.0
    max_steps: Annotated[int, Ge(-1)] = -1  # -1 (or 0): run all epochs
    warmup_ratio: Annotated[float, Ge(0), Le(1)] = 0.1
    seed: Annotated[int, Ge(0)] = 42
    bf16: bool = False
    save_steps: Annotated[int, Ge(1)] = 50
    logging_steps: Annotated[int, Ge(1)] = 1
    resume: bool = False
    keep_checkpoints: bool = False
    show_progress: bool = True

    def __post_init__(self) -> None:
        from pydantic import TypeAdapter, ValidationError  # here, not at import: `rader train --help` reads this module

        types = typing.get_type_hints(type(self), include_extras=True)
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            try:
                TypeAdapter(types[field.name]).validate_python(value)
            except ValidationError as exc:
                raise ConfigError(f"training setting {field.name}: {exc.errors()[0]['msg']} (got {value!r})") from None


@dataclass
class RetrieverTrainingConfig(TrainingRunConfig):
    num_negatives: Annotated[int, Ge(0)] = PAPER_TRAIN_GROUP  # 0: in-batch negatives only
    temperature: Annotated[float, Gt(0)] = PAPER_TEMPERATURE
    batch_size: Annotated[int, Ge(2)] = 16  # InfoNCE needs in-batch negatives
    mini_batch_size: Annotated[int, Ge(1)] | None = None  # set: cached InfoNCE (GradCache) with this chunk size
    learning_rate: Annotated[float, Gt(0)] | None = None  # None: LORA_LEARNING_RATE with LoRA, FULL_FINE_TUNING_LEARNING_RATE otherwise
    max_seq_length: Annotated[int, Ge(1)] | None = None  # training truncation only; the saved model keeps the base's
    query_prompt: str = QUERY_PROMPT
    passage_prompt: str = PASSAGE_PROMPT
    lora: bool | None = None  # None: LoRA for decoder-LLM bases, full fine-tuning otherwise
    lora_rank: Annotated[int, Ge(1)] = 16
    lora_alpha: Annotated[int, Ge(1)] = 32


@dataclass
class RerankerTrainingConfig(TrainingRunConfig):
    num_negatives: Annotated[int, Ge(1)] = DEFAULT_RERANK_NEGATIVES  # the loss ranks the positive against them
    temperature: Annotated[float, Gt(0)] = 1.0  # cross-encoder logits are unbounded, unlike cosine similarities
    batch_size: Annotated[int, Ge(1)] = 8
    learning_rate: Annotated[float, Gt(0)] = FULL_FINE_TUNING_LEARNING_RATE
    max_seq_length: Annotated[int, Ge(1)] = 256
