"""Keep one row per (query, positive) and tell each row which theorems are positives of its query."""

import logging
from collections import defaultdict
from typing import Any

from distilabel.steps import GlobalStep, StepInput
from distilabel.typing import StepOutput
from pydantic import Field

from rader_hub.files import write_json_atomic
from rader_hub.generation.failures import FailsTheRun
from rader_hub.schema import RunFolder

logger = logging.getLogger(__name__)


def query_key(query: str) -> str:
    """Queries that differ only in case or spacing are the same query."""
    return " ".join(query.split()).lower()


def deduplicate(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Rows with a (query, positive_id) pair not seen before, in a stable order (problem, sample,
    query type), each with ``same_query_positive_ids``: the positives of the other rows that
    have the same query text (a theorem that answers a query must not be its negative elsewhere)."""
    ordered = sorted(rows, key=lambda r: (r["problem_id"], r["sample_id"], r["query_type"]))
    kept: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    positives: dict[str, set[str]] = defaultdict(set)
    for row in ordered:
        key = (query_key(row["query"]), row["positive_id"])
        if key in seen:
            continue
        seen.add(key)
        positives[key[0]].add(row["positive_id"])
        kept.append(row)
    for row in kept:
        row["same_query_positive_ids"] = sorted(positives[query_key(row["query"])] - {row["positive_id"]})
    return kept, len(rows) - len(kept)


class DeduplicateQueries(FailsTheRun, GlobalStep):
    """Drop repeated (query, positive) rows and record each query's other positives.

    The same theorem can be retrieved on several branches of one problem's tree, which repeats
    q_question (and sometimes q_llmq) with the same positive: only the first such row is kept.
    Rows that share a query but not a positive stay, and each learns the other rows' positives
    (``same_query_positive_ids``), which the hard-negative step then never picks. The number
    dropped goes to ``summary.json`` (``duplicates_dropped``).

    Attributes:
        output_dir: the run folder (the count goes to its statistics).

    Input columns:
        - query (`str`), positive_id (`str`): the pair that must be unique.
        - problem_id (`str`), sample_id (`str`), query_type (`str`): the order of preference.

    Output columns:
        - same_query_positive_ids (`List[str]`): positives of other rows with the same query text.

    Categories:
        - filtering

    Examples:
        ```python
        from rader_hub.generation.steps import DeduplicateQueries

        step = DeduplicateQueries(output_dir="outputs/math")
        step.load()
        rows = next(step.process(rows))  # the rows SynthesizeQueries wrote
        ```
    """

    output_dir: str = Field(default="outputs/math", description="Run folder (statistics).")

    @property
    def inputs(self) -> list[str]:
        return ["query", "positive_id", "problem_id", "sample_id", "query_type"]

    @property
    def outputs(self) -> list[str]:
        return ["same_query_positive_ids"]

    def process(self, inputs: StepInput) -> StepOutput:  # type: ignore[override]
        rows, dropped = deduplicate(list(inputs))
        if dropped:
            logger.info("dropped %d repeated (query, positive) row(s)", dropped)
        write_json_atomic(RunFolder(self.output_dir).stats_file("dedup", "all"), {"duplicates_dropped": dropped})
        yield rows
