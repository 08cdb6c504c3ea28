"""Train a pointwise cross-encoder reranker contrastively on (query, positive, negatives).

As in the paper the loss has no in-batch negatives: each query's positive competes with its own
hard negatives only (``GroupedRerankLoss``). The base is any transformers encoder (``embedded``
starts from MiniLM's weights with a fresh one-score head) or, as the paper's reranker, a decoder
LLM (a ``*ForCausalLM`` checkpoint or a ``.gguf``): transformers' sequence-classification model
for it puts a linear head on the last token's state, and an EOS is appended to every pair so that
the head reads the EOS state; decoders train with LoRA, the head in full.
"""

from __future__ import annotations

from typing import Any

from rader_hub.errors import AssetError, ConfigError
from rader_hub.training.base_model import detach_gguf_quantizer, is_decoder_base, resolve_base
from rader_hub.training.config import FULL_FINE_TUNING_LEARNING_RATE, LORA_LEARNING_RATE, RerankerTrainingConfig
from rader_hub.training.data import DataInput, TrainingData
from rader_hub.training.lora import apply_lora, merge_lora
from rader_hub.training.losses import GroupedRerankLoss
from rader_hub.training.pair_format import PairFormat
from rader_hub.training.runtime import TrainingResult, finish_training, prepare_run, save_model, trainer_arguments


def load_cross_encoder(base: str, max_seq_length: int) -> tuple[Any, bool]:
    """Load a one-score CrossEncoder on ``base`` and say whether it is a decoder LLM.

    A decoder's tokenizer gets an EOS appended to every pair (the head reads its state) and a pad
    token other than EOS.

    Args:
        base: A Hub model id, a model folder, a ``.gguf`` file, or ``embedded`` (MiniLM's weights
            with a fresh score head).
        max_seq_length: The longest (query, document) pair in tokens; longer pairs are truncated.

    Returns:
        `tuple`: the CrossEncoder and ``True`` when ``base`` is a decoder LLM (trained with LoRA by default).

    Raises:
        AssetError: The base cannot be found or loaded, a decoder's tokenizer has no special token
            to pad with besides EOS, or a GGUF base keeps quantised weights.
    """
    from sentence_transformers import CrossEncoder

    from rader_hub.training.base_model import append_eos

    spec = resolve_base(base)
    gguf = {"gguf_file": spec.gguf_file} if spec.gguf_file else {}
    try:
        model = CrossEncoder(
            spec.location,
            num_labels=1,
            max_length=max_seq_length,
            model_kwargs=dict(gguf),
            processor_kwargs=dict(gguf),
            config_kwargs=dict(gguf),
        )
    except (OSError, ValueError) as exc:
        raise AssetError(f"reranker base model '{base}' cannot be found or loaded: {str(exc).splitlines()[0]}") from exc
    decoder = is_decoder_base(spec)
    if decoder:
        classifier = model[0].model
        if spec.gguf_file:
            detach_gguf_quantizer(classifier)
        # "query: q document: d" then EOS: one text, so no EOS between the two.
        append_eos(model.tokenizer, between_pair=False)
        _pad_apart_from_eos(model.tokenizer, classifier.config)
    return model, decoder


def _pad_apart_from_eos(tokenizer: Any, config: Any) -> None:
    """The classification head reads the last token that is not padding: with padding written as EOS
    (decoders often have no pad token of their own) it would skip the appended EOS."""
    if tokenizer.pad_token_id == tokenizer.eos_token_id:
        others = [token for token in tokenizer.all_special_tokens if token != tokenizer.eos_token]
        if not others:
            raise AssetError("the reranker's tokenizer has no special token besides EOS to pad with")
        tokenizer.pad_token = others[0]
    config.pad_token_id = tokenizer.pad_token_id


def _formatted(dataset: Any, pairs: PairFormat) -> Any:
    """The query column and every passage column (positive, negative_*) with the pair format's prefixes."""
    if pairs == PairFormat():
        return dataset

    def add_prefixes(row: dict[str, str]) -> dict[str, str]:
        return {column: (pairs.query_prefix if column == "query" else pairs.document_prefix) + text for column, text in row.items()}

    return dataset.map(add_prefixes)


def train_reranker(config: RerankerTrainingConfig, data: DataInput | TrainingData) -> TrainingResult:
    """Train a cross-encoder reranker on ``data``, save it to ``config.out_dir`` and return what happened.

    Each query's positive competes with its own hard negatives only (no in-batch negatives). The
    pair format (``config.query_prefix``, ``config.document_prefix``) is saved with the model, so
    reranking formats pairs the same way. Bad data or settings fail before any model is loaded.

    Args:
        config: The run's settings; see `RerankerTrainingConfig` for each field and its default.
        data: The training data, as `train_retriever` takes it (rows need at least one negative).

    Returns:
        `TrainingResult`: the output folder, steps, rows, final losses and loss curve.

    Raises:
        DataError: The data cannot be read or selected (as for `train_retriever`), or a row has no
            hard negative.
        ConfigError: ``bf16`` without a GPU that supports it, ``resume`` without a complete
            checkpoint or together with LoRA, or an ``effective_batch_size`` that does not divide.
        AssetError: The base model cannot be found or loaded as a cross-encoder.
    """
    from sentence_transformers import CrossEncoderTrainer, CrossEncoderTrainingArguments

    run = prepare_run(config, data)

    model, decoder = load_cross_encoder(config.base, config.max_seq_length)
    use_lora = decoder if config.lora is None else config.lora
    if use_lora:
        if config.resume:
            raise ConfigError("resume is not supported with LoRA: LoRA checkpoints cannot be restored yet; rerun without resume")
        classifier = model[0].model
        apply_lora(classifier, config.lora_rank, config.lora_alpha, config.lora_dropout, config.lora_target_modules)
        for parameter in classifier.score.parameters() if hasattr(classifier, "score") else []:
            parameter.requires_grad_(True)  # a new head: trained in full beside the adapters
    learning_rate = config.learning_rate or (LORA_LEARNING_RATE if use_lora else FULL_FINE_TUNING_LEARNING_RATE)
    pairs = PairFormat(config.query_prefix, config.document_prefix)
    args = CrossEncoderTrainingArguments(**trainer_arguments(config, learning_rate, has_eval=run.eval_dataset is not None))
    trainer = CrossEncoderTrainer(
        model=model,
        args=args,
        train_dataset=_formatted(run.train_dataset, pairs),
        eval_dataset=_formatted(run.eval_dataset, pairs) if run.eval_dataset is not None else None,
        loss=GroupedRerankLoss(model, config.temperature),
    )
    trainer.train(resume_from_checkpoint=run.resume_from)
    if use_lora:
        merge_lora(model[0].model)
    save_model(trainer, model, config.out_dir)
    if trainer.is_world_process_zero():
        pairs.save(config.out_dir)

    return finish_training(trainer, config, run, f"reranker: {config.base}", learning_rate=learning_rate, lora=use_lora)
