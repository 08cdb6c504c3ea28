"""Train a bi-encoder retriever with sentence-transformers' trainer (METHOD.md section 3).

InfoNCE over in-batch plus hard negatives, "Query: "/"Passage: " prompts saved in the model,
batches without duplicate texts, checkpoints that a rerun can resume from, LoRA for decoder LLMs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rader_hub.errors import ConfigError
from rader_hub.training.base_model import load_base_model
from rader_hub.training.data import QUERY_COLUMN, Triple, to_dataset
from rader_hub.training.losses import PAPER_TEMPERATURE, info_nce_loss
from rader_hub.training.runtime import CHECKPOINT_DIR, TrainingResult, TrainingRunConfig, check_precision, checkpoint_to_resume, finish_training, trainer_arguments

PAPER_TRAIN_GROUP = 12  # hard negatives per query in the paper
QUERY_PROMPT = "Query: "
PASSAGE_PROMPT = "Passage: "


@dataclass
class RetrieverTrainingConfig(TrainingRunConfig):
    num_negatives: int = PAPER_TRAIN_GROUP
    temperature: float = PAPER_TEMPERATURE
    batch_size: int = 16
    mini_batch_size: int | None = None  # set: cached InfoNCE (GradCache) with this chunk size
    learning_rate: float | None = None  # None: 1e-4 with LoRA (the paper), 2e-5 for full fine-tuning
    max_seq_length: int | None = None  # training truncation only; the saved model keeps the base's
    query_prompt: str = QUERY_PROMPT
    passage_prompt: str = PASSAGE_PROMPT
    lora: bool | None = None  # None: LoRA for decoder-LLM bases, full fine-tuning otherwise
    lora_rank: int = 16
    lora_alpha: int = 32


def effective_negatives(triples: Sequence[Triple], requested: int) -> int:
    """The train group: the requested count, capped at the most negatives any row has."""
    most = max((len(triple.negatives) for triple in triples), default=0)
    return min(requested, most) if most else requested


def _apply_lora(model, config: RetrieverTrainingConfig) -> None:
    """Inject LoRA adapters with peft directly (transformers' add_adapter wants a newer peft than
    PyPI has); only the adapter weights train."""
    from peft import LoraConfig, inject_adapter_in_model

    lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.1, target_modules="all-linear")
    inject_adapter_in_model(lora, model.transformers_model)


def merge_lora(model) -> None:
    """Fold LoRA weights into the base layers, so the saved model is a plain transformers model."""
    from peft.tuners.lora import LoraLayer

    transformers_model = model.transformers_model
    for name, module in list(transformers_model.named_modules()):
        if isinstance(module, LoraLayer):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            parent = transformers_model.get_submodule(parent_name) if parent_name else transformers_model
            setattr(parent, child, module.get_base_layer())
    if hasattr(transformers_model, "peft_config"):  # peft's record of the injected adapter
        del transformers_model.peft_config


def _prompts(columns: Sequence[str], config: RetrieverTrainingConfig) -> dict[str, str]:
    return {column: config.query_prompt if column == QUERY_COLUMN else config.passage_prompt for column in columns}


def train_retriever(
    config: RetrieverTrainingConfig, train: Sequence[Triple], held_out: Sequence[Triple] = ()
) -> TrainingResult:
    """Train, save the final model to ``config.out_dir`` and return what happened."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers

    check_precision(config.bf16)
    if config.batch_size < 2:
        raise ConfigError("batch size must be >= 2 (InfoNCE needs in-batch negatives)")
    out_dir = Path(config.out_dir)
    checkpoints = out_dir / CHECKPOINT_DIR
    resume_from = checkpoint_to_resume(checkpoints) if config.resume else None

    num_negatives = effective_negatives(train, config.num_negatives)
    train_dataset = to_dataset(train, num_negatives, config.seed)
    eval_dataset = to_dataset(held_out, num_negatives, config.seed) if held_out else None

    model, decoder = load_base_model(config.base)
    # Truncating in training is a cost choice (CPU); the saved model keeps the base's own length.
    inference_length = model.max_seq_length
    if config.max_seq_length is not None:
        model.max_seq_length = config.max_seq_length
    use_lora = decoder if config.lora is None else config.lora
    if use_lora:
        if config.resume:
            raise ConfigError("--resume is not supported with LoRA : LoRA checkpoints cannot be restored yet; rerun without --resume")
        _apply_lora(model, config)
    learning_rate = config.learning_rate or (1e-4 if use_lora else 2e-5)

    args = SentenceTransformerTrainingArguments(
        **trainer_arguments(config, checkpoints, learning_rate, has_eval=eval_dataset is not None),
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        prompts=_prompts(train_dataset.column_names, config),
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        loss=info_nce_loss(model, config.temperature, config.mini_batch_size),
    )
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)

    if use_lora:
        merge_lora(model)
    # Saved prompts: encode(..., prompt_name="query"/"passage") and rader eval apply them.
    # "document" is the name sentence-transformers' encode_document() looks up.
    model.prompts = {"query": config.query_prompt, "passage": config.passage_prompt, "document": config.passage_prompt}
    model.max_seq_length = inference_length
    model.save(str(out_dir))

    return finish_training(
        trainer, config, f"retriever: {config.base}", num_negatives,
        learning_rate=learning_rate, lora=use_lora, train_rows=len(train), eval_rows=len(held_out),
    )
