"""A file of evaluation runs (JSON lines) that `rader eval` appends to and charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rader_hub.errors import DataError
from rader_hub.evaluation.plots import plot_runs
from rader_hub.files import append_line_atomic


def run_label(retriever: str, model: str, reranker: str | None, query_mode: str, alpha: float) -> str:
    """A short default name for a run, e.g. 'dense supervised-dev + rerank reranker [question]'."""
    label = retriever if retriever == "bm25" else f"{retriever} {Path(model).name or model}"
    if retriever == "hybrid":
        label += f" a={alpha:g}"
    if reranker:
        label += f" + rerank {Path(reranker).name or reranker}"
    return f"{label} [{query_mode}]"


def run_settings(retriever: str, model: str, reranker: str | None, query_mode: str, alpha: float, **source: Any) -> dict[str, Any]:
    """What a run evaluated, as the runs file, `rader eval --json` and model cards record it;
    ``source`` names the data (``corpus``/``queries``, or ``bright``/``bright_source``)."""
    return {"retriever": retriever, "model": model, "reranker": reranker, "query_mode": query_mode, "alpha": alpha, **source}


def run_record(label: str, summary: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """One evaluation as `rader eval --json` prints it and model cards read it (``--eval FILE``)."""
    return {**summary, "label": label, "settings": settings}


def append_run(path: Path, label: str, metrics: dict[str, Any], settings: dict[str, Any]) -> None:
    """Add one run as a line; written atomically, so an interrupted or failed write keeps the earlier runs whole."""
    append_line_atomic(path, json.dumps({"label": label, "metrics": metrics, "settings": settings}))


def load_runs(path: Path) -> list[tuple[str, dict[str, float]]]:
    """(label, metrics) per run; a later run with the same label replaces the earlier one."""
    runs: dict[str, dict[str, float]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            runs[str(record["label"])] = dict(record["metrics"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{path} line {number}: not a run record ({exc})") from exc
    return list(runs.items())


def record_run(label: str, metrics: dict[str, Any], settings: dict[str, Any], runs_file: Path | None, chart: Path | None) -> int:
    """Append the run to ``runs_file`` (when given) and chart every run in it, or just this run, to
    ``chart`` (when given). Returns how many runs the chart shows (0 without a chart)."""
    if runs_file is not None:
        append_run(runs_file, label, metrics, settings)
    if chart is None:
        return 0
    runs = load_runs(runs_file) if runs_file is not None else [(label, metrics)]
    plot_runs(runs, chart)
    return len(runs)
