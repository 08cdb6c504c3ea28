"""Run a retriever over evaluation queries and score it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rader_hub.assets import EMBEDDED
from rader_hub.corpus import Corpus
from rader_hub.errors import DataError
from rader_hub.evaluation.metrics import mean_metrics, per_query_metrics, run_from_rankings
from rader_hub.evaluation.rerank import DEFAULT_RERANK_DEPTH, RerankingRetriever
from rader_hub.queries import EvalQuery
from rader_hub.retrieval import DEFAULT_HYBRID_ALPHA, RetrieverKind, build_retriever
from rader_hub.retrieval.base import Ranking, Retriever

RUN_DEPTH = 1000  # BRIGHT keeps the top 1000 per query
PAIRED_METRICS = ("ndcg@10", "recall@10")  # the per-query scores `--json` prints


@dataclass
class EvalResult:
    """One retrieval setup's scores on a set of queries, and the rankings they come from."""

    metrics: dict[str, float]
    queries: int
    docs: int
    seconds: float
    rankings: list[Ranking] = field(repr=False, default_factory=list)
    queries_without_gold: int = 0  # queries none of whose gold documents are in the corpus: they score 0
    per_query: dict[str, dict[str, float]] = field(repr=False, default_factory=dict)  # query id -> its metrics
    most_gold: int = 0  # the most gold documents any query has (1: P@10 is Recall@10 / 10 and says nothing more)

    def as_dict(self) -> dict[str, Any]:
        """What `rader eval --json` prints: the means, the sizes, and every query's nDCG@10 and Recall@10
        (a model card compares two runs query by query)."""
        per_query = {query_id: {name: scores[name] for name in PAIRED_METRICS} for query_id, scores in self.per_query.items()}
        return {**self.metrics, "queries": self.queries, "docs": self.docs, "most_gold": self.most_gold, "per_query": per_query}


@dataclass(frozen=True)
class RetrievalSetup:
    """What is evaluated: a first stage (kind, embedder, hybrid weight, query prompt) and an optional
    reranker (a loaded cross-encoder) that reorders its top ``rerank_depth``."""

    retriever: RetrieverKind | str = RetrieverKind.dense
    model: str = EMBEDDED
    alpha: float = DEFAULT_HYBRID_ALPHA
    reranker: Any = None
    rerank_depth: int = DEFAULT_RERANK_DEPTH
    query_prompt: str | None = None  # replaces the model's saved query prompt (e.g. a task instruction)

    def build(self, corpus: Corpus, show_progress: bool = False) -> Retriever:
        """Index ``corpus`` for this setup (an embedder is loaded here) and wrap it in the reranker, if any."""
        built = build_retriever(
            self.retriever, corpus, model=self.model, alpha=self.alpha, show_progress=show_progress, query_prompt=self.query_prompt
        )
        if self.reranker is None:
            return built
        return RerankingRetriever(built, self.reranker, depth=self.rerank_depth, show_progress=show_progress)


def qrels_for(queries: Sequence[EvalQuery]) -> dict[str, dict[str, int]]:
    """The queries' gold documents as trec_eval relevance judgements: query id -> {doc id: 1}."""
    return {query.id: {doc_id: 1 for doc_id in query.gold_ids} for query in queries}


def count_queries_without_gold(corpus: Corpus, queries: Sequence[EvalQuery]) -> int:
    """How many queries have none of their gold documents in ``corpus``; an error when no query has
    any (the corpus and queries then come from different datasets, and every score would be 0)."""
    missing = sum(1 for query in queries if not any(doc_id in corpus for doc_id in query.gold_ids))
    if missing == len(queries):
        raise DataError(
            f"{corpus.source}: none of the {len(queries)} queries' gold documents are in this corpus "
            "(are the corpus and the queries from the same dataset?)"
        )
    return missing


def evaluate_retrieval(setup: RetrievalSetup, corpus: Corpus, queries: Sequence[EvalQuery], show_progress: bool = False) -> EvalResult:
    """Check that the queries' gold documents are in the corpus, build ``setup`` over it and score it.

    The check comes first, so a corpus and queries from different datasets fail before any model loads.

    Args:
        setup: What is evaluated: the first-stage retriever (kind, embedder, hybrid weight, query
            prompt) and an optional reranker.
        corpus: The documents to retrieve from (`rader_hub.corpus.load_corpus`).
        queries: The evaluation queries with their gold document ids (`rader_hub.queries.load_queries`).
        show_progress: Show progress bars while the corpus is embedded and the queries are searched.
            Defaults to ``False``.

    Returns:
        `EvalResult`: the mean metrics at 10 (nDCG, Recall, ...), each query's metrics, the
        rankings, and how many queries have no gold document in the corpus (they score 0).

    Raises:
        DataError: No query has any of its gold documents in ``corpus``.
        AssetError: The embedder named by ``setup.model`` cannot be found or loaded.
        ConfigError: A hybrid setup's ``alpha`` is outside [0, 1], or ``rerank_depth`` is below 1.
        ValueError: ``setup.retriever`` is not a retriever kind (``bm25``, ``dense``, ``hybrid``).
    """
    without_gold = count_queries_without_gold(corpus, queries)  # before any model is loaded
    result = evaluate_retriever(setup.build(corpus, show_progress), queries)
    result.queries_without_gold = without_gold
    return result


def evaluate_retriever(retriever: Retriever, queries: Sequence[EvalQuery], k: int = 10) -> EvalResult:
    """Retrieve the top ``RUN_DEPTH`` per query (excluded ids removed, as BRIGHT does) and score at ``k``.

    Args:
        retriever: A built retriever over its corpus (e.g. `RetrievalSetup.build`, `DenseRetriever`).
        queries: The evaluation queries with their gold and excluded document ids.
        k: The cut-off of the metrics (nDCG@k, Recall@k, ...). Defaults to 10.

    Returns:
        `EvalResult`: the mean and per-query metrics, the rankings and the time the search took.
    """
    started = time.perf_counter()
    rankings = retriever.search(
        [query.text for query in queries],
        top_k=RUN_DEPTH,
        exclude=[query.excluded_ids for query in queries],
    )
    per_query = per_query_metrics(qrels_for(queries), run_from_rankings([query.id for query in queries], rankings), k=k)
    return EvalResult(
        metrics=mean_metrics(per_query),
        queries=len(queries),
        docs=len(retriever.corpus),
        seconds=time.perf_counter() - started,
        rankings=rankings,
        per_query=per_query,
        most_gold=max((len(query.gold_ids) for query in queries), default=0),
    )
