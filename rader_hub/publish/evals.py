"""Evaluation results for a model card: the objects ``rader eval --json`` prints (metrics, ``label``
and ``settings``), grouped per evaluated set, each row named for what it is (this model, its base
model, BM25, or another run), and the matching ``model-index`` entries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult

from rader_hub.assets import EMBEDDED
from rader_hub.errors import DataError
from rader_hub.publish.metadata import is_hub_repo_id

# rader eval's metric keys -> (model-index metric type, display name).
METRICS = {"ndcg@10": ("ndcg_at_10", "nDCG@10"), "recall@10": ("recall_at_10", "Recall@10"), "p@10": ("precision_at_10", "P@10")}
THIS, BASE, BM25, OTHER = "this", "base", "bm25", "other"
_ROLE_ORDER = {THIS: 0, BASE: 1, BM25: 2, OTHER: 3}


@dataclass(frozen=True)
class EvalRun:
    """One ``rader eval --json`` output file."""

    path: Path
    label: str
    settings: dict[str, Any]
    metrics: dict[str, float]
    queries: int
    docs: int


@dataclass(frozen=True)
class PublishedModel:
    """The names under which eval runs may refer to the model being published, and to its base."""

    kind: str  # "retriever" or "reranker"
    repo_id: str
    source: Path
    base: str | None  # the base model's name on the card
    base_aliases: frozenset[str] = frozenset()  # other names for it in eval settings ('embedded', a path)

    def is_this(self, name: str | None) -> bool:
        if not name:
            return False
        path = Path(name)
        return name == self.repo_id or path.name == self.source.name or (path.exists() and path.resolve() == self.source.resolve())


@dataclass
class EvalRow:
    name: str  # in the card's table
    role: str
    metrics: dict[str, float]
    task: str  # in model-index: "Retrieval", or what else ran with the model ("Retrieval (hybrid ...)")


@dataclass
class EvalSet:
    """One corpus + query set + query mode, with every run evaluated on it."""

    name: str
    slug: str
    query_mode: str
    queries: int
    docs: int
    rows: list[EvalRow] = field(default_factory=list)


def load_eval_runs(paths: Sequence[Path]) -> list[EvalRun]:
    runs = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # missing, unreadable, not JSON
            raise DataError(f"--eval {path}: cannot read it as JSON ({exc})") from None
        if not isinstance(data, dict) or "splits" in data:
            raise DataError(f"--eval {path}: expected one `rader eval --json` result object (BRIGHT split outputs are not supported yet)")
        missing = [key for key in (*METRICS, "queries", "docs", "label", "settings") if key not in data]
        if missing:
            raise DataError(f"--eval {path}: missing {', '.join(missing)} (write it with `rader eval --json > FILE`)")
        if not all(isinstance(data[key], (int, float)) for key in METRICS):
            raise DataError(f"--eval {path}: metric values must be numbers")
        metrics = {key: float(data[key]) for key in METRICS}
        runs.append(EvalRun(path, str(data["label"]), dict(data["settings"]), metrics, int(data["queries"]), int(data["docs"])))
    return runs


def evaluation_sets(runs: Sequence[EvalRun], published: PublishedModel) -> list[EvalSet]:
    sets: dict[tuple[str, str, str], EvalSet] = {}
    for run in runs:
        corpus, queries = str(run.settings.get("corpus")), str(run.settings.get("queries"))
        mode = str(run.settings.get("query_mode", "question"))
        key = (corpus, queries, mode)
        if key not in sets:
            name, slug = _set_name(corpus, queries)
            sets[key] = EvalSet(name + ("" if mode == "question" else f", {mode} queries"), slug, mode, run.queries, run.docs)
        role, name, task = _describe(run, published)
        sets[key].rows.append(EvalRow(name, role, run.metrics, task))
    for eval_set in sets.values():
        eval_set.rows.sort(key=lambda row: _ROLE_ORDER[row.role])
    return list(sets.values())


def model_index_results(sets: Sequence[EvalSet]) -> list[EvalResult]:
    """``model-index`` entries for this model's own rows (other rows are context, not its results)."""
    results = []
    for eval_set in sets:
        for row in eval_set.rows:
            if row.role != THIS:
                continue
            for key, (metric_type, metric_name) in METRICS.items():
                results.append(
                    EvalResult(
                        task_type="text-retrieval",
                        task_name=row.task,
                        dataset_type=eval_set.slug,
                        dataset_name=eval_set.name,
                        metric_type=metric_type,
                        metric_name=metric_name,
                        metric_value=round(row.metrics[key], 4),
                    )
                )
    return results


def _set_name(corpus: str, queries: str) -> tuple[str, str]:
    if corpus == EMBEDDED and queries == EMBEDDED:
        return "TheoremQA dev (embedded)", "theoremqa-dev"
    return f"{Path(queries).name} over {Path(corpus).name}", queries if is_hub_repo_id(queries) else Path(queries).stem


def _describe(run: EvalRun, published: PublishedModel) -> tuple[str, str, str]:
    """(role, row name, model-index task name) of a run on the card of ``published``."""
    settings = run.settings
    retriever, model, reranker = settings.get("retriever"), settings.get("model"), settings.get("reranker")
    first_stage = "BM25" if retriever == "bm25" else f"{retriever} `{model}`"
    if retriever == "hybrid":
        first_stage += f" (alpha {settings.get('alpha')})"
    plain = not reranker and retriever != "hybrid"
    if published.kind == "reranker":
        if published.is_this(reranker):
            return THIS, f"{first_stage} + this reranker", f"Reranking ({first_stage.replace('`', '')})"
        if retriever == "bm25" and not reranker:
            return BM25, "BM25", "Retrieval"
        return OTHER, run.label, "Retrieval"
    if retriever == "bm25" and not reranker:
        return BM25, "BM25", "Retrieval"
    if published.is_this(model):
        if plain:
            return THIS, f"this model (`{published.repo_id}`)", "Retrieval"
        return THIS, f"this model, {run.label}", f"Retrieval ({run.label})"
    if plain and published.base and model in published.base_aliases | {published.base}:
        return BASE, f"base model (`{published.base}`)", "Retrieval"
    return OTHER, run.label, "Retrieval"
