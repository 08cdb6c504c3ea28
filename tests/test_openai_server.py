"""The OpenAI-compatible path against a real server (`transformers serve --continuous-batching`, the
embedded SmolLM2): concurrent completions, clear errors when the server is down or the model
name is wrong, and the OpenAI recipe end to end."""

from __future__ import annotations

import http.server
import json
import os
import re
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import run_rader

from devtools.openai_server import EMBEDDED_STAND_INS
from rader_hub.errors import ServerError
from rader_hub.generation.llm import OpenAICompatibleLLM
from rader_hub.generation.requests import ConcurrentCompletions
from rader_hub.review.server import free_port

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "math-openai.yaml"
LLM_STEPS = ("mcts_search", "synthesize_queries")
# transformers serve rejects fields outside the OpenAI schema, such as the recipe's top_k.
SAMPLING = json.dumps({"temperature": 0.8, "top_p": 0.95})


def _server_params(base_url: str, model: str) -> list[str]:
    params = []
    for step in LLM_STEPS:
        params += [
            "--param",
            f"{step}.llm.base_url={base_url}",
            "--param",
            f"{step}.llm.model={model}",
            "--param",
            f"{step}.llm.generation_kwargs={SAMPLING}",
        ]
    return params


@pytest.mark.openai_server
def test_concurrent_completions_come_back_as_each_is_ready_and_match_those_asked_alone(openai_server):
    llm = OpenAICompatibleLLM(
        base_url=openai_server.base_url, model=openai_server.model, api_key="EMPTY", generation_kwargs={"temperature": 0.0}
    )
    llm.load()
    completions = ConcurrentCompletions(llm, max_concurrent_requests=4)
    prompts = {
        "Tell me a story about a cat.": 40,
        "What is 2+2?": 4,
        "Name three colours.": 8,
        "Write a haiku about rain.": 6,
        "What is the capital of Italy?": 8,
        "Explain gravity briefly.": 5,
    }
    alone = {}
    for prompt, budget in prompts.items():
        ticket = completions.submit([{"role": "user", "content": prompt}], budget)
        alone[prompt] = completions.collect()[ticket]
    tickets = {completions.submit([{"role": "user", "content": prompt}], budget): prompt for prompt, budget in prompts.items()}
    arrivals: list[list[str]] = []
    together = {}
    while batch := completions.collect():
        arrivals.append([tickets[ticket] for ticket in batch])
        together.update({tickets[ticket]: text for ticket, text in batch.items()})
    assert together == alone and all(alone.values())  # greedy: each request's own completion, whatever came back first
    assert len(arrivals) > 1 and "Tell me a story about a cat." not in arrivals[0]  # the short ones did not wait for the long one


def test_server_down_is_one_clear_line_at_once(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    env = {**os.environ, "DISTILABEL_CACHE_DIR": str(tmp_path / "distilabel")}
    done = run_rader("generate", str(RECIPE), *_server_params(url, "some/model"), cwd=str(tmp_path), env=env, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    expected = f"error: step 'mcts_search': no OpenAI-compatible server answers at {url} ([Errno 111] Connection refused)"
    assert done.stderr.strip().splitlines()[-1] == expected
    assert "Traceback" not in done.stderr and "Retrying" not in done.stderr + done.stdout
    # At once: the check comes before distilabel starts the pipeline (it would make its cache folder
    # and a process per step), and nothing was written to the run folder.
    assert not (tmp_path / "distilabel").exists()
    assert list((tmp_path / "outputs" / "math-openai").iterdir()) == []


@pytest.mark.openai_server
def test_wrong_model_name_is_one_clear_line_naming_the_url(openai_server, tmp_path):
    params = _server_params(openai_server.base_url, "Qwen/Qwen2.5-7B-Instruct")
    done = run_rader("generate", str(RECIPE), *params, cwd=str(tmp_path), timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: step 'mcts_search': the server at {openai_server.base_url} serves {openai_server.model!r}, not 'Qwen/Qwen2.5-7B-Instruct'"
    )


@pytest.mark.parametrize(("status", "message"), [(401, "refused the API key"), (404, "answered HTTP 404: is http://127.0.0.1:")])
def test_a_server_that_refuses_the_model_list_is_one_clear_line(status, message):
    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        llm = OpenAICompatibleLLM(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", model="m")
        with pytest.raises(ServerError, match=re.escape(message)):
            llm.load()
        server.shutdown()


@pytest.mark.slow
@pytest.mark.openai_server
def test_openai_recipe_end_to_end_against_the_server(openai_server, tmp_path):
    small = {
        "load_problems.num_problems": 2,
        "mcts_search.rollouts": 2,
        "mcts_search.max_depth": 3,
        "mcts_search.top_k": 2,
        "mcts_search.step_tokens": 24,
        "mcts_search.solution_tokens": 32,
        "mcts_search.query_tokens": 24,
        "mcts_search.judge_tokens": 8,
        "mcts_search.summary_tokens": 24,
        "mcts_search.theorem_chars": 400,
        "synthesize_queries.query_tokens": 16,
        "synthesize_queries.theorem_chars": 400,
        # A CPU server answers requests sent together slower than one after another (bench/server_capacity.py).
        "mcts_search.max_concurrent_requests": 2,
        "synthesize_queries.max_concurrent_requests": 2,
        **EMBEDDED_STAND_INS,
    }
    params = [arg for key, value in small.items() for arg in ("--param", f"{key}={value}")]
    env = {**os.environ, "RADER_CACHE_DIR": str(tmp_path / "cache"), "DISTILABEL_CACHE_DIR": str(tmp_path / "distilabel")}
    done = run_rader(
        "generate",
        str(RECIPE),
        *_server_params(openai_server.base_url, openai_server.model),
        *params,
        cwd=str(tmp_path),
        env=env,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = tmp_path / "outputs" / "math-openai"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["problems"] == 2 and summary["rollouts"] == 4
    rows = pq.read_table(run_dir / "data" / "train-00000-of-00001.parquet").to_pylist()
    assert rows and all(row["generator"] == openai_server.model and row["negatives"] for row in rows)
