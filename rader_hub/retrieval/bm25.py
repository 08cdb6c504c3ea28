"""Lexical retrieval with bm25s."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import bm25s
import numpy as np

from rader_hub.corpus import Corpus
from rader_hub.retrieval.base import Retriever

# Defaults reproduce the published TheoremQA baseline (nDCG@10 0.540): Lucene BM25,
# k1 1.5, b 0.75, English stopwords, no stemming.
DEFAULT_K1 = 1.5
DEFAULT_B = 0.75
DEFAULT_METHOD = "lucene"
DEFAULT_STOPWORDS = "en"
# pyserini's BM25 defaults, on which the official RaDeR code defined its BM25 filters and windows
# (q_lexical round trip, negatives from ranks 31-50): the paper recipes use these.
PYSERINI_K1 = 0.9
PYSERINI_B = 0.4

# bm25s sets its own logger to DEBUG, which leaks index-building chatter into every command.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class BM25Retriever(Retriever):
    """BM25 over the corpus (bm25s); the defaults reproduce the published TheoremQA baseline (Lucene, k1 1.5, b 0.75)."""

    name = "bm25"

    def __init__(
        self,
        corpus: Corpus,
        k1: float = DEFAULT_K1,
        b: float = DEFAULT_B,
        method: str = DEFAULT_METHOD,
        stopwords: str | None = DEFAULT_STOPWORDS,
    ) -> None:
        super().__init__(corpus)
        self.stopwords = stopwords
        self._index = bm25s.BM25(k1=k1, b=b, method=method)
        tokens = bm25s.tokenize(corpus.texts, stopwords=stopwords, show_progress=False)
        self._index.index(tokens, show_progress=False)

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Token strings as the index sees them (queries are mapped to the corpus vocabulary)."""
        return bm25s.tokenize(list(texts), stopwords=self.stopwords, return_ids=False, show_progress=False)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        """BM25 scores, shape (len(queries), len(corpus)); a query with no indexed term scores 0 everywhere."""
        vocabulary = self._index.vocab_dict
        scores = np.zeros((len(queries), len(self.corpus)), dtype=np.float32)
        for row, tokens in enumerate(self.tokenize(queries)):
            known = [token for token in tokens if token in vocabulary]
            if known:  # a query with no indexed term scores 0 everywhere
                scores[row] = self._index.get_scores(known)
        return scores
