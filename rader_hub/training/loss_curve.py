"""The training loss curve (written next to the trained model)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rader_hub.figures import pyplot, save_figure

if TYPE_CHECKING:  # runtime.py imports this module
    from rader_hub.training.runtime import TrainingLog


def plot_loss_curve(log: TrainingLog, path: Path, title: str = "training loss") -> Path | None:
    """Write train (and eval) loss against step; None when nothing was logged."""
    if not log.train and not log.eval:
        return None
    figure, axis = pyplot().subplots(figsize=(6, 4))
    if log.train:
        axis.plot(*zip(*log.train), label="train loss", linewidth=1)
    if log.eval:
        axis.plot(*zip(*log.eval), "o-", label="eval loss")
    axis.set_xlabel("step")
    axis.set_ylabel("InfoNCE loss")
    axis.set_title(title)
    axis.legend()
    return save_figure(figure, path)
