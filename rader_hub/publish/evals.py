"""Evaluation results for a model card: the objects ``rader eval --json`` prints (metrics, per-query
scores, ``label`` and ``settings``; with ``--bright``, one such object per split plus their average),
grouped per evaluated set, each row named for what it is (this model, its base model, BM25, or
another run), this model's difference to its base with a paired-bootstrap interval, and the
matching ``model-index`` and ``.eval_results`` entries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, EvalResultEntry

from rader_hub.assets import EMBEDDED
from rader_hub.errors import DataError
from rader_hub.evaluation.bootstrap import Difference, paired_bootstrap
from rader_hub.evaluation.bright import BRIGHT_HUB_ID, queries_config
from rader_hub.evaluation.metrics import informative_metrics
from rader_hub.publish.metadata import is_hub_repo_id
from rader_hub.queries import QueryMode

# rader eval's metric keys -> (model-index metric type, display name).
METRICS = {"ndcg@10": ("ndcg_at_10", "nDCG@10"), "recall@10": ("recall_at_10", "Recall@10"), "p@10": ("precision_at_10", "P@10")}
PRIMARY = "ndcg@10"  # BRIGHT's headline metric: the one compared with the base and put in .eval_results
THIS, BASE, BM25, OTHER = "this", "base", "bm25", "other"
_ROLE_ORDER = {THIS: 0, BASE: 1, BM25: 2, OTHER: 3}
# The embedded dev queries on the Hub: TheoremQA's test split, of which they are a stratified half.
THEOREMQA_HUB_ID, THEOREMQA_SPLIT = "TIGER-Lab/TheoremQA", "test"


@dataclass(frozen=True)
class EvalData:
    """What a run was evaluated on: its name and description on the card, and its Hub dataset."""

    name: str
    description: str
    hub_id: str | None = None
    config: str | None = None
    split: str | None = None


@dataclass(frozen=True)
class EvalRun:
    """One evaluation: a `rader eval --json` file, or one BRIGHT split (or the average) of one."""

    path: Path
    label: str
    settings: dict[str, Any]
    metrics: dict[str, float]
    queries: int
    docs: int
    data: EvalData
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)  # empty in files of older versions
    most_gold: int = 0  # 0: not recorded


@dataclass(frozen=True)
class PublishedModel:
    """The names under which eval runs may refer to the model being published, and to its base."""

    kind: str  # "retriever" or "reranker"
    repo_id: str
    source: Path
    base: str | None  # the base model's name on the card
    base_aliases: frozenset[str] = frozenset()  # other names for it in eval settings ('embedded', a path)

    def is_this(self, name: str | None) -> bool:
        if not name:
            return False
        path = Path(name)
        return name == self.repo_id or path.name == self.source.name or (path.exists() and path.resolve() == self.source.resolve())


@dataclass
class EvalRow:
    name: str  # in the card's table
    role: str
    metrics: dict[str, float]
    task: str  # in model-index: "Retrieval", or what else ran with the model ("Retrieval (hybrid ...)")
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class EvalSet:
    """One corpus + query set + query mode, with every run evaluated on it."""

    data: EvalData
    query_mode: str
    queries: int
    docs: int
    most_gold: int
    rows: list[EvalRow] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.data.name + ("" if self.query_mode == QueryMode.question.value else f", {self.query_mode} queries")

    @property
    def metric_keys(self) -> list[str]:
        """The metrics shown for this set (:func:`~rader_hub.evaluation.metrics.informative_metrics`)."""
        return informative_metrics(self.most_gold)

    def row(self, role: str) -> EvalRow | None:
        return next((row for row in self.rows if row.role == role), None)

    @property
    def versus_base(self) -> Difference | None:
        """This model minus its base on nDCG@10, per query, with a paired-bootstrap 95% interval
        (None without both rows' per-query scores)."""
        this, base = self.row(THIS), self.row(BASE)
        if not (this and base and this.per_query and set(this.per_query) == set(base.per_query)):
            return None
        return paired_bootstrap(
            {query_id: scores[PRIMARY] for query_id, scores in this.per_query.items()},
            {query_id: scores[PRIMARY] for query_id, scores in base.per_query.items()},
        )


def load_eval_runs(paths: Sequence[Path]) -> list[EvalRun]:
    runs = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # missing, unreadable, not JSON
            raise DataError(f"{path}: cannot read it as JSON ({exc})", field="eval_files") from None
        if not isinstance(data, dict):
            raise DataError(f"{path}: expected a JSON object, one evaluation as `rader eval` writes it in JSON", field="eval_files")
        _require(path, data, ("label", "settings"))
        if "splits" in data:
            runs += _bright_runs(path, data)
        else:
            runs.append(_run(path, data, data, _data_of(data["settings"])))
    return runs


def _require(path: Path, data: dict[str, Any], keys: Sequence[str], where: str = "") -> None:
    missing = [key for key in keys if key not in data]
    if missing:
        raise DataError(f"{path}: {where}missing {', '.join(missing)} (is it `rader eval`'s JSON output?)", field="eval_files")


def _run(path: Path, top: dict[str, Any], data: dict[str, Any], evaluated: EvalData, where: str = "") -> EvalRun:
    """One result object (``data``) of the file whose label and settings are in ``top``."""
    _require(path, data, (*METRICS, "queries", "docs"), where)
    if not all(isinstance(data[key], (int, float)) for key in METRICS):
        raise DataError(f"{path}: {where}metric values must be numbers", field="eval_files")
    per_query = data.get("per_query") or {}
    if not isinstance(per_query, dict) or not all(isinstance(scores, dict) and PRIMARY in scores for scores in per_query.values()):
        raise DataError(f"{path}: {where}per_query must map query ids to their metrics", field="eval_files")
    return EvalRun(
        path,
        str(top["label"]),
        dict(top["settings"]),
        {key: float(data[key]) for key in METRICS},
        int(data["queries"]),
        int(data["docs"]),
        evaluated,
        per_query,
        int(data.get("most_gold") or 0),
    )


def _bright_runs(path: Path, data: dict[str, Any]) -> list[EvalRun]:
    """Each split of a `rader eval --bright --json` file, then the average over them."""
    settings = data["settings"]
    source = str(settings.get("bright_source") or BRIGHT_HUB_ID)
    mode = QueryMode(settings.get("query_mode", QueryMode.question.value))
    config = queries_config(mode, settings.get("reasoner") or "gpt4")
    hub_id = source if is_hub_repo_id(source) else None
    runs = [
        _run(path, data, split, EvalData(f"BRIGHT {name}", _bright_description(name, config), hub_id, config, name), f"split {name}: ")
        for name, split in (data["splits"] or {}).items()
    ]
    if not runs:
        raise DataError(f"{path}: no BRIGHT split in it", field="eval_files")
    average = data.get("average") or {}
    if len(runs) > 1 and all(key in average for key in METRICS):
        names = ", ".join(run.data.split or "" for run in runs)
        summary = {**average, "queries": sum(run.queries for run in runs), "docs": sum(run.docs for run in runs)}
        runs.append(
            _run(
                path,
                data,
                summary,
                EvalData(f"BRIGHT, average of {len(runs)} splits", f"The mean over {names}, each split weighing the same."),
            )
        )
    return runs


def _bright_description(split: str, config: str) -> str:
    return (
        f"BRIGHT's `{split}` split (`{BRIGHT_HUB_ID}`: queries from config `{config}`, documents from `documents`), "
        "a reasoning-intensive retrieval benchmark; scored as BRIGHT scores it."
    )


def _data_of(settings: dict[str, Any]) -> EvalData:
    corpus, queries = str(settings.get("corpus")), str(settings.get("queries"))
    if corpus == EMBEDDED and queries == EMBEDDED:
        return EvalData(
            "TheoremQA dev",
            "399 of TheoremQA's 800 test questions (a stratified half; the embedded dev set), each annotated with the "
            "theorem it needs, searched over TheoremQA's 354 theorems: the corpus the embedded recipes also generate "
            "training data from. It is not BRIGHT.",
            THEOREMQA_HUB_ID,
            None,
            THEOREMQA_SPLIT,
        )
    name = f"{_short(queries)} over {_short(corpus)}"
    return EvalData(
        name, f"The queries `{_short(queries)}` searched over the corpus `{_short(corpus)}`.", queries if is_hub_repo_id(queries) else None
    )


def _short(source: str) -> str:
    """A Hub id as is, a local file by its name only (no machine path on a card)."""
    return source if is_hub_repo_id(source) else Path(source).name


def evaluation_sets(runs: Sequence[EvalRun], published: PublishedModel) -> list[EvalSet]:
    sets: dict[tuple[str, str], EvalSet] = {}
    for run in runs:
        mode = str(run.settings.get("query_mode", QueryMode.question.value))
        key = (run.data.name, mode)
        if key not in sets:
            sets[key] = EvalSet(run.data, mode, run.queries, run.docs, run.most_gold)
        role, name, task = _describe(run, published)
        sets[key].rows.append(EvalRow(name, role, run.metrics, task, run.per_query))
        sets[key].most_gold = max(sets[key].most_gold, run.most_gold)
    for eval_set in sets.values():
        eval_set.rows.sort(key=lambda row: _ROLE_ORDER[row.role])
    return list(sets.values())


def model_index_results(sets: Sequence[EvalSet], repo_id: str) -> list[EvalResult]:
    """``model-index`` entries for this model's own rows on sets with a Hub dataset (other rows are
    context, not its results; a local query file has no id the Hub could link)."""
    results = []
    for eval_set in sets:
        this = eval_set.row(THIS)
        if this is None or eval_set.data.hub_id is None:
            continue
        for key in eval_set.metric_keys:
            metric_type, metric_name = METRICS[key]
            results.append(
                EvalResult(
                    task_type="text-retrieval",
                    task_name=this.task,
                    dataset_type=eval_set.data.hub_id,
                    dataset_name=eval_set.name,
                    dataset_config=eval_set.data.config,
                    dataset_split=eval_set.data.split,
                    metric_type=metric_type,
                    metric_name=metric_name,
                    metric_value=round(this.metrics[key], 4),
                    source_name="Self-reported (rader eval)",
                    source_url=f"https://huggingface.co/{repo_id}",
                )
            )
    return results


def eval_result_entries(sets: Sequence[EvalSet]) -> list[EvalResultEntry]:
    """The Hub's `.eval_results/*.yaml` entries: this model's nDCG@10 on each set with a Hub dataset."""
    entries = []
    for eval_set in sets:
        this = eval_set.row(THIS)
        if this is None or eval_set.data.hub_id is None:
            continue
        notes = f"nDCG@10 on {eval_set.queries} queries over {eval_set.docs} documents ({eval_set.name}), computed by rader eval"
        entries.append(
            EvalResultEntry(
                dataset_id=eval_set.data.hub_id,
                task_id=eval_set.data.split or eval_set.data.config or "default",
                value=round(this.metrics[PRIMARY], 4),
                notes=notes,
            )
        )
    return entries


def _describe(run: EvalRun, published: PublishedModel) -> tuple[str, str, str]:
    """(role, row name, model-index task name) of a run on the card of ``published``."""
    settings = run.settings
    retriever, model, reranker = settings.get("retriever"), settings.get("model"), settings.get("reranker")
    first_stage = "BM25" if retriever == "bm25" else f"{retriever} `{model}`"
    if retriever == "hybrid":
        first_stage += f" (alpha {settings.get('alpha')})"
    plain = not reranker and retriever != "hybrid"
    if published.kind == "reranker":
        if published.is_this(reranker):
            return THIS, f"{first_stage} + this reranker", f"Reranking ({first_stage.replace('`', '')})"
        if retriever == "bm25" and not reranker:
            return BM25, "BM25", "Retrieval"
        return OTHER, run.label, "Retrieval"
    if retriever == "bm25" and not reranker:
        return BM25, "BM25", "Retrieval"
    if published.is_this(model):
        if plain:
            return THIS, f"this model (`{published.repo_id}`)", "Retrieval"
        return THIS, f"this model, {run.label}", f"Retrieval ({run.label})"
    if plain and published.base and model in published.base_aliases | {published.base}:
        return BASE, f"base model (`{published.base}`)", "Retrieval"
    return OTHER, run.label, "Retrieval"
