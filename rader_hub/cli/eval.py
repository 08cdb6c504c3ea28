"""`rader eval`: score a retriever on queries with relevance judgements."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from rader_hub.assets import EMBEDDED
from rader_hub.cli.options import CorpusConfigOption, CorpusOption, CorpusSplitOption, JsonOption, ModelOption
from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.evaluation.evaluate import EvalResult, evaluate_retriever
from rader_hub.queries import QueryMode, load_queries
from rader_hub.retrieval import DEFAULT_HYBRID_ALPHA, RetrieverKind, build_retriever

logger = logging.getLogger(__name__)


def eval_command(
    retriever: Annotated[RetrieverKind, typer.Option("--retriever", help="Which retriever to evaluate.")] = RetrieverKind.dense,
    model: ModelOption = EMBEDDED,
    queries: Annotated[str, typer.Option("--queries", help="Queries with gold_ids: file, folder, Hub id, or 'embedded' (TheoremQA dev).")] = EMBEDDED,
    queries_config: Annotated[str | None, typer.Option("--queries-config", help="Hub/dataset config of the queries (BRIGHT: 'examples').")] = None,
    queries_split: Annotated[str | None, typer.Option("--queries-split", help="Split of the queries.")] = None,
    query_mode: Annotated[QueryMode, typer.Option("--query-mode", help="Use the question, or BRIGHT's reasoning text, as the query.")] = QueryMode.question,
    corpus: CorpusOption = EMBEDDED,
    corpus_config: CorpusConfigOption = None,
    corpus_split: CorpusSplitOption = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Hybrid weight of the dense score (paper: 0.8, 1.0 on math).")] = DEFAULT_HYBRID_ALPHA,
    as_json: JsonOption = False,
) -> None:
    """Evaluate BM25, dense or hybrid retrieval: nDCG@10, Recall@10 and P@10 (BRIGHT's definitions)."""
    documents = load_corpus(resolve_source(corpus, "theorems", corpus_config, corpus_split))
    eval_queries = load_queries(resolve_source(queries, "dev_queries", queries_config, queries_split), query_mode)
    built = build_retriever(retriever, documents, model=model, alpha=alpha, show_progress=not as_json)
    result = evaluate_retriever(built, eval_queries)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
    else:
        _print_table(retriever.value, model, result)


def _print_table(retriever: str, model: str, result: EvalResult) -> None:
    label = retriever if retriever == "bm25" else f"{retriever} ({model})"
    typer.echo(f"{label}: {result.queries} queries, {result.docs} documents, {result.seconds:.1f}s")
    for name, value in result.metrics.items():
        typer.echo(f"  {name:<10} {value:.4f}")
