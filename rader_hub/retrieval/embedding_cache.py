"""On-disk cache of corpus embeddings, keyed by model identity and corpus content."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from rader_hub.files import cache_dir, write_atomic

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".txt", ".model")


def model_fingerprint(model_location: str) -> str:
    """Identity of a model: for a local folder its files' names, sizes and mtimes, so retraining
    into the same folder invalidates the cache; for a Hub id, the id itself."""
    digest = hashlib.sha256(model_location.encode())
    folder = Path(model_location)
    if folder.is_dir():
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.suffix in WEIGHT_SUFFIXES:
                stat = file.stat()
                digest.update(f"{file.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


class EmbeddingCache:
    """Corpus embeddings as ``.npy`` files in ``directory`` (default: the user's cache), one per key."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or cache_dir("embeddings")

    def path_for(self, *key_parts: str) -> Path:
        """The file for a key (e.g. the model fingerprint and the corpus fingerprint)."""
        key = hashlib.sha256("\0".join(key_parts).encode()).hexdigest()[:24]
        return self.directory / f"{key}.npy"

    def load(self, path: Path, expected_rows: int) -> np.ndarray | None:
        """The cached embeddings; None when the file is missing, unreadable or has another row count."""
        if not path.is_file():
            return None
        try:
            embeddings = np.load(path)
        except (OSError, ValueError):
            return None  # a torn or foreign file is treated as a miss and rewritten
        return embeddings if embeddings.shape[0] == expected_rows else None

    def store(self, path: Path, embeddings: np.ndarray) -> None:
        """Write the embeddings atomically."""
        write_atomic(path, lambda stream: np.save(stream, embeddings))  # readers never see half a file
