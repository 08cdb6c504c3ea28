"""Builders of the math recipes: embedded CPU default, vLLM (the paper's setting) and OpenAI-compatible.

Run ``python -m pipelines.math_recipes`` to rewrite recipes/*.yaml; a test fails when a recipe drifts
from its builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from distilabel.models.llms.base import LLM
from distilabel.pipeline import Pipeline

from rader_hub.embedded_data import embedded_path
from rader_hub.generation.known_answer import KnownAnswerLLM
from rader_hub.generation.llm import LocalTransformersLLM, OpenAICompatibleLLM
from rader_hub.generation.steps import (
    AfterSearch,
    DeduplicateQueries,
    LoadMathProblems,
    RetrievalMCTSSearch,
    SaveDataset,
    SelectHardNegatives,
    SynthesizeQueries,
)
from rader_hub.retrieval.bm25 import PYSERINI_B, PYSERINI_K1

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
PAPER_MODEL = "Qwen/Qwen2.5-7B-Instruct"
# The paper's sampling (docs/method.md): temperature 0.8, top-k 40, top-p 0.95.
PAPER_SAMPLING = {"temperature": 0.8, "top_p": 0.95, "top_k": 40}

# The paper's data, by Hub id. Problems: all 7,500 MATH training problems (Hendrycks et al. 2021,
# MIT licence) as the DigitalLearningGmbH/MATH-lighteval parquet copy (fields problem, level,
# type, solution; the gold answer is the solution's last \boxed{}). Theorems: BRIGHT's
# theoremqa_theorems documents (xlangai/BRIGHT, CC BY 4.0; ProofWiki statements).
MATH_TRAIN = {
    "source": "DigitalLearningGmbH/MATH-lighteval",
    "source_config": "default",
    "source_split": "train",
    "answer_field": "solution",
}
BRIGHT_THEOREMS = {"corpus": "xlangai/BRIGHT", "corpus_config": "documents", "corpus_split": "theoremqa_theorems"}
# The dense retriever inside the search. The paper's RepLLaMA (castorini/repllama-v1-7b-lora-passage)
# is a LoRA adapter on the gated Llama-2-7B with its own pooling and prefixes, which
# sentence-transformers cannot load as is. Qwen3-Embedding-4B is the same kind of model that it
# loads alone: a decoder LLM embedder with last-token pooling and a saved query instruction
# (Apache-2.0), small enough (about 8 GB in bf16) to sit beside the 7B generator on one GPU.
PAPER_EMBEDDER = "Qwen/Qwen3-Embedding-4B"
# The official code's BM25 (pyserini's defaults) for the q_lexical round trip and the BM25 negatives.
OFFICIAL_BM25 = {"bm25_k1": PYSERINI_K1, "bm25_b": PYSERINI_B}
EMBEDDED_DATA = {"source": "embedded"}
EMBEDDED_THEOREMS = {"corpus": "embedded"}


@dataclass(frozen=True)
class RecipeSettings:
    name: str
    description: str
    num_problems: int  # 0: all
    problems_per_batch: int
    search: dict[str, Any]
    queries: dict[str, Any] = field(default_factory=dict)
    negatives: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, Any] = field(default_factory=lambda: dict(EMBEDDED_DATA))
    corpus: dict[str, Any] = field(default_factory=lambda: dict(EMBEDDED_THEOREMS))
    # Engines that hold accelerators (vLLM) load one stage at a time: the search's, then the query
    # synthesis' (steps/stage_boundary.py). CPU models and served LLMs overlap the two instead.
    llm_stages_apart: bool = False


EMBEDDED = RecipeSettings(
    name="math",
    description=(
        "Embedded CPU default: SmolLM2-135M (PyPI) searches 6 MATH problems with BM25 over the 354 TheoremQA "
        "theorems. Small search and token budgets so it runs in minutes on 2 cores; every trajectory ends with a "
        "solution (complete_at_max_depth). The 135M model cannot solve the problems nor judge relevance, so two "
        "paper filters are relaxed (recorded in every row's `filters`/`relaxed_filters`): require_correct_answer=false "
        "and keep_top_theorem_if_none_relevant=true."
    ),
    num_problems=6,
    problems_per_batch=6,
    search={
        "rollouts": 4,
        "max_depth": 4,
        "top_k": 3,
        "ost_children": 2,
        "qg_children": 1,
        "qg_candidates": 2,
        "max_queries_per_path": 2,
        "complete_at_max_depth": True,
        "step_tokens": 48,
        "solution_tokens": 96,
        "query_tokens": 96,
        "judge_tokens": 24,
        "summary_tokens": 48,
        "theorem_chars": 400,
        "crs_samples": 1,  # one draft per CRS node: the 135M model's drafts are rarely right, and each costs
        "prompt_style": "small",  # instructions tuned for the 135M model (e.g. a three-sentence solution)
        "require_correct_answer": False,
        "keep_top_theorem_if_none_relevant": True,
    },
    # 354 theorems: the paper's top 20 would be a formality; 1% of the corpus is rank 4.
    queries={"query_tokens": 40, "theorem_chars": 400, "lexical_round_trip_fraction": 0.01, "prompt_style": "small"},
)

PAPER = RecipeSettings(
    name="math-vllm",
    description=(
        f"The paper's setting: {PAPER_MODEL} on vLLM searches all MATH training problems ({MATH_TRAIN['source']}) with a "
        f"dense retriever ({PAPER_EMBEDDER}) over the BRIGHT theorem corpus ({BRIGHT_THEOREMS['corpus']}, "
        f"{BRIGHT_THEOREMS['corpus_split']}); the paper's search parameters and filters; lexical negatives from BM25 "
        "ranks 31-50 and the dense top 10 (official)."
    ),
    num_problems=0,
    problems_per_batch=64,
    search={"retriever": "dense", "embedder": PAPER_EMBEDDER},  # every other search value: SearchConfig's defaults
    # The paper's MATH data has about 2.5 q_llmq and 1.4 q_lexical per sample (18,586 and 9,910 over
    # 7,312 samples): draws before repeats, filler and the round trip are dropped.
    queries={"query_tokens": 128, "llmq_per_sample": 3, "lexical_per_sample": 2, **OFFICIAL_BM25},
    negatives={"embedder": PAPER_EMBEDDER, **OFFICIAL_BM25},
    problems=MATH_TRAIN,
    corpus=BRIGHT_THEOREMS,
    llm_stages_apart=True,
)


# The known-answer check (bench/known_answer.py): the 399 TheoremQA dev questions as problems, each
# with its gold theorem and answer known to the LLM, BM25 over the 354 embedded theorems in the
# search. Every filter is the paper's; the query and negative settings are the embedded recipe's.
KNOWN_ANSWER = RecipeSettings(
    name="math-known-answer",
    description=(
        "Known-answer check: an LLM that knows each TheoremQA dev question's gold theorem and answer "
        "(KnownAnswerLLM, with a seeded judge error) runs the whole recipe over the 399 dev questions and the 354 embedded theorems."
    ),
    num_problems=0,
    problems_per_batch=50,
    search={
        "rollouts": 6,
        "max_depth": 4,
        "top_k": 5,
        "ost_children": 1,
        "qg_children": 1,
        "complete_at_max_depth": True,
        "show_progress": False,
    },
    queries=dict(EMBEDDED.queries),
    problems={"source": str(embedded_path("dev_queries")), "problem_field": "query", "answer_field": "answer"},
)


def known_answer_llm(judge_error: float = 0.0, seed: int = 0) -> LLM:
    return KnownAnswerLLM(judge_error=judge_error, seed=seed)


def embedded_llm() -> LLM:
    # One torch thread: the pipeline's steps and any other job share the cores (see llm.py).
    return LocalTransformersLLM(model="embedded", batch_size=32, torch_threads=1, generation_kwargs=dict(PAPER_SAMPLING))


# Shares of a GPU's memory per vLLM engine; each engine has its GPU to itself (llm_stages_apart).
# The search's leaves about 20 GB of an 80 GB GPU to the dense retriever loaded beside it in the
# same process (Qwen3-Embedding-4B: about 8 GB in bf16 plus activations); query synthesis has none.
SEARCH_MEMORY_SHARE = 0.75
QUERIES_MEMORY_SHARE = 0.9


def vllm_llm(memory_share: float = QUERIES_MEMORY_SHARE) -> LLM:
    from distilabel.models.llms.vllm import vLLM

    return vLLM(
        model=PAPER_MODEL,
        generation_kwargs=dict(PAPER_SAMPLING),
        extra_kwargs={"max_model_len": 8192, "gpu_memory_utilization": memory_share},
    )


def vllm_search_llm() -> LLM:
    return vllm_llm(SEARCH_MEMORY_SHARE)


def openai_llm() -> LLM:
    # top_k is not an OpenAI parameter; vLLM and TGI servers accept it in the request body.
    sampling = {
        "temperature": PAPER_SAMPLING["temperature"],
        "top_p": PAPER_SAMPLING["top_p"],
        "extra_body": {"top_k": PAPER_SAMPLING["top_k"]},
    }
    return OpenAICompatibleLLM(model=PAPER_MODEL, base_url="http://localhost:8000/v1", generation_kwargs=sampling)


def build_pipeline(
    settings: RecipeSettings,
    make_llm: Callable[[], LLM],
    output_dir: str | None = None,
    problems: str | None = None,
    corpus: str | None = None,
    make_search_llm: Callable[[], LLM] | None = None,
) -> Pipeline:
    """The generation DAG: load -> search -> queries -> deduplicate -> hard negatives -> save (with
    a stage boundary after the search when ``settings.llm_stages_apart``). ``problems`` and ``corpus``
    replace the settings' sources (a file or folder); ``make_search_llm`` builds the search's LLM
    when it differs from the query synthesis' (default: ``make_llm``)."""
    output_dir = output_dir or f"outputs/{settings.name}"
    where = {"output_dir": output_dir}
    source = {"source": problems} if problems else settings.problems
    theorems = {"corpus": corpus} if corpus else settings.corpus
    with Pipeline(name=f"rader-{settings.name}", description=settings.description) as pipeline:
        load = LoadMathProblems(
            name="load_problems", num_problems=settings.num_problems, batch_size=settings.problems_per_batch, **source, **where
        )
        search = RetrievalMCTSSearch(
            name="mcts_search",
            llm=(make_search_llm or make_llm)(),
            input_batch_size=settings.problems_per_batch,
            **theorems,
            **where,
            **settings.search,
        )
        boundary = AfterSearch(name="after_search") if settings.llm_stages_apart else None
        queries = SynthesizeQueries(name="synthesize_queries", llm=make_llm(), input_batch_size=64, **theorems, **where, **settings.queries)
        dedup = DeduplicateQueries(name="deduplicate_queries", **where)
        negatives = SelectHardNegatives(name="hard_negatives", input_batch_size=256, **theorems, **settings.negatives)
        save = SaveDataset(name="save_dataset", output_dir=output_dir, recipe_name=settings.name)
        load >> search
        if boundary:
            search >> boundary >> queries
        else:
            search >> queries
        queries >> dedup >> negatives >> save
    return pipeline


class RecipeBuilder(NamedTuple):
    settings: RecipeSettings
    make_llm: Callable[[], LLM]
    make_search_llm: Callable[[], LLM] | None = None  # when the search's LLM differs (default: make_llm)


RECIPES = {
    "math": RecipeBuilder(EMBEDDED, embedded_llm),
    "math-vllm": RecipeBuilder(PAPER, vllm_llm, vllm_search_llm),
    "math-openai": RecipeBuilder(
        RecipeSettings(
            **{
                **PAPER.__dict__,
                # Requests in flight: the two LLM steps run at the same time against the same server(s);
                # together they fill one `vllm serve --max-num-seqs 256` (docs/generation.md).
                "search": {**PAPER.search, "max_concurrent_requests": 192},
                "queries": {**PAPER.queries, "max_concurrent_requests": 64},
                "llm_stages_apart": False,
                "name": "math-openai",
                "description": PAPER.description.replace(f"{PAPER_MODEL} on vLLM", "any OpenAI-compatible server (vllm serve, TGI, ...)")
                + " Set --param mcts_search.llm.base_url=... --param mcts_search.llm.model=... (and the same for "
                "synthesize_queries).",
            }
        ),
        openai_llm,
    ),
}


def recipe_yaml(name: str) -> str:
    """The YAML text of a recipe, as its builder makes it."""
    import yaml

    builder = RECIPES[name]
    pipeline = build_pipeline(builder.settings, builder.make_llm, make_search_llm=builder.make_search_llm)
    return yaml.safe_dump(pipeline.dump(), sort_keys=False, allow_unicode=True)


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
