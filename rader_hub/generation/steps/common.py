"""Pieces several steps share."""

from __future__ import annotations

from rader_hub.corpus import Corpus, load_corpus
from rader_hub.embedded_data import resolve_source


def load_theorems(corpus: str, config: str | None, split: str | None) -> Corpus:
    """The theorem corpus a recipe names ('embedded': the 354 TheoremQA theorems)."""
    return load_corpus(resolve_source(corpus, "theorems", config, split))
