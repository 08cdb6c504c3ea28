from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rader_hub.assets import resolve_embedder
from rader_hub.corpus import Corpus, Document
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


def test_dense_cache_misses_when_a_document_is_edited(tiny_corpus: Corpus) -> None:
    first = DenseRetriever(tiny_corpus)
    # Same size and ids, one text changed: only the content fingerprint can tell the corpora apart.
    documents = list(tiny_corpus.documents)
    documents[2] = Document(documents[2].id, "Every even number greater than two is the sum of two primes.", documents[2].title)
    edited = DenseRetriever(Corpus(documents, source="edited"))
    assert not edited.cache_hit
    assert not np.allclose(edited.doc_embeddings[2], first.doc_embeddings[2], atol=1e-2)
    unchanged = [0, 1, 3]
    np.testing.assert_allclose(edited.doc_embeddings[unchanged], first.doc_embeddings[unchanged], atol=1e-5)


def test_dense_encodes_with_the_prompts_saved_in_the_model(tiny_corpus: Corpus, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(resolve_embedder().location)
    prompted = SentenceTransformer(resolve_embedder().location, prompts={"query": "Query: ", "document": "Passage: "})
    prompted.save(str(tmp_path / "prompted"))
    retriever = DenseRetriever(tiny_corpus, model=str(tmp_path / "prompted"))

    documents = plain.encode(["Passage: " + text for text in tiny_corpus.texts], normalize_embeddings=True)
    np.testing.assert_allclose(retriever.doc_embeddings, documents, atol=1e-5)
    question = "What is the chance that a positive test is real?"
    expected = plain.encode(["Query: " + question], normalize_embeddings=True) @ documents.T
    np.testing.assert_allclose(retriever.score([question]), expected, atol=1e-5)
    assert not np.allclose(retriever.score([question]), plain.encode([question], normalize_embeddings=True) @ documents.T, atol=1e-3)


def test_build_retriever_kinds(tiny_corpus: Corpus) -> None:
    assert isinstance(build_retriever("bm25", tiny_corpus), BM25Retriever)
    hybrid = build_retriever("hybrid", tiny_corpus, alpha=0.5)
    assert isinstance(hybrid, HybridRetriever) and hybrid.alpha == 0.5
    with pytest.raises(ValueError, match="'splade' is not a valid RetrieverKind"):
        build_retriever("splade", tiny_corpus)
