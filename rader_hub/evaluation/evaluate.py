"""Run a retriever over evaluation queries and score it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from rader_hub.evaluation.metrics import evaluate_run, run_from_rankings
from rader_hub.queries import EvalQuery
from rader_hub.retrieval.base import Ranking, Retriever

RUN_DEPTH = 1000  # BRIGHT keeps the top 1000 per query


@dataclass
class EvalResult:
    metrics: dict[str, float]
    queries: int
    docs: int
    seconds: float
    rankings: list[Ranking] = field(repr=False, default_factory=list)

    def as_dict(self) -> dict[str, float | int]:
        return {**self.metrics, "queries": self.queries, "docs": self.docs}


def qrels_for(queries: Sequence[EvalQuery]) -> dict[str, dict[str, int]]:
    return {query.id: {doc_id: 1 for doc_id in query.gold_ids} for query in queries}


def evaluate_retriever(retriever: Retriever, queries: Sequence[EvalQuery], k: int = 10) -> EvalResult:
    """Retrieve the top RUN_DEPTH per query (excluded ids removed, as BRIGHT does) and score at k."""
    started = time.perf_counter()
    rankings = retriever.search(
        [query.text for query in queries],
        top_k=RUN_DEPTH,
        exclude=[query.excluded_ids for query in queries],
    )
    metrics = evaluate_run(qrels_for(queries), run_from_rankings([query.id for query in queries], rankings), k=k)
    return EvalResult(
        metrics=metrics,
        queries=len(queries),
        docs=len(retriever.corpus),
        seconds=time.perf_counter() - started,
        rankings=rankings,
    )
