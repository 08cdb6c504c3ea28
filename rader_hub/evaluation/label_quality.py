"""How right a generated dataset's labels are, where each problem's relevant theorems are known.

A row's positive should be a gold theorem of its problem, and none of its negatives should be:
positive precision is the share of rows whose positive is gold, the false-negative rate the share
of negatives (over all rows) that are gold theorems of their row's problem.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any


def label_quality(rows: Sequence[Mapping[str, Any]], gold_ids: Mapping[str, frozenset[str] | set[str]]) -> dict[str, Any]:
    """Positive precision and false-negative rate of ``rows`` (dataset rows with ``problem_id``,
    ``positive_id``, ``negative_ids``, ``query_type``), overall and per query type."""
    positives: Counter = Counter()
    gold_positives: Counter = Counter()
    negatives: Counter = Counter()
    gold_negatives: Counter = Counter()
    for row in rows:
        gold = gold_ids.get(row["problem_id"], frozenset())
        kind = row["query_type"]
        positives[kind] += 1
        gold_positives[kind] += row["positive_id"] in gold
        negatives[kind] += len(row["negative_ids"] or [])
        gold_negatives[kind] += sum(doc_id in gold for doc_id in row["negative_ids"] or [])

    def shares(kinds: Sequence[str]) -> dict[str, Any]:
        rows_, pos, neg, false_neg = (sum(counter[k] for k in kinds) for counter in (positives, gold_positives, negatives, gold_negatives))
        return {
            "rows": rows_,
            "positive_precision": round(pos / rows_, 4) if rows_ else None,
            "negatives": neg,
            "false_negative_rate": round(false_neg / neg, 4) if neg else None,
        }

    return {**shares(list(positives)), "per_query_type": {kind: shares([kind]) for kind in sorted(positives)}}
