"""Hybrid retrieval as in the paper: S = a * z(S_dense) + (1 - a) * z(S_BM25), z per query."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rader_hub.errors import ConfigError
from rader_hub.retrieval.base import Retriever


def zscore_rows(scores: np.ndarray) -> np.ndarray:
    """Standardise each query's scores over the corpus; a constant row becomes all zeros."""
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return np.divide(scores - mean, std, out=np.zeros_like(scores, dtype=np.float64), where=std > 0)


def check_alpha(alpha: float) -> None:
    """The dense weight of the hybrid must lie in [0, 1] (0: BM25 only, 1: dense only)."""
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be between 0 and 1, got {alpha}")


class HybridRetriever(Retriever):
    """``alpha`` x dense + (1 - ``alpha``) x lexical scores, each z-normalised per query; ConfigError for an ``alpha`` outside [0, 1]."""

    name = "hybrid"

    def __init__(self, dense: Retriever, lexical: Retriever, alpha: float) -> None:
        check_alpha(alpha)
        if dense.corpus is not lexical.corpus:
            raise ValueError("hybrid retrieval needs both retrievers over the same corpus object")
        super().__init__(dense.corpus)
        self.dense = dense
        self.lexical = lexical
        self.alpha = alpha

    def score(self, queries: Sequence[str]) -> np.ndarray:
        """The weighted sum of both retrievers' per-query z-scores, shape (len(queries), len(corpus))."""
        dense = zscore_rows(self.dense.score(queries).astype(np.float64))
        lexical = zscore_rows(self.lexical.score(queries).astype(np.float64))
        return self.alpha * dense + (1.0 - self.alpha) * lexical
