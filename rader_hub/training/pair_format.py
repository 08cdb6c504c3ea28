"""How a reranker's (query, document) pairs are written, saved beside the model.

The paper's reranker reads "query: {q} document: {d}"; a reranker trained with prefixes must be
given pairs written the same way when it reranks. The trainer saves the prefixes in the model
folder (``rader_reranker.json``) and :func:`pair_format` reads them back for a folder or a Hub id.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

PAIR_FORMAT_FILE = "rader_reranker.json"


@dataclass(frozen=True)
class PairFormat:
    query_prefix: str = ""
    document_prefix: str = ""

    def pair(self, query: str, document: str) -> tuple[str, str]:
        return f"{self.query_prefix}{query}", f"{self.document_prefix}{document}"

    def save(self, folder: Path | str) -> None:
        from rader_hub.files import write_json_atomic

        write_json_atomic(Path(folder) / PAIR_FORMAT_FILE, asdict(self))


def pair_format(name: str) -> PairFormat:
    """The format saved with the reranker at ``name`` (a folder or a Hub id); plain pairs if none was."""
    folder = Path(name)
    if folder.is_dir():
        path = folder / PAIR_FORMAT_FILE
        return PairFormat(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else PairFormat()
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    try:
        return PairFormat(**json.loads(Path(hf_hub_download(name, PAIR_FORMAT_FILE)).read_text(encoding="utf-8")))
    except EntryNotFoundError:
        return PairFormat()
