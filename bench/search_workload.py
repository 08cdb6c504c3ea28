"""The search workload of bench/mcts_batching.py and bench/search_scheduling.py: the first embedded
MATH problems, BM25 over the embedded theorems, and the embedded recipe's search parameters
(recipes/math.yaml: the paper's tree shape with small token budgets) with fewer rollouts."""

from __future__ import annotations

from dataclasses import fields

from pipelines.math_recipes import EMBEDDED
from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.generation.mcts import Problem, SearchConfig
from rader_hub.records import read_rows
from rader_hub.retrieval import BM25Retriever


def embedded_search(problems: int, rollouts: int) -> tuple[list[Problem], BM25Retriever, SearchConfig]:
    rows = read_rows(resolve_source("embedded", "math_problems"))[:problems]
    names = {field.name for field in fields(SearchConfig)}
    config = SearchConfig(**{**{k: v for k, v in EMBEDDED.search.items() if k in names}, "rollouts": rollouts})
    return (
        [Problem(r.data["id"], r.data["problem"], r.data["answer"]) for r in rows],
        BM25Retriever(load_corpus(resolve_source("embedded", "theorems"))),
        config,
    )
