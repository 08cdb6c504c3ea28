"""`rader train retriever|reranker`: train on (query, positive, negatives) data.

Each option is named after the config field it sets, and its default is read from that field, so
the library's config dataclasses hold every default (rader_hub/training/config.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import MISSING
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rader_hub.records import DataSource
from rader_hub.training.config import (
    FULL_FINE_TUNING_LEARNING_RATE,
    LORA_LEARNING_RATE,
    RERANKER_PRESETS,
    RETRIEVER_PRESETS,
    RerankerTrainingConfig,
    RetrieverTrainingConfig,
    reranker_config,
    retriever_config,
)

if TYPE_CHECKING:
    from rader_hub.training.data import TrainingData
    from rader_hub.training.runtime import TrainingResult

train_app = typer.Typer(help="Train a retriever (bi-encoder) or a reranker (cross-encoder).", no_args_is_help=True)


def _default(config_class: type, name: str) -> Any:
    default = config_class.__dataclass_fields__[name].default
    if default is MISSING:
        raise TypeError(f"{config_class.__name__}.{name} has no default to show")
    return default


RETRIEVER = partial(_default, RetrieverTrainingConfig)
RERANKER = partial(_default, RerankerTrainingConfig)

DataOption = Annotated[
    str, typer.Option("--data", help="Training data: generation output (Parquet), JSONL/JSON, a folder, or a Hub dataset id.")
]
DataConfigOption = Annotated[str | None, typer.Option("--data-config", help="Hub/dataset config of the data.")]
DataSplitOption = Annotated[str | None, typer.Option("--data-split", help="Split of the data (Hub ids default to 'train').")]
QueryTypeOption = Annotated[
    list[str] | None,
    typer.Option("--query-type", help="Keep only these query types (repeatable), e.g. llmq, cot, question, lexical."),
]
OutOption = Annotated[Path, typer.Option("--out", help="Folder for the trained model (checkpoints go to OUT/checkpoints).")]
EvalFractionOption = Annotated[
    float, typer.Option("--eval-fraction", help="Fraction of problems held out for an eval loss; a problem's rows never span both sides.")
]
EpochsOption = Annotated[float, typer.Option("--epochs", help="Training epochs (paper: 1).")]
MaxStepsOption = Annotated[int, typer.Option("--max-steps", help="Stop after this many steps (-1: run all epochs).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for sampling, shuffling and initialisation.")]
Bf16Option = Annotated[bool, typer.Option("--bf16/--no-bf16", help="bfloat16 mixed precision (needs a CUDA GPU).")]
SaveStepsOption = Annotated[int, typer.Option("--save-steps", help="Write a checkpoint every N steps.")]
ResumeOption = Annotated[bool, typer.Option("--resume", help="Resume from the latest checkpoint in OUT/checkpoints.")]
KeepCheckpointsOption = Annotated[bool, typer.Option("--keep-checkpoints", help="Keep OUT/checkpoints after a successful run.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON summary at the end.")]
LoraOption = Annotated[
    bool | None, typer.Option("--lora/--no-lora", help="LoRA adapters, merged at the end (default: on for decoder LLMs).")
]
LoraRankOption = Annotated[int, typer.Option("--lora-rank", help="LoRA rank.")]
LoraAlphaOption = Annotated[int, typer.Option("--lora-alpha", help="LoRA alpha (scaling).")]
WarmupStepsOption = Annotated[int | None, typer.Option("--warmup-steps", help="Warm-up steps (default: 10% of all steps).")]
EffectiveBatchOption = Annotated[
    int | None, typer.Option("--effective-batch-size", help="Queries per optimizer step over all processes, by gradient accumulation.")
]


@train_app.command("retriever")
def train_retriever_command(
    ctx: typer.Context,
    data: DataOption,
    out_dir: OutOption,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help=f"Start from a named set of settings ({', '.join(RETRIEVER_PRESETS)}: the paper's for decoder-LLM bases, "
            "docs/training.md); options given beside it override it.",
        ),
    ] = None,
    base: Annotated[
        str,
        typer.Option("--base", help="Base model: 'embedded' (MiniLM), a sentence-transformers or decoder-LLM path/Hub id, or a .gguf."),
    ] = RETRIEVER("base"),
    data_config: DataConfigOption = None,
    data_split: DataSplitOption = None,
    query_types: QueryTypeOption = RETRIEVER("query_types"),
    num_negatives: Annotated[
        int,
        typer.Option(
            "--num-negatives",
            help="Hard negatives per query (paper: 11, a group of 12 with the positive); 0: in-batch only.",
        ),
    ] = RETRIEVER("num_negatives"),
    temperature: Annotated[
        float, typer.Option("--temperature", help="InfoNCE temperature (paper: 0.01); scale = 1/temperature.")
    ] = RETRIEVER("temperature"),
    batch_size: Annotated[int, typer.Option("--batch-size", help="Queries per batch (in-batch negatives come from it).")] = RETRIEVER(
        "batch_size"
    ),
    mini_batch_size: Annotated[
        int,
        typer.Option(
            "--mini-batch-size",
            min=0,
            help="Cached InfoNCE (GradCache) in chunks of this many texts: memory stays flat as batches grow "
            "(0: the plain loss, one pass per batch, where memory allows).",
        ),
    ] = RETRIEVER("mini_batch_size"),
    epochs: EpochsOption = RETRIEVER("epochs"),
    max_steps: MaxStepsOption = RETRIEVER("max_steps"),
    learning_rate: Annotated[
        float | None,
        typer.Option(
            "--lr",
            help=f"Learning rate (default: {LORA_LEARNING_RATE:g} with LoRA, as the paper; {FULL_FINE_TUNING_LEARNING_RATE:g} otherwise).",
        ),
    ] = RETRIEVER("learning_rate"),
    max_seq_length: Annotated[
        int | None,
        typer.Option(
            "--max-seq-length", help="Truncate texts to N tokens in training (a speed knob); the saved model keeps the base's length."
        ),
    ] = RETRIEVER("max_seq_length"),
    lora: LoraOption = RETRIEVER("lora"),
    lora_rank: LoraRankOption = RETRIEVER("lora_rank"),
    lora_alpha: LoraAlphaOption = RETRIEVER("lora_alpha"),
    lora_dropout: Annotated[float, typer.Option("--lora-dropout", help="LoRA dropout.")] = RETRIEVER("lora_dropout"),
    lora_target_modules: Annotated[
        list[str] | None, typer.Option("--lora-target", help="Module names LoRA adapts (repeatable; default: every linear layer).")
    ] = RETRIEVER("lora_target_modules"),
    warmup_steps: WarmupStepsOption = RETRIEVER("warmup_steps"),
    effective_batch_size: EffectiveBatchOption = RETRIEVER("effective_batch_size"),
    gather_across_devices: Annotated[
        bool,
        typer.Option("--gather-across-devices/--no-gather-across-devices", help="In-batch negatives from every process (torchrun)."),
    ] = RETRIEVER("gather_across_devices"),
    query_prompt: Annotated[str, typer.Option("--query-prompt", help="Prompt saved as 'query'.")] = RETRIEVER("query_prompt"),
    passage_prompt: Annotated[str, typer.Option("--passage-prompt", help="Prompt saved as 'passage' and 'document'.")] = RETRIEVER(
        "passage_prompt"
    ),
    eval_fraction: EvalFractionOption = RETRIEVER("eval_fraction"),
    seed: SeedOption = RETRIEVER("seed"),
    bf16: Bf16Option = RETRIEVER("bf16"),
    save_steps: SaveStepsOption = RETRIEVER("save_steps"),
    resume: ResumeOption = RETRIEVER("resume"),
    keep_checkpoints: KeepCheckpointsOption = RETRIEVER("keep_checkpoints"),
    as_json: JsonOption = False,
) -> None:
    """Train a bi-encoder with InfoNCE over in-batch and hard negatives (docs/method.md, section 6)."""
    config, data, as_json = _prepare(partial(retriever_config, preset=preset), _given(ctx, dict(locals()), preset))
    from rader_hub.training.retriever import train_retriever  # torch and sentence-transformers: after the data checks

    _report(train_retriever(config, data), as_json)


@train_app.command("reranker")
def train_reranker_command(
    ctx: typer.Context,
    data: DataOption,
    out_dir: OutOption,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help=f"Start from a named set of settings ({', '.join(RERANKER_PRESETS)}: the paper's decoder reranker, "
            "docs/training.md); options given beside it override it.",
        ),
    ] = None,
    base: Annotated[
        str,
        typer.Option(
            "--base", help="Base: 'embedded' (MiniLM weights, new score head), an encoder or decoder-LLM path/Hub id, or a .gguf."
        ),
    ] = RERANKER("base"),
    data_config: DataConfigOption = None,
    data_split: DataSplitOption = None,
    query_types: QueryTypeOption = RERANKER("query_types"),
    num_negatives: Annotated[int, typer.Option("--num-negatives", help="Hard negatives per query (at least 1).")] = RERANKER(
        "num_negatives"
    ),
    temperature: Annotated[
        float, typer.Option("--temperature", help="Temperature of the contrastive loss over the cross-encoder's logits.")
    ] = RERANKER("temperature"),
    batch_size: Annotated[int, typer.Option("--batch-size", help="Queries per batch.")] = RERANKER("batch_size"),
    epochs: EpochsOption = RERANKER("epochs"),
    max_steps: MaxStepsOption = RERANKER("max_steps"),
    learning_rate: Annotated[
        float | None,
        typer.Option(
            "--lr", help=f"Learning rate (default: {LORA_LEARNING_RATE:g} with LoRA; {FULL_FINE_TUNING_LEARNING_RATE:g} otherwise)."
        ),
    ] = RERANKER("learning_rate"),
    max_seq_length: Annotated[int, typer.Option("--max-seq-length", help="Token limit of a (query, document) pair.")] = RERANKER(
        "max_seq_length"
    ),
    query_prefix: Annotated[
        str, typer.Option("--query-prefix", help="Text before each query (paper: 'query: '), saved with the model.")
    ] = RERANKER("query_prefix"),
    document_prefix: Annotated[
        str, typer.Option("--document-prefix", help="Text before each document (paper: 'document: '), saved with the model.")
    ] = RERANKER("document_prefix"),
    lora: LoraOption = RERANKER("lora"),
    lora_rank: LoraRankOption = RERANKER("lora_rank"),
    lora_alpha: LoraAlphaOption = RERANKER("lora_alpha"),
    warmup_steps: WarmupStepsOption = RERANKER("warmup_steps"),
    effective_batch_size: EffectiveBatchOption = RERANKER("effective_batch_size"),
    eval_fraction: EvalFractionOption = RERANKER("eval_fraction"),
    seed: SeedOption = RERANKER("seed"),
    bf16: Bf16Option = RERANKER("bf16"),
    save_steps: SaveStepsOption = RERANKER("save_steps"),
    resume: ResumeOption = RERANKER("resume"),
    keep_checkpoints: KeepCheckpointsOption = RERANKER("keep_checkpoints"),
    as_json: JsonOption = False,
) -> None:
    """Train a pointwise cross-encoder reranker contrastively (positive vs its hard negatives)."""
    config, data, as_json = _prepare(partial(reranker_config, preset=preset), _given(ctx, dict(locals()), preset))
    from rader_hub.training.reranker import train_reranker  # torch and sentence-transformers: after the data checks

    _report(train_reranker(config, data), as_json)


def _given(ctx: typer.Context, options: dict[str, Any], preset: str | None) -> dict[str, Any]:
    """The command's options as config fields: all of them, or with a preset only those given on the
    command line (the preset's values stand for the rest)."""
    options = {name: value for name, value in options.items() if name not in ("ctx", "preset")}
    if preset is None:
        return options
    # By name: typer vendors its own click, whose ParameterSource is not click's.
    return {name: value for name, value in options.items() if getattr(ctx.get_parameter_source(name), "name", None) != "DEFAULT"}


def _prepare(make_config: Callable[..., Any], options: dict[str, Any]) -> tuple[Any, TrainingData, bool]:
    """Both commands: the data options name the source, every other option is a config field. The data
    is loaded and checked here, so a bad file is reported before torch is imported."""
    from rader_hub.training.runtime import load_data

    source = DataSource(options.pop("data"), options.pop("data_config", None), options.pop("data_split", None))
    as_json = options.pop("as_json", False)
    config = make_config(**options, show_progress=not as_json)
    return config, load_data(config, source), as_json


def _report(result: TrainingResult, as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "out": str(result.out_dir),
                    "steps": result.steps,
                    "train_rows": result.train_rows,
                    "eval_rows": result.eval_rows,
                    "num_negatives": result.num_negatives,
                    "final_train_loss": result.train_loss,
                    "final_eval_loss": result.eval_loss,
                    "loss_curve": str(result.loss_curve) if result.loss_curve else None,
                }
            )
        )
        return
    typer.echo(
        f"saved {result.out_dir} after {result.steps} steps on {result.train_rows} rows ({result.num_negatives} hard negatives per query)"
    )
    if result.train_loss is not None:
        held_out = f", eval loss {result.eval_loss:.4f} on {result.eval_rows} held-out rows" if result.eval_loss is not None else ""
        typer.echo(f"final train loss {result.train_loss:.4f}{held_out}")
    if result.loss_curve:
        typer.echo(f"loss curve: {result.loss_curve}")
