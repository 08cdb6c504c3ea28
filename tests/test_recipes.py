"""Recipes: written by their builders, validated before running, loadable by the distilabel CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.math_recipes import RECIPES, RECIPES_DIR, recipe_yaml
from rader_hub.errors import ConfigError
from rader_hub.generation.recipe import validate_recipe

DISTILABEL = Path(sys.executable).with_name("distilabel")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_matches_its_builder(name):
    path = RECIPES_DIR / f"{name}.yaml"
    assert path.read_text(encoding="utf-8") == recipe_yaml(name), f"{path} drifted: run `python -m pipelines.math_recipes`"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_shipped_recipes_validate(name):
    validate_recipe(RECIPES_DIR / f"{name}.yaml")


def _edited(tmp_path, edit) -> Path:
    data = yaml.safe_load((RECIPES_DIR / "math.yaml").read_text())
    edit({entry["step"]["name"]: entry["step"] for entry in data["pipeline"]["steps"]})
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_unknown_key_is_rejected_with_its_name(tmp_path):
    path = _edited(tmp_path, lambda steps: steps["mcts_search"].update(rolouts=3))
    with pytest.raises(ConfigError, match=r"mcts_search\)\.rolouts: unknown key \(did you mean 'rollouts'\?\)"):
        validate_recipe(path)


def test_unknown_key_in_the_llm_is_rejected(tmp_path):
    path = _edited(tmp_path, lambda steps: steps["mcts_search"]["llm"].update(temprature=0.1))
    with pytest.raises(ConfigError, match=r"mcts_search\)\.llm\.temprature: unknown key"):
        validate_recipe(path)


def test_wrong_type_is_rejected_with_its_name(tmp_path):
    path = _edited(tmp_path, lambda steps: steps["mcts_search"].update(rollouts="many"))
    with pytest.raises(ConfigError, match=r"mcts_search\)\.rollouts: .*integer.*'many'"):
        validate_recipe(path)


def test_rader_generate_check_reports_the_key(tmp_path):
    path = _edited(tmp_path, lambda steps: steps["load_problems"].update(num_problem=2))
    rader = shutil.which("rader", path=str(Path(sys.executable).parent))
    done = subprocess.run([rader, "generate", str(path), "--check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "load_problems).num_problem: unknown key" in done.stderr
    ok = subprocess.run([rader, "generate", str(RECIPES_DIR / "math.yaml"), "--check"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("name", ["math-vllm", "math-openai"])
def test_gpu_and_server_recipes_load_in_distilabel(name):
    done = subprocess.run([str(DISTILABEL), "pipeline", "info", "--config", str(RECIPES_DIR / f"{name}.yaml")],
                          capture_output=True, text=True, timeout=180, env={**os.environ, "COLUMNS": "400"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "mcts_search (RetrievalMCTSSearch)" in done.stdout and "synthesize_queries (SynthesizeQueries)" in done.stdout
    assert "llm.base_url" in done.stdout if name == "math-openai" else "llm.generation_kwargs" in done.stdout


def test_openai_recipe_takes_endpoint_and_model_as_runtime_parameters():
    from distilabel.pipeline import Pipeline

    pipeline = Pipeline.from_yaml(RECIPES_DIR / "math-openai.yaml")
    search = pipeline.dag.get_step("mcts_search")["step"]
    search.set_runtime_parameters({"llm": {"base_url": "http://gpu-box:8000/v1", "model": "my-org/my-model"}})
    assert (search.llm.base_url, search.llm.model) == ("http://gpu-box:8000/v1", "my-org/my-model")
    assert {"base_url", "model"} <= set(search.llm.runtime_parameters_names)
