"""The parts of `rader eval` beyond one corpus and one query set: reranking, BRIGHT splits,
a runs file and its bar chart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import typer

from rader_hub.corpus import Corpus
from rader_hub.evaluation.bright import bright_split, resolve_splits
from rader_hub.evaluation.evaluate import EvalResult, evaluate_retriever
from rader_hub.evaluation.rerank import RerankingRetriever, load_reranker
from rader_hub.evaluation.runs import append_run, load_runs
from rader_hub.queries import EvalQuery, QueryMode
from rader_hub.retrieval import build_retriever
from rader_hub.training.plots import plot_runs


def run_label(retriever: str, model: str, reranker: str | None, query_mode: QueryMode, alpha: float) -> str:
    """A short default name for a run, e.g. 'dense supervised-dev + rerank reranker [question]'."""
    label = retriever if retriever == "bm25" else f"{retriever} {Path(model).name or model}"
    if retriever == "hybrid":
        label += f" a={alpha:g}"
    if reranker:
        label += f" + rerank {Path(reranker).name or reranker}"
    return f"{label} [{query_mode.value}]"


def evaluate_one(corpus: Corpus, queries: Sequence[EvalQuery], retriever: str, model: str, alpha: float, reranker, depth: int, progress: bool) -> EvalResult:
    """Build the first stage, wrap it in a reranker if one is given, and score it."""
    built = build_retriever(retriever, corpus, model=model, alpha=alpha, show_progress=progress)
    if reranker is not None:
        built = RerankingRetriever(built, reranker, depth=depth, show_progress=progress)
    return evaluate_retriever(built, queries)


def evaluate_bright(
    splits: Sequence[str], source: str, mode: QueryMode, reasoner: str, retriever: str, model: str, alpha: float, reranker, depth: int, as_json: bool
) -> dict[str, float]:
    """Each split in turn, then the macro average (BRIGHT reports the mean over splits)."""
    per_split: dict[str, dict] = {}
    for name in resolve_splits(splits):
        split = bright_split(name, source, mode, reasoner)
        result = evaluate_one(split.load_corpus(), split.load_queries(), retriever, model, alpha, reranker, depth, not as_json)
        per_split[name] = result.as_dict()
        if not as_json:
            typer.echo(f"{name}: {result.queries} queries, {result.docs} documents, nDCG@10 {result.metrics['ndcg@10']:.4f}")
    metric_names = [key for key in next(iter(per_split.values())) if key not in ("queries", "docs")]
    average = {key: sum(split[key] for split in per_split.values()) / len(per_split) for key in metric_names}
    if as_json:
        typer.echo(json.dumps({"splits": per_split, "average": average}))
    else:
        typer.echo(f"average over {len(per_split)} split(s): " + "  ".join(f"{key} {value:.4f}" for key, value in average.items()))
    return average


def maybe_load_reranker(name: str | None):
    return load_reranker(name) if name else None


def record_and_plot(label: str, metrics: dict[str, float], settings: dict, runs_file: Path | None, plot: Path | None) -> None:
    """Append the run to ``runs_file`` and chart every run in it (or just this run) to ``plot``."""
    if runs_file is not None:
        append_run(runs_file, label, metrics, settings)
    if plot is not None:
        runs = load_runs(runs_file) if runs_file is not None else [(label, metrics)]
        plot_runs(runs, plot)
        typer.echo(f"chart of {len(runs)} run(s): {plot}", err=True)
