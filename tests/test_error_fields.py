"""Library errors speak the library's language: they name the field a Python caller passed
(``RaderError.field``), never a command-line flag, and `rader` shows its flag in the field's place
(rader_hub.cli.failures.FLAGS)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

import rader_hub
from pipelines.math_recipes import RECIPES_DIR
from rader_hub.cli.failures import FLAGS, flag_message
from rader_hub.errors import CardError, ConfigError, DataError, RaderError

PACKAGE = Path(rader_hub.__file__).parent
LIBRARY = sorted(path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] != "cli")
RECIPE = RECIPES_DIR / "math.yaml"


def _error_nodes(tree: ast.AST) -> list[ast.AST]:
    """What each raise raises, and every error built to be raised elsewhere (``return HubError(...)``)."""
    built = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _name(node.func).endswith("Error")]
    raised = [node.exc for node in ast.walk(tree) if isinstance(node, ast.Raise) and node.exc is not None]
    return built + [node for node in raised if not any(node is call for call in built)]


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def flags_in_messages(source: str) -> list[str]:
    """The string constants (f-strings' literal parts included) of raised errors that hold ``--``."""
    return [
        text.value
        for error in _error_nodes(ast.parse(source))
        for text in ast.walk(error)
        if isinstance(text, ast.Constant) and isinstance(text.value, str) and "--" in text.value
    ]


def fields_named(source: str) -> set[str]:
    """The ``field=`` of every error the source builds."""
    return {
        keyword.value.value
        for error in _error_nodes(ast.parse(source))
        if isinstance(error, ast.Call)
        for keyword in error.keywords
        if keyword.arg == "field" and isinstance(keyword.value, ast.Constant)
    }


def test_the_scan_finds_a_flag_in_a_raised_message_and_the_fields_errors_name() -> None:
    source = (
        "def f(x):\n"
        "    if x:\n"
        "        raise ConfigError(f'--bf16 {x}: needs a GPU')\n"
        "    return HubError('offline: render with --dry-run', field='dry_run')\n"
    )
    assert sorted(flags_in_messages(source)) == ["--bf16 ", "offline: render with --dry-run"]
    assert fields_named(source) == {"dry_run"}
    assert flags_in_messages("raise ConfigError(f'bf16={x}: needs a GPU', field='bf16')") == []


def test_no_error_below_the_cli_names_a_flag() -> None:
    found = {f"{path.relative_to(PACKAGE.parent)}: {text!r}" for path in LIBRARY for text in flags_in_messages(path.read_text())}
    assert not found, "name the field (RaderError.field), not the flag:\n" + "\n".join(sorted(found))


def test_every_field_an_error_names_has_its_flag() -> None:
    fields = set().union(*(fields_named(path.read_text()) for path in LIBRARY))
    assert "bf16" in fields and "params" in fields  # the scan reads the library
    assert fields - FLAGS.keys() == set()


def _repo_id() -> None:
    from rader_hub.publish.hub import check_repo_id

    check_repo_id("rader")


def _params() -> None:
    from rader_hub.generation.recipe import load_recipe, parse_runtime_parameters

    parse_runtime_parameters(load_recipe(RECIPE), ["mcts_search.rollouts=0"])


def _train() -> None:
    from rader_hub.run.main_job import training_config

    training_config({"epochz": 1})


def _bf16() -> None:
    from rader_hub.training.runtime import check_precision

    check_precision(True)


@pytest.mark.parametrize(
    ("call", "field", "library", "command_line"),
    [
        (_repo_id, "repo_id", "repo_id='rader': expected ORG/NAME", "--repo 'rader': expected ORG/NAME"),
        (_params, "params", "mcts_search.rollouts: Input should be", "--param mcts_search.rollouts: Input should be"),
        (_train, "train", "epochz: not a training setting", "--train epochz: not a training setting"),
        pytest.param(
            _bf16,
            "bf16",
            "bf16=True needs a CUDA GPU",
            "--bf16 needs a CUDA GPU",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="bf16 is allowed where a GPU exists"),
        ),
    ],
    ids=["repo_id", "params", "train", "bf16"],
)
def test_a_python_caller_reads_the_field_and_the_command_line_its_flag(
    call: Callable[[], None], field: str, library: str, command_line: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        call()
    assert raised.value.field == field
    assert str(raised.value).startswith(library) and "--" not in str(raised.value)
    assert flag_message(raised.value).startswith(command_line)


def test_an_output_folder_in_use_is_named_by_its_parameter(tmp_path: Path) -> None:
    from rader_hub.publish.folder import staging_folder

    (tmp_path / "kept.txt").write_text("x")
    with pytest.raises(ConfigError) as raised, staging_folder(tmp_path):
        pass
    assert str(raised.value) == f"out={tmp_path}: already exists and is not an empty folder (choose a new folder)"
    assert flag_message(raised.value) == f"--out {tmp_path}: already exists and is not an empty folder (choose a new folder)"


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (ConfigError("resume=True: no complete checkpoint in ckpt", field="resume"), "--resume: no complete checkpoint in ckpt"),
        (ConfigError("gpus=0: at least 1", field="gpus"), "--gpus 0: at least 1"),
        (CardError("license: none given; give a Hub licence id", field="license"), "--license: none given; give a Hub licence id"),
        (DataError("e.json: no BRIGHT split in it", field="eval_files"), "--eval e.json: no BRIGHT split in it"),
        (ConfigError("train_rows: not a training setting", field="train"), "--train train_rows: not a training setting"),
        (ConfigError("columns=3: too many", field="columns"), "columns=3: too many"),  # a field no flag sets
        (RaderError("corpus.jsonl: no such file"), "corpus.jsonl: no such file"),
    ],
    ids=["switch", "value", "no-value", "key-first", "key-like-the-field", "no-flag", "no-field"],
)
def test_the_command_line_puts_the_flag_where_the_field_was(error: RaderError, shown: str) -> None:
    assert flag_message(error) == shown
