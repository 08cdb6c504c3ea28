"""The embedded recipe with the real embedded LLM: through the distilabel CLI, and killed + resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parent.parent
RECIPE = REPO / "recipes" / "math.yaml"
BIN = Path(sys.executable).parent
KILL_AFTER = Path(__file__).resolve().parent / "kill_after_checkpoints.py"
SMALL = ["--param", "load_problems.num_problems=2", "--param", "mcts_search.rollouts=2"]


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One cache for the module: the dequantised LLM and corpus embeddings are made once."""
    return tmp_path_factory.mktemp("rader-cache-e2e")


def _env(tmp_path: Path, shared_cache: Path) -> dict[str, str]:
    return {**os.environ, "RADER_CACHE_DIR": str(shared_cache), "DISTILABEL_CACHE_DIR": str(tmp_path / "distilabel"), "HF_HUB_OFFLINE": "1"}


def _rows(run_dir: Path) -> list[dict]:
    return pq.read_table(run_dir / "data" / "train-00000-of-00001.parquet").to_pylist()


@pytest.mark.slow
def test_embedded_recipe_through_the_distilabel_cli(tmp_path, shared_cache):
    done = subprocess.run(
        [str(BIN / "distilabel"), "pipeline", "run", "--config", str(RECIPE), *SMALL],
        cwd=tmp_path,
        env=_env(tmp_path, shared_cache),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = tmp_path / "outputs" / "math"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["problems"] == 2 and summary["rollouts"] == 4
    rows = _rows(run_dir)
    assert rows, summary  # the relaxed filters make a retrieval sample near-certain
    for row in rows:
        assert row["negatives"] and row["positive_id"] not in row["negative_ids"]
        assert row["relaxed_filters"] == ["keep_top_theorem_if_none_relevant", "require_correct_answer"]
        assert row["generator"].startswith("HuggingFaceTB/SmolLM2-135M-Instruct") and row["recipe_name"] == "math"
        assert row["generator_revision"].startswith("sha256:") and row["filters"]["lexical_round_trip_cutoff"] == 4
    assert "question" in {row["query_type"] for row in rows}
    pairs = [(row["query"], row["positive_id"]) for row in rows]
    assert len(pairs) == len(set(pairs))
    # 0.93-0.97 of verdicts parsed in larger samples (tests/test_generation_units.py); a few dozen vary more.
    assert summary["verdicts_parsed_share"] >= 0.7, summary


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_problems_or_duplicating_rows(tmp_path, shared_cache):
    args = ["generate", str(RECIPE), *SMALL, "--param", "load_problems.batch_size=1", "--param", "mcts_search.input_batch_size=1"]
    env = _env(tmp_path, shared_cache)
    checkpoints = tmp_path / "outputs" / "math" / "checkpoints" / "search"
    # Killed with every step process right after the first problem's search is checkpointed.
    killed = subprocess.run(
        [sys.executable, str(KILL_AFTER), "1", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    first = sorted(checkpoints.glob("*.json"))
    assert len(first) == 1, killed.stderr[-3000:]
    finished = {path.name: (path.stat().st_mtime_ns, path.read_bytes()) for path in first}

    done = subprocess.run([str(BIN / "rader"), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for path in first:  # the finished problem was read back, not searched again
        assert (path.stat().st_mtime_ns, path.read_bytes()) == finished[path.name]
    assert len(list(checkpoints.glob("*.json"))) == 2
    rows = _rows(tmp_path / "outputs" / "math")
    keys = [(row["sample_id"], row["query_type"]) for row in rows]
    assert len(keys) == len(set(keys))
    summary = json.loads((tmp_path / "outputs" / "math" / "summary.json").read_text())
    assert summary["problems"] == 2 and summary["rollouts"] == 4


@pytest.mark.slow
def test_batched_decoding_matches_transformers_generate(shared_cache, monkeypatch):
    """The embedded LLM's own decoding (prompts of very different lengths prefilled apart, then
    decoded in one batch, each within its own token budget) gives exactly what transformers'
    generate gives for each prompt alone (greedy)."""
    from rader_hub.generation import prompts
    from rader_hub.generation.llm import LocalTransformersLLM

    monkeypatch.setenv("RADER_CACHE_DIR", str(shared_cache))
    llm = LocalTransformersLLM(torch_threads=1)
    llm.load()
    long_theorem = " ".join(f"Lemma {i}: every bounded monotone sequence of real numbers converges." for i in range(20))
    messages = [
        prompts.one_step_thought("What is 2+3?", []),
        prompts.lexical_query("Bayes' theorem: the posterior is proportional to likelihood times prior."),
        prompts.judge_theorem("What is 7*8?", ["Multiply seven by eight."], long_theorem),  # a separate prefill chunk
        prompts.complete_remaining_steps("Solve x^2 = 4.", ["Factor the difference of squares."]),
    ]
    budgets = [20, 6, 12, 24]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # transformers' deprecations: what we call is still its public API
        outputs = llm.generate(messages, max_new_tokens=budgets, do_sample=False)
    for message, budget, output in zip(messages, budgets, outputs):
        assert output["generations"][0] == _generate_alone(llm, message, budget)
        assert output["statistics"]["output_tokens"][0] <= budget
    lengths = [output["statistics"]["input_tokens"][0] for output in outputs]
    assert max(lengths) > 4 * min(lengths)  # the lengths really differ
    with pytest.raises(ValueError, match="2 token budgets for 4 prompts"):
        llm.generate(messages, max_new_tokens=[8, 8])


@pytest.mark.slow
def test_prefix_cache_prefills_shared_beginnings_once_and_completions_stay_the_same(shared_cache, monkeypatch):
    """Prompts of one task begin with the same few-shot examples, then the problem and the steps:
    the examples that a call's prompts share, and a QG node's verdicts all but their theorem, are
    prefilled once, and a child's prompts in the next round reuse the examples (and the OST
    prompt the problem and steps too); completions stay exactly what transformers' generate gives
    for each prompt alone (greedy)."""
    from rader_hub.generation import prompts
    from rader_hub.generation.llm import LocalTransformersLLM

    monkeypatch.setenv("RADER_CACHE_DIR", str(shared_cache))
    llm = LocalTransformersLLM(torch_threads=1)
    llm.load()
    problem, steps = (
        "A drawer holds red and blue socks. How many socks must you take to be sure of a matching pair?",
        ["There are two colours."],
    )
    theorems = [
        "Pigeonhole principle - n items in m < n boxes put two items in one box.",
        "Bayes' theorem - a posterior from a prior.",
        "Pythagorean theorem - the squares of the legs add up to the square of the hypotenuse.",
    ]

    def node(problem: str, steps: list[str]) -> list:
        return [
            prompts.generate_query(problem, steps),
            prompts.one_step_thought(problem, steps),
            prompts.one_step_thought(problem, steps),
            prompts.complete_remaining_steps(problem, steps),
        ]

    other = "Gloves come in two colours. How many gloves must you take to get two of one colour?"
    first = node(problem, steps) + node(other, []) + [prompts.judge_theorem(problem, steps, theorem) for theorem in theorems]
    child = node(problem, [*steps, "Two colours are two boxes."])
    for call, most_prefilled in ((first, 0.5), (child, 0.25)):
        prompt_tokens, prefilled_tokens = llm.prompt_tokens, llm.prefilled_tokens
        outputs = llm.generate(call, max_new_tokens=12, do_sample=False)
        assert llm.prompt_tokens - prompt_tokens == sum(output["statistics"]["input_tokens"][0] for output in outputs)
        assert llm.prefilled_tokens - prefilled_tokens < most_prefilled * (llm.prompt_tokens - prompt_tokens)
        for message, output in zip(call, outputs):
            assert output["generations"][0] == _generate_alone(llm, message, 12)


def _generate_alone(llm, message, budget: int) -> str:
    """transformers' own greedy generation for one prompt."""
    tokenizer = llm._tokenizer
    encoded = tokenizer(
        tokenizer.apply_chat_template(message, tokenize=False, add_generation_prompt=True), return_tensors="pt", add_special_tokens=False
    )
    reference = llm._model.generate(**encoded, max_new_tokens=budget, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    return tokenizer.decode(reference[0, encoded.input_ids.shape[1] :], skip_special_tokens=True).strip()


@pytest.mark.slow
def test_embedded_recipe_on_a_local_ray_instance(tmp_path, shared_cache):
    """distilabel's RayPipeline runs every step as a Ray actor; `--ray` starts a local instance."""
    pytest.importorskip("ray", reason="the test extra installs ray")
    small = ["--param", "load_problems.num_problems=1", "--param", "mcts_search.rollouts=2"]
    env = {**_env(tmp_path, shared_cache), "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    done = subprocess.run(
        [str(BIN / "rader"), "generate", str(RECIPE), "--ray", *small], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "Started a local Ray instance" in output and "_StepWrapperRay" in output, output[-2000:]  # steps ran as actors
    summary = json.loads((tmp_path / "outputs" / "math" / "summary.json").read_text())
    assert summary["problems"] == 1 and summary["rollouts"] == 2
    rows = _rows(tmp_path / "outputs" / "math")
    assert rows and all(row["negatives"] for row in rows)
