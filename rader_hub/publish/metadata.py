"""What a card's YAML metadata must satisfy, checked offline before anything is uploaded (so a dry
run catches it too); the Hub checks again when README.md is uploaded (``POST /api/validate-yaml``)."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, ModelCard, RepoCard

from rader_hub.errors import CardError

# Licence identifiers the Hub accepts in a card, from huggingface/hub-docs
# docs/hub/repositories-licenses.md ("License identifier (to use in repo card)").
HUB_LICENSES = frozenset(
    """
    apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 bigcode-openrail-m
    afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0
    cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0
    cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0
    cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 agpl-3.0 gfdl gpl
    gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql
    ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 gemma unknown other
    """.split()
)

# The Hub's size buckets (huggingface_hub's DatasetCardData documents the same list).
SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)
_LARGEST_SIZE_CATEGORY = "n>1B"


def size_category(rows: int) -> str:
    return next((name for limit, name in SIZE_CATEGORIES if rows < limit), _LARGEST_SIZE_CATEGORY)


def check_license(license_id: str) -> None:
    """A licence the Hub knows, or a CardError that suggests the closest one."""
    if license_id not in HUB_LICENSES:
        close = difflib.get_close_matches(license_id.lower(), sorted(HUB_LICENSES), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else " (use 'other' and add a LICENSE file for others)"
        raise CardError(f"README.md metadata: license '{license_id}' is not a licence identifier the Hub knows{hint}")


def check_card(card: RepoCard, folder: Path) -> None:
    """Raise CardError naming the first metadata key that would not validate, for the files in ``folder``."""
    content = str(card)
    try:  # what the client and the Hub parse: the YAML block as a mapping; a model-index that converts
        parsed = type(card)(content)
    except ValueError as exc:
        raise CardError(f"README.md metadata does not parse: {str(exc).splitlines()[0]}") from None
    data = parsed.data.to_dict()
    if not data.get("license"):
        raise CardError("license: the README.md metadata has none; give a Hub licence id", field="license")
    for license_id in _as_list(data.get("license")):
        check_license(str(license_id))
    for key in ("base_model", "datasets"):
        for repo_id in _as_list(data.get(key)):
            _check_repo_id(key, repo_id)
    if isinstance(parsed, DatasetCard):
        _check_dataset_metadata(parsed, folder)
    elif isinstance(parsed, ModelCard):
        _check_model_metadata(data)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def is_hub_repo_id(name: str) -> bool:
    """``namespace/name`` that is a valid Hub id and not a local path (settings record either)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if name.count("/") != 1 or Path(name).exists():
        return False
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def _check_repo_id(key: str, repo_id: Any) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(str(repo_id))
    except HFValidationError as exc:
        raise CardError(f"README.md metadata: {key} '{repo_id}' is not a Hub repo id ({str(exc).splitlines()[0]})") from None


def _check_model_metadata(data: dict[str, Any]) -> None:
    if data.get("library_name") != "sentence-transformers":
        raise CardError(f"README.md metadata: library_name is {data.get('library_name')!r}, expected 'sentence-transformers'")
    for entry in data.get("model-index") or []:
        for result in entry.get("results", []):
            for metric in result.get("metrics", []):
                if not isinstance(metric.get("value"), (int, float)):
                    raise CardError(f"README.md metadata: model-index metric {metric.get('type')!r} has no numeric value")


def _check_dataset_metadata(card: DatasetCard, folder: Path) -> None:
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs

    data = card.data.to_dict()
    for size in _as_list(data.get("size_categories")):
        if size not in {name for _, name in SIZE_CATEGORIES} | {_LARGEST_SIZE_CATEGORY}:
            raise CardError(f"README.md metadata: size_categories '{size}' is not one of the Hub's buckets")
    try:  # the parsers `load_dataset` applies to the card
        configs = MetadataConfigs.from_dataset_card_data(card.data)
        DatasetInfosDict.from_dataset_card_data(card.data)
    except (ValueError, TypeError, KeyError) as exc:
        raise CardError(f"README.md metadata: configs/dataset_info do not parse: {str(exc).strip().splitlines()[0]}") from None
    if not configs:
        raise CardError("README.md metadata: no 'configs' with data_files (the viewer and load_dataset would guess)")
    files = [path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()]
    for name, config in configs.items():
        for pattern in _data_file_patterns(config.get("data_files")):
            if not any(fnmatch.fnmatch(path, pattern) for path in files):
                raise CardError(f"README.md metadata: configs '{name}' data_files '{pattern}' matches no file to upload")


def _data_file_patterns(data_files: Any) -> Iterable[str]:
    for item in _as_list(data_files):
        if isinstance(item, dict):
            yield from (str(path) for path in _as_list(item.get("path")))
        else:
            yield str(item)
