"""Few-shot chat prompts for the MCTS actions, self-reflection, self-summarization and query synthesis.

Each builder returns OpenAI-style messages, the input format of every distilabel LLM: the system
message, worked examples as earlier user/assistant turns (as the paper's appendix and the
official prompts show each task by example), then the real request. The examples of a task never
change, so every prompt of that task begins with the same tokens, which the local LLM prefills
only once (:mod:`rader_hub.generation.prefix_cache`); the request puts its context (problem,
steps so far, theorem) before its instruction, so prompts about the same partial solution share
more of their beginning still.

The examples are written for this project. Each shows the exact reply format the parsers in
:mod:`rader_hub.generation.parsing` read: a verdict word first, ``\\boxed{}`` for final answers,
``Theorem N:`` blocks for candidate theorems.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

Messages = list[dict[str, str]]

SYSTEM = "You are a careful mathematician who solves problems step by step."

# The first words of each instruction name its task (the scripted test LLM keys on them).
TASK_OST = "Write only the next step of the solution."
TASK_CRS = "Finish the solution"
TASK_QG = "Name theorems that would help with the next step"
TASK_JUDGE = "Is this theorem relevant to the next step of the solution?"
TASK_SUMMARY = "Restate this theorem in plain words"
TASK_LLMQ = "Write one search question for the idea the next step needs"
TASK_LEXICAL = "Write one short search query that a person would type to find this theorem."

# How a retrieved theorem (its summary) appears among the steps of a partial solution.
THEOREM_STEP = "Useful theorem: {summary}"
NO_STEPS = "(none yet)"

# How a request is laid out: its context (problem and steps so far, and/or a theorem), then its
# instruction, as paragraphs. read_request() reads a request back with the same pieces.
PARAGRAPH = "\n\n"
PROBLEM_LABEL = "Problem: "
STEPS_LABEL = "Solution so far:\n"
THEOREM_LABEL = "Theorem: "
STEP_LABEL = "Step {index}: "


class PromptStyle(str, Enum):
    """The wording of the instructions that capable and tiny models need differently: ``paper``
    follows the paper's prompts (a complete solution of any length, preconditions before the
    q_llmq query, no theorem the solution already uses); ``small`` keeps the constraints tuned for
    the embedded 135M model, used only by the embedded recipe."""

    paper = "paper"
    small = "small"


OST_INSTRUCTION = f"{TASK_OST} If it reaches the final answer, end it with \\boxed{{answer}}."
CRS_INSTRUCTIONS = {
    PromptStyle.paper: f"{TASK_CRS} from the steps so far, in as many steps as it needs. End with 'The answer is \\boxed{{...}}.'",
    # Measured on SmolLM2-135M (24 completions, 96 tokens): this wording gave a final answer in 20,
    # "in a few short steps and end with ... \\boxed{answer}" in 14.
    PromptStyle.small: f"{TASK_CRS} in at most three sentences. The last sentence must be 'The answer is \\boxed{{...}}.'",
}
# The paper's QG asks for theorems the rest of the solution needs, not those it already has.
QG_NOT_ALREADY_USED = "Leave out theorems the solution so far already uses."
LLMQ_QUERY_LABEL = "Query: "
# The official field format ('Relevant: True/False'), verdict first so a short budget never cuts it
# off. Measured on SmolLM2-135M: 'yes'/'no' labels gave 'yes' to 47 of 48 theorems whatever the
# order; 'False'/'True' gave both verdicts, 93-97% of them parseable.
JUDGE_INSTRUCTION = f"{TASK_JUDGE} Reply 'Relevant: False' or 'Relevant: True' first, then 'Reason:' and one sentence."
SUMMARY_INSTRUCTION = f"{TASK_SUMMARY}: its name, a dash, then what it says in one or two sentences, without LaTeX."
LLMQ_INSTRUCTIONS = {
    # The paper's structure: the theorem's preconditions and why the problem meets them, then the query.
    PromptStyle.paper: (
        f"{TASK_LLMQ}. First write 'Preconditions:' with the theorem's preconditions and 'Why they hold:' with why the "
        f"problem meets them; then write '{LLMQ_QUERY_LABEL.strip()}' and one general question, in general variables, about "
        "the information the next step needs. Do not name the theorem and do not reuse its wording."
    ),
    PromptStyle.small: f"{TASK_LLMQ}. Do not name the theorem and do not reuse its wording.",
}


def format_steps(steps: Sequence[str]) -> str:
    """Steps so far as a numbered list ('(none yet)' at the root)."""
    if not steps:
        return NO_STEPS
    return "\n".join(STEP_LABEL.format(index=index) + step for index, step in enumerate(steps, start=1))


def shown_theorem(text: str, max_chars: int) -> str:
    """A theorem as the LLM is shown it: its statement, without a ProofWiki proof (the official
    code keeps what precedes ``\\begin{proof}``), cut to ``max_chars``."""
    return text.split("\\begin{proof}", 1)[0].strip()[:max_chars]


def theorem_step(summary: str) -> str:
    """A retrieved theorem as a step of the partial solution (what later prompts and q_CoT see)."""
    return THEOREM_STEP.format(summary=summary)


def _context(problem: str, steps: Sequence[str]) -> str:
    return f"{PROBLEM_LABEL}{problem}{PARAGRAPH}{STEPS_LABEL}{format_steps(steps)}"


def _theorem(theorem: str) -> str:
    return f"{THEOREM_LABEL}{theorem}"


def _request(instruction: str, *context: str) -> str:
    return PARAGRAPH.join([*context, instruction])


def _chat(examples: Sequence[tuple[str, str]], request: str) -> Messages:
    messages = [{"role": "system", "content": SYSTEM}]
    for user, assistant in examples:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    messages.append({"role": "user", "content": request})
    return messages


# -- worked examples (our own problems; short, so small models can afford them) -------------------
_RECTANGLE = "A rectangle has perimeter 20 and one side of length 6. What is its area?"
_HEXAGON = "What is the sum of the interior angles of a hexagon, in degrees?"
_LADDER = "A 5 m ladder leans against a wall with its foot 3 m from the wall. How high up the wall does it reach?"
_COMMITTEE = "In how many ways can a committee of 2 people be chosen from 6 people?"
_ANGLES_SUMMARY = "Polygon angle sum - The interior angles of a polygon with n sides add up to (n - 2) times 180 degrees."
_PYTHAGORAS_SUMMARY = "Pythagorean theorem - In a right triangle the squares of the two legs add up to the square of the hypotenuse."
_LADDER_CONTEXT = _context(_LADDER, ["The ladder, the wall and the ground form a right triangle."])

_OST_EXAMPLES = [
    (f"{_context(_RECTANGLE, [])}\n\n{OST_INSTRUCTION}", "The other side is (20 - 2 * 6) / 2 = 4."),
    (
        f"{_context(_RECTANGLE, ['The other side is (20 - 2 * 6) / 2 = 4.'])}\n\n{OST_INSTRUCTION}",
        "The area is 6 * 4 = 24, so the answer is \\boxed{24}.",
    ),
]
_CRS_REPLIES = [
    (
        _context(_HEXAGON, [theorem_step(_ANGLES_SUMMARY)]),
        "A hexagon has n = 6 sides. Its angles add up to (6 - 2) * 180 = 720 degrees. The answer is \\boxed{720}.",
    ),
    (
        _LADDER_CONTEXT,
        "The ladder is the hypotenuse, so the height is the square root of 5^2 - 3^2 = 16, which is 4. The answer is \\boxed{4}.",
    ),
]
_CRS_EXAMPLES = {
    style: [(f"{context}\n\n{instruction}", reply) for context, reply in _CRS_REPLIES] for style, instruction in CRS_INSTRUCTIONS.items()
}
_QG_REPLY = (
    "Theorem 1: Pythagorean theorem. In a right triangle with legs a and b and hypotenuse c, a^2 + b^2 = c^2.\n"
    "Preconditions: the triangle has a right angle.\n"
    "Why they hold: the wall stands at a right angle to the ground.\n"
    "Subject: Geometry\n"
    "Theorem 2: Distance formula. The distance between points (x1, y1) and (x2, y2) is sqrt((x2 - x1)^2 + (y2 - y1)^2).\n"
    "Preconditions: the points are given by coordinates.\n"
    "Why they hold: the foot and the top of the ladder can be placed on axes.\n"
    "Subject: Analytic geometry"
)
_JUDGE_EXAMPLES = [
    (
        f"{_LADDER_CONTEXT}\n\nTheorem: {_PYTHAGORAS_SUMMARY}\n\n{JUDGE_INSTRUCTION}",
        "Relevant: True\nReason: the height is a leg of a right triangle whose hypotenuse is the ladder.",
    ),
    (
        f"{_context(_COMMITTEE, [])}\n\nTheorem: {_PYTHAGORAS_SUMMARY}\n\n{JUDGE_INSTRUCTION}",
        "Relevant: False\nReason: choosing people is counting, not geometry.",
    ),
]
_SUMMARY_EXAMPLES = [
    (
        "Theorem: \\section{Sum of Geometric Sequence} Let $r \\ne 1$. Then $\\ds \\sum_{k = 0}^{n - 1} r^k = \\frac {1 - r^n} {1 - r}$."
        f"\n\n{SUMMARY_INSTRUCTION}",
        "Sum of Geometric Sequence - Adding 1, r, r squared and so on up to r to the power n - 1 gives (1 - r^n) / (1 - r), "
        "when r is not 1.",
    ),
]
_LLMQ_CASES = [  # (context, theorem, preconditions and why they hold, query)
    (
        _LADDER_CONTEXT,
        _PYTHAGORAS_SUMMARY,
        "Preconditions: the triangle has a right angle.\nWhy they hold: the wall stands at a right angle to the ground.",
        "How do the lengths of the three sides of a triangle with one square corner relate to each other?",
    ),
    (
        _context(_HEXAGON, []),
        _ANGLES_SUMMARY,
        "Preconditions: the shape is a polygon with n straight sides.\nWhy they hold: a hexagon is a polygon with 6 sides.",
        "What do the corner measures of a closed shape with straight edges total, given how many edges it has?",
    ),
]
_LLMQ_EXAMPLES = {
    PromptStyle.paper: [
        (f"{context}\n\nTheorem: {theorem}\n\n{LLMQ_INSTRUCTIONS[PromptStyle.paper]}", f"{why}\n{LLMQ_QUERY_LABEL}{query}")
        for context, theorem, why, query in _LLMQ_CASES
    ],
    PromptStyle.small: [
        (f"{context}\n\nTheorem: {theorem}\n\n{LLMQ_INSTRUCTIONS[PromptStyle.small]}", query) for context, theorem, _, query in _LLMQ_CASES
    ],
}
_LEXICAL_EXAMPLES = [
    (f"Theorem: {_ANGLES_SUMMARY}\n\n{TASK_LEXICAL}", "polygon interior angle sum formula"),
]


def one_step_thought(problem: str, steps: Sequence[str]) -> Messages:
    """OST: the next single step; a step with a ``\\boxed{}`` answer ends the trajectory."""
    return _chat(_OST_EXAMPLES, _request(OST_INSTRUCTION, _context(problem, steps)))


def complete_remaining_steps(problem: str, steps: Sequence[str], style: PromptStyle = PromptStyle.paper) -> Messages:
    """CRS: the rest of the solution, ending with a ``\\boxed{}`` answer."""
    return _chat(_CRS_EXAMPLES[style], _request(CRS_INSTRUCTIONS[style], _context(problem, steps)))


def _qg_instruction(candidates: int, style: PromptStyle) -> str:
    how_many = f"up to {candidates}" if candidates > 0 else "as many as are truly useful"
    instruction = (
        f"{TASK_QG} ({how_many}), without solving the problem. For each write 'Theorem N:' with its name and "
        "statement, then 'Preconditions:', 'Why they hold:' and 'Subject:'."
    )
    return f"{instruction} {QG_NOT_ALREADY_USED}" if style is PromptStyle.paper else instruction


def generate_query(problem: str, steps: Sequence[str], candidates: int = 2, style: PromptStyle = PromptStyle.paper) -> Messages:
    """QG: candidate theorems (hypothetical documents); each becomes its own retrieval query."""
    instruction = _qg_instruction(candidates, style)
    return _chat([(f"{_LADDER_CONTEXT}\n\n{instruction}", _QG_REPLY)], _request(instruction, _context(problem, steps)))


def judge_theorem(problem: str, steps: Sequence[str], theorem: str) -> Messages:
    """Self-reflection: the verdict word first (so a short budget never cuts it off), then a reason."""
    return _chat(_JUDGE_EXAMPLES, _request(JUDGE_INSTRUCTION, _context(problem, steps), _theorem(theorem)))


def summarize_theorem(theorem: str) -> Messages:
    """Self-summarization: the theorem in plain language, as later steps will read it."""
    return _chat(_SUMMARY_EXAMPLES, _request(SUMMARY_INSTRUCTION, _theorem(theorem)))


def reasoning_query(problem: str, steps: Sequence[str], theorem: str, style: PromptStyle = PromptStyle.paper) -> Messages:
    """q_llmq: one question stating the information need, with little lexical overlap with the theorem
    (``paper``: after the theorem's preconditions and why they hold, labelled ``Query:``)."""
    return _chat(_LLMQ_EXAMPLES[style], _request(LLMQ_INSTRUCTIONS[style], _context(problem, steps), _theorem(theorem)))


def lexical_query(theorem: str) -> Messages:
    """q_lexical: a short keyword query written from the theorem alone."""
    return _chat(_LEXICAL_EXAMPLES, _request(TASK_LEXICAL, _theorem(theorem)))


# -- reading a request back (an LLM that answers from known facts needs what the prompt shows) ----
class PromptKind(str, Enum):
    OST = "ost"
    CRS = "crs"
    QG = "qg"
    JUDGE = "judge"
    SUMMARY = "summary"
    LLMQ = "llmq"
    LEXICAL = "lexical"


# Every instruction begins with its task; the instruction is the request's last paragraph.
_KIND_OF_TASK = {
    TASK_OST: PromptKind.OST,
    TASK_CRS: PromptKind.CRS,
    TASK_QG: PromptKind.QG,
    TASK_JUDGE: PromptKind.JUDGE,
    TASK_SUMMARY: PromptKind.SUMMARY,
    TASK_LLMQ: PromptKind.LLMQ,
    TASK_LEXICAL: PromptKind.LEXICAL,
}
_WITH_PROBLEM = {PromptKind.OST, PromptKind.CRS, PromptKind.QG, PromptKind.JUDGE, PromptKind.LLMQ}
_WITH_THEOREM = {PromptKind.JUDGE, PromptKind.SUMMARY, PromptKind.LLMQ, PromptKind.LEXICAL}
_STEP_START = re.compile("(?:^|\n)" + re.escape(STEP_LABEL).replace(r"\{index\}", r"\d+"))


# What only the paper style's instruction of a kind says (kinds not listed read the same in both).
_PAPER_WORDING = {
    PromptKind.CRS: CRS_INSTRUCTIONS[PromptStyle.paper],
    PromptKind.QG: QG_NOT_ALREADY_USED,
    PromptKind.LLMQ: LLMQ_INSTRUCTIONS[PromptStyle.paper],
}


@dataclass(frozen=True)
class Request:
    """What a prompt of this module shows: its kind, and the problem, steps and theorem it holds,
    and the style of its instruction."""

    kind: PromptKind
    problem: str | None = None
    steps: tuple[str, ...] = ()
    theorem: str | None = None
    style: PromptStyle = PromptStyle.paper


def read_request(messages: Messages) -> Request:
    """The request of a prompt made by this module's builders, read from its last message with
    the same labels the builders write. Raises ValueError for any other prompt."""
    content = messages[-1]["content"]
    body, _, instruction = content.rpartition(PARAGRAPH)
    kind = next((kind for task, kind in _KIND_OF_TASK.items() if instruction.startswith(task)), None)
    if kind is None:
        raise ValueError(f"not a prompt of rader_hub.generation.prompts (its last paragraph is {instruction[:80]!r})")
    problem, steps, theorem = None, (), None
    if kind in _WITH_PROBLEM:
        problem, _, body = body.removeprefix(PROBLEM_LABEL).partition(PARAGRAPH + STEPS_LABEL)
        shown_steps, _, body = body.partition(PARAGRAPH + THEOREM_LABEL) if kind in _WITH_THEOREM else (body, "", "")
        steps = () if shown_steps == NO_STEPS else tuple(_STEP_START.split(shown_steps)[1:])
        theorem = body if kind in _WITH_THEOREM else None
    else:
        theorem = body.removeprefix(THEOREM_LABEL)
    paper_wording = _PAPER_WORDING.get(kind)
    style = PromptStyle.small if paper_wording is not None and paper_wording not in instruction else PromptStyle.paper
    return Request(kind, problem, steps, theorem, style)
