"""Benchmark: MCTS wall time per rollout, problems searched together vs one at a time.

Both modes run in one process on the same loaded embedded LLM (SmolLM2-135M via transformers),
the same problems, the search parameters of the embedded recipe (recipes/math.yaml; only the
rollouts are fewer) and greedy decoding, so they do comparable work.
Usage: python bench/mcts_batching.py [--problems 8] [--rollouts 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import fields

from pipelines.math_recipes import EMBEDDED
from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.generation.llm import LocalTransformersLLM
from rader_hub.generation.mcts import Problem, RetrievalMCTS, SearchConfig
from rader_hub.generation.steps.common import llm_generator
from rader_hub.records import read_rows
from rader_hub.retrieval import BM25Retriever


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
    search = RetrievalMCTS(generator, retriever, config)
    start = time.perf_counter()
    rollouts = 0
    for group in groups:
        rollouts += sum(r.stats["rollouts"] for r in search.search(group))
    seconds = time.perf_counter() - start
    result = {"mode": label, "seconds": round(seconds, 1), "rollouts": rollouts, "seconds_per_rollout": round(seconds / rollouts, 2),
              "llm_calls": generator.calls, "prompts": generator.prompts, "prompts_per_call": round(generator.prompts / max(generator.calls, 1), 1),
              "prompt_tokens": llm.prompt_tokens, "prefilled_tokens": llm.prefilled_tokens}
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

    rows = read_rows(resolve_source("embedded", "math_problems"))[: args.problems]
    problems = [Problem(r.data["id"], r.data["problem"], r.data["answer"]) for r in rows]
    retriever = BM25Retriever(load_corpus(resolve_source("embedded", "theorems")))
    # Greedy decoding: both modes then generate the same text for the same prompt.
    def fresh_llm() -> LocalTransformersLLM:
        return LocalTransformersLLM(model="embedded", batch_size=args.batch_size, torch_threads=args.threads,
                                    prefix_cache_mb=args.prefix_cache_mb, generation_kwargs={"do_sample": False})

    names = {field.name for field in fields(SearchConfig)}
    config = SearchConfig(**{**{k: v for k, v in EMBEDDED.search.items() if k in names}, "rollouts": args.rollouts})
    together = run_mode("together", [problems], fresh_llm(), retriever, config)
    alone = run_mode("one_at_a_time", [[p] for p in problems], fresh_llm(), retriever, config)
    result = {
        "problems": len(problems), "config": config.__dict__, "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "load_average_at_end": os.getloadavg(), "together": together, "one_at_a_time": alone,
        "speedup": round(alone["seconds_per_rollout"] / together["seconds_per_rollout"], 2),
    }
    print(f"speedup at {len(problems)} problems: {result['speedup']}x "
          f"({alone['seconds_per_rollout']} s vs {together['seconds_per_rollout']} s per rollout)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1)


if __name__ == "__main__":
    main()
