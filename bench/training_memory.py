"""Benchmark: peak memory and time of retriever training, plain InfoNCE against its cached (GradCache) variant.

Each setting trains the embedded all-MiniLM-L6-v2 for ``--steps`` steps through ``train_retriever`` at the
library's default batch (16 rows, each a query, its positive and 12 hard negatives, MiniLM's 256 tokens),
on the realistic rows of bench/training_throughput.py (TheoremQA dev questions, gold theorem, BM25's
top-ranked wrong theorems). ``--mini-batch-sizes`` are the settings: 0 is the plain loss (every text of a
batch in one forward pass), N > 0 the cached loss encoding N texts at a time (the same gradients).

Every run is a fresh child process, so its peak resident memory (``ru_maxrss``) is its own; the settings
are interleaved over ``--repeats`` rounds (this machine is noisy) and each keeps its lowest peak and
fastest training loop (the trainer's ``train_runtime``). Prints one JSON line per run, then a table with
each setting's ratios to the plain loss.
Usage: python bench/training_memory.py [--mini-batch-sizes 0 16 4] [--steps 2] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from machine import machine_fields


def _at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an int of at least ``minimum`` (a bad value is argparse's one-line error)."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def child(mini_batch_size: int, steps: int, threads: int) -> None:
    """One training run in this process; prints its peak memory and training loop seconds."""
    import torch
    from training_throughput import realistic_triples

    from rader_hub.training import RetrieverTrainingConfig, train_retriever
    from rader_hub.training.runtime import SUMMARY_FILE

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="rader-bench-memory-") as folder:
        config = RetrieverTrainingConfig(
            out_dir=Path(folder) / "model", mini_batch_size=mini_batch_size, max_steps=steps, save_steps=10**6, show_progress=False
        )
        triples = realistic_triples(config.num_negatives)
        train_retriever(config, triples)
        history = json.loads((Path(folder) / "model" / SUMMARY_FILE).read_text(encoding="utf-8"))["log_history"]
    print(
        json.dumps(
            {
                "mini_batch_size": mini_batch_size,
                "batch_size": config.batch_size,
                "texts_per_row": 2 + config.num_negatives,
                "train_runtime_s": round(next(entry["train_runtime"] for entry in history if "train_runtime" in entry), 1),
                "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),  # Linux: KiB
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mini-batch-sizes", type=_at_least(0), nargs="+", default=[0, 16, 4], help="0: plain; N: cached, N texts a pass")
    parser.add_argument("--steps", type=_at_least(1), default=2, help="training steps per run")
    parser.add_argument("--repeats", type=_at_least(1), default=1, help="interleaved rounds; each setting keeps its best")
    parser.add_argument("--threads", type=_at_least(1), default=1, help="torch CPU threads")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # one run, in a fresh process
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.steps, args.threads)
        return

    load_before = os.getloadavg()
    best: dict[int, dict[str, float]] = {}
    for _ in range(args.repeats):
        for size in args.mini_batch_sizes:
            command = [sys.executable, __file__, "--child", str(size), "--steps", str(args.steps), "--threads", str(args.threads)]
            run = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
            print(json.dumps(run), flush=True)
            kept = best.setdefault(size, run)
            kept["peak_rss_gb"] = min(kept["peak_rss_gb"], run["peak_rss_gb"])
            kept["train_runtime_s"] = min(kept["train_runtime_s"], run["train_runtime_s"])

    plain = best.get(0)
    print(f"{'mini-batch size':<16} {'peak RSS GB':>12} {'vs plain':>9} {'train loop s':>13} {'vs plain':>9}")
    for size, run in best.items():
        memory = f"{run['peak_rss_gb'] / plain['peak_rss_gb']:.2f}x" if plain else "-"
        time = f"{run['train_runtime_s'] / plain['train_runtime_s']:.2f}x" if plain else "-"
        label = "0 (plain)" if size == 0 else str(size)
        print(f"{label:<16} {run['peak_rss_gb']:>12.2f} {memory:>9} {run['train_runtime_s']:>13.1f} {time:>9}")
    print(json.dumps({"steps": args.steps, "repeats": args.repeats, "threads": args.threads, **machine_fields(load_before)}))


if __name__ == "__main__":
    main()
