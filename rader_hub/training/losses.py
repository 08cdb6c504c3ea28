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
from rader_hub.training.config import PAPER_TEMPERATURE


def _scale(temperature: float) -> float:
    if not temperature > 0:
        raise ConfigError(f"temperature must be > 0, got {temperature}")
    return 1.0 / temperature


def info_nce_loss(
    model, temperature: float = PAPER_TEMPERATURE, mini_batch_size: int = 0, gather_across_devices: bool = False
) -> nn.Module:
    """The retriever's loss: InfoNCE over in-batch and hard negatives, as the paper trains RaDeR.

    For each query, the cosine similarity to its positive divided by ``temperature`` competes in one
    softmax with its similarity to every other passage in the batch: the other queries' positives
    (in-batch negatives) and all hard negatives of the batch. This is sentence-transformers'
    ``MultipleNegativesRankingLoss`` with ``scale = 1 / temperature``; nothing is re-implemented.

    Args:
        model: the SentenceTransformer being trained.
        temperature: softmax temperature (paper: 0.01, i.e. scale 100). Must be > 0.
        mini_batch_size: when positive, ``CachedMultipleNegativesRankingLoss`` (GradCache) with
            chunks of this many texts: the same loss and gradients, with memory bounded by the chunk
            instead of the batch, for a second forward pass. 0: the plain loss. Must be >= 0.
        gather_across_devices: under several processes (torchrun, accelerate launch), every
            process's queries and passages join each query's softmax (the paper's in-batch
            negatives shared across devices), gradients flowing through the gathered embeddings.

    Inputs:
        +-------------------------------------------------+--------+
        | Inputs                                          | Labels |
        +=================================================+========+
        | (query, positive) pairs                         | none   |
        +-------------------------------------------------+--------+
        | (query, positive, negative_1, ..., negative_n)  | none   |
        +-------------------------------------------------+--------+

        The columns are those ``rader_hub.training.data.to_dataset`` builds: ``query``,
        ``positive``, ``negative_1`` .. ``negative_n`` (n = the paper's "train group" less one).

    Recommendations:
        - Batches without duplicate texts (``BatchSamplers.NO_DUPLICATES``, as ``train_retriever``
          uses), so a query never meets its own positive as an in-batch negative.

    Relations:
        - ``GroupedRerankLoss`` is the same contrastive objective for a cross-encoder, without
          in-batch negatives.

    Example:
        ::

            from datasets import Dataset
            from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
            from rader_hub.training.losses import info_nce_loss

            model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
            train_dataset = Dataset.from_dict({
                "query": ["What is 2^100 modulo 101?"],
                "positive": ["Fermat's little theorem: if p is prime, a^(p-1) = 1 (mod p)."],
                "negative_1": ["Pigeonhole principle: n items in m < n boxes share a box."],
            })
            trainer = SentenceTransformerTrainer(model=model, train_dataset=train_dataset, loss=info_nce_loss(model, 0.05))
            trainer.train()

    Citation:
        Das, O'Nuallain and Rahimi (2025), "RaDeR: Reasoning-aware Dense Retrieval Models" (the
        training setting). van den Oord, Li and Vinyals (2018), "Representation Learning with
        Contrastive Predictive Coding" (InfoNCE). Gao, Zhang, Han and Callan (2021), "Scaling Deep
        Contrastive Learning Batch Size under Memory Limited Setup" (GradCache, the cached variant).
    """
    from sentence_transformers.sentence_transformer import losses

    scale = _scale(temperature)
    if mini_batch_size < 0:
        raise ConfigError(f"mini_batch_size must be >= 0, got {mini_batch_size}", field="mini_batch_size")
    if mini_batch_size == 0:
        return losses.MultipleNegativesRankingLoss(model, scale=scale, gather_across_devices=gather_across_devices)
    return losses.CachedMultipleNegativesRankingLoss(
        model, scale=scale, mini_batch_size=mini_batch_size, gather_across_devices=gather_across_devices
    )


class GroupedRerankLoss(nn.Module):
    """The reranker's loss: contrastive over each query's own candidates, without in-batch negatives.

    For each (query, positive, negative_1, ..., negative_n) row the cross-encoder scores the n + 1
    (query, candidate) pairs independently (a pointwise reranker); cross-entropy over those n + 1
    logits divided by ``temperature`` puts the positive first. Other rows' passages never enter a
    query's softmax, as in the paper's reranker training. All pairs of a batch go through the model
    in one forward pass.

    Args:
        model: a sentence-transformers ``CrossEncoder`` with one output score (``num_labels=1``).
        temperature: the logits are divided by it before the softmax (default 1.0: cross-encoder
            logits are unbounded, unlike cosine similarities). Must be > 0.

    Inputs:
        +-------------------------------------------------+--------+-------------------------------+
        | Inputs                                          | Labels | Number of Model Output Labels |
        +=================================================+========+===============================+
        | (query, positive, negative_1, ..., negative_n)  | none   | 1                             |
        +-------------------------------------------------+--------+-------------------------------+

        At least one negative per row: a lone positive has nothing to compete with.

    Relations:
        - sentence-transformers' cross-encoder ``MultipleNegativesRankingLoss`` adds sampled in-batch
          negatives and cannot sample none (``num_negatives=0`` fails), which is why this loss exists.
        - ``info_nce_loss`` is the same objective for the bi-encoder, with in-batch negatives.

    Example:
        ::

            from datasets import Dataset
            from sentence_transformers import CrossEncoder, CrossEncoderTrainer
            from rader_hub.training.losses import GroupedRerankLoss

            model = CrossEncoder("sentence-transformers/all-MiniLM-L6-v2", num_labels=1)
            train_dataset = Dataset.from_dict({
                "query": ["What is 2^100 modulo 101?"],
                "positive": ["Fermat's little theorem: if p is prime, a^(p-1) = 1 (mod p)."],
                "negative_1": ["Pigeonhole principle: n items in m < n boxes share a box."],
            })
            trainer = CrossEncoderTrainer(model=model, train_dataset=train_dataset, loss=GroupedRerankLoss(model))
            trainer.train()

    Citation:
        Das, O'Nuallain and Rahimi (2025), "RaDeR: Reasoning-aware Dense Retrieval Models".
    """

    def __init__(self, model, temperature: float = 1.0) -> None:
        super().__init__()
        if model.num_labels != 1:
            raise ConfigError(f"the reranker needs a single-score cross-encoder (num_labels=1), got {model.num_labels}")
        self.model = model
        self.temperature = temperature
        self._scale = _scale(temperature)

    def forward(self, inputs: list[list[str]], labels: Tensor | None = None, prompt: str | None = None, task: str | None = None) -> Tensor:
        """``prompt`` and ``task`` are the trainer's, passed on to the model's preprocessing."""
        from sentence_transformers.util import batch_to_device

        queries, candidate_columns = inputs[0], inputs[1:]
        if len(candidate_columns) < 2:
            raise ConfigError("the reranker loss needs at least one negative per query")
        # One forward pass over all pairs: column-major, so logits reshape to (columns, batch).
        pairs = [(query, candidate) for column in candidate_columns for query, candidate in zip(queries, column)]
        features = batch_to_device(self.model.preprocess(pairs, prompt=prompt, task=task), self.model.device)
        logits = self.model(features)["scores"].view(len(candidate_columns), len(queries)).T
        target = torch.zeros(len(queries), dtype=torch.long, device=logits.device)  # positive is column 0
        return nn.functional.cross_entropy(logits * self._scale, target)

    def get_config_dict(self) -> dict[str, float]:
        return {"temperature": self.temperature}
