"""The published copies of a run folder's and a model folder's files: what leaves this machine
carries no local detail. Metadata (summary.json, recipe.yaml, rader_training.json, review.json and
the rows' provenance columns) is made portable (``rader_hub.portable``: no absolute path, no server
URL); annotators' user names become pseudonyms (``annotator-1``, ...) unless the publisher asks
for them. The local files keep everything: they are where the local user looks things up.

Every local detail removed is remembered, and :meth:`PortableCopy.check` refuses an upload folder
in which one still appears (a card that quoted it, a column nobody listed)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from rader_hub.errors import ConfigError
from rader_hub.portable import local_details_in, portable
from rader_hub.publish.folder import place
from rader_hub.redaction import files_containing

if TYPE_CHECKING:
    import pyarrow as pa

ANNOTATORS = "annotators"  # the column `rader review pull` adds, and the key of review.json
# The columns of a generated row that describe how it was made (names of models, retrievers and
# corpora, the weights' origin): metadata, unlike the texts around them.
METADATA_COLUMNS = ("generator", "generator_revision", "judge", "search_retriever", "query_generator", "negative_source")


def pseudonyms(names: Iterable[str]) -> dict[str, str]:
    """The same pseudonym for a name in every file of one upload (sorted names, numbered from 1)."""
    return {name: f"annotator-{number}" for number, name in enumerate(sorted(set(names)), start=1)}


class PortableCopy:
    """Writes the published copies into an upload folder, remembering what it removed."""

    def __init__(self, annotators: Iterable[str] = (), include_annotators: bool = False) -> None:
        self.removed: set[str] = set()
        self.pseudonyms = {} if include_annotators else pseudonyms(annotators)

    def value(self, value: Any) -> Any:
        self.removed |= local_details_in(value)
        return portable(value)

    def json_file(self, data: dict[str, Any], target: Path) -> dict[str, Any]:
        published = self.value(data)
        if ANNOTATORS in published and self.pseudonyms:
            published[ANNOTATORS] = [self.pseudonyms.get(name, name) for name in published[ANNOTATORS]]
        target.write_text(json.dumps(published, ensure_ascii=False, indent=1), encoding="utf-8")
        return published

    def yaml_file(self, data: dict[str, Any], target: Path) -> dict[str, Any]:
        published = self.value(data)
        target.write_text(yaml.safe_dump(published, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return published

    def shard(self, source: Path, target: Path) -> pa.Table:
        """The Parquet shard with portable provenance columns and pseudonymous annotators; linked
        unchanged when it has neither to change (shards can be large)."""
        import pyarrow.parquet as pq

        table = pq.read_table(source)
        published = table
        for name in METADATA_COLUMNS:
            if name in table.column_names:
                published = _replace_column(published, name, self.value(table.column(name).to_pylist()))
        if self.pseudonyms and ANNOTATORS in table.column_names:
            rows = table[ANNOTATORS].to_pylist()
            names = [[self.pseudonyms.get(name, name) for name in row] if row is not None else None for row in rows]
            published = _replace_column(published, ANNOTATORS, names)
        target.parent.mkdir(parents=True, exist_ok=True)
        if published.equals(table):
            place(source, target)
        else:
            pq.write_table(published, target)
        return published

    def check(self, folder: Path) -> None:
        """Refuse the upload folder if a removed local detail (path, server URL) is still in a file."""
        leaked = files_containing(folder, self.removed)
        if leaked:
            content = (folder / leaked[0]).read_bytes()
            found = next(text for text in sorted(self.removed) if text.encode() in content)
            raise ConfigError(
                f"refusing to publish: {', '.join(leaked)} contain(s) a path or server URL of this machine (e.g. {found}); "
                "remove it from the source files"
            )


def annotator_names(table: pa.Table, review: dict[str, Any] | None) -> set[str]:
    """Every annotator named in the rows or in review.json."""
    names = set((review or {}).get(ANNOTATORS) or [])
    if ANNOTATORS in table.column_names:
        names |= {name for row in table[ANNOTATORS].to_pylist() for name in row or []}
    return names


def _replace_column(table: pa.Table, name: str, values: list[Any]) -> pa.Table:
    import pyarrow as pa

    index = table.column_names.index(name)
    field = table.schema.field(index)
    return table.set_column(index, field, pa.array(values, type=field.type))
