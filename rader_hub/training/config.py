"""How a training run is configured: plain dataclasses holding every default in one place.

The `rader train` commands read their option defaults from these classes, and the Python API
takes them directly::

    from rader_hub.training import RetrieverTrainingConfig, train_retriever

    result = train_retriever(RetrieverTrainingConfig(out_dir="models/my-retriever", epochs=2), "outputs/math/data")

This module imports nothing heavy, so the command line can read it before torch is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rader_hub.assets import EMBEDDED

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
    eval_fraction: float = 0.0  # problems held out for an eval loss; a problem's rows never span both sides
    epochs: float = 1.0
    max_steps: int = -1  # -1: run all epochs
    warmup_ratio: float = 0.1
    seed: int = 42
    bf16: bool = False
    save_steps: int = 50
    logging_steps: int = 1
    resume: bool = False
    keep_checkpoints: bool = False
    show_progress: bool = True


@dataclass
class RetrieverTrainingConfig(TrainingRunConfig):
    num_negatives: int = PAPER_TRAIN_GROUP
    temperature: float = PAPER_TEMPERATURE
    batch_size: int = 16
    mini_batch_size: int | None = None  # set: cached InfoNCE (GradCache) with this chunk size
    learning_rate: float | None = None  # None: LORA_LEARNING_RATE with LoRA, FULL_FINE_TUNING_LEARNING_RATE otherwise
    max_seq_length: int | None = None  # training truncation only; the saved model keeps the base's
    query_prompt: str = QUERY_PROMPT
    passage_prompt: str = PASSAGE_PROMPT
    lora: bool | None = None  # None: LoRA for decoder-LLM bases, full fine-tuning otherwise
    lora_rank: int = 16
    lora_alpha: int = 32


@dataclass
class RerankerTrainingConfig(TrainingRunConfig):
    num_negatives: int = DEFAULT_RERANK_NEGATIVES
    temperature: float = 1.0  # cross-encoder logits are unbounded, unlike cosine similarities
    batch_size: int = 8
    learning_rate: float = FULL_FINE_TUNING_LEARNING_RATE
    max_seq_length: int = 256
