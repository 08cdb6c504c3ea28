"""The theorem corpus: validated documents with stable ids."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from rader_hub.errors import DataError, RowError
from rader_hub.records import DataSource, Row, parse_unique_rows, row_id, text_field

# BRIGHT's documents use `content`; our embedded corpus uses `text`.
TEXT_FIELDS = ("text", "content")


@dataclass(frozen=True)
class Document:
    """One document (a theorem): its id, text and optional title."""

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
        """The document ids, in corpus order."""
        return [doc.id for doc in self.documents]

    @property
    def texts(self) -> list[str]:
        """What retrievers index for each document (``Document.full_text``), in corpus order."""
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
    """A document from a row with ``id``, ``text`` (or BRIGHT's ``content``) and an optional ``title``; RowError otherwise."""
    doc_id = row_id(row)
    text = text_field(row, TEXT_FIELDS, owner=f"id '{doc_id}'")
    title = row.data.get("title") or ""
    if not isinstance(title, str):
        raise RowError(row.location, f"'title' must be a string for id '{doc_id}'", kind="'title' must be a string")
    return Document(id=doc_id, text=text, title=title)


def load_corpus(source: DataSource) -> Corpus:
    """Load and validate a corpus of documents.

    Args:
        source: A JSONL/JSON/Parquet file, a folder, or a Hub dataset id (with config and split)
            whose rows have ``id``, ``text`` (or ``content``) and an optional ``title``; see
            `rader_hub.embedded_data.resolve_source` for ``embedded``.

    Returns:
        `Corpus`: the documents in file order, unique by id.

    Raises:
        DataError: The source cannot be read, is empty, or has malformed rows or duplicate ids;
            one error names the source and the first row of each kind of problem.
    """
    documents = parse_unique_rows(source, document_from_row)
    if not documents:
        raise DataError(f"{source}: corpus is empty (no rows)")
    return Corpus(documents, source=str(source))
