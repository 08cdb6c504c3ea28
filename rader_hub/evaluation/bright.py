"""BRIGHT's layout: where each split's documents and queries live, on the Hub or on disk.

The Hub dataset ``xlangai/BRIGHT`` has configs ``documents`` and ``examples`` (the original
questions) plus ``<reasoner>_reason`` configs whose ``query`` is an LLM's chain-of-thought
reasoning for the question (the paper's "reasoning" queries use GPT-4's: ``gpt4_reason``). Each
config has one split per domain. A local copy keeps the Hub's file layout:
``ROOT/<config>/<split>-00000-of-00001.parquet`` (or ``ROOT/<config>/<split>.jsonl``).

``evaluate_bright`` scores a retrieval setup on each split in turn and macro-averages the metrics
over splits, as BRIGHT reports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rader_hub.corpus import Corpus, document_from_row
from rader_hub.errors import ConfigError, DataError
from rader_hub.queries import EvalQuery, QueryMode, query_from_row
from rader_hub.records import DataSource, parse_rows

if TYPE_CHECKING:
    from rader_hub.evaluation.evaluate import EvalResult, RetrievalSetup

BRIGHT_HUB_ID = "xlangai/BRIGHT"
BRIGHT_SPLITS = (
    "biology",
    "earth_science",
    "economics",
    "psychology",
    "robotics",
    "stackoverflow",
    "sustainable_living",
    "leetcode",
    "pony",
    "aops",
    "theoremqa_questions",
    "theoremqa_theorems",
)
REASONERS = ("gpt4", "claude-3-opus", "Gemini-1.0", "llama3-70b", "grit")
DEFAULT_REASONER = "gpt4"

# The task each split's queries pose, as BRIGHT's evaluation configs (github.com/xlang-ai/BRIGHT,
# configs/<model>/<split>.json, CC BY 4.0) phrase it for instruction-following embedders; the
# StackExchange and Pony configs fill in the split's name.
_STACKEXCHANGE_TASK = "Given a {split} post, retrieve relevant passages that help answer the post"
TASK_INSTRUCTIONS: dict[str, str] = {
    **{
        split: _STACKEXCHANGE_TASK.format(split=split)
        for split in ("biology", "earth_science", "economics", "psychology", "robotics", "stackoverflow", "sustainable_living")
    },
    "leetcode": "Given a coding problem, retrieve relevant examples that help answer the problem",
    "pony": "Given a pony question, retrieve relevant passages that help answer the question",
    "aops": "Given a Math problem, retrieve relevant examples that help answer the problem",
    "theoremqa_questions": "Given a Math problem, retrieve relevant examples that help answer the problem",
    "theoremqa_theorems": "Given a Math problem, retrieve relevant theorems that help answer the problem",
}
# The paper's hybrid weight of the dense score: 1.0 (dense alone) on the math splits, 0.8 elsewhere.
MATH_SPLITS = ("aops", "theoremqa_questions", "theoremqa_theorems")
PAPER_HYBRID_ALPHA: dict[str, float] = {split: 1.0 if split in MATH_SPLITS else 0.8 for split in BRIGHT_SPLITS}


def instructed_query_prompt(split: str) -> str:
    """The query prefix BRIGHT's configs give embedders trained with a "Query: " prefix (E5-Mistral,
    SFR, Qwen embedders): the split's task, then the query. The paper evaluates RaDeR this way."""
    return f"Instruct: {TASK_INSTRUCTIONS[split]}\nQuery: "


@dataclass(frozen=True)
class BrightSplit:
    """One split; a local copy may shard a config's split over several files."""

    name: str
    corpus: tuple[DataSource, ...]
    queries: tuple[DataSource, ...]

    def load_corpus(self) -> Corpus:
        """The split's documents; DataError when they cannot be read or are malformed."""
        documents = [document for source in self.corpus for document in parse_rows(source, document_from_row)]
        return Corpus(documents, source=" + ".join(map(str, self.corpus)))

    def load_queries(self) -> list[EvalQuery]:
        """The split's queries (the question, or a reasoner's reasoning); DataError when there are none."""
        # Always the `query` column: in reasoning mode the <reasoner>_reason config holds the reasoning there.
        queries = [query for source in self.queries for query in parse_rows(source, lambda row: query_from_row(row, QueryMode.question))]
        if not queries:
            raise DataError(f"BRIGHT split '{self.name}': no queries")
        return queries


def resolve_splits(requested: Sequence[str]) -> list[str]:
    """Split names, in BRIGHT's order; ``all`` means all 12."""
    if not requested:
        raise ConfigError(f"no BRIGHT split given; choose from {list(BRIGHT_SPLITS)} or 'all'")
    if "all" in requested:
        return list(BRIGHT_SPLITS)
    unknown = [name for name in requested if name not in BRIGHT_SPLITS]
    if unknown:
        raise ConfigError(f"unknown BRIGHT split(s) {unknown}; choose from {list(BRIGHT_SPLITS)} or 'all'")
    return [name for name in BRIGHT_SPLITS if name in requested]


def queries_config(mode: QueryMode, reasoner: str = DEFAULT_REASONER) -> str:
    """The Hub config holding the queries of ``mode``: ``examples``, or ``<reasoner>_reason``; ConfigError for an unknown reasoner."""
    if mode is QueryMode.question:
        return "examples"
    if reasoner not in REASONERS:
        raise ConfigError(f"unknown reasoner '{reasoner}'; BRIGHT has {list(REASONERS)}")
    return f"{reasoner}_reason"


def _local_files(root: Path, config: str, split: str) -> tuple[DataSource, ...]:
    folder = root / config
    files = sorted(folder.glob(f"{split}-*.parquet")) or sorted(folder.glob(f"{split}.parquet")) or sorted(folder.glob(f"{split}.jsonl"))
    if not files:
        raise DataError(f"{folder}: no file for BRIGHT split '{split}' (expected {split}-00000-of-00001.parquet or {split}.jsonl)")
    return tuple(DataSource(str(path)) for path in files)


def bright_split(
    split: str, source: str = BRIGHT_HUB_ID, mode: QueryMode = QueryMode.question, reasoner: str = DEFAULT_REASONER
) -> BrightSplit:
    """Documents and queries of one split, from the Hub (``source`` an id) or a local copy (a folder)."""
    config = queries_config(mode, reasoner)
    root = Path(source)
    if root.is_dir():
        return BrightSplit(split, _local_files(root, "documents", split), _local_files(root, config, split))
    return BrightSplit(split, (DataSource(source, "documents", split),), (DataSource(source, config, split),))


@dataclass
class BrightResult:
    """Each split's result, in BRIGHT's order, and their macro average."""

    splits: dict[str, EvalResult] = field(default_factory=dict)

    @property
    def average(self) -> dict[str, float]:
        """Each metric's mean over splits (every split weighs the same, whatever its size)."""
        metric_names = next(iter(self.splits.values())).metrics
        return {name: sum(split.metrics[name] for split in self.splits.values()) / len(self.splits) for name in metric_names}

    def as_dict(self) -> dict[str, dict]:
        """What `rader eval --bright --json` prints: each split's ``EvalResult.as_dict`` and the average."""
        return {"splits": {name: split.as_dict() for name, split in self.splits.items()}, "average": self.average}


def paper_protocol(setup: RetrievalSetup, split: str) -> RetrievalSetup:
    """``setup`` as the paper evaluates a trained model on ``split``: the split's task instruction
    before every query (dense and hybrid) and the split's hybrid weight."""
    return dataclasses.replace(setup, query_prompt=instructed_query_prompt(split), alpha=PAPER_HYBRID_ALPHA[split])


def evaluate_bright(
    setup: RetrievalSetup,
    splits: Sequence[str],
    source: str = BRIGHT_HUB_ID,
    mode: QueryMode = QueryMode.question,
    reasoner: str = DEFAULT_REASONER,
    show_progress: bool = False,
    on_split: Callable[[str, EvalResult], None] | None = None,
    as_paper: bool = False,
) -> BrightResult:
    """Evaluate ``setup`` on each BRIGHT split in turn and macro-average the metrics, as BRIGHT reports them.

    Args:
        setup: The retrieval setup to evaluate (as `evaluate_retrieval` takes it).
        splits: Split names (see ``BRIGHT_SPLITS``), or ``all`` for the 12; run in BRIGHT's order.
        source: The Hub dataset id, or a folder holding a local copy in the Hub's layout.
            Defaults to ``xlangai/BRIGHT``.
        mode: ``question`` for the original questions, ``reasoning`` for a reasoner's
            chain-of-thought as the query. Defaults to ``question``.
        reasoner: Whose reasoning, in ``reasoning`` mode (see ``REASONERS``). Defaults to ``gpt4``.
        show_progress: Show progress bars. Defaults to ``False``.
        on_split: Called as ``on_split(name, result)`` as each split finishes (a run over every
            split takes hours). Defaults to ``None``.
        as_paper: Evaluate each split as the paper does (`paper_protocol`: the split's task
            instruction before each query, its hybrid weight). Defaults to ``False``.

    Returns:
        `BrightResult`: each split's `EvalResult` and, as ``average``, their macro average.

    Raises:
        ConfigError: No split, an unknown split or an unknown reasoner is given.
        DataError: A split's files are missing from a local copy, malformed, or hold no queries, or
            a split's queries have no gold document in its corpus.
        AssetError: The embedder cannot be found or loaded.
    """
    # Imported here: the CLI reads this module's constants for its help, without the retrieval stack.
    from rader_hub.evaluation.evaluate import evaluate_retrieval

    result = BrightResult()
    for name in resolve_splits(splits):
        split = bright_split(name, source, mode, reasoner)
        split_setup = paper_protocol(setup, name) if as_paper else setup
        result.splits[name] = evaluate_retrieval(split_setup, split.load_corpus(), split.load_queries(), show_progress)
        if on_split is not None:
            on_split(name, result.splits[name])
    return result
