"""Shared fixtures: small corpora written to disk in the formats users bring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rader_hub.corpus import Corpus, Document

TINY_DOCUMENTS = [
    Document(
        "pigeonhole", "If n items are put into m containers with n > m, some container holds more than one item.", "Pigeonhole principle"
    ),
    Document(
        "pythagoras", "In a right triangle the square of the hypotenuse equals the sum of the squares of the legs.", "Pythagorean theorem"
    ),
    Document("bayes", "The posterior probability is proportional to the likelihood times the prior probability.", "Bayes' theorem"),
    Document(
        "fermat-little", "If p is prime and a is not divisible by p then a^(p-1) is congruent to 1 modulo p.", "Fermat's little theorem"
    ),
]


# A test that starts one of these servers carries the marker of the same name (pyproject.toml), so
# `-m "not hub"` and the like leave out exactly the tests that need it. Tests that use the server
# fixture of that name are checked here; those that start one themselves are marked by hand.
SERVER_MARKERS = ("hub", "argilla", "openai_server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = [
        f"{item.nodeid} uses the {name!r} fixture"
        for item in items
        for name in SERVER_MARKERS
        if name in getattr(item, "fixturenames", ()) and item.get_closest_marker(name) is None
    ]
    if unmarked:
        raise pytest.UsageError("tests that start a server must carry its marker: " + "; ".join(unmarked))


@pytest.fixture
def tiny_corpus() -> Corpus:
    return Corpus(TINY_DOCUMENTS, source="tiny")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def tiny_corpus_rows() -> list[dict]:
    return [{"id": doc.id, "title": doc.title, "text": doc.text} for doc in TINY_DOCUMENTS]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own embedding cache, so cache behaviour is observed, not inherited."""
    cache_dir = tmp_path_factory.mktemp("rader-cache")
    monkeypatch.setenv("RADER_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache_dir


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """Training triples on the tiny corpus, as a JSONL file."""
    from helpers import tiny_triples

    return write_jsonl(tmp_path / "triples.jsonl", tiny_triples())


@pytest.fixture(scope="session")
def openai_server(tmp_path_factory: pytest.TempPathFactory):
    """`transformers serve --continuous-batching` with the embedded SmolLM2, once per test session."""
    from devtools.openai_server import transformers_serve
    from rader_hub.generation.llm import generator_folder

    folder = tmp_path_factory.mktemp("openai-server")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RADER_CACHE_DIR", str(folder / "cache"))
        model_dir = generator_folder("embedded")
    with transformers_serve(model_dir, folder / "server.log") as server:
        yield server
