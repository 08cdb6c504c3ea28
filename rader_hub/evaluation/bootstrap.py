"""Paired bootstrap of the difference between two runs on the same queries: is a model better than
another, or is the gap within what the choice of queries alone would move?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rader_hub.errors import DataError

RESAMPLES = 10_000
SEED = 0  # a fixed seed: the same runs always give the same interval on the card


@dataclass(frozen=True)
class Difference:
    """Mean of (a - b) over the queries, with a percentile 95% interval from resampling queries."""

    mean: float
    low: float
    high: float
    queries: int

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return self.low > 0 or self.high < 0


def paired_bootstrap(a: Mapping[str, float], b: Mapping[str, float], resamples: int = RESAMPLES, seed: int = SEED) -> Difference:
    """Resample the queries with replacement ``resamples`` times and take the 2.5th and 97.5th
    percentiles of the mean difference. ``a`` and ``b`` map query ids to scores of the same queries."""
    if set(a) != set(b) or not a:
        raise DataError(f"paired bootstrap: the two runs must score the same queries ({len(a)} vs {len(b)}, {len(set(a) ^ set(b))} differ)")
    ids = sorted(a)
    differences = np.array([a[query_id] - b[query_id] for query_id in ids])
    rng = np.random.default_rng(seed)
    means = differences[rng.integers(0, len(ids), size=(resamples, len(ids)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Difference(float(differences.mean()), float(low), float(high), len(ids))
