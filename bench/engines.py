"""Benchmark: the CPU engine of the embedded generator, side by side in one process.

The same chat prompts (per problem: next step 40, complete solution 64, query 48 and relevance judge
16 tokens, the embedded recipe's budgets), the same SmolLM2-135M weights, greedy decoding, through:
- ``ours``: ``LocalTransformersLLM.generate`` with the prefix cache off (chunked prefill, then one
  decoding batch with a budget per prompt; rader_hub/generation/decoding.py);
- ``ours_prefix_cache``: the same with the prefix cache on (the embedded recipe's setting);
- ``continuous_batching``: transformers' own engine (the one behind ``model.generate_batch`` and
  ``transformers serve --continuous-batching``), one request per prompt with its own budget;
- ``one_at_a_time``: ``model.generate`` for each prompt alone.
Each engine is warmed up on one prompt, then timed on all of them. One JSON line per engine and round,
then a summary line last: tokens/s of each engine and the machine's load average before and after.
Usage: python bench/engines.py [--problems 8] [--threads 1] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import torch
from machine import machine_fields
from transformers import AutoModelForCausalLM, AutoTokenizer, ContinuousBatchingConfig, GenerationConfig

from pipelines.math_recipes import EMBEDDED, embedded_llm
from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.generation import prompts
from rader_hub.generation.llm import generator_folder
from rader_hub.records import read_rows

# An engine: chat prompts and their token budgets in; each completion's text and generated tokens out.
Engine = Callable[[list[prompts.Messages], list[int]], list[tuple[str, int]]]


def prompt_set(problems: int) -> tuple[list[prompts.Messages], list[int]]:
    """Per problem, the root expansion's prompts and a relevance judgement, with the recipe's budgets."""
    search = EMBEDDED.search
    rows = read_rows(resolve_source("embedded", "math_problems"))[:problems]
    theorems = list(load_corpus(resolve_source("embedded", "theorems")))
    messages, budgets = [], []
    for row, theorem in zip(rows, theorems):
        problem = row.data["problem"]
        messages += [
            prompts.one_step_thought(problem, []),
            prompts.complete_remaining_steps(problem, []),
            prompts.generate_query(problem, []),
            prompts.judge_theorem(problem, [], theorem.full_text[: search["theorem_chars"]]),
        ]
        budgets += [search["step_tokens"], search["solution_tokens"], search["query_tokens"], search["judge_tokens"]]
    return messages, budgets


def ours(prefix_cache_mb: int) -> Engine:
    llm = embedded_llm().model_copy(update={"prefix_cache_mb": prefix_cache_mb, "torch_threads": 0})
    llm.load()

    def run(messages: list[prompts.Messages], budgets: list[int]) -> list[tuple[str, int]]:
        outputs = llm.generate(messages, max_new_tokens=budgets, do_sample=False)
        return [(output["generations"][0], output["statistics"]["output_tokens"][0]) for output in outputs]

    return run


class Transformers:
    """The model and tokenizer as transformers loads them, for its own engines."""

    def __init__(self) -> None:
        self.tokenizer = AutoTokenizer.from_pretrained(generator_folder())
        # sdpa: continuous batching on CPU refuses "sdpa_paged" at load time and picks its paged kernel itself.
        self.model = AutoModelForCausalLM.from_pretrained(generator_folder(), attn_implementation="sdpa").eval()
        self.stop_ids = {self.tokenizer.eos_token_id, *_as_list(self.model.generation_config.eos_token_id)}

    def chat_ids(self, messages: prompts.Messages) -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def completion(self, tokens: list[int]) -> tuple[str, int]:
        while tokens and tokens[-1] in self.stop_ids:
            tokens = tokens[:-1]
        return self.tokenizer.decode(tokens, skip_special_tokens=True).strip(), len(tokens)

    def greedy(self, budget: int) -> GenerationConfig:
        return GenerationConfig(
            do_sample=False,
            max_new_tokens=budget,
            eos_token_id=sorted(self.stop_ids),
            pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        )


def one_at_a_time() -> Engine:
    lm = Transformers()

    def run(messages: list[prompts.Messages], budgets: list[int]) -> list[tuple[str, int]]:
        results = []
        for chat, budget in zip(messages, budgets):
            ids = torch.tensor([lm.chat_ids(chat)])
            with torch.inference_mode():
                output = lm.model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=lm.greedy(budget))
            results.append(lm.completion(output[0, ids.shape[1] :].tolist()))
        return results

    return run


def continuous_batching() -> Engine:
    lm = Transformers()
    # 64 blocks of 256 tokens hold every prompt of a call; unbounded, the cache takes 90% of free RAM on CPU.
    config = ContinuousBatchingConfig(num_blocks=64)

    def run(messages: list[prompts.Messages], budgets: list[int]) -> list[tuple[str, int]]:
        greedy = lm.greedy(max(budgets))
        with lm.model.continuous_batching_context_manager(generation_config=greedy, continuous_batching_config=config) as manager:
            requests = [manager.add_request(lm.chat_ids(chat), max_new_tokens=budget) for chat, budget in zip(messages, budgets)]
            finished = {}
            while len(finished) < len(requests):
                result = manager.get_result(timeout=600)
                if result is None or result.error:
                    raise RuntimeError(f"continuous batching failed: {result.error if result else 'no result in 600 s'}")
                if result.is_finished():
                    finished[result.request_id] = result.generated_tokens
        return [lm.completion(list(finished[request])) for request in requests]

    return run


def measure(name: str, engine: Engine, messages: list[prompts.Messages], budgets: list[int]) -> dict:
    engine(messages[:1], [2])  # warm-up: first-call allocations, lazy imports
    started = time.perf_counter()
    results = engine(messages, budgets)
    seconds = time.perf_counter() - started
    tokens = sum(count for _, count in results)
    line = {
        "engine": name,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "seconds": round(seconds, 2),
        "generated_tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 1),
    }
    print(json.dumps(line), flush=True)
    return {**line, "texts": [text for text, _ in results]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=8, help="4 prompts per problem")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1, as in recipes/math.yaml)")
    parser.add_argument("--repeats", type=int, default=1, help="rounds over all engines; each engine's best counts")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    messages, budgets = prompt_set(args.problems)
    load_before = os.getloadavg()
    engines = {
        "ours": lambda: ours(prefix_cache_mb=0),
        "ours_prefix_cache": lambda: ours(prefix_cache_mb=512),
        "continuous_batching": continuous_batching,
        "one_at_a_time": one_at_a_time,
    }
    # Rounds interleave the engines, each freshly made (an empty prefix cache); noise on a shared machine
    # only adds time, so each engine's best round counts.
    rounds = [{name: measure(name, make(), messages, budgets) for name, make in engines.items()} for _ in range(args.repeats)]
    results = {name: max((r[name] for r in rounds), key=lambda result: result["tokens_per_s"]) for name in engines}
    reference = results["one_at_a_time"]["texts"]
    fastest = max(results, key=lambda name: results[name]["tokens_per_s"])
    print(
        json.dumps(
            {
                "bench": "engines",
                "prompts": len(messages),
                "threads": args.threads,
                "repeats": args.repeats,
                **machine_fields(load_before),
                "tokens_per_s": {name: result["tokens_per_s"] for name, result in results.items()},
                "generated_tokens": {name: result["generated_tokens"] for name, result in results.items()},
                # Greedy decoding: how many completions equal model.generate's for the prompt alone.
                "same_as_one_at_a_time": {
                    name: sum(a == b for a, b in zip(result["texts"], reference)) for name, result in results.items()
                },
                "fastest": fastest,
                "speedup_vs_continuous_batching": round(
                    results[fastest]["tokens_per_s"] / results["continuous_batching"]["tokens_per_s"], 2
                ),
            }
        )
    )


def _as_list(value: int | list[int] | None) -> list[int]:
    return [] if value is None else value if isinstance(value, list) else [value]


if __name__ == "__main__":
    main()
