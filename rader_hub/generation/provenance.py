"""What every output row records about how it was made: filters, software and model versions.

Every row records the filter settings it was produced under (``filters``, a struct) and the names
of those looser than the paper's (``relaxed_filters``), so relaxed data can never pass for
paper-faithful data; and the versions of rader-hub, distilabel and transformers, the generator's
exact weights (a file hash or a Hub revision), the search seed and the creation time.
"""

from __future__ import annotations

import importlib.metadata
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from rader_hub.assets import hub_commit, resolve_generator
from rader_hub.fingerprints import file_sha256
from rader_hub.schema import FILTER_TYPES

PAPER_FILTERS: dict[str, Any] = {
    # Only trajectories whose final answer equals the gold answer give samples.
    "require_correct_answer": True,
    # Only theorems that self-reflection labels relevant become positives.
    "keep_top_theorem_if_none_relevant": False,
    # q_lexical is kept only if BM25 ranks its theorem in the top 20.
    "lexical_round_trip_top_n": 20,
}

SOFTWARE = ("rader-hub", "distilabel", "transformers")


def relaxed_filters(filters: dict[str, Any]) -> list[str]:
    """Names of the filters set looser than the paper's (a flag flipped, a larger cut-off)."""
    relaxed = []
    for name, value in filters.items():
        if name not in PAPER_FILTERS or value is None:
            continue
        paper = PAPER_FILTERS[name]
        loose = value != paper if isinstance(paper, bool) else value > paper
        if loose:
            relaxed.append(name)
    return sorted(relaxed)


def filter_struct(filters: dict[str, Any]) -> dict[str, Any]:
    """``filters`` with every struct field present (None where a step did not apply it)."""
    unknown = set(filters) - set(FILTER_TYPES)
    if unknown:
        raise ValueError(f"unknown filter(s) {sorted(unknown)}: add them to FILTER_TYPES")
    return {name: filters.get(name) for name in FILTER_TYPES}


@lru_cache(maxsize=1)
def software_versions() -> dict[str, str]:
    """Installed versions of rader-hub, distilabel and transformers, as ``<name>_version`` keys."""
    versions = {}
    for package in SOFTWARE:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        versions[f"{package.replace('-', '_')}_version"] = version
    return versions


def created_at() -> str:
    """Now, in UTC, ISO 8601 to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@lru_cache(maxsize=8)
def model_revision(model: str, base_url: str | None = None) -> str:
    """The exact weights behind a generator name: ``sha256:<hex>`` of a GGUF file (the embedded
    model included), ``<hub id>@<commit>`` for a Hub model in the local Hugging Face cache, the
    folder for other local models, ``served by <url>`` for a model behind an API."""
    if base_url:
        return f"{model} served by {base_url}"
    resolved = resolve_generator(model)
    if resolved.gguf_file:
        return f"sha256:{file_sha256(Path(resolved.location) / resolved.gguf_file)}"
    path = Path(resolved.location)
    if path.exists():
        return f"local folder {path.resolve()}"
    commit = hub_commit(resolved.location)
    return f"{resolved.location}@{commit}" if commit else f"{resolved.location}@unresolved"


def llm_revision(llm: Any) -> str:
    """:func:`model_revision` of a distilabel LLM (its ``model``, and ``base_url`` for API models)."""
    return model_revision(str(getattr(llm, "model", llm.model_name)), getattr(llm, "base_url", None))
