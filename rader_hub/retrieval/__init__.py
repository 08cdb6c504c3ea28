"""Retrievers over a fixed corpus: BM25, dense (sentence-transformers) and their hybrid.

The retriever classes are imported on first use, so importing this package (the CLI does, for
``RetrieverKind``) does not load bm25s, scipy or sentence-transformers.
"""

from __future__ import annotations

import importlib
from enum import Enum
from typing import TYPE_CHECKING, Any

from rader_hub.assets import EMBEDDED

if TYPE_CHECKING:
    from rader_hub.corpus import Corpus
    from rader_hub.retrieval.base import Retriever

_EXPORTS = {
    "BM25Retriever": "rader_hub.retrieval.bm25",
    "DenseRetriever": "rader_hub.retrieval.dense",
    "HybridRetriever": "rader_hub.retrieval.hybrid",
    "Ranking": "rader_hub.retrieval.base",
    "Retriever": "rader_hub.retrieval.base",
}
__all__ = sorted([*_EXPORTS, "DEFAULT_HYBRID_ALPHA", "RetrieverKind", "build_retriever"])

DEFAULT_HYBRID_ALPHA = 0.8  # the paper's value on non-math splits (1.0 on math)


class RetrieverKind(str, Enum):
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rader_hub.retrieval' has no attribute '{name}'")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def build_retriever(
    kind: RetrieverKind | str,
    corpus: Corpus,
    model: str = EMBEDDED,
    alpha: float = DEFAULT_HYBRID_ALPHA,
    show_progress: bool = False,
    query_prompt: str | None = None,
) -> Retriever:
    """Build a retriever by kind; ``model`` is the embedder for dense and hybrid, ``query_prompt``
    replaces its saved query prompt."""
    from rader_hub.retrieval.bm25 import BM25Retriever
    from rader_hub.retrieval.dense import DenseRetriever
    from rader_hub.retrieval.hybrid import HybridRetriever

    kind = RetrieverKind(kind)
    if kind is RetrieverKind.bm25:
        return BM25Retriever(corpus)
    dense = DenseRetriever(corpus, model=model, show_progress=show_progress, query_prompt=query_prompt)
    if kind is RetrieverKind.dense:
        return dense
    return HybridRetriever(dense, BM25Retriever(corpus), alpha=alpha)
