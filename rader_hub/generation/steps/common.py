"""Pieces several steps share: the theorem corpus and calling a distilabel LLM in batches."""

from __future__ import annotations

from distilabel.models.llms.base import LLM

from rader_hub.corpus import Corpus, load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.generation.mcts import TextGenerator
from rader_hub.generation.prompts import Messages


def load_theorems(corpus: str, config: str | None, split: str | None) -> Corpus:
    """The theorem corpus a recipe names ('embedded': the 354 TheoremQA theorems)."""
    return load_corpus(resolve_source(corpus, "theorems", config, split))


def llm_generator(llm: LLM) -> TextGenerator:
    """Adapt a distilabel LLM to the search's generator: one call per list of prompts, the
    recipe's generation_kwargs (sampling) with the per-action token budget on top."""

    def generate(prompts: list[Messages], max_new_tokens: int) -> list[str | None]:
        if not prompts:
            return []
        kwargs = {**(llm.generation_kwargs or {}), "max_new_tokens": max_new_tokens}
        outputs = llm.generate_outputs(inputs=prompts, num_generations=1, **kwargs)
        return [(output.get("generations") or [None])[0] for output in outputs]

    return generate
