"""Builders of the math recipes: embedded CPU default, vLLM (the paper's setting) and OpenAI-compatible.

Run ``python -m pipelines.math_recipes`` to rewrite recipes/*.yaml; a test fails when a recipe drifts
from its builder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distilabel.models.llms.base import LLM
from distilabel.pipeline import Pipeline

from rader_hub.generation.llm import LocalTransformersLLM, OpenAICompatibleLLM
from rader_hub.generation.steps import LoadMathProblems, RetrievalMCTSSearch, SaveDataset, SelectHardNegatives, SynthesizeQueries

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
PAPER_MODEL = "Qwen/Qwen2.5-7B-Instruct"
# The paper's sampling (METHOD.md): temperature 0.8, top-k 40, top-p 0.95.
PAPER_SAMPLING = {"temperature": 0.8, "top_p": 0.95, "top_k": 40}


@dataclass(frozen=True)
class RecipeSettings:
    name: str
    description: str
    num_problems: int  # 0: all
    problems_per_batch: int
    search: dict[str, Any]
    queries: dict[str, Any] = field(default_factory=dict)


PAPER_SEARCH = {"rollouts": 16, "max_depth": 6, "top_k": 5, "ost_children": 2, "qg_children": 1, "exploration_weight": 2.0}

EMBEDDED = RecipeSettings(
    name="math",
    description=(
        "Embedded CPU default: SmolLM2-135M (PyPI) searches 6 MATH problems with BM25 over the 354 TheoremQA "
        "theorems. Small search and token budgets so it runs in minutes on 2 cores. The 135M model cannot "
        "solve the problems nor judge relevance, so two paper filters are relaxed (recorded in every row's "
        "`filters`/`relaxed_filters`): require_correct_answer=false and keep_top_theorem_if_none_relevant=true."
    ),
    num_problems=6,
    problems_per_batch=6,
    search={
        "rollouts": 4, "max_depth": 4, "top_k": 3, "ost_children": 2, "qg_children": 1, "exploration_weight": 2.0,
        "step_tokens": 40, "solution_tokens": 64, "query_tokens": 48, "judge_tokens": 16, "summary_tokens": 40,
        "theorem_chars": 500, "require_correct_answer": False, "keep_top_theorem_if_none_relevant": True,
    },
    queries={"query_tokens": 32, "theorem_chars": 500, "lexical_round_trip_top_n": 20},
)

PAPER = RecipeSettings(
    name="math-vllm",
    description=f"The paper's setting: {PAPER_MODEL} on vLLM, paper search parameters, MATH problems, BM25 in the search.",
    num_problems=0,
    problems_per_batch=64,
    search={**PAPER_SEARCH, "step_tokens": 256, "solution_tokens": 1024, "query_tokens": 256, "judge_tokens": 128,
            "summary_tokens": 256, "theorem_chars": 4000, "require_correct_answer": True, "keep_top_theorem_if_none_relevant": False},
    queries={"query_tokens": 128, "theorem_chars": 4000, "lexical_round_trip_top_n": 20},
)


def embedded_llm() -> LLM:
    # One torch thread: the pipeline's steps and any other job share the cores (see llm.py).
    return LocalTransformersLLM(model="embedded", batch_size=32, torch_threads=1, generation_kwargs=dict(PAPER_SAMPLING))


def vllm_llm() -> LLM:
    from distilabel.models.llms.vllm import vLLM

    return vLLM(model=PAPER_MODEL, generation_kwargs=dict(PAPER_SAMPLING), extra_kwargs={"max_model_len": 8192})


def openai_llm() -> LLM:
    # top_k is not an OpenAI parameter; vLLM and TGI servers accept it in the request body.
    sampling = {"temperature": PAPER_SAMPLING["temperature"], "top_p": PAPER_SAMPLING["top_p"], "extra_body": {"top_k": PAPER_SAMPLING["top_k"]}}
    return OpenAICompatibleLLM(model=PAPER_MODEL, base_url="http://localhost:8000/v1", generation_kwargs=sampling)


def build_pipeline(
    settings: RecipeSettings, make_llm, output_dir: str | None = None, problems: str = "embedded", corpus: str = "embedded"
) -> Pipeline:
    """The generation DAG: load -> search -> queries -> hard negatives -> save."""
    output_dir = output_dir or f"outputs/{settings.name}"
    where = {"output_dir": output_dir}
    with Pipeline(name=f"rader-{settings.name}", description=settings.description) as pipeline:
        load = LoadMathProblems(name="load_problems", source=problems, num_problems=settings.num_problems, batch_size=settings.problems_per_batch, **where)
        search = RetrievalMCTSSearch(
            name="mcts_search", llm=make_llm(), input_batch_size=settings.problems_per_batch, corpus=corpus, **where, **settings.search
        )
        queries = SynthesizeQueries(name="synthesize_queries", llm=make_llm(), input_batch_size=64, corpus=corpus, **where, **settings.queries)
        negatives = SelectHardNegatives(name="hard_negatives", input_batch_size=256, corpus=corpus)
        save = SaveDataset(name="save_dataset", output_dir=output_dir, recipe_name=settings.name)
        load >> search >> queries >> negatives >> save
    return pipeline


RECIPES = {
    "math": (EMBEDDED, embedded_llm),
    "math-vllm": (PAPER, vllm_llm),
    "math-openai": (RecipeSettings(**{**PAPER.__dict__, "name": "math-openai",
                                      "description": "The paper's setting against any OpenAI-compatible server (vllm serve, TGI, ...): "
                                                     "set --param mcts_search.llm.base_url=... --param mcts_search.llm.model=... (and the same for synthesize_queries)."}), openai_llm),
}


def recipe_yaml(name: str) -> str:
    """The YAML text of a recipe, as its builder makes it."""
    import yaml

    settings, make_llm = RECIPES[name]
    return yaml.safe_dump(build_pipeline(settings, make_llm).dump(), sort_keys=False, allow_unicode=True)


def write_recipes(directory: Path = RECIPES_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in RECIPES:
        path = directory / f"{name}.yaml"
        path.write_text(recipe_yaml(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_recipes():
        print(f"wrote {path}")
