"""The Hub calls of a publish, on huggingface_hub's ``HfApi``: create the repo (and branch) if
needed, then upload the rendered folder as ONE commit whose parent is the head we read, so a
concurrent change or a failed upload never leaves a half-published repo. Failures become one
clear HubError naming the endpoint; secrets are scrubbed from every message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rader_hub.errors import CardError, ConfigError, HubError
from rader_hub.redaction import redact

GITATTRIBUTES = ".gitattributes"  # the Hub's own file; kept when stale files are removed


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the repo, branch and commit, the head it replaced, and the files it removed."""

    repo_url: str
    revision: str
    commit_url: str
    commit_sha: str
    previous_sha: str
    removed_files: list[str]  # files of the previous version that the new one does not have
    made_private: bool = False  # --private on a repo that was public: its visibility was changed

    @property
    def changed(self) -> bool:
        """False when the folder equals what the revision already holds (the client skips empty commits)."""
        return self.commit_sha != self.previous_sha


def endpoint() -> str:
    """Where publishing goes: ``HF_ENDPOINT`` (a mirror, an enterprise Hub), else huggingface.co."""
    from huggingface_hub import constants

    return constants.ENDPOINT


def check_repo_id(repo_id: str) -> None:
    """ConfigError unless ``repo_id`` is a valid Hub repo id of the form ``ORG/NAME``."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        problem = str(exc).splitlines()[0]
        raise ConfigError(f"repo_id='{repo_id}': not a valid repo id ({problem}); expected ORG/NAME", field="repo_id") from None
    if repo_id.count("/") != 1:
        raise ConfigError(f"repo_id='{repo_id}': expected ORG/NAME, e.g. my-org/rader", field="repo_id")


def upload_folder(
    folder: Path,
    repo_id: str,
    repo_type: str,
    *,
    message: str,
    description: str = "",
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
) -> PublishResult:
    """Make ``revision`` of ``repo_id`` hold exactly the files of ``folder``, in one commit."""
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HTTPError as ClientError  # the HTTP library's base error (httpx2 in hub 2.x)
    from huggingface_hub.errors import OfflineModeIsEnabled

    check_repo_id(repo_id)
    branch = revision or "main"
    token = token or get_token()
    if not token:
        raise HubError(f"no Hugging Face token: set HF_TOKEN or run `hf auth login` (publishing to {endpoint()} needs write access)")
    api = HfApi(endpoint=endpoint(), token=token)
    local = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    try:
        repo_url = api.create_repo(repo_id, repo_type=repo_type, private=private or None, exist_ok=True)  # None: the Hub default
        if branch != "main":
            api.create_branch(repo_id, branch=branch, repo_type=repo_type, exist_ok=True)
        head = api.repo_info(repo_id, repo_type=repo_type, revision=branch, files_metadata=False)
        # create_repo leaves an existing repo's visibility alone: a public one is made private
        # before anything is uploaded, rather than receive files meant to be private.
        made_private = private and head.private is False
        if made_private:
            api.update_repo_settings(repo_id, private=True, repo_type=repo_type)
        removed = sorted({sibling.rfilename for sibling in head.siblings or []} - local - {GITATTRIBUTES})
        info = api.upload_folder(
            repo_id=repo_id,
            repo_type=repo_type,
            folder_path=folder,
            revision=branch,
            commit_message=message,
            commit_description=description,
            parent_commit=head.sha,  # fails rather than overwrite a commit made meanwhile
            delete_patterns=removed or None,  # a stale shard would otherwise join the dataset
        )
    except (ClientError, OfflineModeIsEnabled, ValueError) as exc:  # HTTP answers, transport failures, the card verdict
        raise hub_error(exc, repo_id, branch) from None
    return PublishResult(str(repo_url), branch, info.commit_url, info.oid, head.sha, removed, made_private)


def hub_error(exc: Exception, repo_id: str, revision: str) -> Exception:
    """One line naming the endpoint and what to do, with secrets scrubbed."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.errors import HTTPError as ClientError

    where = endpoint()
    if isinstance(exc, OfflineModeIsEnabled):
        return HubError(f"HF_HUB_OFFLINE is set: publishing needs the Hub at {where} (unset it, or do a dry run: render the folder only)")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        server = redact(exc.server_message or "").strip().splitlines()
        detail = f": {server[0]}" if server else ""
        if status == 401:
            fix = "set HF_TOKEN to a token with write access or run `hf auth login`"
            return HubError(f"the Hub at {where} rejected the token (401 Unauthorized){detail}; {fix}")
        if status == 403:
            return HubError(f"the token has no write access to '{repo_id}' on {where} (403 Forbidden){detail}")
        if isinstance(exc, RevisionNotFoundError):
            return HubError(f"revision '{revision}' of '{repo_id}' not found on {where}{detail}")
        if isinstance(exc, RepositoryNotFoundError):
            return HubError(f"'{repo_id}' not found on {where}, or not visible with this token{detail}")
        if status in (409, 412):
            return HubError(f"'{repo_id}' changed on {where} while publishing (someone else committed){detail}; publish again")
        return HubError(f"the Hub at {where} answered {status}{detail}")
    if isinstance(exc, ClientError):  # no answer at all: refused, timed out, DNS
        reason = redact(str(exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return HubError(f"cannot reach the Hub at {where} ({reason}); check HF_ENDPOINT and the network")
    if isinstance(exc, ValueError) and "metadata" in str(exc):  # the Hub's validate-yaml verdict on README.md
        return CardError(f"the Hub at {where} rejected the card's metadata: {redact(' '.join(str(exc).split()))}")
    return HubError(f"publishing to {where} failed: {redact(' '.join(str(exc).split()))}")
