"""matplotlib for writing figures to files (training loss curves, evaluation bar charts)."""

from __future__ import annotations

from pathlib import Path

from rader_hub.files import atomic_path


def pyplot():
    """matplotlib.pyplot on the Agg backend: files only, never needs a display. Imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` (its folder created; atomically: a full disk or a kill never
    leaves half an image) and free it."""
    figure.tight_layout()
    try:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=100, format=path.suffix.lstrip(".") or "png")
    finally:
        pyplot().close(figure)
    return path
