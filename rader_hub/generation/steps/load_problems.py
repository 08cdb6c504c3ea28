"""Load math problems (id, problem, gold answer) from any source the corpus loader accepts."""

import logging

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps import GeneratorStep
from distilabel.typing import GeneratorStepOutput
from pydantic import Field

from rader_hub.assets import EMBEDDED
from rader_hub.embedded_data import resolve_source
from rader_hub.errors import DataError
from rader_hub.files import write_json_atomic
from rader_hub.generation.answers import extract_boxed
from rader_hub.generation.runfiles import RunFolder
from rader_hub.records import read_rows

logger = logging.getLogger(__name__)


def gold_answer(value: object) -> str | None:
    """A problem's gold answer: the field's last ``\\boxed{}`` when it has one (MATH's reference
    solutions end that way), else the field itself; None when missing or empty."""
    if value is None or not str(value).strip():
        return None
    text = str(value)
    return extract_boxed(text) if "\\boxed" in text or "\\fbox" in text else text.strip()


class LoadMathProblems(GeneratorStep):
    """Load math problems with gold answers from a file, a folder, a Hub dataset or the embedded set.

    Problems without a gold answer are skipped and counted (the search's reward needs one). The
    answer field may hold a whole reference solution: its last ``\\boxed{}`` is the gold answer,
    as with MATH's ``solution`` field. Which problems were selected and skipped goes to
    ``<output_dir>/run/problems.json``.

    Attributes:
        id_field, problem_field, answer_field: the source's field names (a missing id becomes
            ``problem-<index>``).
        output_dir: the run folder.

    Runtime parameters:
        - `source`, `source_config`, `source_split`: the problems: JSONL/Parquet file, folder, Hub
            dataset id (with config and split) or 'embedded' (1,000 MATH train problems).
        - `offset`: skip this many problems first.
        - `num_problems`: how many problems to search (0: all).

    Output columns:
        - problem_id (`str`), problem (`str`), gold_answer (`str`).

    Categories:
        - load

    Examples:
        All of MATH's training problems from the Hub:

        ```python
        from rader_hub.generation.steps import LoadMathProblems

        load = LoadMathProblems(source="DigitalLearningGmbH/MATH-lighteval", source_config="default", source_split="train",
                                answer_field="solution")
        ```
    """

    source: RuntimeParameter[str] = Field(
        default=EMBEDDED, description="Problems: JSONL/Parquet file, folder, Hub id or 'embedded' (1,000 MATH problems)."
    )
    source_config: RuntimeParameter[str] | None = Field(default=None, description="Config of a Hub dataset.")
    source_split: RuntimeParameter[str] | None = Field(default=None, description="Split of a Hub dataset.")
    id_field: str = "id"
    problem_field: str = "problem"
    answer_field: str = Field(default="answer", description="Gold answer, or a solution whose last \\boxed{} is the answer.")
    offset: RuntimeParameter[int] = Field(default=0, description="Skip this many problems first.")
    num_problems: RuntimeParameter[int] = Field(default=0, description="How many problems to search (0: all).")
    output_dir: str = Field(default="outputs/math", description="Run folder (checkpoints, dataset, summary).")

    @property
    def outputs(self) -> list[str]:
        return ["problem_id", "problem", "gold_answer"]

    def load_problems(self) -> tuple[list[dict[str, str]], list[str]]:
        rows = read_rows(resolve_source(self.source, "math_problems", self.source_config, self.source_split))
        problems, skipped = [], []
        for index, row in enumerate(rows[self.offset :], start=self.offset):
            if self.num_problems and len(problems) >= self.num_problems:
                break
            data = row.data
            problem = data.get(self.problem_field)
            if not isinstance(problem, str) or not problem.strip():
                raise DataError(f"{row.location}: missing or empty '{self.problem_field}'")
            problem_id = str(data.get(self.id_field) if data.get(self.id_field) is not None else f"problem-{index}")
            answer = gold_answer(data.get(self.answer_field))
            if answer is None:
                skipped.append(problem_id)
                continue
            problems.append({"problem_id": problem_id, "problem": problem, "gold_answer": answer})
        return problems, skipped

    def process(self, offset: int = 0) -> GeneratorStepOutput:  # type: ignore[override]
        problems, skipped = self.load_problems()
        if skipped:
            logger.warning("skipped %d problem(s) without a gold answer: %s", len(skipped), ", ".join(skipped[:10]))
        if not problems:
            raise DataError(f"{self.source}: no problems with a gold answer ('{self.answer_field}') to search")
        write_json_atomic(
            RunFolder(self.output_dir).problems_file,
            {"selected": [p["problem_id"] for p in problems], "skipped_without_gold_answer": skipped},
        )
        problems = problems[offset:]
        for start in range(0, len(problems), self.batch_size):
            yield problems[start : start + self.batch_size], start + self.batch_size >= len(problems)
