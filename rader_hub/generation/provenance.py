"""The paper's sample filters, and how a recipe's settings differ from them.

Every output row records the filter settings it was produced under and the names of those that
differ from the paper (``relaxed_filters``), so relaxed data can never pass for paper-faithful data.
"""

from __future__ import annotations

import json
from typing import Any

PAPER_FILTERS: dict[str, Any] = {
    # Only trajectories whose final answer equals the gold answer give samples.
    "require_correct_answer": True,
    # Only theorems that self-reflection labels relevant become positives.
    "keep_top_theorem_if_none_relevant": False,
    # q_lexical is kept only if BM25 ranks its theorem in the top 20.
    "lexical_round_trip_top_n": 20,
}


def relaxed_filters(filters: dict[str, Any]) -> list[str]:
    """Names of the filters set looser than the paper's (a flag flipped, a larger cut-off)."""
    relaxed = []
    for name, value in filters.items():
        paper = PAPER_FILTERS.get(name)
        if isinstance(paper, bool) or paper is None:
            loose = name in PAPER_FILTERS and value != paper
        else:
            loose = value > paper
        if loose:
            relaxed.append(name)
    return sorted(relaxed)


def filters_json(filters: dict[str, Any]) -> str:
    return json.dumps(filters, sort_keys=True)
