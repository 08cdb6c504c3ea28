"""Reranker check on real relevance labels: does `rader train reranker` learn to rerank?

The same TheoremQA dev triples as bench/train_supervised.py (question, gold theorem, hard negatives
mined with the base MiniLM). One fold of the questions is held out; a cross-encoder is trained
with the trainer behind `rader train reranker` (its Python API) on the others, then reorders the base MiniLM's top --depth theorems for
the held-out questions. Reported side by side, in one run: the dense ranking alone, reranked by
the trained cross-encoder, and reranked by the untrained one (MiniLM's weights with a fresh score
head: what a reranker trained for a handful of steps amounts to).

Like train_supervised.py this checks the TRAINER on human labels, not the RaDeR method.

Run: python bench/rerank_supervised.py   (defaults: about 10 min on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from train_supervised import dev_triples, mine_negatives

from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.evaluation.evaluate import evaluate_retriever
from rader_hub.evaluation.plots import plot_runs
from rader_hub.evaluation.rerank import Reranker, RerankingRetriever, load_reranker
from rader_hub.queries import load_queries
from rader_hub.retrieval import DenseRetriever
from rader_hub.training import RerankerTrainingConfig, train_reranker
from rader_hub.training.reranker import load_cross_encoder


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3, help="the first of this many folds is held out")
    parser.add_argument("--negatives", type=int, default=3, help="hard negatives per question")
    parser.add_argument("--depth", type=int, default=20, help="dense top-N that the cross-encoder reorders")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--max-seq-length", type=int, default=192)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--report", type=Path, default=Path("outputs/bench/rerank_supervised.json"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    corpus = load_corpus(resolve_source("embedded", "theorems"))
    queries = load_queries(resolve_source("embedded", "dev_queries"))
    dense = DenseRetriever(corpus)
    base_rankings = evaluate_retriever(dense, queries).rankings
    negatives = mine_negatives(base_rankings, queries, args.negatives, skip=0)

    order = list(range(len(queries)))
    random.Random(args.seed).shuffle(order)
    held = set(order[0 :: args.folds])  # fold 1 of train_supervised.py
    train_idx = [i for i in order if i not in held]
    test_queries = [queries[i] for i in sorted(held)]

    runs = [("dense MiniLM", evaluate_retriever(dense, test_queries).metrics)]
    with tempfile.TemporaryDirectory(prefix="rader-rerank-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        model_dir = scratch / "reranker"
        config = RerankerTrainingConfig(
            out_dir=model_dir, num_negatives=args.negatives, epochs=args.epochs, batch_size=args.batch_size,
            learning_rate=args.lr, max_seq_length=args.max_seq_length, seed=args.seed,
        )  # fmt: skip
        print(f"training a reranker: {config}", flush=True)
        train_reranker(config, dev_triples([queries[i] for i in train_idx], [negatives[i] for i in train_idx], corpus))
        for label, reranker in (
            (f"+ trained reranker, top {args.depth}", load_reranker(str(model_dir))),
            (f"+ untrained reranker, top {args.depth}", Reranker(load_cross_encoder("embedded", args.max_seq_length)[0])),
        ):
            reranking = RerankingRetriever(dense, reranker, depth=args.depth, show_progress=True)
            runs.append((label, evaluate_retriever(reranking, test_queries).metrics))

    for label, metrics in runs:
        print(f"{label:<34} nDCG@10 {metrics['ndcg@10']:.4f}  Recall@10 {metrics['recall@10']:.4f}")
    report = {
        "held_out_questions": len(test_queries),
        "train_questions": len(train_idx),
        "settings": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "runs": [{"label": label, "metrics": metrics} for label, metrics in runs],
        "seconds": time.perf_counter() - started,
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2), encoding="utf-8")
    plot = plot_runs(runs, args.report.with_suffix(".png"))
    print(f"report: {args.report}  chart: {plot}  total {report['seconds'] / 60:.1f} min")


if __name__ == "__main__":
    main()
