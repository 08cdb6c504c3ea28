"""`rader eval`: score a retriever on queries with relevance judgements."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rader_hub.assets import EMBEDDED
from rader_hub.cli.options import CorpusConfigOption, CorpusOption, CorpusSplitOption, JsonOption, ModelOption
from rader_hub.errors import ConfigError
from rader_hub.evaluation.bright import BRIGHT_HUB_ID, DEFAULT_REASONER
from rader_hub.evaluation.paper_reference import beside_average, beside_split, paper_references
from rader_hub.evaluation.rerank import DEFAULT_RERANK_DEPTH
from rader_hub.queries import QueryMode
from rader_hub.retrieval import DEFAULT_HYBRID_ALPHA, RetrieverKind

if TYPE_CHECKING:
    from rader_hub.evaluation.evaluate import EvalResult


def eval_command(
    retriever: Annotated[RetrieverKind, typer.Option("--retriever", help="Which retriever to evaluate.")] = RetrieverKind.dense,
    model: ModelOption = EMBEDDED,
    queries: Annotated[
        str, typer.Option("--queries", help="Queries with gold_ids: file, folder, Hub id, or 'embedded' (TheoremQA dev).")
    ] = EMBEDDED,
    queries_config: Annotated[
        str | None, typer.Option("--queries-config", help="Hub/dataset config of the queries (BRIGHT: 'examples').")
    ] = None,
    queries_split: Annotated[str | None, typer.Option("--queries-split", help="Split of the queries.")] = None,
    query_mode: Annotated[
        QueryMode, typer.Option("--query-mode", help="Use the question, or BRIGHT's reasoning text, as the query.")
    ] = QueryMode.question,
    corpus: CorpusOption = EMBEDDED,
    corpus_config: CorpusConfigOption = None,
    corpus_split: CorpusSplitOption = None,
    alpha: Annotated[
        float, typer.Option("--alpha", help="Hybrid weight of the dense score (paper: 0.8, 1.0 on math).")
    ] = DEFAULT_HYBRID_ALPHA,
    as_json: JsonOption = False,
    reranker: Annotated[
        str | None, typer.Option("--reranker", help="Cross-encoder (path or Hub id) that reranks the first stage's top --rerank-depth.")
    ] = None,
    rerank_depth: Annotated[
        int, typer.Option("--rerank-depth", min=1, help="How many first-stage documents the reranker reorders.")
    ] = DEFAULT_RERANK_DEPTH,
    bright: Annotated[
        list[str] | None, typer.Option("--bright", help="BRIGHT split(s) to evaluate instead of --corpus/--queries (repeatable, or 'all').")
    ] = None,
    bright_source: Annotated[
        str, typer.Option("--bright-source", help="BRIGHT on the Hub (an id) or a local copy in its layout (a folder).")
    ] = BRIGHT_HUB_ID,
    reasoner: Annotated[
        str,
        typer.Option("--reasoner", help="With --bright and --query-mode reasoning: whose reasoning (BRIGHT's <reasoner>_reason config)."),
    ] = DEFAULT_REASONER,
    as_paper: Annotated[
        bool,
        typer.Option(
            "--paper-protocol",
            help="With --bright: evaluate as the paper does trained models: each split's task instruction before the query "
            "(replacing the model's saved query prompt) and the hybrid's alpha per split (0.8; 1.0 on AoPS and TheoremQA).",
        ),
    ] = False,
    label: Annotated[str | None, typer.Option("--label", help="Name of this run in --runs-file and the chart.")] = None,
    runs_file: Annotated[Path | None, typer.Option("--runs-file", help="Append this run's metrics to this JSON-lines file.")] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Bar chart (PNG) of nDCG@10 over the runs in --runs-file (or this run).")
    ] = None,
) -> None:
    """Evaluate BM25, dense or hybrid retrieval: nDCG@10, Recall@10 and P@10 (BRIGHT's definitions)."""
    # The evaluation stack (numpy, bm25s, sentence-transformers) loads here, not for `rader --help`.
    from rader_hub.corpus import load_corpus
    from rader_hub.embedded_data import resolve_source
    from rader_hub.evaluation.bright import evaluate_bright
    from rader_hub.evaluation.evaluate import RetrievalSetup, evaluate_retrieval
    from rader_hub.evaluation.rerank import load_reranker
    from rader_hub.evaluation.runs import record_run, run_label, run_record, run_settings
    from rader_hub.queries import load_queries
    from rader_hub.retrieval.hybrid import check_alpha

    check_alpha(alpha)  # before any data or model is loaded
    reranker_model = load_reranker(reranker) if reranker else None
    setup = RetrievalSetup(retriever=retriever, model=model, alpha=alpha, reranker=reranker_model, rerank_depth=rerank_depth)
    label = label or run_label(retriever.value, model, reranker, query_mode.value, alpha)
    if as_paper and not bright:
        raise ConfigError("--paper-protocol is BRIGHT's protocol: give --bright SPLIT (or all)")
    if bright:
        settings = run_settings(
            retriever.value,
            model,
            reranker,
            query_mode.value,
            alpha,
            bright=bright,
            bright_source=bright_source,
            reasoner=reasoner,
            paper_protocol=as_paper,
        )
        references = paper_references(retriever.value, model, query_mode.value)
        on_split = partial(_split_done, as_json, references)
        result = evaluate_bright(setup, bright, bright_source, query_mode, reasoner, not as_json, on_split=on_split, as_paper=as_paper)
        summary, metrics = result.as_dict(), result.average
        text = f"average over {len(result.splits)} split(s): " + "  ".join(f"{key} {value:.4f}" for key, value in metrics.items())
        text += beside_average(references, list(result.splits))
    else:
        settings = run_settings(retriever.value, model, reranker, query_mode.value, alpha, corpus=corpus, queries=queries)
        documents = load_corpus(resolve_source(corpus, "theorems", corpus_config, corpus_split))
        eval_queries = load_queries(resolve_source(queries, "dev_queries", queries_config, queries_split), query_mode)
        single = evaluate_retrieval(setup, documents, eval_queries, show_progress=not as_json)
        _warn_about_missing_gold(single, "")
        summary, metrics = single.as_dict(), single.metrics
        text = _table(label, single)
    charted = record_run(label, metrics, settings, runs_file, plot)
    if charted:
        typer.echo(f"chart of {charted} run(s): {plot}", err=True)
    typer.echo(json.dumps(run_record(label, summary, settings)) if as_json else text)


def _split_done(as_json: bool, references: dict[str, dict[str, float]], name: str, result: EvalResult) -> None:
    if not as_json:
        ours = f"{name}: {result.queries} queries, {result.docs} documents, nDCG@10 {result.metrics['ndcg@10']:.4f}"
        typer.echo(ours + beside_split(references, name))
    _warn_about_missing_gold(result, f"{name}: ")


def _warn_about_missing_gold(result: EvalResult, prefix: str) -> None:
    if result.queries_without_gold:
        typer.echo(
            f"warning: {prefix}{result.queries_without_gold} of {result.queries} queries have none of their gold documents "
            "in the corpus; they score 0",
            err=True,
        )


def _table(label: str, result: EvalResult) -> str:
    lines = [f"{label}: {result.queries} queries, {result.docs} documents, {result.seconds:.1f}s"]
    lines += [f"  {name:<10} {value:.4f}" for name, value in result.metrics.items()]
    return "\n".join(lines)
