"""What the human review says about the whole dataset, not only about the sample people saw.

Review samples are stratified to over-represent rare judge labels (``pairs.stratified_sample``), so
raw figures over the sample do not estimate the data. Here every reviewed pair stands for the pairs
of its cell, a cell being (role in the row, judge label, query type): the sampling strata split by
role. For a role (the dataset's positives, or its hard negatives), the share that humans call
relevant is the cells' rates weighted by the cells' sizes in the data; cells nobody reviewed are
left out and the share of pairs they hold is reported as lost coverage. The 95% interval is
Wilson's, with Kish's effective sample size for the unequal weights.

With several answers per record, agreement between humans is Fleiss' kappa over the records that
have at least two answers (raters may differ in number per record).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from rader_hub.review.pairs import LABELS, NEGATIVE, POSITIVE, JudgedPair

Z_95 = 1.959963984540054  # standard normal quantile for a two-sided 95% interval
RELEVANT = LABELS[0]
Cell = tuple[str, str, str]  # (role, judge label or "unparsed", query type)


@dataclass(frozen=True)
class RateEstimate:
    """The share of a role's pairs humans call relevant, estimated for the whole dataset."""

    rate: float
    low: float  # Wilson 95% interval
    high: float
    reviewed: int  # reviewed pairs of this role
    effective_sample: float  # Kish's effective sample size of the weighted estimate
    pairs: int  # pairs of this role in the data
    coverage: float  # share of those pairs in cells with at least one review


def wilson_interval(rate: float, sample: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``rate`` observed on ``sample`` (possibly fractional) trials."""
    if sample <= 0:
        return 0.0, 1.0
    denominator = 1 + z * z / sample
    centre = (rate + z * z / (2 * sample)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / sample + z * z / (4 * sample * sample)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def cell_of(pair: JudgedPair) -> Cell:
    return (pair.role, pair.judge_label or "unparsed", pair.query_type)


def stratified_rate(population: Mapping[Cell, int], sample: Mapping[Cell, tuple[int, int]], role: str) -> RateEstimate | None:
    """Reweighted share of ``role``'s pairs that are relevant. ``population``: pairs per cell in the
    data; ``sample``: (relevant, reviewed) per cell. None when no pair of the role was reviewed."""
    cells = [cell for cell in population if cell[0] == role]
    reviewed_cells = [cell for cell in cells if sample.get(cell, (0, 0))[1] > 0]
    if not reviewed_cells:
        return None
    covered = sum(population[cell] for cell in reviewed_cells)
    rate = sum(population[cell] * sample[cell][0] / sample[cell][1] for cell in reviewed_cells) / covered
    # Each reviewed pair weighs population/reviewed of its cell; Kish: (sum w)^2 / sum w^2.
    effective = covered**2 / sum(population[cell] ** 2 / sample[cell][1] for cell in reviewed_cells)
    low, high = wilson_interval(rate, effective)
    return RateEstimate(
        rate=rate,
        low=low,
        high=high,
        reviewed=sum(sample[cell][1] for cell in reviewed_cells),
        effective_sample=effective,
        pairs=sum(population[cell] for cell in cells),
        coverage=covered / sum(population[cell] for cell in cells),
    )


def fleiss_kappa(votes: Iterable[Mapping[str, int]]) -> dict | None:
    """Agreement between humans over records with two or more answers: mean pairwise agreement and
    Fleiss' kappa (None when undefined: one label only). None without such records."""
    rated = [dict(v) for v in votes if sum(v.values()) >= 2]
    if not rated:
        return None
    per_record = []
    totals: Counter[str] = Counter()
    for record in rated:
        answers = sum(record.values())
        per_record.append(sum(n * (n - 1) for n in record.values()) / (answers * (answers - 1)))
        totals.update(record)
    observed = sum(per_record) / len(per_record)
    answers = sum(totals.values())
    expected = sum((count / answers) ** 2 for count in totals.values())
    kappa = None if expected == 1 else (observed - expected) / (1 - expected)
    return {"records": len(rated), "pairwise_agreement": observed, "fleiss_kappa": kappa}


def review_estimates(pairs: list[JudgedPair], decided: list[tuple[JudgedPair, str]], votes: Iterable[Mapping[str, int]]) -> dict:
    """review.json's ``estimates``: the positives humans call relevant (the data's precision) and the
    negatives they call relevant (false hard negatives), each for the whole dataset, plus agreement
    between humans."""
    population = Counter(cell_of(pair) for pair in pairs)
    counts: dict[Cell, list[int]] = {}
    for pair, human in decided:
        relevant_reviewed = counts.setdefault(cell_of(pair), [0, 0])
        relevant_reviewed[0] += human == RELEVANT
        relevant_reviewed[1] += 1
    sample = {cell: (relevant, reviewed) for cell, (relevant, reviewed) in counts.items()}
    estimates = {name: stratified_rate(population, sample, role) for name, role in (("positives", POSITIVE), ("negatives", NEGATIVE))}
    return {
        **{f"{name}_relevant": asdict(estimate) if estimate else None for name, estimate in estimates.items()},
        "strata": "role x judge label x query type",
        "between_humans": fleiss_kappa(votes),
    }
