"""The model card, built on the README.md that sentence-transformers wrote when the trainer saved
the model (its metadata, architecture and training details are kept, its widget and tables cut to
size), with what only rader-hub knows: a first line that says what the model is worth, the
evaluation in context (what each set is, the difference to the base with its interval), the
model-index, the training data's repo, the RaDeR loss and the facts of training (distinct vs padded
negatives, truncation), a usage snippet that ranks a real gold theorem first, limitations and the
citation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import ModelCard, ModelCardData, eval_result_entries_to_yaml

from rader_hub import __version__
from rader_hub.assets import EMBEDDED, EMBEDDED_EMBEDDER_LICENSE, EMBEDDED_EMBEDDER_NAME, EMBEDDED_GENERATOR_NAME
from rader_hub.errors import CardError
from rader_hub.publish.cards import CardOptions, render_card, template_path, trim_text
from rader_hub.publish.evals import (
    BASE,
    PRIMARY,
    THEOREMQA_HUB_ID,
    THIS,
    EvalSet,
    PublishedModel,
    eval_result_entries,
    evaluation_sets,
    load_eval_runs,
    model_index_results,
)
from rader_hub.publish.metadata import check_license, is_hub_repo_id
from rader_hub.publish.model import ModelFolder
from rader_hub.publish.saved_card import saved_card_parts, shrink_training_details, trimmed_widget, widget_from_examples
from rader_hub.training.reproduce import local_data_name, reproduce_commands

TEMPLATES = {"retriever": "model.md.j2", "reranker": "reranker.md.j2"}
TAGS = {"retriever": ["rader", "retrieval", "reasoning", "math"], "reranker": ["rader", "reranking", "reasoning", "math"]}
# Sections of the saved card placed by our template (the rest follow in their own order).
_USAGE, _CITATION, _TRAINING, _DROPPED = "Usage", "Citation", "Training Details", {"Additional Resources"}
EVAL_RESULTS_FILE = ".eval_results/rader.yaml"
_USAGE_CHARS = 300  # texts in the usage snippet


def card_evaluation_sets(folder: ModelFolder, repo_id: str, options: CardOptions) -> list[EvalSet]:
    """The evaluations attached with ``--eval``, grouped per evaluated set, rows named for ``repo_id``."""
    config = (folder.training or {}).get("config") or {}
    base, base_aliases, _ = _base(config.get("base"), options.base_model)
    published = PublishedModel(folder.kind, repo_id, folder.root, base, frozenset(base_aliases))
    return evaluation_sets(load_eval_runs(options.eval_files), published)


def eval_results_yaml(folder: ModelFolder, repo_id: str, options: CardOptions) -> str | None:
    """The Hub's `.eval_results/*.yaml` content for this model (None: no set with a Hub dataset)."""
    entries = eval_result_entries(card_evaluation_sets(folder, repo_id, options))
    return yaml.safe_dump(eval_result_entries_to_yaml(entries), sort_keys=False, allow_unicode=True) if entries else None


def model_card(folder: ModelFolder, repo_id: str, options: CardOptions, local_training: dict[str, Any] | None = None) -> ModelCard:
    """Render the card for ``folder`` as it will be published at ``repo_id``. ``local_training`` is the
    training record as written on this machine, with its paths (``folder.training`` when not given:
    the published copy may have lost them), read only for facts about the training data."""
    training = folder.training or {}
    config = training.get("config") or {}
    base, _, base_license = _base(config.get("base"), options.base_model)
    sets = card_evaluation_sets(folder, repo_id, options)
    dataset_repo = options.dataset_repo or _recorded_dataset(training)
    license_id = options.license or base_license
    if license_id is None:
        known = f"none known for base model '{base or 'not recorded'}'"
        raise CardError(f"license: none given, and {known}; give a Hub licence id", field="license")
    check_license(license_id)
    saved_metadata, sections = saved_card_parts(folder.saved_card, folder.model, repo_id)
    examples = training.get("examples") or []
    if "widget" in saved_metadata:
        saved_metadata["widget"] = widget_from_examples(examples) if examples else trimmed_widget(saved_metadata["widget"])
    dataset_link = f"[`{dataset_repo}`](https://huggingface.co/datasets/{dataset_repo})" if dataset_repo else None
    if _TRAINING in sections:
        sections[_TRAINING] = shrink_training_details(sections[_TRAINING], dataset_link)

    card_data = ModelCardData(**saved_metadata)
    card_data.library_name = "sentence-transformers"
    card_data.license = license_id
    card_data.language = card_data.language or ["en"]
    card_data.tags = list(dict.fromkeys([*(card_data.tags or []), *TAGS[folder.kind]]))
    card_data.base_model = base if base and is_hub_repo_id(base) else card_data.base_model
    card_data.datasets = [dataset_repo] if dataset_repo else card_data.datasets
    results = model_index_results(sets, repo_id)
    if results:
        card_data.model_name = repo_id.split("/")[-1]
        card_data.eval_results = [*(card_data.eval_results or []), *results]

    usage = usage_example(folder.model, examples) if folder.kind == "retriever" else None
    data_facts = training_data_facts(local_training if local_training is not None else training)
    context = {
        "repo_id": repo_id,
        "base": base,
        "base_is_hub": bool(base and is_hub_repo_id(base)),
        "dataset_repo": dataset_repo,
        "recorded_data": _recorded_data_name(training),
        "generated_data": bool(dataset_repo or data_facts),  # only then is the data known to come from RaDeR's search
        "status": status_line(sets, training, data_facts),
        "rader_version": __version__,
        "evaluation_sets": sets,
        "prompts": dict(getattr(folder.model, "prompts", None) or {}),
        "training_facts": _training_facts(training, folder.kind),
        "loss_curve": "loss_curve.png" if (folder.root / "loss_curve.png").is_file() else None,
        "training_record": "rader_training.json" if folder.training is not None else None,
        "usage": usage,
        "usage_section": None if usage else sections.pop(_USAGE, None),
        "saved_citations": _without_heading(sections.pop(_CITATION, "")),
        "saved_sections": [text for title, text in sections.items() if title not in _DROPPED | {_USAGE}],
        "limitations": _limitations(sets, training),
        "license_id": license_id,
        "reproduce": reproduce_block(training, dataset_repo, folder.kind, sets),
        "reproduce_data": reproduce_data_note(training.get("dataset_revision"), dataset_repo),
    }
    return render_card(ModelCard, card_data, template_path(TEMPLATES[folder.kind], options.template), context)


def status_line(sets: list[EvalSet], training: dict[str, Any], data: dict[str, Any] | None) -> str:
    """The card's first sentence: what the model was trained on and how it compares with its base,
    from the records only (training record, training data, evaluations)."""
    parts = []
    if training:
        made = ""
        if data:
            writer = ("the demo generator " if data["demo"] else "") + ", ".join(data["generators"])
            made = f" from {data['problems']} problems, written by {writer}"
            if data["failing_paper_filters"]:
                made += (
                    f"; {data['failing_paper_filters']} of {data['rows']} rows would not pass the paper's filters "
                    "(a wrong final answer, or a positive the judge rejected) and were kept by relaxed ones"
                )
        if not training.get("data"):
            made = " passed in memory (the training record names no dataset)"
        parts.append(f"Trained for {training.get('steps')} steps on {training.get('train_rows')} rows{made}.")
    compared = next((eval_set for eval_set in sets if eval_set.row(THIS) and eval_set.row(BASE)), None)
    if compared is not None:
        this, base = compared.row(THIS).metrics[PRIMARY], compared.row(BASE).metrics[PRIMARY]
        line = f"On {compared.name} ({compared.queries} queries), nDCG@10 is {this:.4f} against {base:.4f} for its base model"
        difference = compared.versus_base
        if difference is None:
            line += " (no per-query scores were attached, so no interval)"
        else:
            verdict = (
                "better than its base"
                if difference.low > 0
                else "worse than its base"
                if difference.high < 0
                else "no measurable difference from its base"
            )
            line += f": {difference.mean:+.4f} (95% interval {difference.low:+.4f} to {difference.high:+.4f}), {verdict}"
        parts.append(line + ".")
    elif sets:
        parts.append("It was evaluated without its base model beside it: see the evaluation below.")
    else:
        parts.append("It has not been evaluated: its quality is unmeasured.")
    demo = bool(data and data["demo"])
    return ("**Demo model, not for use.** " if demo else "") + " ".join(parts)


def training_data_facts(training: dict[str, Any]) -> dict[str, Any] | None:
    """Who wrote the training rows and how many passed only relaxed filters, read from the recorded
    training data when it is a generation output on this machine (None otherwise)."""
    import pyarrow.parquet as pq

    path = (training.get("data") or {}).get("path")
    if not isinstance(path, str) or not Path(path).exists():
        return None
    try:
        table = pq.read_table(path, columns=["problem_id", "generator", "reward", "kept_by_relaxation"])
    except (OSError, ValueError, KeyError):  # not Parquet, or not a generation output's columns
        return None
    generators = sorted({name for name in table.column("generator").to_pylist() if name})
    return {
        "rows": table.num_rows,
        "problems": len(set(table.column("problem_id").to_pylist())),
        "generators": generators,
        "demo": EMBEDDED_GENERATOR_NAME in generators,
        # Rows the paper's filters would drop: a wrong answer (require_correct_answer) or a rejected positive.
        "failing_paper_filters": sum(
            1
            for reward, kept in zip(table.column("reward").to_pylist(), table.column("kept_by_relaxation").to_pylist())
            if reward != 1.0 or kept
        ),
    }


def reproduce_block(training: dict[str, Any], dataset_repo: str | None, kind: str, sets: list[EvalSet]) -> str | None:
    """The commands of :func:`~rader_hub.training.reproduce.reproduce_commands` (those recorded in
    rader_training.json, with the published dataset's id when there is one), the `rader eval` only
    when the card shows a TheoremQA dev-set evaluation of this model. None without a training record."""
    config = training.get("config")
    if not config:
        return None
    commands = reproduce_commands(kind, config, dataset_repo or _recorded_data_name(training) or "DATA")
    lines = [commands["install"], commands["train"]]
    if "eval" in commands and any(eval_set.row(THIS) and eval_set.data.hub_id == THEOREMQA_HUB_ID for eval_set in sets):
        lines.append(commands["eval"] + "   # the TheoremQA dev set above")
    return "\n".join(lines)


def usage_example(model: Any, examples: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A recorded training row whose positive this model ranks first among its texts, with the scores
    the snippet prints (computed here, on the trimmed texts it shows). None when no row qualifies."""
    for example in examples:
        documents = [trim_text(text, _USAGE_CHARS) for text in dict.fromkeys([example["positive"], *example["negatives"]])]
        if len(documents) < 2:
            continue
        query = example["query"]
        scores = model.similarity(model.encode_query([query]), model.encode_document(documents))[0].tolist()
        if max(range(len(scores)), key=scores.__getitem__) == 0:
            # As Python string literals (a JSON string is one), for the snippet.
            literals = [json.dumps(text, ensure_ascii=False) for text in documents]
            return {"query": json.dumps(query, ensure_ascii=False), "documents": literals, "scores": [f"{score:.4f}" for score in scores]}
    return None


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


def _recorded_data_name(training: dict[str, Any]) -> str | None:
    """The training data's source as rader_training.json records it, a local path by its last parts
    only (no machine path on a card); None for in-memory triples."""
    data = (training.get("data") or {}).get("path")
    if not isinstance(data, str):
        return None
    return data if is_hub_repo_id(data) else local_data_name(data)


def _recorded_dataset(training: dict[str, Any]) -> str | None:
    data = (training.get("data") or {}).get("path")
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
            f"positive against the batch's other positives and its own hard negatives ({negatives} slots per query)"
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
        *([("training data revision", revision_fact(training["dataset_revision"]))] if training.get("dataset_revision") else []),
        ("steps", f"{training.get('steps')} ({_schedule(config)})"),
        ("batch size", str(config.get("batch_size"))),
        ("learning rate", f"{learning_rate} (linear, warmup ratio {config.get('warmup_ratio')})"),
        ("hard negatives per query", _negatives_fact(training)),
        ("max sequence length in training", _truncation_fact(training, config)),
        ("seed", str(config.get("seed"))),
    ]
    if kind == "retriever":
        lora = f"rank {config.get('lora_rank')}, merged into the weights" if training.get("lora") else "no (full fine-tuning)"
        facts.append(("LoRA", lora))
    for key, name in (("final_train_loss", "final training loss"), ("final_eval_loss", "final held-out loss")):
        if training.get(key) is not None:
            facts.append((name, f"{training[key]:.4f}"))
    return facts


def reproduce_data_note(revision: dict[str, Any] | None, dataset_repo: str | None) -> str:
    """What data the card's training command reads, beside what the model was trained on: the same
    only when the recorded revision is the published dataset's (`rader train` reads its current
    revision); local data may have changed before it was published (a review's merge changes it)."""
    if revision is None:
        if dataset_repo:
            return f"the training data's revision is not recorded; the command reads the current `{dataset_repo}`"
        return "the training data is not recorded: replace `DATA` with it"
    if "hub_id" in revision:
        same = dataset_repo in (None, revision["hub_id"])
        read = f"`{dataset_repo or revision['hub_id']}`"
        if same and revision["commit"]:
            return f"the model was trained on the revision above; the command reads {read}'s current revision"
        return f"the command reads {read}, the model was trained on the revision above"
    if dataset_repo:
        return (
            f"the model was trained on the local data above; the command reads `{dataset_repo}`, which is that data only if it "
            "was published unchanged: a human review's merge, for one, changes it"
        )
    return "on the local data above, identified by its content fingerprint"


def revision_fact(revision: dict[str, Any]) -> str:
    """The dataset revision rader_training.json records: a Hub commit, or a local dataset's content."""
    if "hub_id" in revision:
        commit = f"commit `{revision['commit']}`" if revision["commit"] else "commit not known (not in the Hub cache)"
        return f"`{revision['hub_id']}` at {commit}"
    hashes = ", ".join(f"`{value}`" for value in revision["recipe_hashes"]) or "none recorded"
    return f"local `{revision['name']}`, content fingerprint `{revision['fingerprint']}`, recipe hash {hashes}"


def _negatives_fact(training: dict[str, Any]) -> str:
    """Slots per query and how many of them hold distinct texts (short lists are padded by repeats)."""
    stats = training.get("negatives")
    if not stats:
        return f"{training.get('num_negatives')} slots (how many were distinct was not recorded)"
    if stats["distinct_min"] == stats["distinct_max"]:
        spread = f"{stats['distinct_min']} in every row"
    else:
        spread = f"{stats['distinct_min']} to {stats['distinct_max']} per row (median {stats['distinct_median']:g})"
    text = f"{stats['per_row']} slots; distinct negatives available: {spread}"
    if stats["rows_padded"]:
        text += f"; {stats['rows_padded']} of {stats['rows']} rows had fewer than {stats['per_row']} and were padded by repeating their own"
    return text


def _truncation_fact(training: dict[str, Any], config: dict[str, Any]) -> str:
    """The training length and what it cut (queries and positives, prompts included)."""
    truncation = training.get("truncation")
    if not truncation:  # recorded by older versions: the setting only
        return str(config.get("max_seq_length") or "the base model's")
    limit, queries, positives = truncation["max_seq_length"], truncation["queries"], truncation["positives"]
    return (
        f"{limit} tokens: {positives['truncated']} of {positives['rows']} positives were cut (mean length "
        f"{positives['mean_tokens']:g} tokens, longest {positives['max_tokens']}), {queries['truncated']} of {queries['rows']} "
        f"queries (mean {queries['mean_tokens']:g})"
    )


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
        this, base, difference = eval_set.row(THIS), eval_set.row(BASE), eval_set.versus_base
        if this and base and (difference.low <= 0 if difference else this.metrics[PRIMARY] <= base.metrics[PRIMARY]):
            notes.append(
                f"On {eval_set.name} this model does not measurably improve on its base model "
                f"(nDCG@10 {this.metrics[PRIMARY]:.4f} vs {base.metrics[PRIMARY]:.4f})."
            )
    return notes
