"""What a generation run writes, which every layer reads: the run folder's layout, the dataset's
file name, columns and Arrow types, and the values its label columns take.

The steps that write these (``rader_hub.generation.steps``) and the layers that read them
(``review``, ``publish``, the benchmarks) import them from here, so a reader never loads distilabel
or torch for a constant. Light on purpose: no import above ``files``; pyarrow only inside
:func:`arrow_schema`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rader_hub.files import read_json

if TYPE_CHECKING:
    import pyarrow

# ---- The run folder (``outputs/<recipe name>/`` by default).
DATA = "data"
CHECKPOINTS = "checkpoints"
RUN = "run"
# The dataset's one Parquet file, in the run folder's data/ (the Hub's shard naming).
DATA_FILE = "train-00000-of-00001.parquet"


class RunFolder:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def problems_file(self) -> Path:
        """Which problems this run selected and which it skipped (written by the loader)."""
        return self.root / RUN / "problems.json"

    @property
    def search_provenance_file(self) -> Path:
        """Generator, its revision, seed, retriever and filters of the search (written at load)."""
        return self.root / RUN / "search_provenance.json"

    def stats_file(self, stage: str, key: str) -> Path:
        safe = "".join(char if char.isalnum() or char in "._-" else "_" for char in key)
        return self.root / RUN / stage / f"{safe}.json"

    def stats(self, stage: str) -> list[dict[str, Any]]:
        folder = self.root / RUN / stage
        return [read_json(path, {}) for path in sorted(folder.glob("*.json"))] if folder.is_dir() else []

    def checkpoints(self, stage: str) -> Path:
        return self.root / CHECKPOINTS / stage

    @property
    def data_dir(self) -> Path:
        return self.root / DATA

    @property
    def summary_file(self) -> Path:
        return self.root / "summary.json"

    @property
    def recipe_file(self) -> Path:
        """The recipe the run used, as YAML (written with the dataset)."""
        return self.root / "recipe.yaml"


# ---- The dataset's columns and types.
# The published schema, in this order; everything else a row carries follows as provenance.
SCHEMA = [
    "query",
    "positive",
    "negatives",
    "query_type",
    "positive_id",
    "negative_ids",
    "problem_id",
    "problem",
    "partial_solution",
    "reward",
    "judge_verdict",
    "judge_reason",
    "generator",
    "judge",
    "search_retriever",
    "query_generator",
    "negative_source",
    "recipe_name",
    "recipe_hash",
    "filters",
    "relaxed_filters",
]
PROVENANCE_EXTRA = [
    "sample_id",
    "gold_answer",
    "final_answer",
    "qg_query",
    "positive_summary",
    "kept_by_relaxation",
    "reflection_negative_ids",
    "reflection_negative_verdicts",
    "reflection_negative_reasons",
    "trajectory",
    "trajectory_actions",
    "lexical_bm25_rank",
    "unparsed_verdict_ids",
    "generator_revision",
    "seed",
    "rader_hub_version",
    "distilabel_version",
    "transformers_version",
    "created_at",
]
_LIST_COLUMNS = {
    "negatives",
    "negative_ids",
    "relaxed_filters",
    "reflection_negative_ids",
    "reflection_negative_verdicts",
    "reflection_negative_reasons",
    "trajectory",
    "trajectory_actions",
    "unparsed_verdict_ids",
}


def arrow_schema() -> pyarrow.Schema:
    """Explicit types, so an all-empty list column or an all-null column still loads the same."""
    import pyarrow as pa

    arrow_types = {bool: pa.bool_(), int: pa.int64(), float: pa.float64()}
    filters = pa.struct([(name, arrow_types[kind]) for name, kind in FILTER_TYPES.items()])
    special = {
        "reward": pa.float64(),
        "kept_by_relaxation": pa.bool_(),
        "lexical_bm25_rank": pa.int64(),
        "seed": pa.int64(),
        "filters": filters,
    }
    return pa.schema(
        [(name, pa.list_(pa.string()) if name in _LIST_COLUMNS else special.get(name, pa.string())) for name in SCHEMA + PROVENANCE_EXTRA]
    )


# ---- The values of the label columns.
# The judge's verdict on a (query, theorem) pair (``reflection_negative_verdicts``); UNPARSED when
# its answer could not be read.
RELEVANT = "relevant"
NOT_RELEVANT = "not relevant"
UNPARSED = "unparsed"
# ``negative_source`` of a row whose negatives are the judge's self-reflection rejects (otherwise
# the miners that found them, e.g. ``bm25+dense``).
SELF_REFLECTION = "self-reflection"
# Hard negatives per row at most (the paper's train group).
MAX_NEGATIVES = 12

# The ``filters`` struct: every filter a row may have passed, with its type (pyarrow needs a
# fixed set of fields). Filters the paper does not have are stricter, never looser.
FILTER_TYPES: dict[str, type] = {
    "require_correct_answer": bool,
    "keep_top_theorem_if_none_relevant": bool,
    "lexical_round_trip_top_n": int,
    # A cut-off relative to the corpus size for small corpora (0: off); the stricter one applies.
    "lexical_round_trip_fraction": float,
    # The cut-off that applied: the smaller of top_n and fraction x corpus size.
    "lexical_round_trip_cutoff": int,
    # The BM25 that ranked the theorem (the official code's: pyserini's k1 0.9, b 0.4).
    "lexical_round_trip_bm25_k1": float,
    "lexical_round_trip_bm25_b": float,
    # q_llmq / q_lexical with fewer words, or boilerplate and refusals, were dropped.
    "min_query_words": int,
    # q_llmq naming its positive theorem (its title verbatim) was dropped.
    "drop_llmq_naming_theorem": bool,
}
