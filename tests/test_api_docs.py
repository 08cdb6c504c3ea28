"""The public API's docstrings (docs/python-api.md) say what each function takes, returns and raises.

ruff checks the public modules (pyproject.toml: a docstring on every public name, every argument in
``Args:``); this adds what ruff's stable rules do not: that the listed functions have the sections
at all, that ``Raises:`` names what the function raises itself, and that ruff's list of public
modules covers them and names no module that is gone. Read from the source (ast), so nothing is imported.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
API_PAGE = ROOT / "docs" / "python-api.md"


def _expand(pattern: str) -> list[str]:
    """A glob's ``{a,b}`` alternatives (nested too) as the plain paths they stand for, each once."""
    match = re.search(r"\{([^{}]*)\}", pattern)  # innermost first: an outer group repeats per inner option
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return list(dict.fromkeys(path for option in match.group(1).split(",") for path in _expand(head + option + tail)))


def _public_modules() -> list[str]:
    """The files ruff's docstring rules apply to: the one negated per-file-ignores pattern exempting the rest from D.

    Read with a regular expression: tomllib is Python 3.11+, and the project supports 3.10."""
    patterns = re.findall(r'^"!([^"]+)"\s*=\s*\["D"\]', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert len(patterns) == 1, f"expected one negated pattern exempting every other file from D, got {patterns}"
    return _expand(patterns[0])


def _listed_names() -> list[str]:
    """The dotted names docs/python-api.md lists, one per bullet: ``- `rader_hub.x.y.name(...)`: ...``."""
    names = re.findall(r"^- `(rader_hub\.[\w.]+)\(", API_PAGE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert names, f"{API_PAGE}: no function listed"
    return names


def _definition(name: str) -> tuple[Path, ast.FunctionDef | ast.AsyncFunctionDef]:
    """The file and the function (a class stands for its ``__init__``) that a dotted name denotes."""
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        path = ROOT.joinpath(*parts[:split]).with_suffix(".py")
        if path.is_file():
            break
    else:
        raise AssertionError(f"{name}: no module of rader_hub defines it")
    scope: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
    node: ast.AST | None = None
    for part in [*parts[split:], *(["__init__"] if _is_class(scope, parts[split:]) else [])]:
        node = next((item for item in scope if isinstance(item, ast.FunctionDef | ast.ClassDef) and item.name == part), None)
        assert node is not None, f"{name}: {path.relative_to(ROOT)} has no {part}"
        scope = node.body
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef), f"{name}: not a function"
    return path, node


def _is_class(scope: list[ast.stmt], qualname: list[str]) -> bool:
    for part in qualname:
        node = next((item for item in scope if isinstance(item, ast.FunctionDef | ast.ClassDef) and item.name == part), None)
        if node is None:
            return False
        scope = node.body
    return isinstance(node, ast.ClassDef)


def _section(docstring: str, title: str) -> str | None:
    """The text of a Google-style section (``Raises:`` up to the next section or the end), or None."""
    match = re.search(rf"^{title}:\n((?:[ \t]+\S.*\n?|\n)*)", docstring, flags=re.MULTILINE)
    return match.group(1) if match else None


def _raised_here(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The exception classes the function's own body raises by name (not its nested functions')."""
    raised: set[str] = set()
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id[:1].isupper():  # a class, not hub_error(...) or a caught exc
                raised.add(target.id)
        pending.extend(ast.iter_child_nodes(node))
    return raised


@pytest.mark.parametrize("name", _listed_names())
def test_listed_function_documents_args_returns_and_raises(name: str) -> None:
    path, function = _definition(name)
    docstring = ast.get_docstring(function) or ""
    where = f"{name} ({path.relative_to(ROOT)}:{function.lineno})"
    arguments = [arg.arg for arg in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs] if arg.arg != "self"]
    if arguments or function.args.kwarg is not None:
        assert _section(docstring, "Args") is not None, f"{where}: no Args: section"
    returns_none = function.returns is None or (isinstance(function.returns, ast.Constant) and function.returns.value is None)
    if function.name != "__init__" and not returns_none:
        assert _section(docstring, "Returns") is not None, f"{where}: no Returns: section"
    raises = _section(docstring, "Raises") or ""
    undocumented = sorted(error for error in _raised_here(function) if not re.search(rf"^\s+{error}:", raises, flags=re.MULTILINE))
    assert not undocumented, f"{where}: raises {', '.join(undocumented)} without saying so under Raises:"


def test_ruff_checks_every_module_the_api_page_lists() -> None:
    modules = set(_public_modules())
    outside = sorted({str(_definition(name)[0].relative_to(ROOT)) for name in _listed_names()} - modules)
    assert not outside, f"pyproject.toml's docstring pattern leaves out {outside}"


def test_ruff_public_module_pattern_names_only_existing_modules() -> None:
    # A module renamed or moved would otherwise drop out of the docstring check without a word.
    missing = [module for module in _public_modules() if not (ROOT / module).is_file()]
    assert not missing, f"pyproject.toml's docstring pattern names modules that do not exist: {missing}"


def test_section_reader_and_raise_finder_see_what_they_should() -> None:
    function = ast.parse(
        "def f(x):\n"
        '    """Do.\n\n    Args:\n        x: it.\n\n    Raises:\n        DataError: when.\n    """\n'
        "    def inner():\n        raise HubError('not f')\n"
        "    try:\n        pass\n    except OSError as exc:\n        raise exc\n"
        "    raise ConfigError('x')\n"
    ).body[0]
    assert isinstance(function, ast.FunctionDef)
    docstring = ast.get_docstring(function) or ""
    assert _section(docstring, "Args") == "    x: it.\n\n"
    assert _section(docstring, "Returns") is None
    assert _raised_here(function) == {"ConfigError"}
    assert _expand("a/{b,c/{d,e}}.py") == ["a/b.py", "a/c/d.py", "a/c/e.py"]
