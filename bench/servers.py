"""The OpenAI-compatible server a serving benchmark measures: one named by ``--base-url``/``--model``,
or a fresh one on 127.0.0.1 with the embedded SmolLM2 (``transformers serve --continuous-batching``
by default, llama.cpp's ``llama-server`` with ``--llama-server PATH``), stopped by PID afterwards."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr

from devtools.openai_server import llama_server, transformers_serve  # the server starters the tests use too
from rader_hub.assets import resolve_generator
from rader_hub.generation.llm import OpenAICompatibleLLM, generator_folder


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="a running OpenAI-compatible server (default: start transformers serve here)")
    parser.add_argument("--model", help="the model name the server at --base-url serves")
    parser.add_argument("--cb-num-blocks", type=int, default=128, help="transformers serve: KV-cache blocks of 256 tokens")
    parser.add_argument("--server-threads", type=int, default=1, help="local server: CPU threads")
    parser.add_argument("--llama-server", help="a llama.cpp llama-server binary: serve the embedded GGUF with it instead")
    parser.add_argument("--slots", type=int, default=32, help="llama-server: parallel slots (requests decoded together)")


def check_server_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if bool(args.base_url) != bool(args.model):
        parser.error("--base-url and --model go together")
    if args.base_url and args.llama_server:
        parser.error("--base-url measures a running server; --llama-server starts one: give one of them")


@contextlib.contextmanager
def server(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """The base URL and model name of the server to measure."""
    if args.base_url:
        yield args.base_url, args.model
        return
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        if args.llama_server:
            gguf = resolve_generator()
            local = llama_server(args.llama_server, Path(gguf.location) / gguf.gguf_file, log, args.slots, threads=args.server_threads)
        else:
            local = transformers_serve(generator_folder(), log, num_blocks=args.cb_num_blocks, threads=args.server_threads)
        with local as started:
            yield started.base_url, started.model


def server_description(args: argparse.Namespace) -> str:
    if args.base_url:
        return args.base_url
    if args.llama_server:
        return f"llama-server --parallel {args.slots} --threads {args.server_threads} (embedded GGUF)"
    return f"transformers serve --continuous-batching --cb-num-blocks {args.cb_num_blocks} (OMP_NUM_THREADS={args.server_threads})"


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
