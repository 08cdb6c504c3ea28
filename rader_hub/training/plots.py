"""Figures: the training loss curve and a bar chart comparing evaluation runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # runtime.py imports this module
    from rader_hub.training.runtime import TrainingLog


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def plot_loss_curve(log: TrainingLog, path: Path, title: str = "training loss") -> Path | None:
    """Write train (and eval) loss against step; None when nothing was logged."""
    if not log.train and not log.eval:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 4))
    if log.train:
        axis.plot(*zip(*log.train), label="train loss", linewidth=1)
    if log.eval:
        axis.plot(*zip(*log.eval), "o-", label="eval loss")
    axis.set_xlabel("step")
    axis.set_ylabel("InfoNCE loss")
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_runs(runs: Sequence[tuple[str, Mapping[str, float]]], path: Path, metric: str = "ndcg@10") -> Path:
    """Bar chart of one metric over labelled runs, value printed on each bar."""
    if not runs:
        raise ValueError("no runs to plot")
    plt = _pyplot()
    labels = [label for label, _ in runs]
    values = [float(metrics[metric]) for _, metrics in runs]
    figure, axis = plt.subplots(figsize=(max(4.0, 1.2 * len(runs) + 1), 4))
    bars = axis.bar(range(len(runs)), values, color="tab:blue")
    axis.bar_label(bars, labels=[f"{value:.3f}" for value in values])
    axis.set_xticks(range(len(runs)), labels, rotation=20, ha="right")
    axis.set_ylabel(metric)
    axis.set_ylim(0, max(1.0, max(values) * 1.1))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
