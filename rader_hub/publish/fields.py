"""What each column of a generation dataset holds, in words a reader of the dataset card needs (the
field dictionary). One entry per column the save step and `rader review pull` write; a column
missing here is listed on the card as undocumented, so a new column cannot pass silently."""

from __future__ import annotations

FIELDS = {
    # The training triple.
    "query": "The training query (what the retriever encodes as the question); its kind is in `query_type`.",
    "positive": "The positive theorem's text: title, a newline, then its description from the corpus.",
    "negatives": "Hard negatives: theorem texts (title, newline, description), distinct within a row.",
    "query_type": (
        "`cot`: the problem plus the reasoning steps before retrieval; `question`: the problem alone; "
        "`llmq`: one sentence the LLM wrote about what the step needs; `lexical`: keywords the LLM wrote from the theorem."
    ),
    "positive_id": "Corpus id of the positive theorem.",
    "negative_ids": "Corpus ids of `negatives`, in the same order.",
    # Where the row came from.
    "problem_id": "Id of the math problem; rows of one problem share positives, so split train/test by this column.",
    "problem": "The math problem the LLM was solving.",
    "partial_solution": "The reasoning steps before retrieval, as the judge saw them (empty when retrieval came first).",
    "reward": "1.0 when the trajectory's final answer matched the gold answer, else 0.0.",
    "judge_verdict": (
        "The judge's verdict on the positive: `relevant`, or `not relevant` when a relaxed filter kept the top theorem "
        "although the judge rejected it (`kept_by_relaxation`)."
    ),
    "judge_reason": "The judge's explanation of its verdict on the positive.",
    "generator": "The LLM that solved the problem inside the search.",
    "judge": "The LLM that judged each retrieved theorem (self-reflection).",
    "search_retriever": "The retriever used inside the search (what the LLM's queries were run against).",
    "query_generator": "The LLM that wrote the `llmq` and `lexical` queries.",
    "negative_source": (
        "`self-reflection`: negatives are theorems the judge rejected for the same step; `bm25+dense`: mined by "
        "BM25 and a dense retriever (lexical rows)."
    ),
    "recipe_name": "Name of the generation recipe.",
    "recipe_hash": "Hash of every setting of the run; equal hashes mean the same recipe.",
    "filters": "Every filter setting the row was made under (a struct: name to value).",
    "relaxed_filters": "Names of the filters looser than the paper's for this row (empty: the paper's filters).",
    # For auditing and review.
    "sample_id": "Id of the (problem, trajectory, positive) sample the row's four query types share.",
    "gold_answer": "The problem's reference answer.",
    "final_answer": "The answer the trajectory reached.",
    "qg_query": "The query the LLM wrote inside the search to retrieve this theorem (provenance only, never a training query).",
    "positive_summary": "The summary of the positive theorem the judge read.",
    "kept_by_relaxation": "True when the positive was kept only because a relaxed filter keeps the top theorem if none is judged relevant.",
    "reflection_negative_ids": "Ids of the theorems the judge rejected for this step (the verdicts below belong to these).",
    "reflection_negative_verdicts": "The judge's verdict on each rejected theorem (always `not relevant`).",
    "reflection_negative_reasons": "The judge's explanation for each rejected theorem.",
    "trajectory": "Every step of the solution path, retrieval included.",
    "trajectory_actions": (
        "The action of each step of `trajectory`: OST (one reasoning step), QG (a retrieval query), RT (the retrieved theorem), "
        "CRS (the remaining steps to a final answer)."
    ),
    "lexical_bm25_rank": "For `lexical` rows: BM25's rank of the positive for the query (the round-trip filter's check).",
    "unparsed_verdict_ids": "Theorems retrieved for the same query whose verdict could not be read: neither positive nor negative.",
    "generator_revision": "Exact revision of the generator (a file hash, a Hub commit, or the server).",
    "seed": "The search's random seed.",
    "rader_hub_version": "rader-hub version that made the row.",
    "distilabel_version": "distilabel version that ran the pipeline.",
    "transformers_version": "transformers version of the run.",
    "created_at": "When the row was written (UTC).",
    # Added by `rader review pull`.
    "human_verdict": "The reviewers' majority verdict on the positive (`relevant` / `not relevant`), or empty when not decided.",
    "annotators": "Who answered the review of this row's positive.",
    "review_status": "`reviewed`, `tie` (no majority), `pending` (pushed, unanswered) or `not_pushed`.",
}


def field_dictionary(schema) -> list[dict[str, str]]:
    """Every column of an Arrow ``schema``: its name, its type in plain words, and its description
    ("undocumented" when none)."""
    return [{"name": field.name, "type": _type_name(field.type), "description": FIELDS.get(field.name, "undocumented")} for field in schema]


def _type_name(arrow_type) -> str:
    import pyarrow as pa

    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"list of {_type_name(arrow_type.value_type)}"
    if pa.types.is_struct(arrow_type):
        return "struct"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_boolean(arrow_type):
        return "true/false"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type):
        return "number"
    return str(arrow_type)
