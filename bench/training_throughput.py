"""Benchmark: retriever training throughput (samples/s) and how it scales with hard negatives and sequence length.

Each setting trains the embedded all-MiniLM-L6-v2 for ``--steps`` steps of ``--batch-size`` samples through
the Python API behind `rader train retriever` (``rader_hub.training.train_retriever`` with a
``RetrieverTrainingConfig``: InfoNCE, no-duplicates batches, prompts). A sample is one row: a query,
its positive and its hard negatives. The rows are realistic: the embedded TheoremQA dev questions,
each with the theorem it needs as positive and BM25's top-ranked wrong theorems as hard negatives
(as bench/train_supervised.py builds them).

The grid varies one knob at a time around a middle setting: hard negatives ``--negatives`` (0: in-batch
only) at ``--base-seq-length``, and training truncation ``--seq-lengths`` at ``--base-negatives``. Every
setting runs in this one process after one untimed warm-up run, interleaved over ``--repeats`` rounds;
each keeps its best round. samples/s is a marginal rate: ``--steps`` x batch size over the difference in the
trainer's own train_runtime (its training loop: batches, forward, backward, optimizer) between a run of
1 + ``--steps`` steps and a run of 1 step, so the first step's one-off costs (optimizer state, data
loader start, first kernels) cancel; ``first_step_s`` is that 1-step run and ``overhead_s`` the rest
of the longer call (loading, saving, loss curve). ``tokens_per_sample`` is the mean number of tokens one row feeds the model after
truncation (its texts with their prompts), which is what the cost follows.

Prints one JSON line per setting and round, then a summary line last with each setting's samples/s and
its ratio to the smallest setting (fewest negatives, shortest truncation).
Usage: python bench/training_throughput.py [--negatives 0 2 4 8] [--seq-lengths 64 128 256] [--steps 3] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from machine import machine_fields
from tqdm import tqdm
from train_supervised import dev_triples, mine_negatives

from rader_hub.assets import load_sentence_transformer
from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.queries import load_queries
from rader_hub.retrieval import BM25Retriever
from rader_hub.training import RetrieverTrainingConfig, Triple, train_retriever
from rader_hub.training.config import PASSAGE_PROMPT, QUERY_PROMPT
from rader_hub.training.runtime import SUMMARY_FILE


@dataclass(frozen=True)
class Setting:
    negatives: int
    seq_length: int

    @property
    def label(self) -> str:
        return f"negatives={self.negatives} seq_length={self.seq_length}"


def realistic_triples(max_negatives: int) -> list[Triple]:
    """Dev questions -> gold theorem, with BM25's top-ranked wrong theorems as hard negatives."""
    corpus = load_corpus(resolve_source("embedded", "theorems"))
    queries = load_queries(resolve_source("embedded", "dev_queries"))
    rankings = BM25Retriever(corpus).search([query.text for query in queries], top_k=max_negatives + 10)
    return dev_triples(queries, mine_negatives(rankings, queries, max_negatives, skip=0), corpus)


def tokens_per_sample(triples: list[Triple], setting: Setting, tokenizer) -> float:
    """Mean tokens a row feeds the model at this setting: query, positive and ``negatives`` passages,
    each with its prompt and special tokens, cut to the truncation length."""

    def lengths(texts: list[str]) -> list[int]:
        return [min(len(ids), setting.seq_length) for ids in tokenizer(texts, add_special_tokens=True).input_ids] if texts else []

    queries = lengths([QUERY_PROMPT + triple.query for triple in triples])
    positives = lengths([PASSAGE_PROMPT + triple.positive for triple in triples])
    negatives = lengths([PASSAGE_PROMPT + negative for triple in triples for negative in triple.negatives[: setting.negatives]])
    return (sum(queries) + sum(positives) + sum(negatives)) / len(triples)


def train(triples: list[Triple], setting: Setting, steps: int, batch_size: int, out_dir: Path) -> tuple[float, float]:
    """Train ``steps`` steps at ``setting``; the trainer's train_runtime and the whole call's seconds."""
    config = RetrieverTrainingConfig(
        out_dir=out_dir, num_negatives=setting.negatives, max_seq_length=setting.seq_length, batch_size=batch_size,
        max_steps=steps, save_steps=10**6, show_progress=False,
    )  # fmt: skip
    started = time.perf_counter()
    train_retriever(config, triples)
    wall = time.perf_counter() - started
    history = json.loads((out_dir / SUMMARY_FILE).read_text(encoding="utf-8"))["log_history"]
    return next(entry["train_runtime"] for entry in history if "train_runtime" in entry), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--negatives", type=int, nargs="+", default=[0, 2, 4, 8], help="hard negatives per sample (at --base-seq-length)")
    parser.add_argument("--seq-lengths", type=int, nargs="+", default=[64, 128, 256], help="training truncation (at --base-negatives)")
    parser.add_argument("--base-negatives", type=int, default=4)
    parser.add_argument("--base-seq-length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3, help="timed training steps per setting (after a first step)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=1, help="interleaved rounds; each setting keeps its best")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: steady on shared cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    grid = {Setting(n, args.base_seq_length) for n in args.negatives}
    grid |= {Setting(args.base_negatives, length) for length in args.seq_lengths}
    settings = sorted(grid, key=lambda s: (s.negatives, s.seq_length))
    smallest = min(settings, key=lambda s: (s.negatives, s.seq_length))
    triples = realistic_triples(max(s.negatives for s in settings))
    tokenizer = load_sentence_transformer("embedded").tokenizer
    tokens = {setting: tokens_per_sample(triples, setting, tokenizer) for setting in settings}
    load_before = os.getloadavg()
    best: dict[Setting, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="rader-bench-training-") as folder:
        train(triples, smallest, 1, args.batch_size, Path(folder) / "warm-up")  # lazy imports, first allocations
        runs = [(round_, setting) for round_ in range(args.repeats) for setting in settings]
        for number, (round_, setting) in enumerate(tqdm(runs, desc="training settings", unit="run")):
            first, _ = train(triples, setting, 1, args.batch_size, Path(folder) / f"run{number}-1")
            loop, wall = train(triples, setting, 1 + args.steps, args.batch_size, Path(folder) / f"run{number}-{1 + args.steps}")
            measured = {"steps_s": loop - first, "first_step_s": first, "overhead_s": wall - loop}
            if measured["steps_s"] < best.get(setting, {"steps_s": float("inf")})["steps_s"]:
                best[setting] = measured
            tqdm.write(
                json.dumps(
                    {
                        "negatives": setting.negatives,
                        "seq_length": setting.seq_length,
                        "round": round_,
                        **{key: round(value, 2) for key, value in measured.items()},
                        "samples_per_s": round(args.steps * args.batch_size / measured["steps_s"], 2),
                        "load_average_1min": round(os.getloadavg()[0], 2),
                    }
                )
            )

    samples = args.steps * args.batch_size
    rate = {setting: samples / best[setting]["steps_s"] for setting in settings}
    print(f"{'setting':<28} {'samples/s':>10} {'vs smallest':>12} {'tokens/sample':>14} {'tokens/s':>9}")
    for setting in settings:
        print(
            f"{setting.label:<28} {rate[setting]:>10.2f} {rate[setting] / rate[smallest]:>11.2f}x {tokens[setting]:>14.0f} "
            f"{rate[setting] * tokens[setting]:>9.0f}"
        )
    print(
        json.dumps(
            {
                "bench": "training_throughput",
                "model": "all-MiniLM-L6-v2 (embedded)",
                "rows": len(triples),
                "steps": args.steps,
                "batch_size": args.batch_size,
                "repeats": args.repeats,
                "threads": args.threads,
                **machine_fields(load_before),
                "smallest": smallest.label,
                "settings": [
                    {
                        "negatives": s.negatives,
                        "seq_length": s.seq_length,
                        "samples_per_s": round(rate[s], 2),
                        "ratio_vs_smallest": round(rate[s] / rate[smallest], 3),
                        "tokens_per_sample": round(tokens[s], 1),
                        "tokens_per_s": round(rate[s] * tokens[s]),
                        "first_step_s": round(best[s]["first_step_s"], 2),
                        "overhead_s": round(best[s]["overhead_s"], 2),
                    }
                    for s in settings
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
