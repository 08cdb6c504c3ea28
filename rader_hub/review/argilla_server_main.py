"""Start-up script of the local Argilla server. It runs with the Python of the server's own virtual
environment (``rader review serve`` builds it), where rader_hub is NOT installed: import only the
standard library and ``argilla_server`` here.

In one process (each separate ``argilla_server`` command pays seconds of imports): migrate the
SQLite database, create the default user with the state folder's credentials, rebuild the search
index of every published dataset whose index is missing (the bundled search engine keeps its
index in memory, the database survives restarts), then serve the API and the web UI.

    python argilla_server_main.py --credentials DIR/credentials.json --host 127.0.0.1 --port 6900

The caller sets the environment (``ARGILLA_*``); this script sets ``ARGILLA_SEARCH_ENGINE`` to
the engine it registers below.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENGINE_NAME = "rader-osmem"
os.environ["ARGILLA_SEARCH_ENGINE"] = ENGINE_NAME  # before argilla_server reads its settings on import

from argilla_server.search_engine import SearchEngine  # noqa: E402
from argilla_server.search_engine.commons import es_index_name_for_dataset  # noqa: E402
from argilla_server.search_engine.opensearch import OpenSearchEngine  # noqa: E402


@SearchEngine.register(engine_name=ENGINE_NAME)
class OsmemSearchEngine(OpenSearchEngine):
    """OpenSearch engine for osmem, the in-memory OpenSearch-compatible server.

    osmem rejects Painless update scripts, which Argilla uses in three methods; without these
    overrides every answer given in the web UI fails with a 500 after the database has already
    stored it. Each override reads the document, changes it here, and indexes it again.
    """

    async def _rewrite_document(self, record: Any, change: Callable[[dict], None]) -> None:
        index = es_index_name_for_dataset(record.dataset)
        document = (await self.client.get(index=index, id=str(record.id)))["_source"]
        change(document)
        await self.client.index(index=index, id=str(record.id), body=document, refresh=True)

    async def update_record_response(self, response: Any) -> None:
        new = self._map_record_response_to_es(response)

        def change(document: dict) -> None:
            others = [old for old in document.get("responses") or [] if str(old.get("id")) != str(response.id)]
            document["responses"] = [*others, new]

        await self._rewrite_document(response.record, change)

    async def delete_record_response(self, response: Any) -> None:
        def change(document: dict) -> None:
            document["responses"] = [old for old in document.get("responses") or [] if str(old.get("id")) != str(response.id)]

        await self._rewrite_document(response.record, change)

    async def delete_record_suggestion(self, suggestion: Any) -> None:
        def change(document: dict) -> None:
            (document.get("suggestions") or {}).pop(suggestion.question.name, None)

        await self._rewrite_document(suggestion.record, change)


def migrate_database() -> None:
    from argilla_server.cli.database.migrate import migrate_db

    migrate_db(revision="head")


def create_default_user(credentials_file: Path) -> None:
    from argilla_server.cli.database.users.create_default import create_default

    credentials = json.loads(credentials_file.read_text(encoding="utf-8"))
    create_default(api_key=credentials["api_key"], password=credentials["password"], quiet=True)


async def reindex_missing_indexes() -> list[str]:
    """Rebuild the index of every published dataset that has none; returns their names."""
    from argilla_server.cli.search_engine.reindex import Reindexer
    from argilla_server.database import AsyncSessionLocal, async_engine
    from argilla_server.enums import DatasetStatus
    from argilla_server.models import Dataset
    from argilla_server.search_engine import get_search_engine
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    rebuilt = []
    try:
        async with AsyncSessionLocal() as db:
            async for engine in get_search_engine():
                query = select(Dataset).filter_by(status=DatasetStatus.ready).options(selectinload(Dataset.fields))
                for dataset in (await db.execute(query)).scalars().all():
                    if await engine._index_exists_request(es_index_name_for_dataset(dataset)):
                        continue
                    dataset = await Reindexer.reindex_dataset(db, engine, dataset.id)
                    async for _ in Reindexer.reindex_dataset_records(db, engine, dataset):
                        pass
                    rebuilt.append(dataset.name)
    finally:
        # The server runs its own event loop next: no pooled connection may outlive this one.
        await async_engine.dispose()
    return rebuilt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=Path, required=True, help="JSON file with the default user's password and api_key.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6900)
    args = parser.parse_args()

    migrate_database()
    create_default_user(args.credentials)
    rebuilt = asyncio.run(reindex_missing_indexes())
    if rebuilt:  # printed, not logged: the migration's logging configuration silences other loggers
        print(f"rebuilt the search index of {len(rebuilt)} dataset(s): {', '.join(rebuilt)}", flush=True)

    import uvicorn

    uvicorn.run("argilla_server:app", host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
