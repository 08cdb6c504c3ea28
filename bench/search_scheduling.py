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
cache. ``--base-url`` and ``--model`` measure a running server instead (``vllm serve`` on a GPU);
then the concurrent mode runs first, so any prefix cache of the server favours the rounds.
The last line printed is a JSON object with ``rounds_s``, ``concurrent_s`` and ``speedup``.
Usage: python bench/search_scheduling.py [--problems 8] [--rollouts 1] [--base-url URL --model NAME]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr
from search_workload import embedded_search

from rader_hub.errors import RaderError
from rader_hub.generation.llm import OpenAICompatibleLLM, generator_folder
from rader_hub.generation.mcts import Problem, RetrievalMCTS, SearchConfig, SearchResult
from rader_hub.generation.requests import BatchedCompletions, Completions, ConcurrentCompletions, complete_all
from rader_hub.generation.tree import iter_nodes
from rader_hub.retrieval import BM25Retriever

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from openai_server import transformers_serve  # the tests' server starter


class MeteredLLM(OpenAICompatibleLLM):
    """Counts requests, the tokens the server reports for them and the seconds they were in flight
    (over the wall time: how many requests the server had on average)."""

    _requests: int = PrivateAttr(0)
    _prompt_tokens: int = PrivateAttr(0)
    _generated_tokens: int = PrivateAttr(0)
    _request_seconds: float = PrivateAttr(0.0)

    async def agenerate(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        output = await super().agenerate(*args, **kwargs)
        self._request_seconds += time.perf_counter() - started
        self._requests += 1
        self._prompt_tokens += sum(output["statistics"]["input_tokens"] or [0])
        self._generated_tokens += sum(output["statistics"]["output_tokens"] or [0])
        return output

    def counts(self) -> dict[str, float]:
        counts = {
            "requests": self._requests,
            "prompt_tokens": self._prompt_tokens,
            "generated_tokens": self._generated_tokens,
            "request_seconds": self._request_seconds,
        }
        self._requests = self._prompt_tokens = self._generated_tokens = 0
        self._request_seconds = 0.0
        return counts


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


@contextlib.contextmanager
def server(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """The server to measure: the one named, or a fresh local ``transformers serve``."""
    if args.base_url:
        yield args.base_url, args.model
        return
    with (
        tempfile.TemporaryDirectory() as folder,
        transformers_serve(
            generator_folder(), Path(folder) / "server.log", num_blocks=args.cb_num_blocks, threads=args.server_threads
        ) as local,
    ):
        yield local.base_url, local.model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--rollouts", type=int, default=1)
    parser.add_argument("--max-concurrent-requests", type=int, default=64)
    parser.add_argument("--base-url", help="a running OpenAI-compatible server (default: start transformers serve here)")
    parser.add_argument("--model", help="the model name the server at --base-url serves")
    parser.add_argument("--cb-num-blocks", type=int, default=128, help="local server: KV-cache blocks of 256 tokens")
    parser.add_argument("--server-threads", type=int, default=1, help="local server: torch threads")
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    if bool(args.base_url) != bool(args.model):
        parser.error("--base-url and --model go together")

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
        "server": args.base_url
        or f"transformers serve --continuous-batching --cb-num-blocks {args.cb_num_blocks} (OMP_NUM_THREADS={args.server_threads})",
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
