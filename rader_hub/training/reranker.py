"""Train a pointwise cross-encoder reranker contrastively on (query, positive, negatives).

As in the paper the loss has no in-batch negatives: each query's positive competes with its own
hard negatives only (``GroupedRerankLoss``). The base is any transformers encoder; ``embedded``
starts from MiniLM's weights with a fresh one-score head.
"""

from __future__ import annotations

from rader_hub.assets import resolve_embedder
from rader_hub.errors import AssetError
from rader_hub.training.config import RerankerTrainingConfig
from rader_hub.training.data import DataInput, TrainingData
from rader_hub.training.losses import GroupedRerankLoss
from rader_hub.training.runtime import TrainingResult, finish_training, prepare_run, save_model, trainer_arguments


def load_cross_encoder(base: str, max_seq_length: int):
    from sentence_transformers import CrossEncoder

    location = resolve_embedder(base).location
    try:
        return CrossEncoder(location, num_labels=1, max_length=max_seq_length)
    except (OSError, ValueError) as exc:
        raise AssetError(f"reranker base model '{base}' cannot be found or loaded: {str(exc).splitlines()[0]}") from exc


def train_reranker(config: RerankerTrainingConfig, data: DataInput | TrainingData) -> TrainingResult:
    """Train a cross-encoder on ``data`` (as ``train_retriever`` takes it), save it to
    ``config.out_dir`` and return what happened."""
    from sentence_transformers import CrossEncoderTrainer, CrossEncoderTrainingArguments

    run = prepare_run(config, data)

    model = load_cross_encoder(config.base, config.max_seq_length)
    args = CrossEncoderTrainingArguments(**trainer_arguments(config, config.learning_rate, has_eval=run.eval_dataset is not None))
    trainer = CrossEncoderTrainer(
        model=model,
        args=args,
        train_dataset=run.train_dataset,
        eval_dataset=run.eval_dataset,
        loss=GroupedRerankLoss(model, config.temperature),
    )
    trainer.train(resume_from_checkpoint=run.resume_from)
    save_model(trainer, model, config.out_dir)

    return finish_training(trainer, config, run, f"reranker: {config.base}")
