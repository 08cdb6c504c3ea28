"""Which Argilla to talk to, and one clear line when it cannot be reached.

``ARGILLA_API_URL`` and ``ARGILLA_API_KEY`` (Argilla's own variables) win when set; otherwise
the server `rader review serve` started from the state folder is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rader_hub.errors import RaderError
from rader_hub.review.server import ServerState, processes_alive

HOW_TO_CONNECT = "start a local one with `rader review serve`, or set ARGILLA_API_URL and ARGILLA_API_KEY"


class ArgillaUnavailable(RaderError):
    """No Argilla answers at the configured URL, or it rejects the API key."""


class ArgillaRequestError(RaderError):
    """Argilla answered a request with an error."""


@dataclass(frozen=True)
class Connection:
    """An Argilla URL and API key, and where they came from."""

    url: str
    api_key: str
    origin: str  # where url and key came from, for error messages (never the key itself)


def resolve_connection(state_dir: Path | None = None, url: str | None = None, api_key: str | None = None) -> Connection:
    """Say which Argilla to use: explicit ``url``/``api_key``, else the environment, else the local server.

    Args:
        state_dir: The state folder of `rader review serve`. Defaults to ``$XDG_DATA_HOME/rader-hub/argilla``
            (``~/.local/share/rader-hub/argilla``).
        url: Argilla's URL; needs ``api_key`` too. Defaults to ``ARGILLA_API_URL``.
        api_key: Argilla's API key; needs ``url`` too. Defaults to ``ARGILLA_API_KEY``.

    Returns:
        `Connection`: the URL, the key, and where they came from (for messages; never the key).

    Raises:
        ArgillaUnavailable: Only one of URL and key is given (as parameters or in the environment),
            or neither is and no server started from ``state_dir`` is running.
    """
    if url or api_key:
        if not (url and api_key):
            raise ArgillaUnavailable(f"an Argilla {'API key' if url else 'URL'} is needed too: {HOW_TO_CONNECT}")
        return Connection(url.rstrip("/"), api_key, "the parameters given")
    url, api_key = os.environ.get("ARGILLA_API_URL"), os.environ.get("ARGILLA_API_KEY")
    if url or api_key:
        if not (url and api_key):
            missing = "ARGILLA_API_KEY" if url else "ARGILLA_API_URL"
            raise ArgillaUnavailable(
                f"{missing} is not set while {'ARGILLA_API_URL' if url else 'ARGILLA_API_KEY'} is: set both, or unset "
                "both to use the server `rader review serve` started"
            )
        return Connection(url.rstrip("/"), api_key, "ARGILLA_API_URL/ARGILLA_API_KEY")
    state = ServerState(state_dir)
    if not processes_alive(state):  # alive but slow to answer: the client's own timeouts apply
        raise ArgillaUnavailable(f"no Argilla server is running from {state.root} and ARGILLA_API_URL is not set: {HOW_TO_CONNECT}")
    return Connection(state.url() or "", state.credentials().api_key, f"the server started from {state.root}")


def connect(connection: Connection) -> Any:
    """Make an ``argilla.Argilla`` client, checked by one request (who am I).

    Args:
        connection: Where to connect (`resolve_connection`).

    Returns:
        `argilla.Argilla`: the connected client.

    Raises:
        ArgillaUnavailable: Nothing answers at the URL, or Argilla rejects the API key.
    """
    import argilla as rg
    import httpx
    from argilla._exceptions import ArgillaCredentialsError

    try:
        return rg.Argilla(api_url=connection.url, api_key=connection.api_key, retries=1)
    except ArgillaCredentialsError:
        raise ArgillaUnavailable(
            f"Argilla at {connection.url} rejected the API key from {connection.origin}: set ARGILLA_API_KEY to the "
            "key `rader review serve` printed (and ARGILLA_API_URL to its URL)"
        ) from None
    except httpx.HTTPError as exc:
        raise ArgillaUnavailable(
            f"no Argilla answers at {connection.url} (from {connection.origin}; {type(exc).__name__}): {HOW_TO_CONNECT}"
        ) from None


@contextmanager
def argilla_errors(url: str) -> Iterator[None]:
    """Errors of the SDK or the network during a push or pull, as one line."""
    import httpx
    from argilla._exceptions import ArgillaError

    try:
        yield
    except httpx.HTTPError as exc:
        raise ArgillaUnavailable(f"lost the connection to Argilla at {url} ({type(exc).__name__}): {HOW_TO_CONNECT}") from None
    except ArgillaError as exc:
        detail = " ".join(str(exc).split())
        raise ArgillaRequestError(f"Argilla at {url} refused the request: {detail[:400]}") from None
