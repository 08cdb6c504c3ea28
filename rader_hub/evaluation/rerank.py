"""Retrieve, then rerank: a cross-encoder reorders the first stage's top ``depth`` documents.

Documents below the depth keep the first stage's order, under every reranked one, so metrics
at any cut-off see one consistent ranking (BRIGHT reranks the top 100).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rader_hub.errors import AssetError, ConfigError
from rader_hub.retrieval.base import Ranking, Retriever
from rader_hub.training.pair_format import PairFormat, pair_format

DEFAULT_RERANK_DEPTH = 100


@dataclass(frozen=True)
class Reranker:
    """A cross-encoder and the way the pairs it was trained on were written (``PairFormat``)."""

    model: Any
    pairs: PairFormat = PairFormat()

    def predict(self, pairs: Sequence[tuple[str, str]], **options: Any) -> np.ndarray:
        """One score per (query, document) pair; ``options`` go to ``CrossEncoder.predict``."""
        return self.model.predict([self.pairs.pair(query, document) for query, document in pairs], **options)


def load_reranker(name: str) -> Reranker:
    """Load a sentence-transformers CrossEncoder from a path or Hub id, with the pair format saved beside it.

    Args:
        name: A folder `rader train reranker` wrote, or a Hub model id.

    Returns:
        `Reranker`: the cross-encoder and the query and document prefixes it was trained with.

    Raises:
        AssetError: The model cannot be found or loaded.
    """
    from sentence_transformers import CrossEncoder

    try:
        return Reranker(CrossEncoder(name), pair_format(name))
    except (OSError, ValueError) as exc:
        raise AssetError(f"cannot load reranker '{name}': {str(exc).splitlines()[0]}") from exc


class RerankingRetriever(Retriever):
    """A first-stage retriever whose top ``depth`` documents per query a cross-encoder reorders.

    Raises ConfigError when ``depth`` is below 1.
    """

    name = "rerank"

    def __init__(
        self,
        first_stage: Retriever,
        reranker: Reranker,
        depth: int = DEFAULT_RERANK_DEPTH,
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> None:
        if depth < 1:
            raise ConfigError(f"rerank depth must be >= 1, got {depth}")
        super().__init__(first_stage.corpus)
        self.first_stage = first_stage
        self.reranker = reranker
        self.depth = depth
        self.batch_size = batch_size
        self.show_progress = show_progress

    def search(self, queries: Sequence[str], top_k: int = 10, exclude: Sequence[frozenset[str]] | None = None) -> list[Ranking]:
        """The first stage's rankings with their top ``depth`` reordered by the reranker's scores, cut at ``top_k``."""
        first = self.first_stage.search(queries, top_k=max(top_k, self.depth), exclude=exclude)
        # One predict call over every (query, document) pair: batches fill up across queries.
        pairs = [(query, self.corpus[doc_id].full_text) for query, ranking in zip(queries, first) for doc_id, _ in ranking[: self.depth]]
        scores = iter(
            np.asarray(
                self.reranker.predict(pairs, batch_size=self.batch_size, show_progress_bar=self.show_progress), dtype=np.float64
            ).ravel()
        )
        reranked = []
        for ranking in first:
            head = [(doc_id, float(next(scores))) for doc_id, _ in ranking[: self.depth]]
            head.sort(key=lambda item: -item[1])  # stable: ties keep first-stage order
            floor = head[-1][1] if head else 0.0
            tail = [(doc_id, floor - 1.0 - position) for position, (doc_id, _) in enumerate(ranking[self.depth :])]
            reranked.append((head + tail)[:top_k])
        return reranked

    def score(self, queries: Sequence[str]) -> np.ndarray:
        """Scores consistent with ``search``: documents outside the first stage's top depth rank below."""
        position = {doc_id: index for index, doc_id in enumerate(self.corpus.ids)}
        matrix = np.empty((len(queries), len(self.corpus)), dtype=np.float64)
        for row, ranking in enumerate(self.search(queries, top_k=len(self.corpus))):
            for doc_id, value in ranking:
                matrix[row, position[doc_id]] = value
        return matrix
