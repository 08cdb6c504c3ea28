"""Benchmark: the embedded recipe's search on the local CPU engine, problems searched together vs one at a time.

What batching buys on the local engine (``LocalTransformersLLM``, which takes every pending prompt
in one call: ``BatchedCompletions``): together, each call carries the prompts that all problems'
searches wait on; one at a time, only one problem's. Both modes run in one process, each with a
fresh embedded LLM (SmolLM2-135M via transformers; an empty prefix cache), on the same problems,
with the search parameters of the embedded recipe (recipes/math.yaml; only the rollouts are fewer)
and greedy decoding, so they send the same prompts (reported per mode). Scheduling against a
serving engine (rounds vs concurrent searches) is measured by bench/search_scheduling.py.
Usage: python bench/mcts_batching.py [--problems 8] [--rollouts 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from search_workload import embedded_search

from rader_hub.generation.llm import LocalTransformersLLM
from rader_hub.generation.mcts import RetrievalMCTS
from rader_hub.generation.requests import BatchedCompletions, llm_generator


class CountingGenerator:
    """Wraps the generator to count calls and prompts."""

    def __init__(self, generate) -> None:
        self.generate, self.calls, self.prompts = generate, 0, 0

    def __call__(self, prompts, max_new_tokens):
        self.calls += 1
        self.prompts += len(prompts)
        return self.generate(prompts, max_new_tokens)


def run_mode(label, groups, llm, retriever, config):
    llm.load()  # each mode gets a fresh LLM: an empty prefix cache
    generator = CountingGenerator(llm_generator(llm))
    search = RetrievalMCTS(BatchedCompletions(generator), retriever, config)
    start = time.perf_counter()
    rollouts = 0
    for group in groups:
        rollouts += sum(r.stats["rollouts"] for r in search.search(group))
    seconds = time.perf_counter() - start
    result = {
        "mode": label,
        "seconds": round(seconds, 1),
        "rollouts": rollouts,
        "seconds_per_rollout": round(seconds / rollouts, 2),
        "llm_calls": generator.calls,
        "prompts": generator.prompts,
        "prompts_per_call": round(generator.prompts / max(generator.calls, 1), 1),
        "prompt_tokens": llm.prompt_tokens,
        "prefilled_tokens": llm.prefilled_tokens,
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--rollouts", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64, help="LLM forward batch size")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 as in recipes/math.yaml)")
    parser.add_argument("--prefix-cache-mb", type=int, default=512, help="LLM prefix cache (0: off)")
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()

    problems, retriever, config = embedded_search(args.problems, args.rollouts)

    # Greedy decoding: both modes then generate the same text for the same prompt.
    def fresh_llm() -> LocalTransformersLLM:
        return LocalTransformersLLM(
            model="embedded",
            batch_size=args.batch_size,
            torch_threads=args.threads,
            prefix_cache_mb=args.prefix_cache_mb,
            generation_kwargs={"do_sample": False},
        )

    together = run_mode("together", [problems], fresh_llm(), retriever, config)
    alone = run_mode("one_at_a_time", [[p] for p in problems], fresh_llm(), retriever, config)
    result = {
        "problems": len(problems),
        "config": config.__dict__,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_at_end": os.getloadavg(),
        "together": together,
        "one_at_a_time": alone,
        "speedup": round(alone["seconds_per_rollout"] / together["seconds_per_rollout"], 2),
    }
    print(
        f"speedup at {len(problems)} problems: {result['speedup']}x "
        f"({alone['seconds_per_rollout']} s vs {together['seconds_per_rollout']} s per rollout)"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1)


if __name__ == "__main__":
    main()
