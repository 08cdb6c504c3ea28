"""Train a bi-encoder retriever with sentence-transformers' trainer (docs/method.md, section 6).

InfoNCE over in-batch plus hard negatives, "Query: "/"Passage: " prompts saved in the model,
batches without duplicate texts, checkpoints that a rerun can resume from, LoRA for decoder LLMs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rader_hub.errors import ConfigError
from rader_hub.training.base_model import load_base_model
from rader_hub.training.config import FULL_FINE_TUNING_LEARNING_RATE, LORA_LEARNING_RATE, RetrieverTrainingConfig
from rader_hub.training.data import QUERY_COLUMN, DataInput, TrainingData, Triple, example_triples, length_statistics, negative_statistics
from rader_hub.training.lora import apply_lora, merge_lora
from rader_hub.training.losses import info_nce_loss
from rader_hub.training.runtime import TrainingResult, finish_training, prepare_run, save_model, trainer_arguments


def _prompts(columns: Sequence[str], config: RetrieverTrainingConfig) -> dict[str, str]:
    return {column: config.query_prompt if column == QUERY_COLUMN else config.passage_prompt for column in columns}


def train_retriever(config: RetrieverTrainingConfig, data: DataInput | TrainingData) -> TrainingResult:
    """Train a bi-encoder on ``data``, save it to ``config.out_dir`` and return what happened.

    InfoNCE over in-batch and hard negatives, with the query and passage prompts saved in the
    model. Beside the model go ``rader_training.json`` (the config, data sizes, losses) and
    ``loss_curve.png``; the checkpoints are removed once the model is saved, unless
    ``config.keep_checkpoints``. Bad data or settings fail before any model is loaded.

    Args:
        config: The run's settings (output folder, base model, schedule, loss, LoRA); see
            `RetrieverTrainingConfig` for each field and its default.
        data: A source (a generation run folder or its ``data/``, a JSONL/JSON/Parquet file, a
            Hub dataset id, or a ``DataSource`` with config and split), triples already in memory,
            or a `TrainingData`; ``config.query_types`` and ``config.eval_fraction`` select and
            split a source or triples, a `TrainingData` is used as it is.

    Returns:
        `TrainingResult`: the output folder, optimizer steps, train and held-out rows, the final
        train and eval losses, the negatives per query, and the loss curve's path.

    Raises:
        DataError: The data cannot be read, lacks the query/positive columns, has no rows after
            the query-type filter, has too few problems to hold out ``eval_fraction``, or has a
            row without hard negatives while ``num_negatives`` asks for some.
        ConfigError: ``bf16`` without a GPU that supports it, ``resume`` without a complete
            checkpoint in ``out_dir/checkpoints`` or together with LoRA, or an
            ``effective_batch_size`` that is not a multiple of the batch over all processes.
        AssetError: The base model cannot be found or loaded.
    """
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers

    run = prepare_run(config, data)

    model, decoder = load_base_model(config.base)
    # Truncating in training is a cost choice (CPU); the saved model keeps the base's own length.
    inference_length = model.max_seq_length
    if config.max_seq_length is not None:
        model.max_seq_length = config.max_seq_length
    use_lora = decoder if config.lora is None else config.lora
    if use_lora:
        if config.resume:
            raise ConfigError(
                "resume=True is not supported with LoRA: LoRA checkpoints cannot be restored yet; train from the start", field="resume"
            )
        apply_lora(model.transformers_model, config.lora_rank, config.lora_alpha, config.lora_dropout, config.lora_target_modules)
    learning_rate = config.learning_rate or (LORA_LEARNING_RATE if use_lora else FULL_FINE_TUNING_LEARNING_RATE)

    args = SentenceTransformerTrainingArguments(
        **trainer_arguments(config, learning_rate, has_eval=run.eval_dataset is not None),
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        prompts=_prompts(run.train_dataset.column_names, config),
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=run.train_dataset,
        eval_dataset=run.eval_dataset,
        loss=info_nce_loss(model, config.temperature, config.mini_batch_size, config.gather_across_devices),
    )
    trainer.train(resume_from_checkpoint=run.resume_from)

    if use_lora:
        merge_lora(model.transformers_model)
    # Saved prompts: encode(..., prompt_name="query"/"passage") and rader eval apply them.
    # "document" is the name sentence-transformers' encode_document() looks up.
    model.prompts = {"query": config.query_prompt, "passage": config.passage_prompt, "document": config.passage_prompt}
    model.max_seq_length = inference_length
    save_model(trainer, model, config.out_dir)

    facts = {
        "negatives": negative_statistics(run.data.train, run.num_negatives),
        "truncation": _truncation(model, run.data.train, config),
        "examples": example_triples(run.data.train),
    }
    return finish_training(trainer, config, run, f"retriever: {config.base}", learning_rate=learning_rate, lora=use_lora, **facts)


def _truncation(model, triples: Sequence[Triple], config: RetrieverTrainingConfig) -> dict[str, Any]:
    """How many queries and positives the training length cut (with their prompts), for the card."""
    limit = config.max_seq_length or model.max_seq_length

    def lengths(texts: list[str]) -> list[int]:
        return [len(ids) for ids in model.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]]

    return {
        "max_seq_length": limit,
        "queries": length_statistics(lengths([config.query_prompt + t.query for t in triples]), limit),
        "positives": length_statistics(lengths([config.passage_prompt + t.positive for t in triples]), limit),
    }
