"""Scale-out settings, checked as far as a CPU machine allows (the Ray run is in test_generation_e2e.py).

- vLLM with tensor parallelism: the paper's recipe takes ``tensor_parallel_size`` and the step's GPU
  count as ``--param`` options, `rader generate --check` accepts them, and distilabel hands them to the
  vLLM LLM and gives it that many GPUs. vLLM itself is not installed here: loading the model is not exercised.
- Training on several processes: `torchrun --nproc-per-node 2 rader train retriever` on CPU (gloo)
  runs data-parallel steps and saves one model, the way it runs on GPUs (NCCL) with more processes.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_jsonl
from helpers import FAST_TRAINING, run_rader, tiny_triples

from pipelines.math_recipes import RECIPES_DIR
from rader_hub.errors import ConfigError
from rader_hub.generation.recipe import parse_runtime_parameters, validate_recipe

PAPER_RECIPE = RECIPES_DIR / "math-vllm.yaml"
LLM_STEPS = ("mcts_search", "synthesize_queries")
# A --param replaces the whole extra_kwargs: the recipe's own vLLM settings (each step's memory share) are
# repeated beside the new one.
VLLM_SETTINGS = {
    "mcts_search": {"tensor_parallel_size": 2, "max_model_len": 8192, "gpu_memory_utilization": 0.75},
    "synthesize_queries": {"tensor_parallel_size": 2, "max_model_len": 8192, "gpu_memory_utilization": 0.9},
}
TENSOR_PARALLEL = [
    param
    for step in LLM_STEPS
    for param in (
        f"{step}.llm.extra_kwargs={json.dumps(VLLM_SETTINGS[step])}",
        f"{step}.resources.gpus={VLLM_SETTINGS[step]['tensor_parallel_size']}",
    )
]


def test_paper_recipe_keeps_its_vllm_settings_beside_tensor_parallelism():
    steps = {entry["step"]["name"]: entry["step"] for entry in validate_recipe(PAPER_RECIPE)["pipeline"]["steps"]}
    for name in LLM_STEPS:
        recipe_settings = steps[name]["llm"]["extra_kwargs"]
        assert recipe_settings.items() <= VLLM_SETTINGS[name].items(), (
            f"{name}: update VLLM_SETTINGS and docs/generation.md to {recipe_settings}"
        )


def test_tensor_parallel_params_reach_the_vllm_llm_and_its_gpu_count():
    from distilabel.pipeline import Pipeline
    from distilabel.pipeline.step_wrapper import _StepWrapper

    parameters = parse_runtime_parameters(validate_recipe(PAPER_RECIPE), TENSOR_PARALLEL)
    pipeline = Pipeline.from_yaml(PAPER_RECIPE)
    for name in LLM_STEPS:
        step = pipeline.dag.get_step(name)["step"]
        step.set_runtime_parameters(parameters[name])
        assert type(step.llm).__name__ == "vLLM" and step.llm.extra_kwargs == VLLM_SETTINGS[name]  # vLLM.load passes these to vllm.LLM
        # What distilabel's local pipeline does before loading a step: the LLM will ask for 2 GPUs.
        _StepWrapper(step=step, replica=0, input_queue=queue.Queue(), output_queue=queue.Queue(), load_queue=queue.Queue())
        assert step.llm._desired_num_gpus == 2


def test_a_bad_vllm_setting_is_named():
    with pytest.raises(ConfigError, match=r"^mcts_search.llm.extra_kwargs: Input should be a valid dictionary"):
        parse_runtime_parameters(validate_recipe(PAPER_RECIPE), ["mcts_search.llm.extra_kwargs=2"])


@pytest.mark.slow
def test_rader_generate_check_accepts_the_paper_recipe_with_tensor_parallelism(tmp_path: Path):
    done = run_rader(
        "generate",
        str(PAPER_RECIPE),
        "--check",
        *[arg for param in TENSOR_PARALLEL for arg in ("--param", param)],
        timeout=180,
        cwd=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"{PAPER_RECIPE}: valid (with {len(TENSOR_PARALLEL)} --param)"
    assert not (tmp_path / "outputs").exists()  # --check runs nothing


@pytest.mark.slow
def test_torchrun_trains_the_retriever_on_two_processes(tmp_path: Path):
    """Data-parallel training as on a multi-GPU machine, here two CPU processes talking over gloo."""
    data = write_jsonl(tmp_path / "triples.jsonl", tiny_triples())
    out = tmp_path / "model"
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # torchrun's own default, said here to keep its notice out of the log
    # The paper's way to a large batch: in-batch negatives gathered from both processes, and gradients
    # accumulated until a step has seen 8 queries (2 per batch x 2 processes x 2 accumulated batches).
    done = subprocess.run(
        [str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "rader_hub", "train", "retriever", "--data", str(data),
         "--out", str(out), "--num-negatives", "1", "--max-steps", "2", "--json", *FAST_TRAINING,
         "--gather-across-devices", "--effective-batch-size", "8"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    # The --json lines (one per process), not the trainer's log dicts.
    summaries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"')]
    assert len(summaries) == 2 and {summary["steps"] for summary in summaries} == {2}  # both processes trained 2 steps
    recorded = json.loads((out / "rader_training.json").read_text())
    finished = recorded["log_history"][-1]
    # Data parallel with accumulation: each step took 2 batches of 2 rows in each process, so 2 steps are 16 rows.
    assert round(finished["train_samples_per_second"] * finished["train_runtime"]) == 16, finished
    # The loss the trainer used gathered the other process's embeddings (sentence-transformers records its config in the card).
    assert '"gather_across_devices": true' in (out / "README.md").read_text()
    assert (out / "model.safetensors").is_file() and (out / "loss_curve.png").is_file() and not (out / "checkpoints").exists()
