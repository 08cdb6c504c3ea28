"""The main job's evaluation stage: the trained retriever beside its base model and BM25, on the
same queries, written as `rader eval --json` files (which model cards read) and one bar chart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.evaluation.bright import BRIGHT_HUB_ID, evaluate_bright
from rader_hub.evaluation.evaluate import RetrievalSetup, evaluate_retrieval
from rader_hub.evaluation.plots import plot_runs
from rader_hub.evaluation.runs import run_label, run_record, run_settings
from rader_hub.files import write_json_atomic
from rader_hub.queries import QueryMode, load_queries
from rader_hub.retrieval import DEFAULT_HYBRID_ALPHA, RetrieverKind

CHART_FILE = "ndcg.png"


def evaluate_beside_baselines(
    model_dir: Path, base: str, out_dir: Path, corpus: str, queries: str, bright: Sequence[str], say: Callable[[str], None]
) -> tuple[dict[str, Path], Path]:
    """Evaluate the model, its base model and BM25 on the same queries, and chart their nDCG@10.

    Each run is written as the JSON `rader eval --json` prints (model cards read these files).

    Args:
        model_dir: The trained retriever's folder.
        base: The base model it was trained from (``embedded`` or a Hub id or folder).
        out_dir: Where the JSON files and the chart (``ndcg.png``) are written.
        corpus: The evaluation corpus: ``embedded``, a file or folder, or a Hub dataset id.
        queries: The evaluation queries (with gold theorem ids), in the same forms.
        bright: BRIGHT splits to evaluate each run on as well (``all`` for the 12); empty for none.
        say: Called with one line per run (its nDCG@10 and Recall@10).

    Returns:
        `tuple`: the JSON file of each run by name (``model``, ``base``, ``bm25``, and
        ``bright-model``, ... with ``bright``), and the chart's path.

    Raises:
        DataError: The corpus or queries cannot be read, or no query's gold document is in the corpus.
        AssetError: A model cannot be found or loaded.
        ConfigError: An unknown BRIGHT split.
    """
    runs = {
        "model": (RetrieverKind.dense, str(model_dir)),
        "base": (RetrieverKind.dense, base),
        "bm25": (RetrieverKind.bm25, base),
    }
    mode = QueryMode.question
    documents = load_corpus(resolve_source(corpus, "theorems"))
    eval_queries = load_queries(resolve_source(queries, "dev_queries"), mode)
    files: dict[str, Path] = {}
    chart_rows = []
    for name, (kind, model) in runs.items():
        label = run_label(kind.value, model, None, mode.value, DEFAULT_HYBRID_ALPHA)
        result = evaluate_retrieval(RetrievalSetup(retriever=kind, model=model), documents, eval_queries)
        settings = run_settings(kind.value, model, None, mode.value, DEFAULT_HYBRID_ALPHA, corpus=corpus, queries=queries)
        files[name] = out_dir / f"{name}.json"
        write_json_atomic(files[name], run_record(label, result.as_dict(), settings))
        chart_rows.append((f"{name}: {label}", result.metrics))
        say(f"evaluate: {name:<5} nDCG@10 {result.metrics['ndcg@10']:.4f}  Recall@10 {result.metrics['recall@10']:.4f}")
        if bright:
            split_result = evaluate_bright(RetrievalSetup(retriever=kind, model=model), bright, BRIGHT_HUB_ID, mode)
            settings = run_settings(
                kind.value, model, None, mode.value, DEFAULT_HYBRID_ALPHA, bright=list(bright), bright_source=BRIGHT_HUB_ID
            )
            files[f"bright-{name}"] = out_dir / f"bright-{name}.json"
            write_json_atomic(files[f"bright-{name}"], run_record(label, split_result.as_dict(), settings))
    chart = plot_runs(chart_rows, out_dir / CHART_FILE)
    return files, chart
