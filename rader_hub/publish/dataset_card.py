"""The dataset card: statistics of the rows, the recipe's search parameters and filters, the data's
sources and licences, human-review agreement, and plainly stated limitations."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import yaml
from huggingface_hub import DatasetCard, DatasetCardData

from rader_hub import __version__
from rader_hub.assets import EMBEDDED, EMBEDDED_GENERATOR_NAME
from rader_hub.embedded_data import EMBEDDED_SOURCES
from rader_hub.errors import CardError
from rader_hub.fingerprints import recipe_hash
from rader_hub.generation.provenance import PAPER_FILTERS
from rader_hub.publish.cards import CardOptions, render_card, template_path, trim_text
from rader_hub.publish.dataset import SHARD_PATTERN, DatasetFolder, read_filters
from rader_hub.publish.fields import field_dictionary
from rader_hub.publish.metadata import check_license, size_category

TEMPLATE = "dataset.md.j2"
TAGS = ["rader", "retrieval", "reasoning", "math", "synthetic", "distilabel", "hard-negatives"]
# Step fields that describe plumbing (batching, folders, progress bars), not how the data was made.
_PLUMBING = {
    "name",
    "resources",
    "input_mappings",
    "output_mappings",
    "use_cache",
    "runtime_parameters_info",
    "type_info",
    "input_batch_size",
    "batch_size",
    "output_dir",
    "show_progress",
    "llm",
}
_EXAMPLE_CHARS = 300
_NEGATIVE_CHARS = 160
# Per-row provenance columns and what the card calls them.
_PROVENANCE_COLUMNS = {
    "rader_hub_version": "rader-hub",
    "distilabel_version": "distilabel",
    "transformers_version": "transformers",
    "generator_revision": "generator revision",
    "seed": "search seed",
    "created_at": "rows written (UTC)",
}
# The columns naming who did what, and what the card calls each part.
_MODEL_COLUMNS = {
    "generator": "solver (MCTS generator)",
    "judge": "relevance judge (self-reflection)",
    "query_generator": "query writer (llmq, lexical)",
    "search_retriever": "retriever inside the search",
    "negative_source": "hard-negative source",
}
# The columns the statistics read (the texts stay in Arrow).
_COLUMNS = (
    "query_type",
    "problem_id",
    "generator",
    "judge",
    "query_generator",
    "search_retriever",
    "negative_source",
    "recipe_name",
    "recipe_hash",
    "filters",
    "relaxed_filters",
    "reward",
    "kept_by_relaxation",
    "judge_verdict",
)


def dataset_card(folder: DatasetFolder, repo_id: str, options: CardOptions) -> DatasetCard:
    """Render the card for ``folder`` as it will be published at ``repo_id``."""
    context = dataset_card_context(folder, repo_id)
    license_id = options.license or _sources_license(context["sources"])
    check_license(license_id)
    template = template_path(TEMPLATE, options.template)
    return render_card(DatasetCard, _card_data(folder, license_id, context), template, {**context, "license_id": license_id})


def dataset_card_context(folder: DatasetFolder, repo_id: str) -> dict[str, Any]:
    """Everything the template shows, computed from the rows, the recipe and the review file."""
    table = folder.table
    column = {name: table.column(name).to_pylist() for name in _COLUMNS}
    negatives = [len(values or []) for values in table.column("negatives").to_pylist()]
    rows = table.num_rows
    by_type: dict[str, list[int]] = {}
    for query_type, count in zip(column["query_type"], negatives):
        by_type.setdefault(query_type, []).append(count)
    relaxed = sorted({name for names in column["relaxed_filters"] for name in names or []})
    steps = _recipe_steps(folder.recipe)
    return {
        "repo_id": repo_id,
        "rows": rows,
        "problems": len(set(column["problem_id"])),
        "negatives": _spread(negatives),
        "query_types": [{"name": name, "rows": len(counts), **_spread(counts)} for name, counts in sorted(by_type.items())],
        "model_rows": [(part, _plain(name), count) for role, part in _MODEL_COLUMNS.items() for name, count in _counts(column[role])],
        "recipe_names": sorted(set(column["recipe_name"])),
        "recipe_hashes": sorted(set(column["recipe_hash"])),
        "has_recipe": folder.recipe is not None,
        "recipe_file_hash": recipe_hash(folder.recipe) if folder.recipe is not None else None,
        "search_parameters": _step_parameters(steps.get("search"), relaxed),
        "query_parameters": _step_parameters(steps.get("queries"), relaxed),
        "negative_parameters": _step_parameters(steps.get("negatives"), relaxed),
        "llm": _llm(steps.get("search")),
        "fields": field_dictionary(table.schema),
        "provenance": _provenance(table),
        "rader_version": __version__,
        "filters": _filters(column["filters"], column["relaxed_filters"]),
        "relaxed_filters": relaxed,
        "relaxed_rows": sum(1 for names in column["relaxed_filters"] if names),
        "correct_rows": sum(1 for reward in column["reward"] if reward == 1.0),
        "kept_by_relaxation": sum(1 for kept in column["kept_by_relaxation"] if kept),
        "judge_verdicts": _counts(column["judge_verdict"]),
        "summary": folder.summary or {},
        "run_facts": run_facts((folder.summary or {}).get("provenance") or {}, _served(steps)),
        "review": folder.review,
        "sources": _sources(steps),
        "demo_generator": EMBEDDED_GENERATOR_NAME if EMBEDDED_GENERATOR_NAME in column["generator"] else None,
        "examples_yaml": yaml.safe_dump(_examples(table), sort_keys=False, allow_unicode=True, width=110),
        "shard_pattern": SHARD_PATTERN,
        "files": [path.name for path in folder.side_files],
    }


def _card_data(folder: DatasetFolder, license_id: str, context: dict[str, Any]) -> DatasetCardData:
    from datasets import DatasetInfo, Features
    from datasets.info import DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo

    rows = folder.table.num_rows
    names = ", ".join(context["recipe_names"])
    card_data = DatasetCardData(
        license=license_id,
        language=["en"],
        task_categories=["text-retrieval"],
        tags=TAGS,
        size_categories=[size_category(rows)],
        pretty_name=f"RaDeR retrieval training data ({names})",
        # What `datasets.push_to_hub` writes: the viewer and load_dataset read the same files.
        configs=[{"config_name": "default", "data_files": [{"split": "train", "path": f"data/{SHARD_PATTERN.replace('.parquet', '')}"}]}],
    )
    info = DatasetInfo(
        features=Features.from_arrow_schema(folder.table.schema),
        splits=SplitDict({"train": SplitInfo("train", num_bytes=folder.table.nbytes, num_examples=rows)}),
        download_size=sum(shard.stat().st_size for shard in folder.shards),
        dataset_size=folder.table.nbytes,
    )
    DatasetInfosDict({"default": info}).to_dataset_card_data(card_data)
    return card_data


def _spread(values: list[int]) -> dict[str, str]:
    return {"min": str(min(values)), "median": f"{statistics.median(values):g}", "max": str(max(values))}


def _counts(values: list[Any]) -> list[tuple[Any, int]]:
    return Counter(values).most_common()


def _recipe_steps(recipe: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The recipe's steps by role, found by the class each names (step names are the user's)."""
    from rader_hub.generation.steps import LoadMathProblems, RetrievalMCTSSearch, SelectHardNegatives, SynthesizeQueries

    roles = {
        RetrievalMCTSSearch.__name__: "search",
        SynthesizeQueries.__name__: "queries",
        SelectHardNegatives.__name__: "negatives",
        LoadMathProblems.__name__: "problems",
    }
    steps = {}
    for entry in ((recipe or {}).get("pipeline") or {}).get("steps") or []:
        step = entry.get("step") or {}
        role = roles.get((step.get("type_info") or {}).get("name"))
        if role:
            steps[role] = step
    return steps


def _parameters(step: dict[str, Any] | None) -> list[tuple[str, Any]]:
    return [(key, _display(value)) for key, value in (step or {}).items() if key not in _PLUMBING]


def _display(value: Any) -> str:
    """A setting as the recipe writes it (true, null, [bm25, dense]), for a Markdown table."""
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...").strip().replace("|", "\\|")


def _step_parameters(step: dict[str, Any] | None, relaxed: list[str]) -> list[dict[str, Any]]:
    """Each parameter of a recipe step with the step's default (the paper's setting where the paper
    gives one), whether the run's value differs from it, and whether it is a relaxed filter."""
    from rader_hub.generation.steps import RetrievalMCTSSearch, SelectHardNegatives, SynthesizeQueries

    classes = {cls.__name__: cls for cls in (RetrievalMCTSSearch, SynthesizeQueries, SelectHardNegatives)}
    step_class = classes.get(((step or {}).get("type_info") or {}).get("name"))
    fields = step_class.model_fields if step_class else {}
    rows = []
    for key, value in _parameters(step):
        default = _display(fields[key].default) if key in fields else ""
        rows.append(
            {
                "name": key,
                "value": _plain(value),
                "paper": "not set" if default in ("null", "") else _plain(default),
                "differs": bool(default) and value != default,
                "relaxed": key in relaxed,
            }
        )
    return rows


def _plain(value: str) -> str:
    """Internal shorthands in words: 'embedded' is the data and models that ship with rader-hub."""
    value = str(value).replace(" over embedded", " over the embedded TheoremQA theorems")
    return {EMBEDDED: "embedded (ships with rader-hub)", "null": "not set", "None": "not recorded"}.get(value, value)


def run_facts(provenance: dict[str, Any], served: bool) -> str | None:
    """The hardware and wall time of the generation as summary.json records them, as a sentence
    (None for runs made before they were recorded); ``served``: an LLM ran behind a server."""
    hardware = provenance.get("hardware")
    if not hardware or provenance.get("wall_seconds") is None:
        return None
    cpu = f"{hardware['cpu_count']} logical CPU cores" + (f" ({hardware['cpu']})" if hardware.get("cpu") else "")
    gpus = ", ".join(f"{count} x {name}" for name, count in _counts(hardware["gpus"])) or "no GPU"
    text = f"The generation ran on {cpu} and {gpus} in {_duration(provenance['wall_seconds'])} of wall time"
    if provenance.get("earlier_checkpoints"):
        text += " (with an earlier run's checkpoints in its folder: work finished then was read back, so the whole took longer)"
    return text + (". Its LLMs ran behind a server, on hardware not recorded here." if served else ".")


def _served(steps: dict[str, dict[str, Any]]) -> bool:
    return any(isinstance(step.get("llm"), dict) and step["llm"].get("base_url") for step in steps.values())


def _duration(seconds: float) -> str:
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minute:02d} min"
    return f"{minute} min {second:02d} s" if minute else f"{second} s"


def _provenance(table) -> list[tuple[str, str]]:
    """The per-row provenance columns summarised: each one's distinct values (dates as a range)."""
    summary = []
    for name, label in _PROVENANCE_COLUMNS.items():
        if name not in table.schema.names:
            continue
        values = sorted({str(value) for value in table.column(name).to_pylist() if value is not None})
        if not values:
            summary.append((label, "not recorded"))
        elif name == "created_at" and len(values) > 1:
            summary.append((label, f"{values[0]} to {values[-1]}"))
        else:
            summary.append((label, ", ".join(values)))
    return summary


def _llm(step: dict[str, Any] | None) -> dict[str, Any] | None:
    llm = (step or {}).get("llm")
    if not isinstance(llm, dict):
        return None
    kind = (llm.get("type_info") or {}).get("name")
    sampling = ", ".join(f"{name} {value}" for name, value in (llm.get("generation_kwargs") or {}).items()) or "the defaults"
    model = f"{EMBEDDED_GENERATOR_NAME}, which ships with rader-hub" if llm.get("model") == EMBEDDED else _plain(llm.get("model"))
    return {"class": kind, "model": model, "sampling": sampling}


def _filters(values: list[Any], relaxed_lists: list[Any]) -> list[dict[str, Any]]:
    """Each distinct filter setting the rows were made under, with the paper's value beside it."""
    settings: Counter[str] = Counter()
    parsed: dict[str, dict[str, Any]] = {}
    for value in values:
        filters = read_filters(value)
        key = repr(sorted(filters.items()))
        settings[key] += 1
        parsed[key] = filters
    relaxed = {name for names in relaxed_lists for name in names or []}

    def table(filters: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "value": _display(value),
                "paper": "not in the paper" if PAPER_FILTERS.get(name) is None else _display(PAPER_FILTERS[name]),
                "relaxed": name in relaxed,
            }
            for name, value in sorted(filters.items())
        ]

    return [{"rows": rows, "filters": table(parsed[key])} for key, rows in settings.most_common()]


def _sources(steps: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Where the problems and the theorem corpus came from, with licences for the embedded ones."""
    sources = []
    inputs = (("problems", "problems", "source", "math_problems"), ("theorem corpus", "search", "corpus", "theorems"))
    for role, step_role, key, kind in inputs:
        value = (steps.get(step_role) or {}).get(key)
        embedded = EMBEDDED_SOURCES[kind] if value == EMBEDDED else None
        sources.append(
            {
                "role": role,
                "source": value,
                "description": embedded.description if embedded else None,
                "url": embedded.url if embedded else None,
                "license": embedded.license if embedded else None,
            }
        )
    return sources


def _sources_license(sources: list[dict[str, Any]]) -> str:
    """The inputs' common licence when every source's licence is known; otherwise the user must say."""
    licenses = {source["license"] for source in sources}
    if None in licenses or len(licenses) != 1:
        named = ", ".join(f"{source['role']}: {source['source'] or 'not recorded'}" for source in sources)
        raise CardError(f"license: none given, and none known for this dataset's sources ({named}); give a Hub licence id", field="license")
    return licenses.pop()


def _examples(table) -> list[dict[str, Any]]:
    """One row of each query type, from different problems while there are, texts trimmed and at
    most three negatives shown as text."""
    rows = table.select(["query_type", "problem_id", "query", "positive", "negatives"]).to_pylist()
    chosen: dict[str, dict[str, Any]] = {}
    for fresh_problems_only in (True, False):
        for row in rows:
            used = {example["problem_id"] for example in chosen.values()}
            if row["query_type"] in chosen or (fresh_problems_only and row["problem_id"] in used):
                continue
            chosen[row["query_type"]] = row
    return [
        {
            "query_type": name,
            "problem_id": chosen[name]["problem_id"],
            "query": trim_text(chosen[name]["query"], _EXAMPLE_CHARS),
            "positive": trim_text(chosen[name]["positive"], _EXAMPLE_CHARS),
            "negatives": [trim_text(text, _NEGATIVE_CHARS) for text in (chosen[name]["negatives"] or [])[:3]],
        }
        for name in sorted(chosen)
    ]
