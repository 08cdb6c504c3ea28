"""`rader train retriever|reranker`: train on (query, positive, negatives) data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rader_hub.assets import EMBEDDED
from rader_hub.records import DataSource
from rader_hub.training.data import Triple, load_triples, split_by_group
from rader_hub.training.losses import PAPER_TEMPERATURE
from rader_hub.training.retriever import PAPER_TRAIN_GROUP
from rader_hub.training.runtime import TrainingResult

train_app = typer.Typer(help="Train a retriever (bi-encoder) or a reranker (cross-encoder).", no_args_is_help=True)

DataOption = Annotated[str, typer.Option("--data", help="Training data: generation output (Parquet), JSONL/JSON, a folder, or a Hub dataset id.")]
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
Bf16Option = Annotated[bool, typer.Option("--bf16", help="bfloat16 mixed precision (needs a CUDA GPU).")]
SaveStepsOption = Annotated[int, typer.Option("--save-steps", help="Write a checkpoint every N steps.")]
ResumeOption = Annotated[bool, typer.Option("--resume", help="Resume from the latest checkpoint in OUT/checkpoints.")]
KeepCheckpointsOption = Annotated[bool, typer.Option("--keep-checkpoints", help="Keep OUT/checkpoints after a successful run.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON summary at the end.")]


def _load(data: str, config: str | None, split: str | None, query_types: list[str] | None, eval_fraction: float, seed: int):
    triples = load_triples(DataSource(data, config, split), query_types)
    train, held_out = split_by_group(triples, eval_fraction, seed)
    typer.echo(f"training rows: {len(train)}, held-out rows: {len(held_out)} ({len({t.group for t in held_out})} problems)", err=True)
    return train, held_out


def _report(result: TrainingResult, train: list[Triple], as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "out": str(result.out_dir),
                    "steps": result.steps,
                    "train_rows": len(train),
                    "num_negatives": result.num_negatives,
                    "final_train_loss": result.train_loss,
                    "final_eval_loss": result.eval_loss,
                    "loss_curve": str(result.loss_curve) if result.loss_curve else None,
                }
            )
        )
        return
    typer.echo(f"saved {result.out_dir} after {result.steps} steps ({result.num_negatives} hard negatives per query)")
    if result.train_loss is not None:
        typer.echo(f"final train loss {result.train_loss:.4f}" + (f", eval loss {result.eval_loss:.4f}" if result.eval_loss is not None else ""))
    if result.loss_curve:
        typer.echo(f"loss curve: {result.loss_curve}")


@train_app.command("retriever")
def train_retriever_command(
    data: DataOption,
    out: OutOption,
    base: Annotated[str, typer.Option("--base", help="Base model: 'embedded' (MiniLM), a sentence-transformers or decoder-LLM path/Hub id, or a .gguf file.")] = EMBEDDED,
    data_config: DataConfigOption = None,
    data_split: DataSplitOption = None,
    query_type: QueryTypeOption = None,
    num_negatives: Annotated[int, typer.Option("--num-negatives", help="Hard negatives per query (paper: 12); 0 = in-batch negatives only.")] = PAPER_TRAIN_GROUP,
    temperature: Annotated[float, typer.Option("--temperature", help="InfoNCE temperature (paper: 0.01); scale = 1/temperature.")] = PAPER_TEMPERATURE,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Queries per batch (in-batch negatives come from it).")] = 16,
    mini_batch_size: Annotated[int | None, typer.Option("--mini-batch-size", help="Use cached InfoNCE (GradCache) with this chunk size, for large batches.")] = None,
    epochs: EpochsOption = 1.0,
    max_steps: MaxStepsOption = -1,
    learning_rate: Annotated[float | None, typer.Option("--lr", help="Learning rate (default: 1e-4 with LoRA, as the paper; 2e-5 otherwise).")] = None,
    max_seq_length: Annotated[int | None, typer.Option("--max-seq-length", help="Truncate texts to N tokens in training (a speed knob); the saved model keeps the base's length.")] = None,
    lora: Annotated[bool | None, typer.Option("--lora/--no-lora", help="LoRA adapters, merged at the end (default: on for decoder LLMs).")] = None,
    lora_rank: Annotated[int, typer.Option("--lora-rank", help="LoRA rank.")] = 16,
    query_prompt: Annotated[str, typer.Option("--query-prompt", help="Prompt saved as 'query'.")] = "Query: ",
    passage_prompt: Annotated[str, typer.Option("--passage-prompt", help="Prompt saved as 'passage'.")] = "Passage: ",
    eval_fraction: EvalFractionOption = 0.0,
    seed: SeedOption = 42,
    bf16: Bf16Option = False,
    save_steps: SaveStepsOption = 50,
    resume: ResumeOption = False,
    keep_checkpoints: KeepCheckpointsOption = False,
    as_json: JsonOption = False,
) -> None:
    """Train a bi-encoder with InfoNCE over in-batch and hard negatives (METHOD.md section 3)."""
    from rader_hub.training.retriever import RetrieverTrainingConfig, train_retriever
    from rader_hub.training.runtime import check_precision

    check_precision(bf16)  # before loading data or models
    train, held_out = _load(data, data_config, data_split, query_type, eval_fraction, seed)
    config = RetrieverTrainingConfig(
        out_dir=out,
        base=base,
        num_negatives=num_negatives,
        temperature=temperature,
        batch_size=batch_size,
        mini_batch_size=mini_batch_size,
        epochs=epochs,
        max_steps=max_steps,
        learning_rate=learning_rate,
        max_seq_length=max_seq_length,
        seed=seed,
        query_prompt=query_prompt,
        passage_prompt=passage_prompt,
        lora=lora,
        lora_rank=lora_rank,
        bf16=bf16,
        save_steps=save_steps,
        resume=resume,
        keep_checkpoints=keep_checkpoints,
        show_progress=not as_json,
        extra={"data": data, "data_config": data_config, "data_split": data_split, "query_types": query_type},
    )
    _report(train_retriever(config, train, held_out), train, as_json)


@train_app.command("reranker")
def train_reranker_command(
    data: DataOption,
    out: OutOption,
    base: Annotated[str, typer.Option("--base", help="Base encoder: 'embedded' (MiniLM weights, new score head), a path or Hub id.")] = EMBEDDED,
    data_config: DataConfigOption = None,
    data_split: DataSplitOption = None,
    query_type: QueryTypeOption = None,
    num_negatives: Annotated[int, typer.Option("--num-negatives", help="Hard negatives per query (at least 1).")] = 7,
    temperature: Annotated[float, typer.Option("--temperature", help="Temperature of the contrastive loss over the cross-encoder's logits.")] = 1.0,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Queries per batch.")] = 8,
    epochs: EpochsOption = 1.0,
    max_steps: MaxStepsOption = -1,
    learning_rate: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 2e-5,
    max_seq_length: Annotated[int, typer.Option("--max-seq-length", help="Token limit of a (query, document) pair.")] = 256,
    eval_fraction: EvalFractionOption = 0.0,
    seed: SeedOption = 42,
    bf16: Bf16Option = False,
    save_steps: SaveStepsOption = 50,
    resume: ResumeOption = False,
    keep_checkpoints: KeepCheckpointsOption = False,
    as_json: JsonOption = False,
) -> None:
    """Train a pointwise cross-encoder reranker contrastively (positive vs its hard negatives)."""
    from rader_hub.training.reranker import RerankerTrainingConfig, train_reranker
    from rader_hub.training.runtime import check_precision

    check_precision(bf16)
    train, held_out = _load(data, data_config, data_split, query_type, eval_fraction, seed)
    config = RerankerTrainingConfig(
        out_dir=out,
        base=base,
        num_negatives=num_negatives,
        temperature=temperature,
        batch_size=batch_size,
        epochs=epochs,
        max_steps=max_steps,
        learning_rate=learning_rate,
        max_seq_length=max_seq_length,
        seed=seed,
        bf16=bf16,
        save_steps=save_steps,
        resume=resume,
        keep_checkpoints=keep_checkpoints,
        show_progress=not as_json,
        extra={"data": data, "data_config": data_config, "data_split": data_split, "query_types": query_type},
    )
    _report(train_reranker(config, train, held_out), train, as_json)
