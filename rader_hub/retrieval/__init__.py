"""Retrievers over a fixed corpus: BM25, dense (sentence-transformers) and their hybrid."""

from __future__ import annotations

from enum import Enum

from rader_hub.assets import EMBEDDED
from rader_hub.corpus import Corpus
from rader_hub.retrieval.base import Ranking, Retriever
from rader_hub.retrieval.bm25 import BM25Retriever
from rader_hub.retrieval.dense import DenseRetriever
from rader_hub.retrieval.hybrid import HybridRetriever

__all__ = ["BM25Retriever", "DenseRetriever", "HybridRetriever", "Ranking", "Retriever", "RetrieverKind", "build_retriever"]

DEFAULT_HYBRID_ALPHA = 0.8  # the paper's value on non-math splits (1.0 on math)


class RetrieverKind(str, Enum):
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"


def build_retriever(
    kind: RetrieverKind | str,
    corpus: Corpus,
    model: str = EMBEDDED,
    alpha: float = DEFAULT_HYBRID_ALPHA,
    show_progress: bool = False,
) -> Retriever:
    """Build a retriever by kind; ``model`` is the embedder for dense and hybrid."""
    kind = RetrieverKind(kind)
    if kind is RetrieverKind.bm25:
        return BM25Retriever(corpus)
    dense = DenseRetriever(corpus, model=model, show_progress=show_progress)
    if kind is RetrieverKind.dense:
        return dense
    return HybridRetriever(dense, BM25Retriever(corpus), alpha=alpha)
