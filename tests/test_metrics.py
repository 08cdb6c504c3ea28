"""Metrics checked against values worked out by hand from the trec_eval definitions."""

from __future__ import annotations

import math

import pytest

from rader_hub.evaluation.metrics import evaluate_run


def test_single_relevant_at_rank_two_of_two_relevant() -> None:
    qrels = {"q": {"a": 1, "b": 1}}
    run = {"q": {"x": 3.0, "a": 2.0, "y": 1.0}}
    # DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    expected_ndcg = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert evaluate_run(qrels, run) == pytest.approx({"ndcg@10": expected_ndcg, "recall@10": 0.5, "p@10": 0.1})


def test_relevant_beyond_cutoff_counts_zero() -> None:
    qrels = {"q": {"gold": 1}}
    run = {"q": {f"d{i}": 100.0 - i for i in range(10)} | {"gold": 1.0}}  # gold at rank 11
    assert evaluate_run(qrels, run) == {"ndcg@10": 0.0, "recall@10": 0.0, "p@10": 0.0}


def test_mean_over_queries_and_missing_query_scores_zero() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    run = {"q1": {"a": 1.0}}  # q2 retrieved nothing
    assert evaluate_run(qrels, run) == pytest.approx({"ndcg@10": 0.5, "recall@10": 0.5, "p@10": 0.05})


def test_other_cutoff() -> None:
    qrels = {"q": {"a": 1}}
    run = {"q": {"x": 2.0, "a": 1.0}}
    assert evaluate_run(qrels, run, k=1) == {"ndcg@1": 0.0, "recall@1": 0.0, "p@1": 0.0}
