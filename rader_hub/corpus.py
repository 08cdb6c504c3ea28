"""The theorem corpus: validated documents with stable ids."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from rader_hub.errors import DataError
from rader_hub.records import DataSource, Row, read_rows

# BRIGHT's documents use `content`; our embedded corpus uses `text`.
TEXT_FIELDS = ("text", "content")


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""

    @property
    def full_text(self) -> str:
        """What retrievers index: title, newline, text (the setting the baselines were measured with)."""
        return f"{self.title}\n{self.text}" if self.title else self.text


class Corpus:
    """An ordered, id-unique collection of documents."""

    def __init__(self, documents: Sequence[Document], source: str = "<memory>") -> None:
        if not documents:
            raise DataError(f"{source}: corpus is empty")
        self.source = source
        self.documents = list(documents)
        self._index = {doc.id: position for position, doc in enumerate(self.documents)}
        if len(self._index) != len(self.documents):
            raise DataError(f"{source}: duplicate document ids")

    def __len__(self) -> int:
        return len(self.documents)

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._index

    def __getitem__(self, doc_id: str) -> Document:
        try:
            return self.documents[self._index[doc_id]]
        except KeyError:
            raise KeyError(f"document id '{doc_id}' is not in corpus {self.source}") from None

    @property
    def ids(self) -> list[str]:
        return [doc.id for doc in self.documents]

    @property
    def texts(self) -> list[str]:
        return [doc.full_text for doc in self.documents]

    @cached_property
    def fingerprint(self) -> str:
        """Content hash of ids and indexed texts: keys caches so an edited corpus is re-encoded."""
        digest = hashlib.sha256()
        for doc in self.documents:
            digest.update(doc.id.encode())
            digest.update(b"\0")
            digest.update(doc.full_text.encode())
            digest.update(b"\0")
        return digest.hexdigest()[:16]


def document_from_row(row: Row) -> Document:
    data = row.data
    doc_id = data.get("id")
    if doc_id is None or (isinstance(doc_id, str) and not doc_id.strip()):
        raise DataError(f"{row.location}: missing 'id'")
    text = next((data[field] for field in TEXT_FIELDS if data.get(field) is not None), None)
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{row.location}: missing or empty 'text' (or 'content') for id '{doc_id}'")
    title = data.get("title") or ""
    if not isinstance(title, str):
        raise DataError(f"{row.location}: 'title' must be a string for id '{doc_id}'")
    return Document(id=str(doc_id), text=text, title=title)


def load_corpus(source: DataSource) -> Corpus:
    """Load and validate a corpus; every problem is a DataError naming the source and row."""
    documents: list[Document] = []
    first_seen: dict[str, str] = {}
    for row in read_rows(source):
        doc = document_from_row(row)
        if doc.id in first_seen:
            raise DataError(f"{row.location}: duplicate id '{doc.id}' (first at {first_seen[doc.id]})")
        first_seen[doc.id] = row.location
        documents.append(doc)
    if not documents:
        raise DataError(f"{source}: corpus is empty (no rows)")
    return Corpus(documents, source=str(source))
