from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rader_hub.corpus import Corpus
from rader_hub.errors import ConfigError
from rader_hub.retrieval import BM25Retriever, DenseRetriever, HybridRetriever, build_retriever
from rader_hub.retrieval.base import Retriever
from rader_hub.retrieval.hybrid import zscore_rows


class FixedScores(Retriever):
    """A retriever whose scores are given, to test ranking and fusion arithmetic exactly."""

    name = "fixed"

    def __init__(self, corpus: Corpus, scores: list[list[float]]) -> None:
        super().__init__(corpus)
        self.scores = np.asarray(scores, dtype=np.float32)

    def score(self, queries):
        return self.scores[: len(queries)]


def test_bm25_ranks_the_lexical_match_first(tiny_corpus: Corpus) -> None:
    rankings = BM25Retriever(tiny_corpus).search(["hypotenuse of a right triangle", "prime modulo"], top_k=2)
    assert rankings[0][0][0] == "pythagoras"
    assert rankings[1][0][0] == "fermat-little"
    assert len(rankings[0]) == 2 and rankings[0][0][1] > rankings[0][1][1]


def test_bm25_query_without_known_terms_scores_zero(tiny_corpus: Corpus) -> None:
    assert not BM25Retriever(tiny_corpus).score(["zzzz qqqq", "the"]).any()


def test_search_honours_excluded_ids_and_breaks_ties_by_corpus_order(tiny_corpus: Corpus) -> None:
    retriever = FixedScores(tiny_corpus, [[1.0, 1.0, 3.0, 1.0]])
    assert [doc for doc, _ in retriever.search(["q"], top_k=3)[0]] == ["bayes", "pigeonhole", "pythagoras"]
    excluded = retriever.search(["q"], top_k=3, exclude=[frozenset({"bayes"})])[0]
    assert [doc for doc, _ in excluded] == ["pigeonhole", "pythagoras", "fermat-little"]


def test_zscore_rows_standardises_each_query_and_zeroes_constant_rows() -> None:
    z = zscore_rows(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    assert z[0] == pytest.approx([-1.224744871, 0.0, 1.224744871])
    assert not z[1].any()


def test_hybrid_is_the_alpha_weighted_sum_of_zscores(tiny_corpus: Corpus) -> None:
    dense = FixedScores(tiny_corpus, [[0.9, 0.1, 0.2, 0.3]])
    lexical = FixedScores(tiny_corpus, [[0.0, 10.0, 0.0, 0.0]])
    hybrid = HybridRetriever(dense, lexical, alpha=0.25)
    expected = 0.25 * zscore_rows(dense.scores.astype(float)) + 0.75 * zscore_rows(lexical.scores.astype(float))
    assert hybrid.score(["q"]) == pytest.approx(expected)
    assert hybrid.search(["q"], top_k=1)[0][0][0] == "pythagoras"
    assert HybridRetriever(dense, lexical, alpha=1.0).search(["q"], top_k=1)[0][0][0] == "pigeonhole"


def test_hybrid_rejects_alpha_outside_unit_interval(tiny_corpus: Corpus) -> None:
    dense = FixedScores(tiny_corpus, [[0.0] * 4])
    with pytest.raises(ConfigError, match="alpha must be between 0 and 1, got 1.5"):
        HybridRetriever(dense, dense, alpha=1.5)


def test_dense_retrieves_by_meaning_and_caches_corpus_embeddings(tiny_corpus: Corpus, isolated_cache: Path) -> None:
    first = DenseRetriever(tiny_corpus)
    assert not first.cache_hit
    assert list(isolated_cache.rglob("*.npy"))
    top = first.search(["How likely is the hypothesis after seeing the evidence?"], top_k=1)[0][0][0]
    assert top == "bayes"

    second = DenseRetriever(tiny_corpus)
    assert second.cache_hit
    np.testing.assert_array_equal(first.doc_embeddings, second.doc_embeddings)


def test_dense_cache_misses_when_corpus_changes(tiny_corpus: Corpus) -> None:
    DenseRetriever(tiny_corpus)
    smaller = Corpus(tiny_corpus.documents[:3], source="smaller")
    assert not DenseRetriever(smaller).cache_hit


def test_build_retriever_kinds(tiny_corpus: Corpus) -> None:
    assert isinstance(build_retriever("bm25", tiny_corpus), BM25Retriever)
    hybrid = build_retriever("hybrid", tiny_corpus, alpha=0.5)
    assert isinstance(hybrid, HybridRetriever) and hybrid.alpha == 0.5
    with pytest.raises(ValueError):
        build_retriever("splade", tiny_corpus)
