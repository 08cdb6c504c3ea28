"""Train a pointwise cross-encoder reranker contrastively on (query, positive, negatives).

As in the paper the loss has no in-batch negatives: each query's positive competes with its own
hard negatives only (``GroupedRerankLoss``). The base is any transformers encoder; ``embedded``
starts from MiniLM's weights with a fresh one-score head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rader_hub.assets import resolve_embedder
from rader_hub.errors import AssetError, ConfigError
from rader_hub.training.data import Triple, to_dataset
from rader_hub.training.losses import GroupedRerankLoss
from rader_hub.training.retriever import effective_negatives
from rader_hub.training.runtime import CHECKPOINT_DIR, TrainingResult, TrainingRunConfig, check_precision, checkpoint_to_resume, finish_training, trainer_arguments

DEFAULT_RERANK_NEGATIVES = 7


@dataclass
class RerankerTrainingConfig(TrainingRunConfig):
    num_negatives: int = DEFAULT_RERANK_NEGATIVES
    temperature: float = 1.0  # cross-encoder logits are unbounded, unlike cosine similarities
    batch_size: int = 8
    learning_rate: float = 2e-5
    max_seq_length: int = 256


def load_cross_encoder(base: str, max_seq_length: int):
    from sentence_transformers import CrossEncoder

    location = resolve_embedder(base).location
    try:
        return CrossEncoder(location, num_labels=1, max_length=max_seq_length)
    except (OSError, ValueError) as exc:
        raise AssetError(f"reranker base model '{base}' cannot be found or loaded: {str(exc).splitlines()[0]}") from exc


def train_reranker(config: RerankerTrainingConfig, train: Sequence[Triple], held_out: Sequence[Triple] = ()) -> TrainingResult:
    """Train, save the cross-encoder to ``config.out_dir`` and return what happened."""
    from sentence_transformers import CrossEncoderTrainer, CrossEncoderTrainingArguments

    check_precision(config.bf16)
    num_negatives = effective_negatives(train, config.num_negatives)
    if num_negatives < 1:
        raise ConfigError("the reranker needs at least one hard negative per query")
    out_dir = Path(config.out_dir)
    checkpoints = out_dir / CHECKPOINT_DIR
    resume_from = checkpoint_to_resume(checkpoints) if config.resume else None
    train_dataset = to_dataset(train, num_negatives, config.seed)
    eval_dataset = to_dataset(held_out, num_negatives, config.seed) if held_out else None

    model = load_cross_encoder(config.base, config.max_seq_length)
    args = CrossEncoderTrainingArguments(
        **trainer_arguments(config, checkpoints, config.learning_rate, has_eval=eval_dataset is not None)
    )
    trainer = CrossEncoderTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        loss=GroupedRerankLoss(model, config.temperature),
    )
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    model.save(str(out_dir))

    return finish_training(
        trainer, config, f"reranker: {config.base}", num_negatives, train_rows=len(train), eval_rows=len(held_out)
    )
