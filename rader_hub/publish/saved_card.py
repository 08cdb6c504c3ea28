"""The README.md sentence-transformers writes when the trainer saves a model, made fit for our card:
its body split into sections, its training-dataset tables cut to the query, the positive and one
negative (it prints every column of n-tuple data, twelve theorem texts per row), the dataset named
instead of "Unnamed Dataset", and its widget rebuilt from a few distinct, trimmed texts (it shows
every column of a row, padded negatives included)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from huggingface_hub import ModelCard

from rader_hub.publish.cards import trim_text

WIDGET_EXAMPLES = 3
WIDGET_CHARS = 300
_KEPT_COLUMNS = {"", "query", "positive", "negative_1"}


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


def shrink_training_details(section: str, dataset_link: str | None) -> str:
    """The training-dataset tables with only the query, positive and first negative columns, and the
    dataset's link (or "the training data") instead of "Unnamed Dataset"."""
    section = section.replace("#### Unnamed Dataset", f"#### {dataset_link or 'The training data'}")
    lines, out, table = section.splitlines(), [], []
    for line in [*lines, ""]:
        if line.startswith("  |"):
            table.append(line)
            continue
        if table:
            out += _kept_columns(table)
            table = []
        out.append(line)
    return "\n".join(out[:-1])


def _kept_columns(table: list[str]) -> list[str]:
    rows = [line.strip().strip("|").split("|") for line in table]
    header = [cell.strip() for cell in rows[0]]
    if any(len(row) != len(header) for row in rows):  # a "|" inside a text: cannot cut safely, leave it out
        return ["  (table omitted: see the dataset card for rows)"]
    if header[0].startswith("<code>") or header[0] not in _KEPT_COLUMNS:  # not a table by column name
        return table
    keep = [index for index, name in enumerate(header) if name in _KEPT_COLUMNS]
    return ["  |" + "|".join(_trimmed_cell(row[index]) for index in keep) + "|" for row in rows]


def _trimmed_cell(cell: str) -> str:
    """A sample cell's text (``<code>...</code>``) cut to the widget's length."""
    return re.sub(r"<code>(.*?)</code>", lambda match: f"<code>{trim_text(match.group(1), WIDGET_CHARS)}</code>", cell)


def widget_from_examples(examples: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """sentence-transformers' widget format from recorded training rows: the query, then its
    positive and distinct negatives, each trimmed."""
    return [
        {
            "source_sentence": trim_text(example["query"], WIDGET_CHARS),
            "sentences": [trim_text(text, WIDGET_CHARS) for text in dict.fromkeys([example["positive"], *example["negatives"]])],
        }
        for example in examples[:WIDGET_EXAMPLES]
    ]


def trimmed_widget(widget: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A saved widget without repeated texts, at most 4 per example and 3 examples, each trimmed
    (for models whose training record has no examples)."""
    trimmed = []
    for example in widget[:WIDGET_EXAMPLES]:
        if "source_sentence" not in example:
            return list(widget[:WIDGET_EXAMPLES])
        sentences = list(dict.fromkeys(example.get("sentences") or []))[:4]
        trimmed.append(
            {
                "source_sentence": trim_text(example["source_sentence"], WIDGET_CHARS),
                "sentences": [trim_text(s, WIDGET_CHARS) for s in sentences],
            }
        )
    return trimmed
