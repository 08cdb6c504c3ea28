"""nDCG@k, Recall@k and P@k computed by trec_eval (through pytrec_eval), as BRIGHT does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytrec_eval

from rader_hub.retrieval.base import Ranking

Qrels = Mapping[str, Mapping[str, int]]
"""query id -> {relevant doc id: relevance grade}."""

METRIC_NAMES = {"ndcg@10": "nDCG@10", "recall@10": "Recall@10", "p@10": "P@10"}
"""The metrics every evaluation reports, as tables and cards name them."""


def informative_metrics(most_gold: int) -> list[str]:
    """The metrics worth showing for a query set whose queries have at most ``most_gold`` gold
    documents: P@10 only where a query may have several (with one it is Recall@10 / 10 and says
    nothing more); 0, not recorded, keeps every metric."""
    return [key for key in METRIC_NAMES if key != "p@10" or most_gold != 1]


def run_from_rankings(query_ids: Sequence[str], rankings: Sequence[Ranking]) -> dict[str, dict[str, float]]:
    """pytrec_eval's run format: query id -> {doc id: score}."""
    return {query_id: {doc_id: float(score) for doc_id, score in ranking} for query_id, ranking in zip(query_ids, rankings)}


def per_query_metrics(qrels: Qrels, run: Mapping[str, Mapping[str, float]], k: int = 10) -> dict[str, dict[str, float]]:
    """nDCG@k, Recall@k and P@k of each query of ``qrels`` (what paired comparisons of two runs need).

    trec_eval semantics: a query missing from the run scores 0; ties in score are broken by
    document id; relevance grades are linear gains.
    """
    measures = {f"ndcg_cut.{k}", f"recall.{k}", f"P.{k}"}
    evaluator = pytrec_eval.RelevanceEvaluator({q: dict(d) for q, d in qrels.items()}, measures)
    # trec_eval skips queries absent from the run; give them an empty ranking so they count as 0.
    full_run = {query_id: dict(run.get(query_id, {})) or {"__none__": 0.0} for query_id in qrels}
    scores = evaluator.evaluate(full_run)
    return {
        query_id: {
            f"ndcg@{k}": scores[query_id][f"ndcg_cut_{k}"],
            f"recall@{k}": scores[query_id][f"recall_{k}"],
            f"p@{k}": scores[query_id][f"P_{k}"],
        }
        for query_id in qrels
    }


def mean_metrics(per_query: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Each metric's mean over the queries."""
    names = next(iter(per_query.values())).keys()
    return {name: float(np.mean([scores[name] for scores in per_query.values()])) for name in names}


def evaluate_run(qrels: Qrels, run: Mapping[str, Mapping[str, float]], k: int = 10) -> dict[str, float]:
    """Mean nDCG@k, Recall@k and P@k over the queries of ``qrels`` (see ``per_query_metrics``)."""
    return mean_metrics(per_query_metrics(qrels, run, k))
