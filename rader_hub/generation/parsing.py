"""Robust parsers for generator output.

Every parser returns None when the text is unusable; callers discard that node and count it.
Small models ramble, repeat the prompt and copy placeholders, so parsers take the first usable
piece and never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rader_hub.schema import NOT_RELEVANT, RELEVANT, UNPARSED

_PREFIX = re.compile(r"^\s*(?:\*\*)?(?:step\s*\d*|query|search query|answer|summary|theorem)\s*[:.\-]\s*(?:\*\*)?\s*", re.I)
_PLACEHOLDER = re.compile(r"\\boxed\{\s*(?:answer|final answer|your answer|\.\.\.)\s*\}", re.I)
_MIN_WORDS = 3


def clean(text: str | None) -> str:
    """Strip whitespace, code fences and a leading label such as 'Step 2:'."""
    if not text:
        return ""
    text = text.replace("```", "").strip()
    return _PREFIX.sub("", text, count=1).strip()


def parse_step(text: str | None, max_chars: int = 1200) -> str | None:
    """One reasoning step: the first paragraph, or the paragraph holding a \\boxed answer."""
    body = clean(text)
    if not body or _PLACEHOLDER.search(body):
        return None
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    step = next((p for p in paragraphs if "\\boxed" in p), paragraphs[0])
    step = step[:max_chars].strip()
    return step if len(step.split()) >= 1 and re.search(r"[\w\d]", step) else None


def parse_solution(text: str | None, max_chars: int = 4000) -> str | None:
    """A complete remaining solution; usable when non-empty and not a copied placeholder."""
    body = clean(text)
    if not body or _PLACEHOLDER.search(body) or not re.search(r"[\w\d]", body):
        return None
    return body[:max_chars].strip()


def parse_query(text: str | None, max_chars: int = 1500) -> str | None:
    """A retrieval query (QG's hypothetical theorem): at least a few words."""
    body = clean(text)
    if len(body.split()) < _MIN_WORDS:
        return None
    return body[:max_chars].strip()


def parse_sentence(text: str | None, max_chars: int = 400, min_words: int = _MIN_WORDS) -> str | None:
    """A single-sentence query: the first sentence, without quotes or a label."""
    body = clean(text)
    if not body:
        return None
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    match = re.match(r"(.+?[.?!])[\"'”]?(?:\s|$)", first_line)
    sentence = (match.group(1) if match else first_line).strip().strip("\"'“”").strip()
    if len(sentence.split()) < min_words:
        return None
    return sentence[:max_chars]


_QUERY_LABEL = re.compile(r"^\s*\**query\**\s*:\s*(.+)$", re.I | re.M)


def parse_labelled_query(text: str | None, max_chars: int = 400) -> str | None:
    """The question after the last ``Query:`` label (the paper-style q_llmq reply, which states the
    theorem's preconditions first); None when the reply has no such label."""
    matches = _QUERY_LABEL.findall((text or "").replace("```", ""))
    if not matches:
        return None
    return matches[-1].strip().strip("\"'“”").strip()[:max_chars] or None


def parse_summary(text: str | None, max_chars: int = 1500) -> str | None:
    """A plain-language theorem summary: at least a few words."""
    return parse_query(text, max_chars)


@dataclass(frozen=True)
class Verdict:
    label: str  # RELEVANT, NOT_RELEVANT or UNPARSED
    reason: str


_REASON = re.compile(r"\breason\s*[:\-]", re.I)
# The requested format: 'Relevant: yes' / 'Relevant: no' (true/false as the official prompts use).
_LABELLED = re.compile(r"\brelevan(?:t|ce)\s*[:=\-]?\s*\**\s*(yes|no|true|false)\b", re.I)
_VERDICT_WORDS = [
    (re.compile(r"\bnot\s+relevant\b|\birrelevant\b|\bnot\s+useful\b", re.I), NOT_RELEVANT),
    (re.compile(r"\brelevant\b|\buseful\b", re.I), RELEVANT),
    (re.compile(r"\b(?:no|false)\b", re.I), NOT_RELEVANT),
    (re.compile(r"\b(?:yes|true)\b", re.I), RELEVANT),
]


def parse_verdict(text: str | None) -> Verdict:
    """Self-reflection verdict, read from the text before 'Reason:' (a reason's words are no verdict).

    'Relevant: yes/no/true/false' wins; otherwise the earliest verdict word ('not relevant' before
    'relevant'); otherwise UNPARSED. The reason is the text after 'Reason:' if present.
    """
    body = clean(text)
    reason_at = _REASON.search(body)
    head = body[: reason_at.start()] if reason_at else body
    reason = body[reason_at.end() :] if reason_at else body
    reason = " ".join(reason.split())[:300]
    labelled = _LABELLED.search(head)
    if labelled:
        return Verdict(RELEVANT if labelled.group(1).lower() in ("yes", "true") else NOT_RELEVANT, reason)
    best: tuple[int, int, str] | None = None  # (position, pattern priority, label)
    for priority, (pattern, label) in enumerate(_VERDICT_WORDS):
        match = pattern.search(head)
        if match and (best is None or (match.start(), priority) < best[:2]):
            best = (match.start(), priority, label)
    if best is None:
        return Verdict(UNPARSED, " ".join(body.split())[:300])
    return Verdict(best[2], reason)


_CANDIDATE = re.compile(r"(?:^|\n)\s*\**\s*theorem\s*\d*\s*\**\s*[:.)\-]\s*", re.I)
_CANDIDATE_END = re.compile(r"\n\s*\**\s*(?:preconditions?|why they hold|subject)\b", re.I)


def parse_candidate_theorems(text: str | None, limit: int = 0, max_chars: int = 1500) -> list[str]:
    """QG output: the candidate theorems' 'name. statement' parts, each a retrieval query.

    Blocks start at 'Theorem N:'; a block's preconditions, why they hold and subject are not part
    of its query (the official code retrieves with name and statement). Output without any
    'Theorem' label counts as one candidate. ``limit`` > 0 keeps the first ``limit``; repeated
    candidates are dropped.
    """
    body = (text or "").replace("```", "").strip()
    starts = [match.end() for match in _CANDIDATE.finditer(body)]
    blocks = [body[start:end] for start, end in zip(starts, [m.start() for m in _CANDIDATE.finditer(body)][1:] + [len(body)])]
    if not starts:
        blocks = [body]
    queries: list[str] = []
    for block in blocks:
        end = _CANDIDATE_END.search(block)
        query = parse_query(block[: end.start()] if end else block, max_chars)
        if query is not None and query.lower() not in (q.lower() for q in queries):
            queries.append(query)
    return queries[:limit] if limit > 0 else queries
