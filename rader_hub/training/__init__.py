"""Training retrievers and rerankers on synthesized or labelled triples (sentence-transformers).

The Python API, the same code path as `rader train`::

    from rader_hub.training import RetrieverTrainingConfig, train_retriever

    result = train_retriever(RetrieverTrainingConfig(out_dir="models/my-retriever"), "outputs/math/data")
    print(result.steps, result.train_loss)

The names below are imported on first use, so importing this package does not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RetrieverTrainingConfig": "rader_hub.training.config",
    "RerankerTrainingConfig": "rader_hub.training.config",
    "TrainingData": "rader_hub.training.data",
    "Triple": "rader_hub.training.data",
    "training_data": "rader_hub.training.data",
    "TrainingResult": "rader_hub.training.runtime",
    "train_retriever": "rader_hub.training.retriever",
    "train_reranker": "rader_hub.training.reranker",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rader_hub.training' has no attribute '{name}'")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
