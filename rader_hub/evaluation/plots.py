"""A bar chart comparing evaluation runs (`rader eval --plot`, the benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rader_hub.figures import pyplot, save_figure


def plot_runs(runs: Sequence[tuple[str, Mapping[str, float]]], path: Path, metric: str = "ndcg@10") -> Path:
    """Draw a bar chart of one metric over labelled runs, the value printed on each bar.

    Args:
        runs: ``(label, metrics)`` per run, in the order of the bars.
        path: The image file to write (its suffix picks the format, e.g. ``.png``).
        metric: The metric to chart, a key of every run's metrics. Defaults to ``ndcg@10``.

    Returns:
        `Path`: ``path``, written.

    Raises:
        ValueError: ``runs`` is empty.
    """
    if not runs:
        raise ValueError("no runs to plot")
    labels = [label for label, _ in runs]
    values = [float(metrics[metric]) for _, metrics in runs]
    figure, axis = pyplot().subplots(figsize=(max(4.0, 1.2 * len(runs) + 1), 4))
    bars = axis.bar(range(len(runs)), values, color="tab:blue")
    axis.bar_label(bars, labels=[f"{value:.3f}" for value in values])
    axis.set_xticks(range(len(runs)), labels, rotation=20, ha="right")
    axis.set_ylabel(metric)
    axis.set_ylim(0, max(1.0, max(values) * 1.1))
    return save_figure(figure, path)
