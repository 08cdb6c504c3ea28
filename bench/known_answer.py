"""Known-answer check of the data path: does the recipe turn right answers into a better retriever?

The real distilabel pipeline (search, self-reflection, query synthesis, dedup, hard negatives, the
Parquet) runs over the 399 TheoremQA dev questions as problems and the 354 embedded theorems, with
an LLM that knows each question's gold theorem and answer (rader_hub.generation.known_answer) and
flips a seeded share of its relevance verdicts (judge_error 0, 0.2, 0.4). The embedded MiniLM is
then trained on each dataset with the same 3 folds by question as bench/train_supervised.py, next
to the supervised pairs (question, gold theorem, mined negatives) and the untrained base, with the
same training settings and the same number of training examples per fold (the known-answer rows
are sampled per question to match). For the noisy judges, a stratified sample of N judged pairs is
corrected with the true labels through the merge `rader review pull` uses, and trained on again:
what human review buys back. The data's own quality (rows per query type, positive precision,
false-negative rate, rows lost at each filter) is printed too. Finally the model trained on all
399 questions' judge_error-0 data is saved to outputs/models/known-answer.

Training is lighter than train_supervised.py's (one hard negative, one epoch, 64-token truncation) so that the 25
trainings fit the time budget; the comparison stays fair because every configuration trains the
same way. The pipeline's data (per judge setting) and the base rankings are made once per run.

Run: python bench/known_answer.py   (about 30 CPU-minutes on one torch thread; figures in BENCHMARKS.md)
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from machine import machine_fields
from train_supervised import add_training_arguments, check_saved_model, dev_triples, fold_metrics, mine_negatives, question_folds, train

from pipelines.math_recipes import KNOWN_ANSWER, RecipeSettings, build_pipeline, known_answer_llm
from rader_hub.corpus import Corpus, load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.evaluation.evaluate import evaluate_retriever
from rader_hub.evaluation.label_quality import label_quality
from rader_hub.files import read_json, write_json_atomic
from rader_hub.fingerprints import settings_hash
from rader_hub.queries import EvalQuery, load_queries
from rader_hub.records import Row
from rader_hub.retrieval import DenseRetriever
from rader_hub.retrieval.embedding_cache import EmbeddingCache
from rader_hub.review.pairs import LABELS, JudgedPair, judged_pairs, stratified_sample
from rader_hub.review.pull import HumanVerdict, RejectedPositives, merge
from rader_hub.schema import DATA_FILE, RunFolder
from rader_hub.training import Triple
from rader_hub.training.data import triple_from_row

REVIEWER = "known-answer"  # the annotator name the true labels are merged under
TARGET_SHARE = 0.95  # of the supervised gain


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_training_arguments(parser, negatives=1, max_seq_length=64, epochs=1.0)
    search = KNOWN_ANSWER.search
    parser.add_argument("--rollouts", type=int, default=search["rollouts"], help="MCTS rollouts per problem")
    parser.add_argument("--max-depth", type=int, default=search["max_depth"], help="MCTS depth limit")
    parser.add_argument("--top-k", type=int, default=search["top_k"], help="theorems BM25 retrieves per query in the search")
    parser.add_argument("--judge-errors", type=float, nargs="+", default=[0.0, 0.2, 0.4], help="share of verdicts the judge gets wrong")
    parser.add_argument("--review-sizes", type=int, nargs="+", default=[50, 200], help="judged pairs corrected by review")
    parser.add_argument(
        "--reuse-data", action="store_true", help="take the run folders' datasets as they are when present (no pipeline run)"
    )
    parser.add_argument(
        "--configurations", nargs="+", help="train only these, in this order (e.g. 'supervised' 'judge error 0.0'); default: all"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: steady on shared cores)")
    parser.add_argument("--runs", type=Path, default=Path("outputs/bench/known-answer"), help="the pipeline's run folders")
    parser.add_argument("--out", type=Path, default=Path("outputs/models/known-answer"))
    parser.add_argument("--report", type=Path, default=Path("outputs/bench/known_answer.json"))
    return parser.parse_args()


def generate(judge_error: float, args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The recipe's dataset with the known-answer LLM, and its summary.json (resumes a run folder)."""
    import pyarrow.parquet as pq

    search = {**KNOWN_ANSWER.search, "rollouts": args.rollouts, "max_depth": args.max_depth, "top_k": args.top_k}
    settings = dataclasses.replace(KNOWN_ANSWER, search=search)
    run = RunFolder(args.runs / f"judge-error-{judge_error}")
    if args.reuse_data and (run.data_dir / DATA_FILE).is_file() and run.summary_file.is_file():
        return pq.read_table(run.data_dir / DATA_FILE).to_pylist(), read_json(run.summary_file, {})
    # A process of its own, as `rader generate` is: distilabel leaves its logging queue handler behind,
    # and its workers fork, which must happen before this process has run torch.
    process = multiprocessing.get_context("spawn").Process(target=run_pipeline, args=(settings, judge_error, args.seed, str(run.root)))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"the known-answer pipeline (judge_error {judge_error}) failed with exit code {process.exitcode}")
    return pq.read_table(run.data_dir / DATA_FILE).to_pylist(), read_json(run.summary_file, {})


def run_pipeline(settings: RecipeSettings, judge_error: float, seed: int, output_dir: str) -> None:
    multiprocessing.set_start_method("fork", force=True)  # distilabel's step workers fork, as under the CLI
    build_pipeline(settings, lambda: known_answer_llm(judge_error, seed), output_dir=output_dir).run(use_cache=False)
    # The dataset and summary are written (atomically) by now. Seen once: a thread distilabel left
    # behind kept this process from exiting for minutes after a 399-problem run, so exit at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def filter_losses(summary: Mapping[str, Any]) -> dict[str, int]:
    """What each filter removed on the way from rollouts to rows."""
    return {
        "trajectories_wrong_answer": summary["terminals"] - summary["correct_terminals"],
        "theorems_rejected_by_judge": summary["theorems_rejected"],
        **summary["queries_dropped"],
        "duplicates_dropped": summary["duplicates_dropped"],
        "rows_dropped_too_few_negatives": summary["rows_dropped_too_few_negatives"],
    }


def true_label(pair: JudgedPair, gold: Mapping[str, frozenset[str]]) -> str:
    return LABELS[0] if pair.theorem_id in gold[pair.problem_id] else LABELS[1]


def reviewed(rows: list[dict[str, Any]], gold: Mapping[str, frozenset[str]], size: int, seed: int) -> tuple[list[dict[str, Any]], dict]:
    """``rows`` after a review of ``size`` stratified judged pairs that gives every pair its true
    label, merged exactly as `rader review pull` merges Argilla's answers."""
    sample = stratified_sample(judged_pairs(rows), size, seed)
    verdicts = {pair.record_id: HumanVerdict({true_label(pair, gold): 1}, (REVIEWER,)) for pair in sample}
    merged = merge(rows, verdicts, RejectedPositives.drop)
    corrected = sum(pair.judge_label != true_label(pair, gold) for pair in sample)
    return merged.rows, {"pairs_reviewed": len(sample), "judge_verdicts_corrected": corrected, **dict(merged.counts)}


def matched_sample(rows: Sequence[dict[str, Any]], question_ids: Sequence[str], count: int, seed: int) -> list[Triple]:
    """``count`` rows of these questions as training triples: one row of each question in turn
    (drawn at random among its rows), so the questions weigh as in the supervised data."""
    by_question: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_question[row["problem_id"]].append(row)
    rng = random.Random(seed)
    queues = []
    for question_id in question_ids:
        question_rows = list(by_question.get(question_id, []))
        rng.shuffle(question_rows)
        queues.append(question_rows)
    chosen: list[dict[str, Any]] = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop())
    return [triple_from_row(Row(row, f"{row['problem_id']} ({row['query_type']})")) for row in chosen]


class TrainingLog:
    """Trained-and-evaluated results by what went in (the triples, the held-out questions and the
    training settings), kept in a JSON file as each is measured: a rerun trains only what is new,
    and several bench processes can share the file (each result is merged in under a lock)."""

    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        self.path, self.args = path, args
        path.parent.mkdir(parents=True, exist_ok=True)

    def _key(self, triples: list[Triple], test_ids: list[str]) -> str:
        settings = {
            key: getattr(self.args, key) for key in ("negatives", "max_seq_length", "batch_size", "epochs", "lr", "temperature", "seed")
        }
        return settings_hash({"settings": settings, "triples": [dataclasses.astuple(triple)[:4] for triple in triples], "test": test_ids})

    def _recorded(self, key: str) -> dict[str, Any] | None:
        return read_json(self.path, {}).get(key)

    def _record(self, key: str, result: dict[str, Any]) -> dict[str, Any]:
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            write_json_atomic(self.path, {**read_json(self.path, {}), key: result})
        return result

    def result(self, triples: list[Triple], test_queries: list[EvalQuery], corpus: Corpus) -> dict[str, Any]:
        key = self._key(triples, [q.id for q in test_queries])
        recorded = self._recorded(key)
        if recorded is not None:
            return recorded
        with tempfile.TemporaryDirectory(prefix="rader-known-answer-") as scratch_dir:
            model_dir = Path(scratch_dir) / "model"
            train(triples, model_dir, self.args)
            # A private cache: a fold model is a fresh folder whose embeddings are of no later use.
            retriever = DenseRetriever(corpus, model=str(model_dir), cache=EmbeddingCache(Path(scratch_dir) / "cache"))
            metrics = evaluate_retriever(retriever, test_queries).metrics
        return self._record(key, {**metrics, "examples": len(triples), "query_types": _count(t.query_type for t in triples)})

    def saved_model(self, triples: list[Triple], out: Path) -> dict[str, Any]:
        """The model trained on ``triples``, saved to ``out`` (kept from an earlier run when it is there)."""
        key = self._key(triples, [])
        recorded = self._recorded(key)
        if recorded is None or recorded["path"] != str(out) or not out.is_dir():
            train(triples, out, self.args)
            recorded = self._record(key, check_saved_model(out))
        return recorded


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    started = time.perf_counter()
    corpus = load_corpus(resolve_source("embedded", "theorems"))
    queries = load_queries(resolve_source("embedded", "dev_queries"))
    gold = {query.id: frozenset(query.gold_ids) for query in queries}

    datasets: dict[str, list[dict[str, Any]]] = {}
    quality: dict[str, dict[str, Any]] = {}
    for judge_error in args.judge_errors:
        rows, summary = generate(judge_error, args)
        name = f"judge error {judge_error}"
        datasets[name] = rows
        quality[name] = {**label_quality(rows, gold), "filter_losses": filter_losses(summary)}
        if judge_error > 0:
            for size in args.review_sizes:
                reviewed_rows, review = reviewed(rows, gold, size, args.seed)
                datasets[f"{name} + review {size}"] = reviewed_rows
                quality[f"{name} + review {size}"] = {**label_quality(reviewed_rows, gold), "review": review}
    generated = time.perf_counter()
    print_quality(quality)

    base = evaluate_retriever(DenseRetriever(corpus), queries)
    base_by_id = dict(zip([q.id for q in queries], base.rankings))
    negatives = mine_negatives(base.rankings, queries, args.negatives, 0)
    order, folds = question_folds(len(queries), args.folds, args.seed)
    trainings = TrainingLog(args.runs / "trainings.json", args)
    final = None
    if not args.skip_final and datasets:
        first = datasets[f"judge error {args.judge_errors[0]}"]
        final = trainings.saved_model(matched_sample(first, [q.id for q in queries], len(queries), args.seed), args.out)

    results = []
    for number, held_out in enumerate(folds[: args.limit_folds or args.folds], start=1):
        test_queries = [queries[i] for i in held_out]
        train_idx = [i for i in order if i not in set(held_out)]
        fold: dict[str, Any] = {"fold": number, "train_questions": len(train_idx), "test_questions": len(held_out)}
        fold["base"] = fold_metrics(test_queries, [base_by_id[q.id] for q in test_queries])
        fold["supervised_triples"] = dev_triples([queries[i] for i in train_idx], [negatives[i] for i in train_idx], corpus)
        fold["train_ids"], fold["test_queries"] = [queries[i].id for i in train_idx], test_queries
        results.append(fold)
    # Configuration by configuration (the supervised and judge-0 rows first), each over the folds;
    # every result is kept as soon as it is measured, so a rerun after an interruption goes on.
    names = ["base", *(args.configurations or ["supervised", *datasets])]
    unknown = [name for name in names[1:] if name != "supervised" and name not in datasets]
    if unknown:
        raise SystemExit(f"--configurations: no dataset {unknown[0]!r} (this run has: supervised, {', '.join(datasets)})")
    for name in names[1:]:
        for fold in results:
            supervised = fold["supervised_triples"]
            triples = supervised if name == "supervised" else matched_sample(datasets[name], fold["train_ids"], len(supervised), args.seed)
            fold[name] = trainings.result(triples, fold["test_queries"], corpus)
            print(f"fold {fold['fold']} {name}: nDCG@10 {fold[name]['ndcg@10']:.4f} (base {fold['base']['ndcg@10']:.4f})", flush=True)
    for fold in results:  # what the report keeps of a fold: its sizes and results
        for key in ("supervised_triples", "train_ids", "test_queries"):
            del fold[key]

    means = {name: {m: sum(fold[name][m] for fold in results) / len(results) for m in ("ndcg@10", "recall@10")} for name in names}
    first_name = f"judge error {args.judge_errors[0]}"
    share = None
    if {"supervised", first_name} <= set(means) and means["supervised"]["ndcg@10"] != means["base"]["ndcg@10"]:
        share = (means[first_name]["ndcg@10"] - means["base"]["ndcg@10"]) / (means["supervised"]["ndcg@10"] - means["base"]["ndcg@10"])
    report = {
        "settings": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "data_quality": quality,
        "folds": results,
        "mean_heldout": means,
        "gain_share_of_supervised": share,
        "target_share": TARGET_SHARE,
        "passed": share is not None and share >= TARGET_SHARE,
        "final_model": final,
        "seconds": {"generation": generated - started, "total": time.perf_counter() - started},
        **machine_fields(load_before),
    }
    write_json_atomic(args.report, report)
    print_table(names, results, means)
    print(f"{first_name}: gain over base {share:.0%} of the supervised gain (target >= {TARGET_SHARE:.0%})" if share is not None else "")
    if final:
        print(f"all-dev known-answer model: {args.out}")
    print(f"report: {args.report}  total {report['seconds']['total'] / 60:.1f} min, load {report['load_average_after']}")


def _count(values: Iterable[str | None]) -> dict[str, int]:
    return dict(sorted(Counter(str(value) for value in values).items()))


def print_quality(quality: Mapping[str, Mapping[str, Any]]) -> None:
    print(f"\n{'dataset':32} {'rows':>5} {'pos. precision':>14} {'false-neg. rate':>15}  rows per query type")
    for name, figures in quality.items():
        per_type = ", ".join(f"{kind} {q['rows']}" for kind, q in figures["per_query_type"].items())
        print(f"{name:32} {figures['rows']:>5} {figures['positive_precision']:>14.4f} {figures['false_negative_rate']:>15.4f}  {per_type}")
        if "filter_losses" in figures:
            print(f"{'':32} lost: {json.dumps(figures['filter_losses'])}")
        if "review" in figures:
            print(f"{'':32} review: {json.dumps(figures['review'])}")
    print(flush=True)


def print_table(names: Sequence[str], results: Sequence[Mapping[str, Any]], means: Mapping[str, Mapping[str, float]]) -> None:
    folds = "  ".join(f"{'fold ' + str(fold['fold']):>13}" for fold in results)
    print(f"\nheld-out nDCG@10 / Recall@10\n{'training data':32} {folds}  {'mean':>13}  gain")
    for name in names:
        cells = "  ".join(f"{fold[name]['ndcg@10']:.4f}/{fold[name]['recall@10']:.4f}" for fold in results)
        mean = means[name]
        gain = mean["ndcg@10"] - means["base"]["ndcg@10"]
        print(f"{name:32} {cells}  {mean['ndcg@10']:.4f}/{mean['recall@10']:.4f}  {gain:+.4f}")


if __name__ == "__main__":
    main()
