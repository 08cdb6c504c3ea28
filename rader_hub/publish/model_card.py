"""The model card, built on the README.md that sentence-transformers wrote when the trainer saved
the model (its metadata, usage snippet, architecture and training details are kept as written),
with what only rader-hub knows: the evaluation table and model-index, the training data's repo,
the RaDeR loss and hyperparameters, the saved prompts, limitations and the citation."""

from __future__ import annotations

import re
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from rader_hub.assets import EMBEDDED, EMBEDDED_EMBEDDER_LICENSE, EMBEDDED_EMBEDDER_NAME
from rader_hub.errors import CardError
from rader_hub.publish.cards import CardOptions, render_card, template_path
from rader_hub.publish.evals import BASE, THIS, EvalSet, PublishedModel, evaluation_sets, load_eval_runs, model_index_results
from rader_hub.publish.metadata import check_license, is_hub_repo_id
from rader_hub.publish.model import ModelFolder

TEMPLATES = {"retriever": "model.md.j2", "reranker": "reranker.md.j2"}
TAGS = {"retriever": ["rader", "retrieval", "reasoning", "math"], "reranker": ["rader", "reranking", "reasoning", "math"]}
# Sections of the saved card placed by our template (the rest follow in their own order).
_USAGE, _CITATION, _DROPPED = "Usage", "Citation", {"Additional Resources"}


def model_card(folder: ModelFolder, repo_id: str, options: CardOptions) -> ModelCard:
    """Render the card for ``folder`` as it will be published at ``repo_id``."""
    training = folder.training or {}
    config = training.get("config") or {}
    base, base_aliases, base_license = _base(config.get("base"), options.base_model)
    published = PublishedModel(folder.kind, repo_id, folder.root, base, frozenset(base_aliases))
    sets = evaluation_sets(load_eval_runs(options.eval_files), published)
    dataset_repo = options.dataset_repo or _recorded_dataset(training)
    license_id = options.license or base_license
    if license_id is None:
        raise CardError(f"no licence known for base model '{base or 'not recorded'}': pass --license (a Hub licence id)")
    check_license(license_id)
    saved_metadata, sections = saved_card_parts(folder.saved_card, folder.model, repo_id)

    card_data = ModelCardData(**saved_metadata)
    card_data.library_name = "sentence-transformers"
    card_data.license = license_id
    card_data.language = card_data.language or ["en"]
    card_data.tags = list(dict.fromkeys([*(card_data.tags or []), *TAGS[folder.kind]]))
    card_data.base_model = base if base and is_hub_repo_id(base) else card_data.base_model
    card_data.datasets = [dataset_repo] if dataset_repo else card_data.datasets
    results = model_index_results(sets)
    if results:
        card_data.model_name = repo_id.split("/")[-1]
        card_data.eval_results = [*(card_data.eval_results or []), *results]

    context = {
        "repo_id": repo_id,
        "base": base,
        "base_is_hub": bool(base and is_hub_repo_id(base)),
        "dataset_repo": dataset_repo,
        "recorded_data": _recorded_data_path(training),
        "evaluation_sets": sets,
        "prompts": dict(getattr(folder.model, "prompts", None) or {}),
        "training_facts": _training_facts(training, folder.kind),
        "loss_curve": "loss_curve.png" if (folder.root / "loss_curve.png").is_file() else None,
        "training_record": "rader_training.json" if folder.training is not None else None,
        "usage_section": sections.pop(_USAGE, None),
        "saved_citations": _without_heading(sections.pop(_CITATION, "")),
        "saved_sections": [text for title, text in sections.items() if title not in _DROPPED],
        "limitations": _limitations(sets, training),
        "license_id": license_id,
    }
    return render_card(ModelCard, card_data, template_path(TEMPLATES[folder.kind], options.template), context)


def saved_card_parts(text: str | None, model: Any, repo_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The saved card's metadata, and its body split into ``## `` sections by title, with the
    model id placeholder of its usage snippet filled in (as sentence-transformers' own push does)
    and its empty HTML-comment placeholders removed."""
    if not text:
        return {}, {}
    card = ModelCard(text)
    placeholder = getattr(type(model), "_model_card_model_id_placeholder", None)
    body = re.sub(r"^[ \t]*<!--.*?-->[ \t]*\n", "", card.text, flags=re.DOTALL | re.MULTILINE)  # whole commented-out lines and blocks
    body = re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL)
    if placeholder:
        body = body.replace(f'"{placeholder}"', f'"{repo_id}"')
    sections: dict[str, list[str]] = {}
    title, in_code = "", False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if line.startswith("## ") and not in_code:
            title = line[3:].strip()
        sections.setdefault(title, []).append(line)
    sections.pop("", None)  # the title and the generic first paragraph: our card has its own
    return card.data.to_dict(), {name: re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() for name, lines in sections.items()}


def _without_heading(section: str) -> str:
    """A citation section's BibTeX entries without its headings."""
    return "\n".join(line for line in section.splitlines()[1:] if line.strip() not in ("### BibTeX",)).strip()


def _base(recorded: str | None, override: str | None) -> tuple[str | None, set[str], str | None]:
    """(the base model's name on the card, other names eval runs may use for it, its licence if known)."""
    if override:
        return override, {name for name in (recorded,) if name}, None
    if recorded == EMBEDDED:
        return EMBEDDED_EMBEDDER_NAME, {EMBEDDED}, EMBEDDED_EMBEDDER_LICENSE
    return recorded, set(), None


def _recorded_data_path(training: dict[str, Any]) -> str | None:
    """The training data's source as rader_training.json records it (None for in-memory triples)."""
    return (training.get("data") or {}).get("path")


def _recorded_dataset(training: dict[str, Any]) -> str | None:
    data = _recorded_data_path(training)
    return data if isinstance(data, str) and is_hub_repo_id(data) else None


def _training_facts(training: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """The training run as rader_training.json records it, for a two-column table."""
    if not training:
        return []
    config = training.get("config") or {}
    negatives, temperature = training.get("num_negatives"), config.get("temperature")
    if kind == "retriever":
        loss = (
            f"InfoNCE over cosine similarities, temperature {temperature:g} (sentence-transformers "
            f"{'Cached' if config.get('mini_batch_size') else ''}MultipleNegativesRankingLoss, scale {1 / temperature:g}): each query's "
            f"positive against the batch's other positives and {negatives} hard negatives per query"
        )
    else:
        loss = (
            f"cross-entropy over each query's positive and its {negatives} hard negatives (no in-batch negatives), "
            f"temperature {temperature:g}"
        )
    learning_rate = training.get("learning_rate") or config.get("learning_rate")
    rows = str(training.get("train_rows", "?")) + (f" ({training['eval_rows']} more held out)" if training.get("eval_rows") else "")
    facts = [
        ("loss", loss),
        ("training rows", rows),
        ("steps", f"{training.get('steps')} ({_schedule(config)})"),
        ("batch size", str(config.get("batch_size"))),
        ("learning rate", f"{learning_rate} (linear, warmup ratio {config.get('warmup_ratio')})"),
        ("max sequence length in training", str(config.get("max_seq_length") or "the base model's")),
        ("seed", str(config.get("seed"))),
    ]
    if kind == "retriever":
        lora = f"rank {config.get('lora_rank')}, merged into the weights" if training.get("lora") else "no (full fine-tuning)"
        facts.append(("LoRA", lora))
    for key, name in (("final_train_loss", "final training loss"), ("final_eval_loss", "final held-out loss")):
        if training.get(key) is not None:
            facts.append((name, f"{training[key]:.4f}"))
    return facts


def _schedule(config: dict[str, Any]) -> str:
    max_steps = config.get("max_steps") or -1
    return f"epochs {config.get('epochs'):g}" + (f", at most {max_steps} steps" if max_steps > 0 else "")


def _limitations(sets: list[EvalSet], training: dict[str, Any]) -> list[str]:
    notes = []
    if training:
        notes.append(f"Trained for {training.get('steps')} steps on {training.get('train_rows')} rows.")
    if not sets:
        notes.append("No evaluation was attached to this card: its quality is unmeasured.")
    for eval_set in sets:
        this = next((row for row in eval_set.rows if row.role == THIS), None)
        base = next((row for row in eval_set.rows if row.role == BASE), None)
        if this and base and this.metrics["ndcg@10"] <= base.metrics["ndcg@10"]:
            notes.append(
                f"On {eval_set.name} this model does not improve on its base model "
                f"(nDCG@10 {this.metrics['ndcg@10']:.4f} vs {base.metrics['ndcg@10']:.4f})."
            )
    return notes
