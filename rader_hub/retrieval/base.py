"""The retriever interface: a batch of queries in, ranked (id, score) lists out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from rader_hub.corpus import Corpus

Ranking = list[tuple[str, float]]
"""Document ids with scores, best first."""

QUERY_BATCH = 256  # bounds the (queries x corpus) score matrix held at once


class Retriever(ABC):
    """Scores every document of a fixed corpus for each query.

    Subclasses implement ``score``; ``search`` ranks on top of it, so hybrid fusion can work
    on full score vectors rather than truncated lists.
    """

    name: str

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    @abstractmethod
    def score(self, queries: Sequence[str]) -> np.ndarray:
        """Relevance scores, shape (len(queries), len(corpus)), in corpus order."""

    def search(self, queries: Sequence[str], top_k: int = 10, exclude: Sequence[frozenset[str]] | None = None) -> list[Ranking]:
        """Top ``top_k`` documents per query; ``exclude[i]`` ids are never returned for query i."""
        if exclude is not None and len(exclude) != len(queries):
            raise ValueError("exclude must have one entry per query")
        ids = self.corpus.ids
        rankings: list[Ranking] = []
        for start in range(0, len(queries), QUERY_BATCH):
            scores = self.score(queries[start : start + QUERY_BATCH])
            for offset, row in enumerate(scores):
                excluded = exclude[start + offset] if exclude is not None else frozenset()
                rankings.append(_top_k(row, ids, top_k, excluded))
        return rankings


def _top_k(scores: np.ndarray, ids: list[str], top_k: int, excluded: frozenset[str]) -> Ranking:
    wanted = min(len(ids), top_k + len(excluded))
    # Partition, then a stable sort of the candidates in corpus order: equal scores rank by
    # corpus position, so results are deterministic.
    if wanted < len(ids):
        candidates = np.sort(np.argpartition(-scores, wanted - 1)[:wanted])
    else:
        candidates = np.arange(len(ids))
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    ranking = [(ids[i], float(scores[i])) for i in order if ids[i] not in excluded]
    return ranking[:top_k]
