"""Real OpenAI-compatible servers on 127.0.0.1 with the embedded SmolLM2: `transformers serve
--continuous-batching` on the dequantised copy rader-hub keeps in its cache folder (the tests'), and
llama.cpp's `llama-server` on the GGUF file itself (bench/search_scheduling.py, when given a build)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rader_hub.review.server import free_port

TRANSFORMERS = Path(sys.executable).parent / "transformers"
# `--param`s that run recipes/math-openai.yaml here: its paper data (MATH, BRIGHT, Qwen3-Embedding)
# is on the Hub, so the embedded problems and corpus stand in; SmolLM2 solves nothing and judges
# nothing relevant, so the paper's filters are relaxed as in the embedded recipe.
EMBEDDED_STAND_INS = {
    "load_problems.source": "embedded",
    "mcts_search.corpus": "embedded",
    "mcts_search.retriever": "bm25",
    "mcts_search.embedder": "embedded",
    "synthesize_queries.corpus": "embedded",
    "hard_negatives.corpus": "embedded",
    "hard_negatives.embedder": "embedded",
    "mcts_search.require_correct_answer": "false",
    "mcts_search.keep_top_theorem_if_none_relevant": "true",
}


@dataclass(frozen=True)
class OpenAIServer:
    base_url: str  # ends in /v1
    model: str  # the name the server answers to: the model folder it was started with
    log: Path


@contextmanager
def transformers_serve(model_dir: str, log: Path, startup_s: float = 300, num_blocks: int = 64, threads: int = 1) -> Iterator[OpenAIServer]:
    """`transformers serve --continuous-batching`: ``num_blocks`` KV-cache blocks of 256 tokens (unbounded,
    it takes 90% of free RAM); ``threads`` torch threads (with 2 on 2 shared cores, a 12-token answer took
    5-11 s instead of 1 s)."""
    port = free_port()
    command = [
        str(TRANSFORMERS),
        "serve",
        model_dir,
        "--continuous-batching",
        "--device",
        "cpu",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--cb-num-blocks",
        str(num_blocks),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    with _serving(command, env, OpenAIServer(f"http://127.0.0.1:{port}/v1", model_dir, log), startup_s) as server:
        yield server


@contextmanager
def llama_server(
    binary: str, gguf: Path, log: Path, parallel: int, context_per_request: int = 2048, threads: int = 1
) -> Iterator[OpenAIServer]:
    """llama.cpp's `llama-server` on the GGUF weights themselves: continuous batching over ``parallel``
    slots of ``context_per_request`` tokens each; it answers to the GGUF file's name."""
    port = free_port()
    command = [
        binary,
        "--model",
        str(gguf),
        "--alias",
        gguf.name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--parallel",
        str(parallel),
        "--ctx-size",
        str(parallel * context_per_request),
        "--threads",
        str(threads),
        "--jinja",
    ]
    with _serving(command, dict(os.environ), OpenAIServer(f"http://127.0.0.1:{port}/v1", gguf.name, log), startup_s=120) as server:
        yield server


@contextmanager
def _serving(command: list[str], env: dict[str, str], server: OpenAIServer, startup_s: float) -> Iterator[OpenAIServer]:
    """Start the server, wait until it has answered one chat completion (the first pays a warm-up),
    and stop it by PID afterwards."""
    with open(server.log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_answering(server, process, time.monotonic() + startup_s)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(server: OpenAIServer, process: subprocess.Popen, deadline: float) -> None:
    import openai

    client = openai.OpenAI(base_url=server.base_url, api_key="EMPTY", max_retries=0, timeout=120)
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{Path(process.args[0]).name} exited with {process.returncode}:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.base_url.removesuffix("/v1") + "/health", timeout=5):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{Path(process.args[0]).name} did not answer in time:\n{server.log.read_text()[-3000:]}") from None
            time.sleep(1)
    client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": "Hello"}], max_tokens=2)
