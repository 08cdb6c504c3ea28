"""Benchmark: MCTS searches against an OpenAI-compatible server, synchronous rounds vs concurrent searches.

The same problems go through the search of the OpenAI recipe (``RetrievalMCTS`` with
``OpenAICompatibleLLM``, the tree shape of the paper, the embedded recipe's small token budgets;
BM25 over the embedded theorems, since the paper's corpus and dense retriever are downloads) twice:
- ``rounds``: every prompt the searches wait on goes out at once, as concurrent requests, and the
  next round starts when the last of them is back (the search before issue 12, at its best: a
  round lasts as long as its longest completion);
- ``concurrent``: each problem's search moves on as soon as its own completions are back
  (``ConcurrentCompletions``, what the recipe runs).
Greedy decoding and per-problem seeds make both modes send the same prompts; the JSON reports the
requests, prompt tokens and generated tokens of each, whether the trees came out the same, and the
requests the server held on average (``mean_in_flight``: seconds in flight over wall time).

By default each mode gets a fresh ``transformers serve --continuous-batching`` with the embedded
SmolLM2 on 127.0.0.1 (started as the tests start it), so no mode profits from the other's KV
cache; ``--llama-server PATH`` starts llama.cpp's server on the embedded GGUF instead
(bench/servers.py). ``--base-url`` and ``--model`` measure a running server (``vllm serve`` on a
GPU); then the concurrent mode runs first, so any prefix cache of the server favours the rounds.
bench/server_capacity.py measures the bound on the speedup: how much faster the server answers
requests sent together than one after another.
The last line printed is a JSON object with ``rounds_s``, ``concurrent_s`` and ``speedup``.
Usage: python bench/search_scheduling.py [--problems 8] [--rollouts 1] [--llama-server PATH | --base-url URL --model NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from search_workload import embedded_search
from servers import MeteredLLM, add_server_arguments, check_server_arguments, server, server_description

from rader_hub.errors import RaderError
from rader_hub.generation.mcts import Problem, RetrievalMCTS, SearchConfig, SearchResult
from rader_hub.generation.requests import BatchedCompletions, Completions, ConcurrentCompletions, complete_all
from rader_hub.generation.tree import iter_nodes
from rader_hub.retrieval import BM25Retriever


def scheduling(mode: str, llm: MeteredLLM, max_concurrent_requests: int) -> Completions:
    if mode == "concurrent":
        return ConcurrentCompletions(llm, max_concurrent_requests)
    requests = ConcurrentCompletions(llm, max_concurrent_requests)
    return BatchedCompletions(lambda prompts, budgets: complete_all(requests, prompts, budgets))


def tree_digest(results: list[SearchResult]) -> str:
    """A hash of every tree's nodes (action, text, visits, value): equal digests, equal searches."""
    digest = hashlib.sha256()
    for result in results:
        for node in iter_nodes(result.root):
            digest.update(f"{node.action.value}|{node.text}|{node.visits}|{node.value}\n".encode())
    return digest.hexdigest()[:16]


def run_mode(
    mode: str, llm: MeteredLLM, problems: list[Problem], retriever: BM25Retriever, config: SearchConfig, max_concurrent_requests: int
) -> dict[str, Any]:
    llm.counts()  # the server's warm-up request is not part of the work
    search = RetrievalMCTS(scheduling(mode, llm, max_concurrent_requests), retriever, config, show_progress=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    results = search.search(problems)
    seconds = time.perf_counter() - started
    result = {
        "mode": mode,
        "seconds": round(seconds, 1),
        **llm.counts(),
        "rollouts": sum(r.stats["rollouts"] for r in results),
        "trees": tree_digest(results),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    result["generated_tokens_per_s"] = round(result["generated_tokens"] / seconds, 1)
    result["mean_in_flight"] = round(result.pop("request_seconds") / seconds, 1)
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--rollouts", type=int, default=1)
    parser.add_argument("--max-concurrent-requests", type=int, default=64)
    add_server_arguments(parser)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    check_server_arguments(parser, args)

    problems, retriever, config = embedded_search(args.problems, args.rollouts)

    modes = {}
    for mode in ("concurrent", "rounds"):
        with server(args) as (base_url, model):
            llm = MeteredLLM(base_url=base_url, model=model, generation_kwargs={"temperature": 0.0}, timeout=3600)
            try:
                llm.load()
            except RaderError as error:
                parser.exit(2, f"error: {error}\n")
            modes[mode] = run_mode(mode, llm, problems, retriever, config, args.max_concurrent_requests)
    rounds, concurrent = modes["rounds"], modes["concurrent"]
    summary = {
        "rounds_s": rounds["seconds"],
        "concurrent_s": concurrent["seconds"],
        "speedup": round(rounds["seconds"] / concurrent["seconds"], 2),
        "same_trees": rounds["trees"] == concurrent["trees"],
        **{
            f"{name}_{key}": modes[name][key]
            for name in ("rounds", "concurrent")
            for key in ("requests", "prompt_tokens", "generated_tokens", "generated_tokens_per_s", "mean_in_flight")
        },
        "problems": len(problems),
        "rollouts": args.rollouts,
        "max_concurrent_requests": args.max_concurrent_requests,
        "server": server_description(args),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "load_before": concurrent["load_before"],
        "load_after": rounds["load_after"],
    }
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "modes": modes, "config": config.__dict__}, indent=1))
    print(
        f"concurrent searches {summary['speedup']}x faster than synchronous rounds ({rounds['seconds']} s -> {concurrent['seconds']} s); "
        f"generated tokens/s {rounds['generated_tokens_per_s']} -> {concurrent['generated_tokens_per_s']}, requests in flight on average "
        f"{rounds['mean_in_flight']} -> {concurrent['mean_in_flight']}; same trees: {summary['same_trees']}"
    )
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
