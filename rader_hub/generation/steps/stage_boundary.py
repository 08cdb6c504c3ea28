"""A load-stage boundary: the LLM engines before it are unloaded before those after it load."""

from distilabel.steps import GlobalStep, StepInput
from distilabel.typing import StepOutput


class AfterSearch(GlobalStep):
    """Pass the search's samples on unchanged, once every problem has been searched.

    distilabel loads the steps between two global steps together. Without this boundary the
    search's and the query synthesis' LLM engines load at the same time, each asking for its own
    GPUs and memory share; with it, each engine has the accelerators to itself while it runs (one
    GPU is enough for the paper recipe). Query synthesis is a small part of a run, so little is
    lost by not overlapping it with the search. `rader generate RECIPE --check --gpus N` shows the
    stages and where each engine goes.

    Input columns:
        - every column of the search's samples (passed through).

    Output columns:
        - the same columns, unchanged.

    Categories:
        - stage boundary

    Examples:
        ```python
        from rader_hub.generation.steps import AfterSearch

        boundary = AfterSearch(name="after_search")
        # search >> boundary >> synthesize_queries
        ```
    """

    def process(self, inputs: StepInput) -> StepOutput:  # type: ignore[override]
        yield inputs
