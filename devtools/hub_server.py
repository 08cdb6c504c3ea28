"""A loopback Hugging Face Hub: the HTTP endpoints that the real ``huggingface_hub`` client,
``datasets`` and sentence-transformers call to create a repo, commit files to it and read them back.

huggingface.co cannot be reached from CI and no self-hostable Hub installs from PyPI, so the
publishing tests (and benchmarks) talk to this server instead. It keeps everything in memory,
keeps every commit (so ``revision=<sha>`` resolves), makes one commit per commit request and
changes a branch only once that commit is complete: a failed upload leaves the branch where it was.

Clients must run with ``HF_ENDPOINT=<url>`` and ``HF_HUB_DISABLE_XET=1`` (set before importing
them): the server speaks git-LFS "basic" transfers, not Xet. The endpoints and their pitfalls
are listed in docs/publishing.md ("The loopback Hub's endpoints").

    python -m devtools.hub_server --port 0            # prints its URL, serves until killed
    python -m devtools.hub_server --token hf_secret   # writes need this bearer token

In Python: ``with LoopbackHub(token=...) as hub: ... hub.url ... hub.state``; tests inspect
``hub.state`` directly, and ``hub.state.fail_next("commit")`` makes the next such request fail;
``hub.state.answer_next("preupload", {"files": 5})`` makes it succeed with a JSON body no client expects.
``hub.state.hold_next("commit", ("model", "org/name"))`` keeps the next such request in flight
until released, so a test can kill the client mid-upload (bench/fault_injection.py does).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

import yaml

logger = logging.getLogger(__name__)

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
# Files the Hub stores with git-LFS whatever their size (its default .gitattributes), and the size
# above which any file goes to LFS.
LFS_SUFFIXES = (
    ".parquet",
    ".arrow",
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".h5",
    ".onnx",
    ".npy",
    ".gguf",
    ".png",
    ".jpg",
    ".zip",
)
LFS_MIN_SIZE = 10 * 1024 * 1024
GITATTRIBUTES = "".join(f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES)
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"


class CannedAnswer(Exception):
    """Ends a request with a 200 answer set by :meth:`HubState.answer_next`."""

    def __init__(self, payload: Any) -> None:
        super().__init__("canned answer")
        self.payload = payload


class HubHTTPError(Exception):
    """An error answer: status, the ``X-Error-Code`` the client maps to an exception, a message."""

    def __init__(self, status: int, code: str | None, message: str, commit: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.commit = status, code, message, commit


def git_blob_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass(frozen=True)
class StoredFile:
    """A file in a commit: regular files are keyed by their git blob id, LFS files by sha256."""

    size: int
    git_oid: str  # git blob id of the content (regular) or of the LFS pointer (LFS)
    sha256: str | None = None  # set for LFS files

    @property
    def blob_key(self) -> str:
        return self.sha256 or self.git_oid

    @property
    def etag(self) -> str:
        return self.sha256 or self.git_oid

    @property
    def pointer_size(self) -> int:
        return len(LFS_POINTER.format(oid=self.sha256, size=self.size))


@dataclass(frozen=True)
class Commit:
    oid: str
    parent: str | None
    title: str
    description: str
    files: dict[str, StoredFile]
    date: str


@dataclass
class Repo:
    kind: str
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit oid
    commits: dict[str, Commit] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit:
        oid = self.branches.get(revision, revision)
        if oid not in self.commits:
            raise HubHTTPError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return self.commits[oid]

    def history(self, revision: str) -> Iterator[Commit]:
        commit: Commit | None = self.resolve(revision)
        while commit is not None:
            yield commit
            commit = self.commits.get(commit.parent) if commit.parent else None


@dataclass
class Hold:
    """A request the server keeps in flight: ``arrived`` is set once it has come in (its body
    read, nothing of it applied); after ``release()`` it fails with 503 and changes nothing."""

    action: str
    repo: tuple[str, str] | None  # (kind, repo_id); None: any repo
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


class HubState:
    """Repos, commits and stored blobs, guarded by one lock (the server is threaded)."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token  # when set, writes (and reads of private repos) need it
        self.repos: dict[tuple[str, str], Repo] = {}
        self.blobs: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.requests: list[str] = []  # "METHOD /path" of every request, in order
        self._failures: dict[str, int] = {}
        self._answers: dict[str, Any] = {}
        self._holds: list[Hold] = []

    def fail_next(self, action: str, status: int = 500) -> None:
        """Make the next request of ``action`` ('commit', 'preupload', 'lfs-upload', ...) fail."""
        with self.lock:
            self._failures[action] = status

    def take_failure(self, action: str) -> int | None:
        with self.lock:
            return self._failures.pop(action, None)

    def answer_next(self, action: str, payload: Any) -> None:
        """Make the next request of ``action`` answer 200 with ``payload`` instead of what the Hub
        sends: how a client copes with a server it does not understand."""
        with self.lock:
            self._answers[action] = payload

    def take_answer(self, action: str) -> tuple[bool, Any]:
        with self.lock:
            return action in self._answers, self._answers.pop(action, None)

    def hold_next(self, action: str, repo: tuple[str, str] | None = None) -> Hold:
        """Keep the next request of ``action`` ('commit', 'preupload', 'lfs-upload') for ``repo``
        (kind, repo_id) in flight until the returned hold is released."""
        hold = Hold(action, repo)
        with self.lock:
            self._holds.append(hold)
        return hold

    def take_hold(self, action: str, repo: tuple[str, str] | None) -> Hold | None:
        with self.lock:
            for hold in self._holds:
                if hold.action == action and hold.repo in (None, repo):
                    self._holds.remove(hold)
                    return hold
        return None

    def repo(self, kind: str, repo_id: str) -> Repo:
        repo = self.repos.get((kind, repo_id))
        if repo is None:
            raise HubHTTPError(404, "RepoNotFound", f"Repository not found: {repo_id}")
        return repo

    def file_bytes(self, stored: StoredFile) -> bytes:
        return self.blobs[stored.blob_key]

    def create_repo(self, kind: str, repo_id: str, private: bool) -> bool:
        """Create a repo with an initial commit (so ``main`` resolves at once); False if it exists."""
        with self.lock:
            if (kind, repo_id) in self.repos:
                return False
            repo = Repo(kind, repo_id, private)
            content = GITATTRIBUTES.encode()
            stored = StoredFile(len(content), git_blob_oid(content))
            self.blobs[stored.blob_key] = content
            self._add_commit(repo, "main", None, "initial commit", "", {".gitattributes": stored})
            self.repos[(kind, repo_id)] = repo
            return True

    def commit(self, repo: Repo, branch: str, header: dict[str, Any], operations: list[tuple[str, dict[str, Any]]]) -> Commit:
        """Apply one commit's operations on top of ``branch``; all or nothing."""
        with self.lock:
            head = repo.resolve(branch)
            if branch not in repo.branches:
                raise HubHTTPError(400, None, f"'{branch}' is not a branch")
            parent = header.get("parentCommit")
            if parent and parent != head.oid:
                raise HubHTTPError(412, None, f"parent commit {parent} is not the head of {branch} ({head.oid})")
            files = dict(head.files)
            for key, value in operations:
                path = value.get("path", "")
                if key == "file":
                    content = base64.b64decode(value["content"])
                    stored = StoredFile(len(content), git_blob_oid(content))
                    self.blobs.setdefault(stored.blob_key, content)
                    files[path] = stored
                elif key == "lfsFile":
                    oid = value["oid"]
                    if oid not in self.blobs:
                        raise HubHTTPError(422, None, f"LFS object {oid} for {path} was never uploaded")
                    pointer = LFS_POINTER.format(oid=oid, size=value["size"]).encode()
                    files[path] = StoredFile(int(value["size"]), git_blob_oid(pointer), sha256=oid)
                elif key == "deletedFile":
                    files.pop(path, None)
                elif key == "deletedFolder":
                    prefix = path.rstrip("/") + "/"
                    files = {name: stored for name, stored in files.items() if not name.startswith(prefix)}
                else:
                    raise HubHTTPError(400, None, f"unknown commit operation '{key}'")
            return self._add_commit(repo, branch, head.oid, header.get("summary") or "update", header.get("description") or "", files)

    def create_branch(self, repo: Repo, branch: str, starting_point: str | None) -> None:
        with self.lock:
            if branch in repo.branches:
                raise HubHTTPError(409, None, f"branch {branch} already exists")
            repo.branches[branch] = repo.resolve(starting_point or "main").oid

    @staticmethod
    def _add_commit(repo: Repo, branch: str, parent: str | None, title: str, description: str, files: dict[str, StoredFile]) -> Commit:
        listing = json.dumps([parent, title, sorted((path, stored.git_oid) for path, stored in files.items()), time.time_ns()])
        commit = Commit(hashlib.sha1(listing.encode()).hexdigest(), parent, title, description, files, _now())
        repo.commits[commit.oid] = commit
        repo.branches[branch] = commit.oid
        return commit


def _directory_entry(path: str) -> dict[str, Any]:
    return {"type": "directory", "path": path, "oid": git_blob_oid(path.encode()), "size": 0}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def validate_yaml(content: str) -> list[str]:
    """The Hub's first checks on a card's metadata: it parses, it is a mapping, its licence is known."""
    from huggingface_hub.repocard import REGEX_YAML_BLOCK  # the Hub server's own pattern

    from rader_hub.publish.metadata import HUB_LICENSES  # the licence list, kept in one place

    match = REGEX_YAML_BLOCK.search(content)
    if match is None:
        return []
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError as exc:
        return [f"YAML metadata does not parse: {str(exc).splitlines()[0]}"]
    if data is None:
        return []
    if not isinstance(data, dict):
        return ["YAML metadata must be a mapping"]
    licenses = data.get("license")
    for name in licenses if isinstance(licenses, list) else [licenses] if licenses is not None else []:
        if name not in HUB_LICENSES:
            return [f'"license" must be one of the Hub\'s licence identifiers, got {name!r}']
    return []


class HubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a model load sends dozens of small requests
    server: LoopbackHTTPServer

    # -- plumbing ---------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # the base class's signature
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    @property
    def state(self) -> HubState:
        return self.server.state

    def _dispatch(self, method: str) -> None:
        body = self._read_body()
        with self.state.lock:
            self.state.requests.append(f"{method} {self.path}")
        raw_path, _, query = self.path.partition("?")
        # Split the raw path first, unquote after: revisions and tree paths arrive with %2F.
        parts = [part for part in raw_path.split("/") if part]
        try:
            self._route(method, parts, parse_qs(query), body)
        except CannedAnswer as canned:
            self._send(200, canned.payload, head_only=method == "HEAD")
        except HubHTTPError as exc:
            headers = {"X-Error-Message": exc.message}
            if exc.code:
                headers["X-Error-Code"] = exc.code
            if exc.commit:
                headers["X-Repo-Commit"] = exc.commit
            self._send(exc.status, {"error": exc.message}, headers, head_only=method == "HEAD")
        except Exception as exc:  # a server bug: answer 500 so the client fails loudly, and log it
            logger.exception("loopback Hub failed on %s %s", method, self.path)
            self._send(500, {"error": f"loopback Hub error: {exc}"})

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                chunk = self.rfile.read(size)
                self.rfile.readline()  # the CRLF after each chunk
                if size == 0:
                    return b"".join(chunks)
                chunks.append(chunk)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any = None, headers: dict[str, str] | None = None, head_only: bool = False) -> None:
        if isinstance(payload, bytes):
            body, content_type = payload, "application/octet-stream"
        else:
            body, content_type = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        try:
            self.end_headers()
            if not head_only:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client is gone (killed mid-request): nobody to answer
            self.close_connection = True

    def _authorized(self) -> bool:
        token = self.state.token
        return token is None or self.headers.get("Authorization") == f"Bearer {token}"

    def _require_write(self) -> None:
        if not self._authorized():
            raise HubHTTPError(401, None, "Invalid credentials in Authorization header")

    def _readable(self, kind: str, repo_id: str) -> Repo:
        repo = self.state.repo(kind, repo_id)
        if repo.private and not self._authorized():
            raise HubHTTPError(404, "RepoNotFound", f"Repository not found: {repo_id}")
        return repo

    def _maybe_fail(self, action: str, repo: tuple[str, str] | None = None) -> None:
        status = self.state.take_failure(action)
        if status is not None:
            raise HubHTTPError(status, None, f"injected failure of {action}")
        canned, payload = self.state.take_answer(action)
        if canned:
            raise CannedAnswer(payload)
        hold = self.state.take_hold(action, repo)
        if hold is not None:
            hold.arrived.set()
            hold.released.wait(timeout=600)  # a client that never comes back does not pin the thread for ever
            raise HubHTTPError(503, None, f"held {action} released")

    # -- routing ----------------------------------------------------------------------------

    def _route(self, method: str, parts: list[str], query: dict[str, list[str]], body: bytes) -> None:
        if parts[:3] == ["api", "repos", "create"] and method == "POST":
            return self._create_repo(json.loads(body or b"{}"))
        if parts[:2] == ["api", "validate-yaml"] and method == "POST":
            return self._validate_yaml(json.loads(body or b"{}"))
        if len(parts) >= 4 and parts[0] == "api" and parts[1] in REPO_TYPES:
            kind, repo_id = REPO_TYPES[parts[1]], f"{unquote(parts[2])}/{unquote(parts[3])}"
            action, rest = (parts[4] if len(parts) > 4 else "info"), parts[5:]
            return self._repo_api(method, kind, repo_id, action, rest, query, body)
        if len(parts) == 2 and parts[0] == "lfs-upload" and method == "PUT":
            return self._lfs_upload(parts[1], body)
        kind = REPO_TYPES.get(parts[0]) if parts else None
        if kind is not None:
            parts = parts[1:]
        kind = kind or "model"
        if len(parts) == 6 and parts[1].endswith(".git") and parts[2:] == ["info", "lfs", "objects", "batch"]:
            return self._lfs_batch(kind, f"{parts[0]}/{parts[1][:-4]}", json.loads(body or b"{}"))
        if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(method, kind, f"{parts[0]}/{parts[1]}", unquote(parts[3]), unquote("/".join(parts[4:])))
        raise HubHTTPError(404, None, f"loopback Hub has no route for {method} /{'/'.join(parts)}")

    def _repo_api(self, method: str, kind: str, repo_id: str, action: str, rest: list[str], query: dict, body: bytes) -> None:
        if method == "GET" and action == "info":
            return self._send(200, self._info(self._readable(kind, repo_id), "main"))
        if method == "GET" and action == "revision" and rest:
            return self._send(200, self._info(self._readable(kind, repo_id), unquote(rest[0])))
        if method == "GET" and action == "tree" and rest:
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            return self._tree(self._readable(kind, repo_id), unquote(rest[0]), unquote("/".join(rest[1:])), recursive)
        if method == "POST" and action == "paths-info" and rest:
            return self._paths_info(self._readable(kind, repo_id), unquote(rest[0]), body)
        if method == "GET" and action == "refs":
            repo = self._readable(kind, repo_id)
            branches = [{"name": name, "ref": f"refs/heads/{name}", "targetCommit": oid} for name, oid in sorted(repo.branches.items())]
            return self._send(200, {"branches": branches, "tags": [], "converts": []})
        if method == "GET" and action == "commits" and rest:
            repo = self._readable(kind, repo_id)
            commits = [
                {"id": c.oid, "title": c.title, "message": c.description, "authors": [{"user": "loopback"}], "date": c.date}
                for c in repo.history(unquote(rest[0]))
            ]
            return self._send(200, commits)
        if method == "POST" and action == "preupload" and rest:
            self._require_write()
            self._maybe_fail("preupload", (kind, repo_id))
            return self._preupload(self.state.repo(kind, repo_id), unquote(rest[0]), json.loads(body or b"{}"))
        if method == "POST" and action == "commit" and rest:
            self._require_write()
            self._maybe_fail("commit", (kind, repo_id))
            return self._commit(self.state.repo(kind, repo_id), unquote(rest[0]), body)
        if method == "PUT" and action == "settings":
            self._require_write()
            payload = json.loads(body or b"{}")
            repo = self.state.repo(kind, repo_id)
            if "private" in payload or "visibility" in payload:
                repo.private = payload.get("private") is True or payload.get("visibility") == "private"
            return self._send(200, {"private": repo.private})
        if method == "POST" and action == "branch" and rest:
            self._require_write()
            payload = json.loads(body or b"{}")
            self.state.create_branch(self.state.repo(kind, repo_id), unquote(rest[0]), payload.get("startingPoint"))
            return self._send(200, {})
        raise HubHTTPError(404, None, f"loopback Hub has no route for {method} {action} on {repo_id}")

    # -- endpoints --------------------------------------------------------------------------

    def _repo_url(self, repo: Repo) -> str:
        return f"{self.server.url}/{URL_PREFIX[repo.kind]}{repo.repo_id}"

    def _create_repo(self, payload: dict[str, Any]) -> None:
        self._require_write()
        kind = payload.get("type") or "model"
        repo_id = f"{payload.get('organization')}/{payload.get('name')}"
        private = payload.get("private") is True or payload.get("visibility") == "private"
        created = self.state.create_repo(kind, repo_id, private)
        url = f"{self.server.url}/{URL_PREFIX[kind]}{repo_id}"
        if created:
            return self._send(200, {"url": url, "name": repo_id})
        self._send(409, {"error": "You already created this repo", "url": url})  # exist_ok reads the url

    def _validate_yaml(self, payload: dict[str, Any]) -> None:
        errors = validate_yaml(str(payload.get("content", "")))
        self._send(400 if errors else 200, {"errors": [{"message": error} for error in errors], "warnings": []})

    def _info(self, repo: Repo, revision: str) -> dict[str, Any]:
        commit = repo.resolve(revision)
        siblings = []
        for path, stored in sorted(commit.files.items()):
            sibling: dict[str, Any] = {"rfilename": path, "size": stored.size, "blobId": stored.git_oid}
            if stored.sha256:
                sibling["lfs"] = {"sha256": stored.sha256, "size": stored.size, "pointerSize": stored.pointer_size}
            siblings.append(sibling)
        return {
            "id": repo.repo_id,
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "author": repo.repo_id.split("/")[0],
            "sha": commit.oid,
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "lastModified": commit.date,
            "createdAt": commit.date,
            "siblings": siblings,
        }

    @staticmethod
    def _entry(path: str, stored: StoredFile) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": "file", "path": path, "size": stored.size, "oid": stored.git_oid}
        if stored.sha256:
            entry["lfs"] = {"oid": stored.sha256, "size": stored.size, "pointerSize": stored.pointer_size}
        return entry

    def _tree(self, repo: Repo, revision: str, folder: str, recursive: bool) -> None:
        commit = repo.resolve(revision)
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        entries: dict[str, dict[str, Any]] = {}
        for path, stored in sorted(commit.files.items()):
            if not path.startswith(prefix):
                continue
            pieces = path[len(prefix) :].split("/")
            for depth in range(1, len(pieces)):  # the folders on the way to the file
                directory = prefix + "/".join(pieces[:depth])
                if recursive or depth == 1:
                    entries.setdefault(directory, _directory_entry(directory))
            if recursive or len(pieces) == 1:
                entries[path] = self._entry(path, stored)
        if prefix and not entries:  # transformers and datasets probe folders that may not exist
            raise HubHTTPError(404, "EntryNotFound", f"{folder} does not exist on {revision}", commit=commit.oid)
        self._send(200, list(entries.values()))

    def _paths_info(self, repo: Repo, revision: str, body: bytes) -> None:
        commit = repo.resolve(revision)
        try:
            paths = json.loads(body).get("paths", [])
        except ValueError:  # sent as a form: paths=a&paths=b
            paths = parse_qs(body.decode()).get("paths", [])
        found = []
        for path in [paths] if isinstance(paths, str) else paths:
            if path in commit.files:
                found.append(self._entry(path, commit.files[path]))
            elif any(name.startswith(path.rstrip("/") + "/") for name in commit.files):
                found.append(_directory_entry(path))
        self._send(200, found)

    def _preupload(self, repo: Repo, revision: str, payload: dict[str, Any]) -> None:
        commit = repo.resolve(revision)
        answers = []
        for item in payload.get("files", []):
            path, size = item["path"], int(item["size"])
            sample = base64.b64decode(item.get("sample", ""))
            lfs = path.lower().endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE or b"\0" in sample
            answer = {"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
            if path in commit.files:  # lets the client skip files that did not change
                answer["oid"] = commit.files[path].etag
            answers.append(answer)
        self._send(200, {"files": answers, "commitOid": commit.oid})

    def _lfs_batch(self, kind: str, repo_id: str, payload: dict[str, Any]) -> None:
        self._require_write()
        self.state.repo(kind, repo_id)
        objects = []
        for item in payload.get("objects", []):
            answer: dict[str, Any] = {"oid": item["oid"], "size": item["size"]}
            if item["oid"] not in self.state.blobs:  # no "actions": already stored
                answer["actions"] = {"upload": {"href": f"{self.server.url}/lfs-upload/{item['oid']}", "header": {}}}
            objects.append(answer)
        self._send(200, {"transfer": "basic", "objects": objects})

    def _lfs_upload(self, oid: str, body: bytes) -> None:
        self._maybe_fail("lfs-upload")  # the upload URL names no repo: hold it with repo=None
        if hashlib.sha256(body).hexdigest() != oid:
            raise HubHTTPError(400, None, f"content does not match its sha256 {oid}")
        with self.state.lock:
            self.state.blobs[oid] = body
        self._send(200, {})

    def _commit(self, repo: Repo, branch: str, body: bytes) -> None:
        header: dict[str, Any] = {}
        operations = []
        for line in body.decode().splitlines():
            if line.strip():
                item = json.loads(line)
                if item["key"] == "header":
                    header = item["value"]
                else:
                    operations.append((item["key"], item["value"]))
        commit = self.state.commit(repo, branch, header, operations)
        self._send(200, {"commitUrl": f"{self._repo_url(repo)}/commit/{commit.oid}", "commitOid": commit.oid, "pullRequestUrl": None})

    def _resolve(self, method: str, kind: str, repo_id: str, revision: str, path: str) -> None:
        repo = self._readable(kind, repo_id)
        commit = repo.resolve(revision)
        stored = commit.files.get(path)
        if stored is None:
            raise HubHTTPError(404, "EntryNotFound", f"{path} does not exist on {revision}", commit=commit.oid)
        content = self.state.file_bytes(stored)
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{stored.etag}"', "Accept-Ranges": "bytes"}
        if stored.sha256:
            headers.update({"X-Linked-Etag": f'"{stored.sha256}"', "X-Linked-Size": str(stored.size)})
        status, span = 200, self.headers.get("Range")
        if span and span.startswith("bytes="):
            start_text, _, end_text = span[len("bytes=") :].partition("-")
            start = int(start_text or 0)
            end = min(int(end_text), len(content) - 1) if end_text else len(content) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
            content, status = content[start : end + 1], 206
        self._send(status, content, headers, head_only=method == "HEAD")


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: HubState) -> None:
        super().__init__(address, HubRequestHandler)
        self.state = state

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class LoopbackHub:
    """The server on a background thread: ``with LoopbackHub() as hub: hub.url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> None:
        self.state = HubState(token)
        self.server = LoopbackHTTPServer((host, port), self.state)
        self._thread = threading.Thread(target=self.server.serve_forever, name="loopback-hub", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> LoopbackHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LoopbackHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A loopback Hugging Face Hub for tests (in memory).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    parser.add_argument("--token", default=None, help="bearer token that writes and private reads need (default: none needed)")
    args = parser.parse_args(argv)
    server = LoopbackHTTPServer((args.host, args.port), HubState(args.token))
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
