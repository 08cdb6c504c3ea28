"""Command-line options shared by several `rader` sub-commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

CorpusOption = Annotated[str, typer.Option("--corpus", help="Corpus: JSONL/Parquet file, folder, Hub dataset id, or 'embedded'.")]
CorpusConfigOption = Annotated[str | None, typer.Option("--corpus-config", help="Hub/dataset config of the corpus (BRIGHT: 'documents').")]
CorpusSplitOption = Annotated[str | None, typer.Option("--corpus-split", help="Split of the corpus (BRIGHT: e.g. 'theoremqa_theorems').")]
ModelOption = Annotated[str, typer.Option("--model", help="Embedding model: path, Hub id, or 'embedded' (all-MiniLM-L6-v2).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]
RecipeArgument = Annotated[Path, typer.Argument(help="Recipe YAML, e.g. recipes/math.yaml.")]
ParamOption = Annotated[list[str] | None, typer.Option("--param", help="Recipe runtime parameter STEP.FIELD=VALUE (repeatable).")]
