"""Which synthesized queries are training data: filler, theorem names, the lexical round trip.

Small models answer a request for a query with boilerplate ("I'm ready to assist you."),
refusals, fragments, or the theorem's own name; such text is no information need, so it is
dropped (and counted) before it can become a row.
"""

from __future__ import annotations

import math
import re

from rader_hub.corpus import Document

MIN_QUERY_WORDS = 3

# Openings of assistant boilerplate and refusals, not queries.
_FILLER = re.compile(
    r"^\s*(?:i'?m\s+(?:ready|happy|glad|here|sorry)|i\s+am\s+(?:ready|happy|glad|here|sorry)|i\s+(?:can(?:not|'t)|will|would)\b|"
    r"sure\b|certainly\b|of\s+course\b|here\s+(?:is|are)\b|as\s+an\s+ai\b|sorry\b|unfortunately\b|"
    r"(?:please|let\s+me)\s+(?:provide|know|help|assist)\b|thank\s+you\b|hello\b|hi\b|great\b|okay\b|ok\b)",
    re.I,
)
_SECTION = re.compile(r"\\section\{([^}]*)\}")


def is_filler(query: str, min_words: int = MIN_QUERY_WORDS) -> bool:
    """True for boilerplate, refusals and queries of fewer than ``min_words`` words."""
    return len(query.split()) < min_words or bool(_FILLER.match(query))


def theorem_title(document: Document) -> str:
    """A theorem's name: the document title, else a ProofWiki ``\\section{...}`` heading (BRIGHT's
    theorems have no title field), else ''."""
    if document.title.strip():
        return document.title.strip()
    match = _SECTION.search(document.text)
    return match.group(1).strip() if match else ""


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def names_theorem(query: str, title: str) -> bool:
    """True when ``query`` contains the theorem's title verbatim (case, spacing and punctuation
    aside)."""
    title_words = _words(title)
    return bool(title_words) and f" {title_words} " in f" {_words(query)} "


def round_trip_cutoff(top_n: int, fraction: float, corpus_size: int) -> int:
    """The rank a q_lexical's theorem must reach in BM25: ``top_n`` (the paper's 20 for ~24k
    theorems), or, with ``fraction`` > 0, the smaller ``ceil(fraction x corpus_size)`` (at least 1)
    so that a small corpus does not make the filter a formality."""
    if fraction <= 0:
        return top_n
    return max(1, min(top_n, math.ceil(fraction * corpus_size)))
