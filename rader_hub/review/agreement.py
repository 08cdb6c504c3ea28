"""How often the LLM judge agrees with the humans: raw agreement, Cohen's kappa, confusion matrix.

Computed over the reviewed pairs: records with a human majority verdict and a judge verdict that
could be parsed (an unparsed judge answer is counted apart, it is neither label). The confusion
matrix has the judge in rows and the humans in columns, both in ``LABELS`` order. Kappa is None
when it is undefined (one label only on both sides). scikit-learn computes kappa and the matrix.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict

from rader_hub.review.pairs import LABELS, JudgedPair


def agreement_figures(judge: list[str], human: list[str]) -> dict:
    """``reviewed``, ``agreement``, ``cohen_kappa`` and ``confusion_matrix`` of paired labels."""
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    if not judge:
        return {"reviewed": 0, "agreement": None, "cohen_kappa": None, "confusion_matrix": [[0, 0], [0, 0]]}
    with warnings.catch_warnings():  # kappa is 0/0 when a single label occurs: reported as None, not warned about
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        kappa = float(cohen_kappa_score(judge, human, labels=list(LABELS)))
    return {
        "reviewed": len(judge),
        "agreement": sum(j == h for j, h in zip(judge, human)) / len(judge),
        "cohen_kappa": None if math.isnan(kappa) else kappa,
        "confusion_matrix": confusion_matrix(judge, human, labels=list(LABELS)).tolist(),
    }


def agreement_report(decided: list[tuple[JudgedPair, str]]) -> dict:
    """Overall and per-query-type figures over (pair, human majority label) couples.

    Returns the keys of review.json's contract (``reviewed``, ``agreement``, ``cohen_kappa``,
    ``labels``, ``confusion_matrix``, ``per_query_type``) plus ``judge_unparsed``.
    """
    judged = [(pair, human) for pair, human in decided if pair.judge_label is not None]
    by_type: dict[str, list[tuple[JudgedPair, str]]] = defaultdict(list)
    for pair, human in judged:
        by_type[pair.query_type].append((pair, human))
    overall = agreement_figures([p.judge_label or "" for p, _ in judged], [h for _, h in judged])
    per_type = {}
    for query_type in sorted(by_type):
        figures = agreement_figures([p.judge_label or "" for p, _ in by_type[query_type]], [h for _, h in by_type[query_type]])
        per_type[query_type] = {key: figures[key] for key in ("reviewed", "agreement", "cohen_kappa")}
    return {**overall, "labels": list(LABELS), "per_query_type": per_type, "judge_unparsed": len(decided) - len(judged)}
