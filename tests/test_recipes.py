"""Recipes: written by their builders, validated before running, loadable by the distilabel CLI."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter

from pipelines.math_recipes import PAPER_EMBEDDER, RECIPES, RECIPES_DIR, recipe_yaml
from rader_hub.errors import ConfigError
from rader_hub.generation.recipe import declared_type, load_recipe, parse_runtime_parameters, validate_recipe

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


@pytest.mark.slow
def test_rader_generate_check_reports_the_key(tmp_path):
    path = _edited(tmp_path, lambda steps: steps["load_problems"].update(num_problem=2))
    rader = shutil.which("rader", path=str(Path(sys.executable).parent))
    done = subprocess.run([rader, "generate", str(path), "--check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "load_problems).num_problem: unknown key" in done.stderr
    ok = subprocess.run([rader, "generate", str(RECIPES_DIR / "math.yaml"), "--check"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("mcts_search.rolouts=1", "mcts_search.rolouts: 'rolouts' is not a runtime parameter (did you mean 'rollouts'?)"),
        (
            "mcts_search.rollouts=abc",
            "mcts_search.rollouts: Input should be a valid integer, unable to parse string as an integer (got 'abc')",
        ),
        ("mcts_serch.rollouts=1", "mcts_serch.rollouts: no step named 'mcts_serch' (did you mean 'mcts_search'?)"),
        ("mcts_search.output_dir=x", "mcts_search.output_dir: 'output_dir' is not a runtime parameter: set it in the recipe file"),
        ("mcts_search.judge_input=summaries", "mcts_search.judge_input: Input should be 'summary' or 'theorem' (got 'summaries')"),
        ("mcts_search.llm.temprature=1", "(did you mean 'llm.generation_kwargs.temperature'?)"),
        ("mcts_search.llm.generation_kwargs.temperature=hot", "Input should be a valid number"),
        ('mcts_search.llm.generation_kwargs={"temprature": 0.5}', "'temprature' is not a generation keyword of this LLM (did you mean"),
        ("mcts_search.llm.generation_kwargs=0.5", "expected a JSON object of generation keywords"),
        ("rollouts=2", "'rollouts=2': expected STEP.FIELD=VALUE"),
        ("mcts_search.resources.gpus=two", "mcts_search.resources.gpus: Input should be a valid integer"),
    ],
)
def test_params_are_checked_against_the_runtime_parameters_and_their_types(param, message):
    with pytest.raises(ConfigError) as error:
        parse_runtime_parameters(load_recipe(RECIPES_DIR / "math.yaml"), [param])
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("mcts_search.rollouts=0", "mcts_search.rollouts: Input should be greater than or equal to 1 (got 0)"),
        ("mcts_search.rollouts=-1", "mcts_search.rollouts: Input should be greater than or equal to 1 (got -1)"),
        ("load_problems.num_problems=-5", "load_problems.num_problems: Input should be greater than or equal to 0 (got -5)"),
        ("hard_negatives.bm25_negative_ranks=[50, 31]", "expected [first, last] with first <= last (got [50, 31])"),
        (
            "hard_negatives.dense_negative_ranks=[0, 10]",
            "hard_negatives.dense_negative_ranks: Input should be greater than or equal to 1",
        ),
        ("mcts_search.llm.batch_size=0", "mcts_search.llm.batch_size: Input should be greater than or equal to 1 (got 0)"),
        ("mcts_search.llm.generation_kwargs.temperature=-1", "temperature: Input should be greater than or equal to 0 (got -1)"),
        ("synthesize_queries.lexical_round_trip_fraction=2", "Input should be less than or equal to 1 (got 2)"),
    ],
)
def test_out_of_bounds_params_are_named(param, message):
    with pytest.raises(ConfigError) as error:
        parse_runtime_parameters(load_recipe(RECIPES_DIR / "math.yaml"), [param])
    assert message in str(error.value)


def test_an_out_of_bounds_value_in_the_recipe_file_is_named(tmp_path):
    path = _edited(tmp_path, lambda steps: steps["mcts_search"].update(rollouts=0))
    with pytest.raises(ConfigError, match=r"\(mcts_search\)\.rollouts: Input should be greater than or equal to 1 \(got 0\)"):
        validate_recipe(path)


def _numeric_and_unbounded(schema: dict) -> tuple[bool, bool]:
    text = json.dumps(schema)
    return ('"integer"' in text or '"number"' in text), ("minimum" in text or "Minimum" in text)


def _ours(cls: type, key: str) -> bool:
    """Whether rader-hub declares the field (or, for generation keywords, the generate() method)."""
    if key == "generation_kwargs":
        return cls.generate.__module__.startswith("rader_hub")
    owner = next(klass for klass in cls.__mro__ if key in getattr(klass, "__annotations__", {}))
    return owner.__module__.startswith("rader_hub")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_numeric_runtime_parameter_has_bounds(name):
    """Every number a user can set with --param on rader-hub's steps and LLMs has a lower bound declared
    on its field (the fields and generation keywords of distilabel's own LLMs are left to distilabel)."""
    unbounded = []

    def walk(obj: dict, infos: list[dict], where: str) -> None:
        cls = getattr(importlib.import_module(obj["type_info"]["module"]), obj["type_info"]["name"])
        for info in infos:
            key = info["name"]
            if "runtime_parameters_info" in info:
                nested = obj.get(key) or {}
                if "type_info" in nested:
                    walk(nested, info["runtime_parameters_info"], f"{where}.{key}")
                continue
            if not _ours(cls, key):
                continue
            if "keys" in info:  # generation keywords: the arguments of generate()
                try:
                    hints = typing.get_type_hints(cls.generate, include_extras=True)
                except NameError:  # distilabel's own LLMs (the OpenAI one): annotations that do not resolve
                    hints = {}
                for keyword in (entry["name"] for entry in info["keys"]):
                    if keyword in hints:
                        numeric, bounded = _numeric_and_unbounded(TypeAdapter(hints[keyword]).json_schema())
                        if numeric and not bounded:
                            unbounded.append(f"{where}.{key}.{keyword}")
                continue
            numeric, bounded = _numeric_and_unbounded(TypeAdapter(declared_type(cls.model_fields[key])).json_schema())
            if numeric and not bounded:
                unbounded.append(f"{where}.{key}")

    for entry in load_recipe(RECIPES_DIR / f"{name}.yaml")["pipeline"]["steps"]:
        step = entry["step"]
        walk(step, step.get("runtime_parameters_info") or [], step["name"])
    assert unbounded == [], unbounded


def test_valid_params_become_distilabel_runtime_parameters():
    params = [
        "mcts_search.rollouts=2",
        "mcts_search.llm.generation_kwargs.temperature=0.5",
        "hard_negatives.bm25_negative_ranks=[1, 20]",
        "load_problems.source=my/problems",
        "mcts_search.corpus_split=null",
        'synthesize_queries.llm.generation_kwargs={"temperature": 0.7, "top_p": 0.9}',
    ]
    assert parse_runtime_parameters(load_recipe(RECIPES_DIR / "math.yaml"), params) == {
        "mcts_search": {"rollouts": 2, "llm": {"generation_kwargs": {"temperature": 0.5}}, "corpus_split": None},
        "synthesize_queries": {"llm": {"generation_kwargs": {"temperature": 0.7, "top_p": 0.9}}},
        "hard_negatives": {"bm25_negative_ranks": [1, 20]},
        "load_problems": {"source": "my/problems"},
    }


@pytest.mark.slow
def test_rader_generate_rejects_a_bad_param_in_one_line_before_running(tmp_path):
    rader = shutil.which("rader", path=str(Path(sys.executable).parent))
    for param in ("mcts_search.rolouts=1", "mcts_search.rollouts=abc"):
        for check in (["--check"], []):
            done = subprocess.run(
                [rader, "generate", str(RECIPES_DIR / "math.yaml"), "--param", param, *check],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 2 and done.stderr.startswith("error: --param ") and done.stderr.count("\n") == 1, done.stderr[-500:]
            assert not (tmp_path / "outputs").exists()  # nothing ran


@pytest.mark.slow
@pytest.mark.parametrize("name", ["math-vllm", "math-openai"])
def test_gpu_and_server_recipes_load_in_distilabel(name):
    done = subprocess.run(
        [str(DISTILABEL), "pipeline", "info", "--config", str(RECIPES_DIR / f"{name}.yaml")],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "mcts_search (RetrievalMCTSSearch)" in done.stdout and "synthesize_queries (SynthesizeQueries)" in done.stdout
    assert "llm.base_url" in done.stdout if name == "math-openai" else "llm.generation_kwargs" in done.stdout
    # The paper's data and the dense retriever inside the search, named and changeable with --param.
    assert "xlangai/BRIGHT" in done.stdout and "theoremqa_theorems" in done.stdout and PAPER_EMBEDDER in done.stdout
    assert "MATH-lighteval" in done.stdout
    for parameter in ("corpus", "corpus_config", "corpus_split", "retriever", "embedder", "source"):
        assert f"│ {parameter} " in done.stdout


def test_paper_recipe_searches_bright_with_a_dense_retriever_over_all_of_math():
    steps = {entry["step"]["name"]: entry["step"] for entry in load_recipe(RECIPES_DIR / "math-vllm.yaml")["pipeline"]["steps"]}
    assert (steps["load_problems"]["source"], steps["load_problems"]["source_split"], steps["load_problems"]["num_problems"]) == (
        "DigitalLearningGmbH/MATH-lighteval",
        "train",
        0,
    )
    for name in ("mcts_search", "synthesize_queries", "hard_negatives"):
        assert (steps[name]["corpus"], steps[name]["corpus_config"], steps[name]["corpus_split"]) == (
            "xlangai/BRIGHT",
            "documents",
            "theoremqa_theorems",
        )
    assert (steps["mcts_search"]["retriever"], steps["mcts_search"]["embedder"]) == ("dense", PAPER_EMBEDDER)
    assert (steps["hard_negatives"]["bm25_negative_ranks"], steps["hard_negatives"]["bm25_negative_samples"]) == ([31, 50], 10)
    assert steps["mcts_search"]["require_correct_answer"] and not steps["mcts_search"]["keep_top_theorem_if_none_relevant"]


def test_openai_recipe_takes_endpoint_and_model_as_runtime_parameters():
    from distilabel.pipeline import Pipeline

    pipeline = Pipeline.from_yaml(RECIPES_DIR / "math-openai.yaml")
    search = pipeline.dag.get_step("mcts_search")["step"]
    search.set_runtime_parameters({"llm": {"base_url": "http://gpu-box:8000/v1", "model": "my-org/my-model"}})
    assert (search.llm.base_url, search.llm.model) == ("http://gpu-box:8000/v1", "my-org/my-model")
    assert {"base_url", "model"} <= set(search.llm.runtime_parameters_names)


def test_paper_recipes_use_the_official_settings():
    """BM25 as pyserini (k1 0.9, b 0.4: the round trip and the negative window were defined on it),
    4 drafts per CRS node, every solution node harvested, several q_llmq / q_lexical per sample."""
    for name in ("math-vllm", "math-openai"):
        steps = {entry["step"]["name"]: entry["step"] for entry in load_recipe(RECIPES_DIR / f"{name}.yaml")["pipeline"]["steps"]}
        for step in ("synthesize_queries", "hard_negatives"):
            assert (steps[step]["bm25_k1"], steps[step]["bm25_b"]) == (0.9, 0.4), (name, step)
        assert steps["mcts_search"]["crs_samples"] == 4 and steps["mcts_search"]["harvest_every_solution"] is True
        assert (steps["synthesize_queries"]["llmq_per_sample"], steps["synthesize_queries"]["lexical_per_sample"]) == (3, 2)
    embedded = {entry["step"]["name"]: entry["step"] for entry in load_recipe(RECIPES_DIR / "math.yaml")["pipeline"]["steps"]}
    assert (embedded["hard_negatives"]["bm25_k1"], embedded["hard_negatives"]["bm25_b"]) == (1.5, 0.75)
    assert embedded["mcts_search"]["crs_samples"] == 1 and embedded["synthesize_queries"]["llmq_per_sample"] == 1


def test_each_recipe_names_its_prompt_style():
    for name, style in (("math", "small"), ("math-vllm", "paper"), ("math-openai", "paper")):
        steps = {entry["step"]["name"]: entry["step"] for entry in load_recipe(RECIPES_DIR / f"{name}.yaml")["pipeline"]["steps"]}
        assert steps["mcts_search"]["prompt_style"] == steps["synthesize_queries"]["prompt_style"] == style, name
