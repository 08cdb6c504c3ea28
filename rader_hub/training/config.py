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
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le, Lt

from rader_hub.assets import EMBEDDED
from rader_hub.errors import ConfigError

PAPER_TEMPERATURE = 0.01  # InfoNCE temperature in the paper
PAPER_TRAIN_GROUP = 12  # hard negatives per query (our default; the paper's train group of 12 is 1 positive + 11 negatives)
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
    warmup_steps: Annotated[int, Ge(0)] | None = None  # set: this many warm-up steps instead of warmup_ratio
    # Set: accumulate gradients over batch_size x processes x N = this many queries per optimizer step.
    effective_batch_size: Annotated[int, Ge(1)] | None = None
    seed: Annotated[int, Ge(0)] = 42
    bf16: bool = False
    save_steps: Annotated[int, Ge(1)] = 50
    logging_steps: Annotated[int, Ge(1)] = 1
    resume: bool = False
    keep_checkpoints: bool = False
    show_progress: bool = True
    lora: bool | None = None  # None: LoRA for decoder-LLM bases, full fine-tuning otherwise
    lora_rank: Annotated[int, Ge(1)] = 16
    lora_alpha: Annotated[int, Ge(1)] = 32
    lora_dropout: Annotated[float, Ge(0), Lt(1)] = 0.1
    lora_target_modules: list[str] | None = None  # None: every linear layer

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
    """A bi-encoder's training run (`train_retriever`): InfoNCE's negatives, temperature and batches, the prompts."""

    num_negatives: Annotated[int, Ge(0)] = PAPER_TRAIN_GROUP  # 0: in-batch negatives only
    temperature: Annotated[float, Gt(0)] = PAPER_TEMPERATURE
    batch_size: Annotated[int, Ge(2)] = 16  # InfoNCE needs in-batch negatives
    # Cached InfoNCE (GradCache) in chunks of this many texts: the same gradients, with memory flat as
    # batches and negatives grow (bench/training_memory.py: 15.5 GB -> 2.7 GB at batch 16 x 14 texts
    # of MiniLM). 0: the plain loss, every text of a batch in one pass (where memory allows).
    mini_batch_size: Annotated[int, Ge(0)] = 16
    learning_rate: Annotated[float, Gt(0)] | None = None  # None: LORA_LEARNING_RATE with LoRA, FULL_FINE_TUNING_LEARNING_RATE otherwise
    max_seq_length: Annotated[int, Ge(1)] | None = None  # training truncation only; the saved model keeps the base's
    query_prompt: str = QUERY_PROMPT
    passage_prompt: str = PASSAGE_PROMPT
    # Under torchrun / accelerate launch: in-batch negatives from every process's batch, not only its own.
    gather_across_devices: bool = False


@dataclass
class RerankerTrainingConfig(TrainingRunConfig):
    """A cross-encoder's training run (`train_reranker`): each query's group of negatives, the pair format."""

    num_negatives: Annotated[int, Ge(1)] = DEFAULT_RERANK_NEGATIVES  # the loss ranks the positive against them
    temperature: Annotated[float, Gt(0)] = 1.0  # cross-encoder logits are unbounded, unlike cosine similarities
    batch_size: Annotated[int, Ge(1)] = 8
    learning_rate: Annotated[float, Gt(0)] | None = None  # None: LORA_LEARNING_RATE with LoRA, FULL_FINE_TUNING_LEARNING_RATE otherwise
    max_seq_length: Annotated[int, Ge(1)] = 256
    # Text before the query and before the document of each pair (the paper: "query: ", "document: "),
    # saved with the model (PairFormat) so that reranking at evaluation formats pairs the same way.
    query_prefix: str = ""
    document_prefix: str = ""


# The paper's training of decoder-LLM retrievers and rerankers (its appendix, Table 10). Its train
# group of 12 is one positive and 11 hard negatives; 64 queries per optimizer step through gradient
# accumulation; the headline models leave q_question out (Table 1).
PAPER_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
_PAPER_TRAINING: dict[str, Any] = {
    "learning_rate": LORA_LEARNING_RATE,
    "warmup_steps": 28,
    "epochs": 1.0,
    "num_negatives": 11,
    "batch_size": 8,
    "effective_batch_size": 64,
    "bf16": True,
    "lora": True,
    "lora_rank": 16,
    "lora_alpha": 64,
    "lora_dropout": 0.1,
    "lora_target_modules": PAPER_LORA_TARGETS,
    "query_types": ["llmq", "cot", "lexical"],
}
RETRIEVER_PRESETS: dict[str, dict[str, Any]] = {
    # In-batch negatives shared across devices; InfoNCE at temperature 0.01; "Query: " / "Passage: ".
    "paper": {
        **_PAPER_TRAINING,
        "gather_across_devices": True,
        "temperature": PAPER_TEMPERATURE,
        "query_prompt": QUERY_PROMPT,
        "passage_prompt": PASSAGE_PROMPT,
    },
}
# The paper's reranker: a decoder LLM scores "query: {q} document: {d}" with a linear head on the EOS
# state, trained with the retriever's contrastive loss over each query's own group, without in-batch
# negatives. The temperature stays 1: a linear head learns its own scale, unlike a cosine similarity.
RERANKER_PRESETS: dict[str, dict[str, Any]] = {
    "paper": {**_PAPER_TRAINING, "query_prefix": "query: ", "document_prefix": "document: "},
}


def _from_preset(config_class: type, presets: dict[str, dict[str, Any]], out_dir: Path | str, preset: str | None, fields: dict[str, Any]):
    if preset is not None and preset not in presets:
        raise ConfigError(f"unknown training preset '{preset}' (presets: {', '.join(sorted(presets))})")
    known = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ConfigError(f"'{unknown[0]}' is not a training setting")
    return config_class(out_dir=out_dir, **{**presets.get(preset or "", {}), **fields})


def retriever_config(out_dir: Path | str, preset: str | None = None, **fields: Any) -> RetrieverTrainingConfig:
    """Make a retriever config from a named preset (see ``RETRIEVER_PRESETS``), with ``fields`` on top.

    Args:
        out_dir: Where the trained model is written.
        preset: A preset name (``paper``: the paper's LoRA training of decoder LLMs), or ``None``
            for the library's defaults. Defaults to ``None``.
        **fields: `RetrieverTrainingConfig` fields that replace the preset's or the default values.

    Returns:
        `RetrieverTrainingConfig`: the checked config.

    Raises:
        ConfigError: The preset or a field name is unknown, or a value is out of its field's bounds.
    """
    return _from_preset(RetrieverTrainingConfig, RETRIEVER_PRESETS, out_dir, preset, fields)


def reranker_config(out_dir: Path | str, preset: str | None = None, **fields: Any) -> RerankerTrainingConfig:
    """Make a reranker config from a named preset (see ``RERANKER_PRESETS``), with ``fields`` on top.

    Args:
        out_dir: Where the trained model is written.
        preset: A preset name (``paper``: the paper's LoRA reranker on a decoder LLM), or ``None``
            for the library's defaults. Defaults to ``None``.
        **fields: `RerankerTrainingConfig` fields that replace the preset's or the default values.

    Returns:
        `RerankerTrainingConfig`: the checked config.

    Raises:
        ConfigError: The preset or a field name is unknown, or a value is out of its field's bounds.
    """
    return _from_preset(RerankerTrainingConfig, RERANKER_PRESETS, out_dir, preset, fields)
