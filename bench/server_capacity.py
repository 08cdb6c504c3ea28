"""Benchmark: how much faster a serving engine answers a set of requests sent together than one after another.

That ratio (``capacity_gain``) bounds what any scheduling of the searches can win on that server:
concurrent searches beat synchronous rounds only by the work the server could have done in the
idle or under-filled parts of each round, and a server that is no faster with many requests in
flight than with one has no such spare capacity to give. The requests are the search's own
(``engines.prompt_set``: per problem the root expansion's next step, complete solution and query
prompts, and a relevance judgement, with the embedded recipe's budgets; few-shot chat prompts of
300-400 tokens), sent through the recipe's request path (``ConcurrentCompletions``): once with one
request in flight, once with all of them, greedy, each against a fresh server after a warm-up.
The server is chosen as in bench/search_scheduling.py (bench/servers.py). The last line printed is a
JSON object with ``one_at_a_time_s``, ``together_s`` and ``capacity_gain``.
Usage: python bench/server_capacity.py [--problems 8] [--llama-server PATH | --base-url URL --model NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from engines import prompt_set
from machine import machine_fields
from servers import MeteredLLM, add_server_arguments, check_server_arguments, server, server_description

from rader_hub.errors import RaderError
from rader_hub.generation.prompts import Messages
from rader_hub.generation.requests import ConcurrentCompletions, complete_all

# Requests in flight for each mode; "together" runs first, so on a running server (--base-url) any
# prefix cache favours "one_at_a_time" and the gain is not overstated.
MODES = {"together": None, "one_at_a_time": 1}


def run_mode(llm: MeteredLLM, in_flight: int, messages: list[Messages], budgets: list[int]) -> dict[str, Any]:
    complete_all(ConcurrentCompletions(llm, 1), messages[:1], [2])  # warm-up
    llm.counts()
    started = time.perf_counter()
    texts = complete_all(ConcurrentCompletions(llm, in_flight), messages, budgets)
    seconds = time.perf_counter() - started
    counts = llm.counts()
    line = {
        "in_flight": in_flight,
        "seconds": round(seconds, 1),
        "requests": counts["requests"],
        "prompt_tokens": counts["prompt_tokens"],
        "generated_tokens": counts["generated_tokens"],
        "generated_tokens_per_s": round(counts["generated_tokens"] / seconds, 1),
    }
    print(json.dumps(line), flush=True)
    return {**line, "texts": texts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=8, help="4 requests per problem")
    add_server_arguments(parser)
    args = parser.parse_args()
    check_server_arguments(parser, args)
    messages, budgets = prompt_set(args.problems)
    load_before = os.getloadavg()
    results = {}
    for mode, in_flight in MODES.items():
        with server(args) as (base_url, model):  # a fresh local server for each mode: no shared cache
            llm = MeteredLLM(base_url=base_url, model=model, generation_kwargs={"temperature": 0.0}, timeout=3600)
            try:
                llm.load()
            except RaderError as error:
                parser.exit(2, f"error: {error}\n")
            results[mode] = run_mode(llm, in_flight or len(messages), messages, budgets)
    alone, together = results["one_at_a_time"], results["together"]
    summary = {
        "bench": "server_capacity",
        "server": server_description(args),
        "requests": len(messages),
        "one_at_a_time_s": alone["seconds"],
        "together_s": together["seconds"],
        "capacity_gain": round(alone["seconds"] / together["seconds"], 2),
        "prompt_tokens": alone["prompt_tokens"],
        "generated_tokens": {mode: result["generated_tokens"] for mode, result in results.items()},
        # Greedy decoding: completions that came out the same either way (batched kernels may differ).
        "same_completions": sum(a == b for a, b in zip(alone["texts"], together["texts"], strict=True)),
        **machine_fields(load_before),
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
