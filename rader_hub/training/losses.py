"""Contrastive (InfoNCE) losses for the retriever and the reranker.

InfoNCE with temperature t over cosine similarities is sentence-transformers'
MultipleNegativesRankingLoss with ``scale = 1 / t``: each query's positive competes with every
positive and hard negative in the batch. The cached (GradCache) variant gives the same loss at
large batch sizes with memory bounded by its mini-batch.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rader_hub.errors import ConfigError

PAPER_TEMPERATURE = 0.01


def _scale(temperature: float) -> float:
    if not temperature > 0:
        raise ConfigError(f"temperature must be > 0, got {temperature}")
    return 1.0 / temperature


def info_nce_loss(model, temperature: float = PAPER_TEMPERATURE, mini_batch_size: int | None = None) -> nn.Module:
    """InfoNCE with in-batch and hard negatives; ``mini_batch_size`` switches to the cached variant."""
    from sentence_transformers.sentence_transformer import losses

    if mini_batch_size is None:
        return losses.MultipleNegativesRankingLoss(model, scale=_scale(temperature))
    if mini_batch_size < 1:
        raise ConfigError(f"mini-batch size must be >= 1, got {mini_batch_size}")
    return losses.CachedMultipleNegativesRankingLoss(model, scale=_scale(temperature), mini_batch_size=mini_batch_size)


class GroupedRerankLoss(nn.Module):
    """Contrastive loss for a pointwise cross-encoder, without in-batch negatives (as the paper).

    For each (query, positive, negative_1..n) row the cross-encoder scores the n + 1 pairs
    independently; cross-entropy over those logits / temperature puts the positive first.
    """

    def __init__(self, model, temperature: float = 1.0) -> None:
        super().__init__()
        if model.num_labels != 1:
            raise ConfigError(f"the reranker needs a single-score cross-encoder (num_labels=1), got {model.num_labels}")
        self.model = model
        self.temperature = temperature
        self._scale = _scale(temperature)

    def forward(self, inputs: list[list[str]], labels: Tensor | None = None) -> Tensor:
        from sentence_transformers.util import batch_to_device

        queries, candidate_columns = inputs[0], inputs[1:]
        if len(candidate_columns) < 2:
            raise ConfigError("the reranker loss needs at least one negative per query")
        # One forward pass over all pairs: column-major, so logits reshape to (columns, batch).
        pairs = [(query, candidate) for column in candidate_columns for query, candidate in zip(queries, column)]
        features = batch_to_device(self.model.preprocess(pairs), self.model.device)
        logits = self.model(features)["scores"].view(len(candidate_columns), len(queries)).T
        target = torch.zeros(len(queries), dtype=torch.long, device=logits.device)  # positive is column 0
        return nn.functional.cross_entropy(logits * self._scale, target)

    def get_config_dict(self) -> dict[str, float]:
        return {"temperature": self.temperature}
