"""The GPU plan of a recipe (`rader generate RECIPE --check --gpus N`): distilabel's placement of
LLM engines replayed without a GPU, and plans that cannot fit rejected before anything loads."""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from helpers import run_rader

from pipelines.math_recipes import PAPER, RECIPES_DIR, build_pipeline, vllm_llm
from rader_hub.errors import ConfigError
from rader_hub.generation.gpu_plan import plan_gpus

PAPER_RECIPE = RECIPES_DIR / "math-vllm.yaml"


def _engines(plan) -> list[tuple[str, tuple[int, ...], float]]:
    return [(engine.step, engine.devices, engine.memory_share) for engine in plan.engines]


@pytest.mark.parametrize("gpus", [1, 2, 8])
def test_the_paper_recipe_starts_with_each_engine_owning_its_gpu(gpus):
    plan = plan_gpus(PAPER_RECIPE, {}, gpus)
    stage_of = {step: stage.number for stage in plan.stages for step in stage.steps}
    assert stage_of["mcts_search"] < stage_of["synthesize_queries"]  # never loaded together
    assert _engines(plan) == [("mcts_search", (0,), 0.75), ("synthesize_queries", (0,), 0.9)]
    search = plan.engines[0]
    assert search.beside == "Qwen/Qwen3-Embedding-4B"  # the dense retriever shares the search's GPU


def test_eight_gpus_hold_eight_replicas_of_each_engine():
    replicas = {"mcts_search": {"resources": {"replicas": 8}}, "synthesize_queries": {"resources": {"replicas": 8}}}
    plan = plan_gpus(PAPER_RECIPE, replicas, 8)
    for step in ("mcts_search", "synthesize_queries"):
        devices = [engine.devices for engine in plan.engines if engine.step == step]
        assert sorted(devices) == [(device,) for device in range(8)]
    assert not any(line.startswith("GPUs idle") for line in plan.lines())
    assert any(line.startswith("GPUs idle") for line in plan_gpus(PAPER_RECIPE, {}, 8).lines())


def test_two_engines_loaded_together_do_not_fit_one_gpu(tmp_path):
    # The paper recipe as it was: search and query synthesis in one load stage, 60% of a GPU each.
    together = dataclasses.replace(PAPER, llm_stages_apart=False)
    path = tmp_path / "together.yaml"
    path.write_text(yaml.safe_dump(build_pipeline(together, lambda: vllm_llm(0.6)).dump()))
    with pytest.raises(ConfigError, match=r"stage 1: mcts_search \(1 engine\) and synthesize_queries \(1 engine\) load at once .* 1 given"):
        plan_gpus(path, {}, 1)
    assert _engines(plan_gpus(path, {}, 2)) == [("mcts_search", (0,), 0.6), ("synthesize_queries", (1,), 0.6)]


def test_engines_pinned_to_one_gpu_must_share_its_memory():
    pinned = {"mcts_search": {"llm": {"cuda_devices": [0]}, "resources": {"replicas": 2}}}
    with pytest.raises(ConfigError, match=r"GPU 0 is shared by mcts_search \(replica 0, 75%\) and mcts_search \(replica 1, 75%\): 150%"):
        plan_gpus(PAPER_RECIPE, pinned, 1)
    halves = {"mcts_search": {**pinned["mcts_search"], "llm": {"cuda_devices": [0], "extra_kwargs": {"gpu_memory_utilization": 0.45}}}}
    assert _engines(plan_gpus(PAPER_RECIPE, halves, 1))[:2] == [("mcts_search", (0,), 0.45)] * 2


def test_tensor_parallelism_needs_as_many_gpus_for_the_step():
    tp = {"mcts_search": {"llm": {"extra_kwargs": {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.75}}}}
    with pytest.raises(ConfigError, match=r"tensor_parallel_size is 2 but resources.gpus is 1: set mcts_search.resources.gpus=2"):
        plan_gpus(PAPER_RECIPE, tp, 2)
    tp["mcts_search"]["resources"] = {"gpus": 2}
    assert plan_gpus(PAPER_RECIPE, tp, 2).engines[0].devices == (0, 1)
    with pytest.raises(ConfigError, match=r"need 2 GPUs, 1 given"):
        plan_gpus(PAPER_RECIPE, tp, 1)


def test_a_pinned_gpu_that_does_not_exist_is_named():
    with pytest.raises(ConfigError, match=r"mcts_search.llm.cuda_devices: GPU 3 does not exist on 2 GPU\(s\)"):
        plan_gpus(PAPER_RECIPE, {"mcts_search": {"llm": {"cuda_devices": [3]}}}, 2)


def test_served_and_cpu_recipes_load_no_engine():
    for name in ("math", "math-openai"):
        plan = plan_gpus(RECIPES_DIR / f"{name}.yaml", {}, 1)
        assert plan.engines == []
        assert "no step loads an LLM engine on a GPU" in plan.lines()[-1]


def test_rader_generate_check_prints_the_plan_or_one_error_line():
    ok = run_rader("generate", str(PAPER_RECIPE), "--check", "--gpus", "1")
    assert ok.returncode == 0, ok.stderr
    assert "stage 3: synthesize_queries" in ok.stdout and "on GPU 0, 90% of memory" in ok.stdout
    bad = run_rader("generate", str(PAPER_RECIPE), "--check", "--gpus", "1", "--param", "mcts_search.resources.replicas=2")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: stage 1: mcts_search (2 engines) load at once and need 2 GPUs, 1 given (give them fixed llm.cuda_devices "
        "with memory shares that add up to at most 100%, or fewer resources.replicas)"
    ]
