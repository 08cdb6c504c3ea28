"""Trainer check on real relevance labels: does `rader train retriever` make MiniLM better?

TheoremQA dev questions come with the theorem each needs. We build (question, gold theorem,
hard negatives) triples, the negatives being the base model's top-ranked wrong theorems, and run
k-fold cross-validation over the questions: train the embedded MiniLM with the trainer behind
`rader train retriever` (its Python API, `rader_hub.training.train_retriever`) on k-1 folds, score
nDCG@10 on the held-out fold, and compare with the untrained base on the same queries. Then it
trains once on all dev questions and saves the model to outputs/models/supervised-dev/.

This checks the TRAINER (data plumbing, loss, prompts, saving, evaluation), NOT the RaDeR method:
the training signal here is human relevance labels, not LLM-synthesized data. Held-out folds hold
unseen questions, but their gold theorems may also be gold for training questions.

Run: python bench/train_supervised.py   (defaults: 19.5 min wall on 2 idle cores, 34 CPU-minutes)
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rader_hub.corpus import Corpus, load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.evaluation.evaluate import evaluate_retriever, qrels_for
from rader_hub.evaluation.metrics import evaluate_run, run_from_rankings
from rader_hub.evaluation.plots import plot_runs
from rader_hub.queries import EvalQuery, load_queries
from rader_hub.retrieval import BM25Retriever, DenseRetriever
from rader_hub.retrieval.base import Ranking
from rader_hub.retrieval.embedding_cache import EmbeddingCache
from rader_hub.training import RetrieverTrainingConfig, Triple, train_retriever

BANNER = (
    "NOTE: this benchmark checks the trainer (rader train retriever), not the RaDeR method: it trains on\n"
    "human relevance labels (TheoremQA dev questions -> gold theorem), not on LLM-synthesized data."
)
TARGET_GAIN = 0.05


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_arguments(parser, negatives=3, max_seq_length=96, epochs=2.0)
    parser.add_argument("--miner", choices=["dense", "bm25"], default="dense", help="retriever that mines hard negatives")
    parser.add_argument("--skip-top", type=int, default=0, help="ignore this many top-ranked wrong theorems (possible false negatives)")
    parser.add_argument("--out", type=Path, default=Path("outputs/models/supervised-dev"))
    parser.add_argument("--report", type=Path, default=Path("outputs/bench/train_supervised.json"))
    return parser.parse_args()


def add_training_arguments(parser: argparse.ArgumentParser, negatives: int, max_seq_length: int, epochs: float) -> None:
    """The folds and training settings (shared with bench/known_answer.py, which trains lighter)."""
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--negatives", type=int, default=negatives, help="hard negatives per training example")
    parser.add_argument("--max-seq-length", type=int, default=max_seq_length, help="training truncation (evaluation uses the model's 256)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=float, default=epochs)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit-folds", type=int, default=None, help="train only the first N folds (quick checks)")
    parser.add_argument("--skip-final", action="store_true", help="do not train the all-dev model")


def question_folds(count: int, folds: int, seed: int) -> tuple[list[int], list[list[int]]]:
    """The questions' shuffled order and the held-out folds (indices), the same in every benchmark."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order, [sorted(order[i::folds]) for i in range(folds)]


def mine_negatives(rankings: Sequence[Ranking], queries: Sequence[EvalQuery], count: int, skip: int) -> list[list[str]]:
    """Top-ranked wrong theorems per question: what the miner confuses with the gold one."""
    mined = []
    for query, ranking in zip(queries, rankings):
        wrong = [doc_id for doc_id, _ in ranking if doc_id not in query.gold_ids and doc_id not in query.excluded_ids]
        mined.append(wrong[skip : skip + count])
    return mined


def dev_triples(queries: Sequence[EvalQuery], negatives: Sequence[list[str]], corpus: Corpus) -> list[Triple]:
    """(question, gold theorem, mined wrong theorems), one per gold theorem, as the trainers take them."""
    return [
        Triple(
            query=query.text,
            positive=corpus[gold].full_text,  # what the retrievers index: title + text
            negatives=tuple(corpus[doc_id].full_text for doc_id in negative_ids),
            query_type="question",
            group=query.id,
            location=f"dev query {query.id}",
        )
        for query, negative_ids in zip(queries, negatives)
        for gold in query.gold_ids
    ]


def train(triples: list[Triple], out: Path, args: argparse.Namespace) -> None:
    """The trainer behind `rader train retriever`, through its Python API."""
    config = RetrieverTrainingConfig(
        out_dir=out, num_negatives=args.negatives, batch_size=args.batch_size, epochs=args.epochs, learning_rate=args.lr,
        temperature=args.temperature, max_seq_length=args.max_seq_length, seed=args.seed, save_steps=1000,
    )  # fmt: skip
    print(f"training {out} on {len(triples)} triples: {config}", flush=True)
    train_retriever(config, triples)


def fold_metrics(queries: Sequence[EvalQuery], rankings: Sequence[Ranking]) -> dict[str, float]:
    return evaluate_run(qrels_for(queries), run_from_rankings([q.id for q in queries], rankings))


def main() -> None:
    args = parse_args()
    print(BANNER, flush=True)
    started = time.perf_counter()
    corpus = load_corpus(resolve_source("embedded", "theorems"))
    queries = load_queries(resolve_source("embedded", "dev_queries"))

    base = evaluate_retriever(DenseRetriever(corpus, show_progress=True), queries)
    print(f"base MiniLM, all {len(queries)} dev questions: nDCG@10 {base.metrics['ndcg@10']:.4f}", flush=True)
    miner_rankings = base.rankings if args.miner == "dense" else evaluate_retriever(BM25Retriever(corpus), queries).rankings
    negatives = mine_negatives(miner_rankings, queries, args.negatives, args.skip_top)
    base_by_id = dict(zip([q.id for q in queries], base.rankings))

    order, folds = question_folds(len(queries), args.folds, args.seed)
    results = []
    with tempfile.TemporaryDirectory(prefix="rader-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        # Fold models are fresh folders: a private cache keeps their embeddings out of the user's cache.
        cache = EmbeddingCache(scratch / "cache")
        for number, held_out in enumerate(folds[: args.limit_folds or args.folds], start=1):
            held = set(held_out)
            train_idx = [i for i in order if i not in held]
            triples = dev_triples([queries[i] for i in train_idx], [negatives[i] for i in train_idx], corpus)
            model_dir = scratch / f"fold{number}"
            train(triples, model_dir, args)
            test_queries = [queries[i] for i in held_out]
            trained = evaluate_retriever(DenseRetriever(corpus, model=str(model_dir), cache=cache), test_queries).metrics
            base_fold = fold_metrics(test_queries, [base_by_id[q.id] for q in test_queries])
            results.append({"fold": number, "train": len(train_idx), "test": len(held_out), "base": base_fold, "trained": trained})
            print(
                f"fold {number}: {len(held_out)} held-out questions  base nDCG@10 {base_fold['ndcg@10']:.4f}  "
                f"trained {trained['ndcg@10']:.4f}  ({trained['ndcg@10'] - base_fold['ndcg@10']:+.4f})",
                flush=True,
            )

    mean_base = sum(r["base"]["ndcg@10"] for r in results) / len(results)
    mean_trained = sum(r["trained"]["ndcg@10"] for r in results) / len(results)
    gain = mean_trained - mean_base
    passed = gain >= TARGET_GAIN

    final = None
    if not args.skip_final:
        train(dev_triples(queries, negatives, corpus), args.out, args)
        final = check_saved_model(args.out)

    report = {
        "note": BANNER,
        "settings": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "base_all_dev_ndcg@10": base.metrics["ndcg@10"],
        "folds": results,
        "mean_heldout_ndcg@10": {"base": mean_base, "trained": mean_trained, "gain": gain},
        "target_gain": TARGET_GAIN,
        "passed": passed,
        "final_model": final,
        "seconds": time.perf_counter() - started,
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2), encoding="utf-8")
    plot = plot_runs(
        [("base MiniLM (held-out)", {"ndcg@10": mean_base}), ("trained (held-out)", {"ndcg@10": mean_trained})],
        args.report.with_suffix(".png"),
    )

    print()
    print(BANNER)
    print(f"held-out nDCG@10 over {len(results)} fold(s): base {mean_base:.4f}  trained {mean_trained:.4f}  gain {gain:+.4f}")
    print(f"target: gain >= {TARGET_GAIN:.2f}  ->  {'PASS' if passed else 'FAIL'}")
    if final:
        print(f"all-dev model: {args.out} (prompts {final['prompts']}); loads with SentenceTransformer(path)")
    print(f"report: {args.report}  chart: {plot}  total {report['seconds'] / 60:.1f} min")


def check_saved_model(path: Path) -> dict:
    """Load the saved model the way a user would, and record its prompts."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path))
    return {"path": str(path), "prompts": model.prompts, "max_seq_length": model.max_seq_length}


if __name__ == "__main__":
    main()
