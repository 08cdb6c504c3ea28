"""The Argilla dataset humans answer, and pushing judged pairs into it as records.

Each record shows the problem, the partial solution the judge saw, the query and the theorem;
it asks "relevant / not relevant" (and, optionally, why). The judge's verdict and reason are
pre-filled as suggestions whose agent is the judge model's name. Records are upserted by their
stable id: pushing again updates them and keeps the answers already given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rader_hub.errors import ConfigError, DataError
from rader_hub.review.connection import argilla_errors
from rader_hub.review.pairs import LABELS, JudgedPair, stratified_sample

QUESTION = "relevance"
REASON = "reason"
FIELDS = ("problem", "partial_solution", "query", "theorem")
METADATA = ("query_type", "role", "theorem_id", "problem_id", "reward", "judge", "recipe_hash")
DEFAULT_WORKSPACE = "argilla"  # the default user's workspace
NO_STEPS = "(no steps yet: the judge saw only the problem)"

GUIDELINES = """\
A retrieval query was written while an LLM solved a math problem, and a theorem was retrieved for it.
Decide whether the **theorem is needed (or directly useful) for the next step** of the solution,
given the problem, the steps so far and the query. Sharing words with the problem is not enough.

The LLM judge's verdict and reason are pre-selected as suggestions: confirm or change them, then submit.
Your answers override the judge's in the dataset `rader review pull` writes.
"""


@dataclass(frozen=True)
class PushResult:
    """Where the records went (dataset, workspace, annotation URL), how many, and whether the dataset is new."""

    dataset: str
    workspace: str
    url: str
    pushed: int
    candidates: int
    created: bool


def dataset_settings(min_submitted: int = 1) -> Any:
    """The Argilla dataset's settings: guidelines, the four fields, the relevance and reason questions, the metadata."""
    import argilla as rg

    return rg.Settings(
        guidelines=GUIDELINES,
        fields=[
            rg.TextField(name="problem", title="Problem", use_markdown=True),
            rg.TextField(name="partial_solution", title="Steps so far (what the judge saw)", use_markdown=True),
            rg.TextField(name="query", title="Query", use_markdown=True),
            rg.TextField(name="theorem", title="Theorem", use_markdown=True),
        ],
        questions=[
            rg.LabelQuestion(
                name=QUESTION,
                title="Is the theorem relevant to the query (needed for the next step)?",
                labels={LABELS[0]: "relevant", LABELS[1]: "not relevant"},
            ),
            rg.TextQuestion(name=REASON, title="Why? (optional)", required=False),
        ],
        metadata=[
            rg.TermsMetadataProperty(name="query_type", title="Query type"),
            rg.TermsMetadataProperty(name="role", title="Positive or negative in the dataset"),
            rg.TermsMetadataProperty(name="theorem_id", title="Theorem id"),
            rg.TermsMetadataProperty(name="problem_id", title="Problem id"),
            rg.FloatMetadataProperty(name="reward", title="Trajectory reward"),
            rg.TermsMetadataProperty(name="judge", title="Judge model"),
            rg.TermsMetadataProperty(name="recipe_hash", title="Recipe hash"),
        ],
        distribution=rg.TaskDistribution(min_submitted=min_submitted),
    )


def agent_name(judge: str) -> str | None:
    """The judge model's name as Argilla accepts a suggestion agent (letters, digits, - _ : . / and
    spaces; e.g. no parentheses). The exact name stays in the ``judge`` metadata."""
    name = " ".join(re.sub(r"[^A-Za-z0-9\-_:./\s]", " ", judge).split())
    return name or None


def to_record(pair: JudgedPair) -> Any:
    """The Argilla record of one pair, the judge's verdict and reason as suggestions."""
    import argilla as rg

    suggestions = []
    agent = agent_name(pair.judge)
    if pair.judge_label is not None:
        suggestions.append(rg.Suggestion(QUESTION, pair.judge_label, agent=agent))
    if pair.judge_reason.strip():
        suggestions.append(rg.Suggestion(REASON, pair.judge_reason, agent=agent))
    metadata = {
        "query_type": pair.query_type,
        "role": pair.role,
        "theorem_id": pair.theorem_id,
        "problem_id": pair.problem_id,
        "judge": pair.judge,
        "recipe_hash": pair.recipe_hash,
    }
    if pair.reward is not None:
        metadata["reward"] = float(pair.reward)
    return rg.Record(
        id=pair.record_id,
        fields={
            "problem": pair.problem,
            "partial_solution": pair.partial_solution.strip() or NO_STEPS,
            "query": pair.query,
            "theorem": f"**{pair.theorem_title}**\n\n{pair.theorem_text}",
        },
        metadata={key: value for key, value in metadata.items() if value not in ("", None)},
        suggestions=suggestions,
    )


def get_or_create_dataset(client: Any, name: str, workspace: str, min_submitted: int = 1) -> tuple[Any, bool]:
    """The Argilla dataset ``name`` (created with our settings if missing) and whether it was created."""
    import argilla as rg

    space = client.workspaces(workspace)
    if space is None:
        known = ", ".join(w.name for w in client.workspaces) or "none"
        raise ConfigError(f"workspace={workspace!r}: no such Argilla workspace (existing: {known})", field="workspace")
    dataset = find_dataset(client, name, workspace)
    if dataset is not None:
        questions = {question.name for question in dataset.settings.questions}
        if QUESTION not in questions:
            raise ConfigError(
                f"name={name!r}: the Argilla dataset of that name in {workspace!r} exists without a {QUESTION!r} question: "
                "it was not made by `rader review push`; choose another name",
                field="name",
            )
        return dataset, False
    dataset = rg.Dataset(name=name, workspace=space, settings=dataset_settings(min_submitted), client=client)
    return dataset.create(), True


def find_dataset(client: Any, name: str, workspace: str) -> Any | None:
    """The Argilla dataset ``name`` in ``workspace`` with its settings, or None if either is missing."""
    space = client.workspaces(workspace)
    if space is None:
        return None
    dataset = next((dataset for dataset in space.datasets if dataset.name == name), None)
    return dataset.get() if dataset is not None else None  # a listed dataset comes without its settings


def push_pairs(
    client: Any,
    pairs: list[JudgedPair],
    name: str,
    workspace: str = DEFAULT_WORKSPACE,
    candidates: int | None = None,
    min_submitted: int = 1,
    batch_size: int = 100,
) -> PushResult:
    """Upsert one record per pair into the dataset (created on first push)."""
    dataset, created = get_or_create_dataset(client, name, workspace, min_submitted)
    dataset.records.log([to_record(pair) for pair in pairs], batch_size=max(1, min(batch_size, len(pairs))))
    return PushResult(
        dataset=name,
        workspace=workspace,
        url=f"{client.api_url}/dataset/{dataset.id}/annotation-mode",
        pushed=len(pairs),
        candidates=candidates if candidates is not None else len(pairs),
        created=created,
    )


def push(
    client: Any,
    pairs: list[JudgedPair],
    name: str,
    workspace: str = DEFAULT_WORKSPACE,
    sample: int | None = None,
    seed: int = 0,
    min_submitted: int = 1,
) -> PushResult:
    """Push judged pairs (all, or a stratified sample) as records of the Argilla dataset ``name``.

    The dataset is created with rader's fields and questions on the first push. Records are
    upserted by a stable id, so pushing again updates them and keeps the answers already given;
    the judge's verdict and reason are pre-filled as suggestions.

    Args:
        client: A connected ``argilla.Argilla`` client (`rader_hub.review.connection.connect`).
        pairs: The judged pairs (`GenerationDataset.pairs`).
        name: The Argilla dataset; `GenerationDataset.default_name` is the one `rader review` uses.
        workspace: The Argilla workspace, which must exist. Defaults to ``argilla`` (the default user's).
        sample: Push this many pairs, stratified by judge verdict and query type. Defaults to
            ``None``: every pair.
        seed: The sample's seed: the same pairs, size and seed give the same sample. Defaults to 0.
        min_submitted: Answers a record needs before Argilla counts it as done (a new dataset
            only). Defaults to 1.

    Returns:
        `PushResult`: the dataset, workspace and annotation URL, the records pushed and the candidates.

    Raises:
        DataError: ``pairs`` is empty, or ``sample`` is not a positive number.
        ConfigError: The workspace does not exist, or a dataset ``name`` exists that
            `rader review push` did not make.
        ArgillaUnavailable: The connection to Argilla was lost.
        ArgillaRequestError: Argilla refused a request.
    """
    if not pairs:
        raise DataError("no judged pairs to push: the dataset has no rows")
    chosen = stratified_sample(pairs, sample, seed) if sample is not None else pairs
    with argilla_errors(client.api_url):
        return push_pairs(client, chosen, name, workspace, candidates=len(pairs), min_submitted=min_submitted)
