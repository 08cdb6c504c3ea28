"""Optional last step: push the run's judged pairs to a running Argilla for human review."""

import logging

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps import GlobalStep, StepInput
from distilabel.typing import StepOutput
from pydantic import Field, SecretStr

from rader_hub.errors import RaderError
from rader_hub.generation.failures import FailsTheRun
from rader_hub.review.connection import connect, resolve_connection
from rader_hub.review.pairs import REQUIRED_COLUMNS, default_dataset_name, judged_pairs
from rader_hub.review.push import DEFAULT_WORKSPACE, push

logger = logging.getLogger(__name__)


class PushToArgilla(FailsTheRun, GlobalStep):
    """Push the judged (query, theorem) pairs of a run to a running Argilla, so humans can review
    the judge's verdicts while training waits; `rader review pull` merges their answers later.

    It does what `rader review push DATASET` does, on the rows ``save_dataset`` wrote: one record
    per distinct judged pair (positives and self-reflection negatives), the judge's verdict and
    reason as suggestions, stable record ids (a rerun updates, never duplicates). If Argilla cannot
    be reached the run still succeeds (the dataset is already saved): the step logs the error and
    the `rader review push` command to run later. The shipped recipes do not include it.

    Attributes:
        dataset_name: Argilla dataset name; None: ``<recipe name>-<recipe hash>`` of the rows,
            the name `rader review push/pull` use by default.
        workspace: Argilla workspace (``argilla``: the default user's).

    Runtime parameters:
        - `api_url`: Argilla URL. Default: ``ARGILLA_API_URL``, else the server that
          `rader review serve` started (its default state folder).
        - `api_key`: Argilla API key. Default: ``ARGILLA_API_KEY``, else that server's key.
        - `sample`: push only this many pairs, stratified by judge verdict and query type
          (None: all).
        - `seed`: seed of the sample.

    Input columns:
        - the columns review needs, as ``rader_hub.review.pairs.REQUIRED_COLUMNS`` lists them
          (``save_dataset`` writes them all): problem, partial solution, query, query type,
          positive and negatives with their ids, the judge's verdicts and reasons, reward, judge,
          recipe hash.

    Output columns:
        - none: the rows pass through unchanged.

    Examples:
        After the save step of a recipe builder (``pipelines/math_recipes.py``):

        ```python
        from rader_hub.review.push_step import PushToArgilla

        save = SaveDataset(name="save_dataset", output_dir=output_dir, recipe_name=settings.name)
        push = PushToArgilla(name="push_to_argilla")
        load >> search >> queries >> negatives >> save >> push
        ```

        Or in a recipe YAML: append to ``pipeline.steps``

        ```yaml
        - step:
            name: push_to_argilla
            dataset_name: null
            workspace: argilla
            type_info:
              module: rader_hub.review.push_step
              name: PushToArgilla
          name: push_to_argilla
        ```

        and to ``pipeline.connections`` (``save_dataset`` then goes to ``[push_to_argilla]``):

        ```yaml
        - from: push_to_argilla
          to: []
        ```

        then ``rader generate recipes/my.yaml --param push_to_argilla.sample=200``.
    """

    dataset_name: str | None = Field(default=None, description="Argilla dataset name (None: <recipe name>-<recipe hash>).")
    workspace: str = Field(default=DEFAULT_WORKSPACE, description="Argilla workspace.")
    api_url: RuntimeParameter[str] | None = Field(
        default=None, description="Argilla URL (default: ARGILLA_API_URL, else `rader review serve`'s)."
    )
    api_key: RuntimeParameter[SecretStr] | None = Field(
        default=None, description="Argilla API key (default: ARGILLA_API_KEY, else the local server's)."
    )
    sample: RuntimeParameter[int] | None = Field(
        default=None, ge=1, description="Push this many pairs, stratified by verdict and query type (None: all)."
    )
    seed: RuntimeParameter[int] = Field(default=0, ge=0, description="Seed of the sample.")

    @property
    def inputs(self) -> list[str]:
        return list(REQUIRED_COLUMNS)

    @property
    def outputs(self) -> list[str]:
        return []

    def process(self, inputs: StepInput) -> StepOutput:  # type: ignore[override]
        name = self.dataset_name or default_dataset_name(inputs)
        try:
            api_key = self.api_key.get_secret_value() if isinstance(self.api_key, SecretStr) else self.api_key
            client = connect(resolve_connection(url=self.api_url, api_key=api_key))
            result = push(client, judged_pairs(inputs), name, self.workspace, self.sample, self.seed)
            logger.info(f"pushed {result.pushed} of {result.candidates} judged pairs to Argilla dataset {name!r}: {result.url}")
        except RaderError as exc:
            logger.error(f"pushing to Argilla failed ({exc}); the dataset is saved: push it later with `rader review push OUTPUT_DIR`")
        yield inputs
