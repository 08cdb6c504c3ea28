"""The final step: write the dataset as Parquet under the run folder (the distilabel CLI does not)."""

import logging
from typing import Any

import yaml
from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps import GlobalStep, StepInput
from distilabel.typing import StepOutput
from pydantic import Field, PrivateAttr

from rader_hub.files import atomic_path, read_json, write_json_atomic, write_text_atomic
from rader_hub.fingerprints import recipe_hash
from rader_hub.generation.failures import FAILED_BATCH, split_failed
from rader_hub.generation.provenance import created_at, software_versions
from rader_hub.generation.summary import build_summary, format_summary
from rader_hub.schema import DATA_FILE, PROVENANCE_EXTRA, SCHEMA, RunFolder, arrow_schema

logger = logging.getLogger(__name__)


class SaveDataset(GlobalStep):
    """Write the dataset as Parquet, and ``summary.json``, under the run folder.

    Writes ``<output_dir>/data/train-00000-of-00001.parquet`` and ``<output_dir>/summary.json``,
    replacing a previous run's files atomically (a rerun after a crash never duplicates rows).
    Every row gets the recipe's name and settings hash, the software versions and the creation
    time; rows with fewer than ``min_negatives`` hard negatives are dropped and counted.

    Attributes:
        output_dir: the run folder; the dataset goes to its ``data/`` folder.
        recipe_name: recorded in every row.

    Runtime parameters:
        - `min_negatives`: rows with fewer hard negatives are dropped (and counted).

    Input columns:
        - query (`str`), query_type (`str`), positive (`str`), negatives (`List[str]`), and every
            column of ``SCHEMA`` and ``PROVENANCE_EXTRA`` the earlier steps made.

    Output columns:
        - the columns of ``SCHEMA`` then ``PROVENANCE_EXTRA``, in that order.

    Categories:
        - save

    Examples:
        ```python
        from rader_hub.generation.steps import SaveDataset

        save = SaveDataset(output_dir="outputs/math", recipe_name="math")
        ```
    """

    output_dir: str = Field(default="outputs/math", description="Run folder; the dataset goes to its data/ folder.")
    recipe_name: str = Field(default="math", description="Recorded in every row.")
    min_negatives: RuntimeParameter[int] = Field(default=1, ge=0, description="Rows with fewer hard negatives are dropped (and counted).")

    @property
    def inputs(self) -> list[str]:
        return ["query", "query_type", "positive", "negatives"]

    @property
    def outputs(self) -> list[str]:
        return SCHEMA + PROVENANCE_EXTRA

    _recipe: dict[str, Any] | None = PrivateAttr(default=None)

    def set_pipeline_artifacts_path(self, path: Any) -> None:
        # distilabel calls this in the main process once runtime parameters are set, just before it
        # sends the step to its own process without its pipeline: the last moment the recipe is readable.
        super().set_pipeline_artifacts_path(path)
        if self.pipeline is not None:
            self._recipe = self.pipeline.dump()

    def load(self) -> None:
        super().load()
        logger.info("the dataset will be written to %s", (RunFolder(self.output_dir).data_dir / DATA_FILE).resolve())

    def recipe(self) -> dict[str, Any]:
        """The running pipeline's settings (the recipe as loaded, runtime parameters included)."""
        if self._recipe is None:
            self._recipe = self.pipeline.dump() if self.pipeline is not None else self.dump()
        return self._recipe

    def recipe_hash(self) -> str:
        return recipe_hash(self.recipe())

    def process(self, inputs: StepInput) -> StepOutput:  # type: ignore[override]
        run = RunFolder(self.output_dir)
        inputs, failed = split_failed(inputs)
        if failed:  # the rows of a failed batch are missing: keep the previous dataset
            logger.error("%s: the dataset is not written", failed[0][FAILED_BATCH])
            yield failed
            return
        made = {"recipe_name": self.recipe_name, "recipe_hash": self.recipe_hash(), **software_versions(), "created_at": created_at()}
        kept = [row for row in inputs if len(row.get("negatives") or []) >= self.min_negatives]
        rows = [self._row(row, made) for row in sorted(kept, key=lambda r: (r["problem_id"], r["sample_id"], r["query_type"]))]
        self._write(run, rows)
        # The recipe travels with the data (and is published with it), so anyone can regenerate and audit it.
        write_text_atomic(run.recipe_file, yaml.safe_dump(self.recipe(), sort_keys=False, allow_unicode=True))
        summary = build_summary(run, rows, dropped_few_negatives=len(inputs) - len(kept))
        summary["provenance"] = {**made, **read_json(run.search_provenance_file, {})}
        if rows:  # the filters of every step, not only the search's
            summary["provenance"].update(filters=rows[0]["filters"], relaxed_filters=rows[0]["relaxed_filters"])
        summary["dataset"] = str((run.data_dir / DATA_FILE).resolve())
        write_json_atomic(run.summary_file, summary)
        logger.info(format_summary(summary))
        yield rows

    def _row(self, row: dict[str, Any], made: dict[str, Any]) -> dict[str, Any]:
        return {column: made[column] if column in made else row.get(column) for column in SCHEMA + PROVENANCE_EXTRA}

    def _write(self, run: RunFolder, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows, schema=arrow_schema())
        with atomic_path(run.data_dir / DATA_FILE) as temporary:
            pq.write_table(table, temporary)
        if not rows:
            logger.warning("the dataset is empty: no sample passed the filters (see summary.json)")
