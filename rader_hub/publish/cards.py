"""Card templates: the top-level ``cards/`` folder (shipped in the wheel as ``rader_hub/_cards``),
rendered into huggingface_hub's ``DatasetCard``/``ModelCard`` with their CardData as metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from huggingface_hub import CardData, RepoCard

from rader_hub.errors import CardError, ConfigError

CITATION_FILE = "rader.bib"
Card = TypeVar("Card", bound=RepoCard)


@dataclass(frozen=True)
class CardOptions:
    """What the user adds to a card beyond what the artifact records."""

    license: str | None = None  # a Hub licence id; default: the sources' (datasets) or the base model's (models)
    eval_files: Sequence[Path] = ()  # `rader eval --json` outputs (model cards)
    dataset_repo: str | None = None  # the training data's Hub repo (model cards)
    base_model: str | None = None  # overrides the base model the trainer recorded
    template: Path | None = None  # a Jinja template instead of cards/<kind>.md.j2


def cards_dir() -> Path:
    """The card templates: the repo's cards/ (editable install) or the copy inside the wheel."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir.parent / "cards", package_dir / "_cards"):
        if (candidate / CITATION_FILE).is_file():
            return candidate
    raise ConfigError(f"card templates not found next to {package_dir}; reinstall rader-hub")


def template_path(name: str, override: Path | None = None) -> Path:
    """``cards/<name>``, or the user's own template."""
    if override is not None:
        if not override.is_file():
            raise ConfigError(f"template={override}: no such file", field="template")
        return override
    return cards_dir() / name


def rader_citation() -> str:
    """The RaDeR BibTeX entry every card cites (kept once, in cards/rader.bib)."""
    return (cards_dir() / CITATION_FILE).read_text(encoding="utf-8").strip()


def trim_text(text: str, limit: int) -> str:
    """``text`` cut at the last word boundary before ``limit`` characters, marked with " ..." when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return (cut.rsplit(None, 1)[0] if " " in cut.strip() else cut).rstrip(" ,;:") + " ..."


def render_card(card_class: type[Card], card_data: CardData, template: Path, context: dict[str, Any]) -> Card:
    """Render ``template`` with ``card_data`` as its YAML block, as ``from_template`` does, but with a
    loader (a card may extend another in cards/) and strict variables (a typo is an error, not a gap)."""
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader([template.parent, cards_dir()]), undefined=jinja2.StrictUndefined)
    variables = {**card_data.to_dict(), **context, "card_data": card_data.to_yaml(), "rader_citation": rader_citation()}
    try:
        content = environment.get_template(template.name).render(**variables)
    except jinja2.TemplateError as exc:
        raise ConfigError(f"card template {template}: {exc}") from None
    try:
        return card_class(content)
    except ValueError as exc:  # the rendered YAML block is not a mapping, or its model-index is malformed
        raise CardError(f"README.md metadata rendered from {template} does not parse: {str(exc).splitlines()[0]}") from None
