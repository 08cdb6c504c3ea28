"""Pieces several steps share: the theorem corpus and calling a distilabel LLM in batches."""

from __future__ import annotations

from collections import defaultdict

from distilabel.models.llms.base import LLM

from rader_hub.corpus import Corpus, load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.generation.mcts import TextGenerator
from rader_hub.generation.prompts import Messages


def load_theorems(corpus: str, config: str | None, split: str | None) -> Corpus:
    """The theorem corpus a recipe names ('embedded': the 354 TheoremQA theorems)."""
    return load_corpus(resolve_source(corpus, "theorems", config, split))


def llm_generator(llm: LLM) -> TextGenerator:
    """Adapt a distilabel LLM to the search's generator: the recipe's generation_kwargs (sampling)
    with each prompt's token budget on top. An LLM that takes a budget per prompt
    (``LocalTransformersLLM``) gets all prompts in one call; any other gets one call per budget."""

    def call(prompts: list[Messages], max_new_tokens: int | list[int]) -> list[str | None]:
        kwargs = {**(llm.generation_kwargs or {}), "max_new_tokens": max_new_tokens}
        outputs = llm.generate_outputs(inputs=prompts, num_generations=1, **kwargs)
        return [(output.get("generations") or [None])[0] for output in outputs]

    def generate(prompts: list[Messages], max_new_tokens: list[int]) -> list[str | None]:
        if not prompts:
            return []
        if getattr(llm, "takes_token_budget_per_prompt", False):
            return call(prompts, list(max_new_tokens))
        by_budget: dict[int, list[int]] = defaultdict(list)
        for index, budget in enumerate(max_new_tokens):
            by_budget[budget].append(index)
        completions: list[str | None] = [None] * len(prompts)
        for budget, indices in by_budget.items():
            for index, text in zip(indices, call([prompts[i] for i in indices], budget)):
                completions[index] = text
        return completions

    return generate
