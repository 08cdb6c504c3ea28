"""Human review without a server: judged pairs, sampling, merge rules, agreement, the recipe step's YAML.

The fixture tests/data/review-math is a real embedded-recipe run (see its NOTE.md).
"""

from __future__ import annotations

import copy
import socket
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from helpers import find_pair

from rader_hub.errors import DataError
from rader_hub.review.agreement import agreement_report
from rader_hub.review.estimates import review_estimates, wilson_interval
from rader_hub.review.pairs import LABELS, JudgedPair, judged_pairs, load_generation_dataset, negative_judgements, stratified_sample
from rader_hub.review.pull import HumanVerdict, RejectedPositives, merge
from rader_hub.review.server import free_port

DATASET = Path(__file__).parent / "data" / "review-math"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return load_generation_dataset(DATASET).rows


def test_every_judged_pair_once_with_the_judges_verdict(rows):
    pairs = judged_pairs(rows)
    # 10 rows: each positive is judged; the 9 self-reflection rows have 2 judged negatives each;
    # the lexical row's negatives were mined by BM25/dense, never judged.
    assert len(rows) == 10 and len(pairs) == 10 + 9 * 2 == 28
    assert len({p.record_id for p in pairs}) == 28
    lexical = [r for r in rows if r["query_type"] == "lexical"]
    assert lexical and negative_judgements(lexical[0]) == []
    by_theorem = {(p.query_type, p.theorem_id, p.problem_id, p.query): p for p in pairs}
    cot = next(r for r in rows if r["query_type"] == "cot" and r["positive_id"] == "tqa-gamma-function")
    assert by_theorem[("cot", "tqa-gamma-function", cot["problem_id"], cot["query"])].judge_label == "relevant"
    negative = by_theorem[("cot", "tqa-black-scholes-model", cot["problem_id"], cot["query"])]
    assert negative.role == "negative" and negative.judge_label == "not_relevant"
    assert negative.judge_reason == cot["reflection_negative_reasons"][0]
    assert negative.theorem_title == "Black-Scholes Model"
    # An unparsed verdict is not a label: no suggestion, not counted in agreement.
    assert by_theorem[("cot", "tqa-gauss-wantzel-theorem", cot["problem_id"], cot["query"])].judge_label is None


def test_negative_verdicts_follow_ids_when_the_row_names_them(rows):
    row = copy.deepcopy(next(r for r in rows if r["negative_source"] == "self-reflection"))
    row["reflection_negative_ids"] = list(reversed(row["negative_ids"]))
    row["reflection_negative_verdicts"] = ["unparsed", "not relevant"]
    judged = {doc_id: label for doc_id, _, label, _ in negative_judgements(row)}
    assert judged == {row["negative_ids"][0]: "not_relevant", row["negative_ids"][1]: None}
    del row["reflection_negative_ids"]
    row["reflection_negative_verdicts"] = ["not relevant"]  # fewer verdicts than negatives: unknown, not guessed
    assert [label for _, _, label, _ in negative_judgements(row)] == [None, None]


def test_stratified_sample_covers_every_stratum_and_is_reproducible(rows):
    pairs = judged_pairs(rows)
    strata = {(p.judge_label, p.query_type) for p in pairs}
    assert len(strata) == 10
    sample = stratified_sample(pairs, 12, seed=3)
    assert len(sample) == 12 and {(p.judge_label, p.query_type) for p in sample} == strata
    assert [p.record_id for p in stratified_sample(pairs, 12, seed=3)] == [p.record_id for p in sample]
    assert {p.record_id for p in stratified_sample(pairs, 12, seed=4)} != {p.record_id for p in sample}
    assert stratified_sample(pairs, 100, seed=0) == pairs
    with pytest.raises(DataError, match="^sample=0: must be a positive number"):
        stratified_sample(pairs, 0, seed=0)


def test_missing_columns_are_named(tmp_path):
    table = pq.read_table(DATASET / "data" / "train-00000-of-00001.parquet").drop_columns(["judge_verdict", "reward"])
    pq.write_table(table, tmp_path / "broken.parquet")
    with pytest.raises(DataError, match=r"broken.parquet: missing column\(s\) judge_verdict, reward"):
        load_generation_dataset(tmp_path / "broken.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no Parquet files"):
        load_generation_dataset(tmp_path / "empty")


def test_merge_rules(rows):
    pairs = judged_pairs(rows)
    question_gamma = find_pair(pairs, "question", "tqa-gamma-function")
    cot_black = find_pair(pairs, "cot", "tqa-black-scholes-model")
    llmq_gamma = find_pair(pairs, "llmq", "tqa-gamma-function")
    verdicts = {
        question_gamma.record_id: HumanVerdict({"not_relevant": 2}, ("a", "b")),
        cot_black.record_id: HumanVerdict({"relevant": 1}, ("a",)),
        llmq_gamma.record_id: HumanVerdict({"relevant": 1, "not_relevant": 1}, ("a", "b")),
    }
    dropped = merge(rows, verdicts, RejectedPositives.drop)
    assert len(dropped.rows) == 9 and dropped.counts["rows_dropped_rejected_positive"] == 1
    assert not any(r["query_type"] == "question" and r["positive_id"] == "tqa-gamma-function" for r in dropped.rows)
    cot = next(r for r in dropped.rows if r["query_type"] == "cot" and r["positive_id"] == "tqa-gamma-function")
    assert cot["negative_ids"] == ["tqa-gauss-wantzel-theorem"] and len(cot["negatives"]) == 1  # humans accepted black-scholes
    llmq = next(r for r in dropped.rows if r["query_type"] == "llmq" and r["positive_id"] == "tqa-gamma-function")
    assert (llmq["review_status"], llmq["human_verdict"], llmq["annotators"]) == ("tie", None, ["a", "b"])
    assert {r["review_status"] for r in dropped.rows} == {"tie", "not_pushed"}

    moved = merge(rows, verdicts, RejectedPositives.negatives)
    other = next(r for r in moved.rows if r["query_type"] == "question" and r["positive_id"] == "tqa-doubling-the-cube")
    # The rejected positive becomes the first negative of the other row with the same problem and query.
    assert other["negative_ids"][0] == "tqa-gamma-function" and other["negatives"][0] == question_gamma.theorem
    assert moved.counts["rejected_positives_moved_to_negatives"] == 1
    source = next(r for r in rows if r["query_type"] == "question" and r["positive_id"] == "tqa-doubling-the-cube")
    assert source["negative_ids"][0] != "tqa-gamma-function"  # the input rows are not modified


def test_a_row_whose_every_negative_humans_accept_is_dropped(rows):
    # Found by bench/known_answer.py: such a row reached the trainer with no negative and stopped it.
    pairs = judged_pairs(rows)
    cot = next(r for r in rows if r["query_type"] == "cot" and r["positive_id"] == "tqa-gamma-function")
    accepted = [find_pair(pairs, "cot", doc_id) for doc_id in cot["negative_ids"]]
    verdicts = {pair.record_id: HumanVerdict({"relevant": 1}, ("a",)) for pair in accepted}
    merged = merge(rows, verdicts, RejectedPositives.drop)
    assert len(merged.rows) == len(rows) - 1 and all(row["negative_ids"] for row in merged.rows)
    assert merged.counts["rows_dropped_no_negatives_left"] == 1 and merged.counts["negatives_removed"] == len(accepted)


def test_agreement_figures_against_hand_computation(rows):
    pairs = judged_pairs(rows)
    judged = [p for p in pairs if p.judge_label is not None]
    relevant = [p for p in judged if p.judge_label == "relevant"][:2]
    not_relevant = [p for p in judged if p.judge_label == "not_relevant"][:3]
    unparsed = next(p for p in pairs if p.judge_label is None)
    human = {
        relevant[0]: "relevant",
        relevant[1]: "not_relevant",
        not_relevant[0]: "relevant",
        not_relevant[1]: "not_relevant",
        not_relevant[2]: "not_relevant",
        unparsed: "relevant",
    }
    report = agreement_report(list(human.items()))
    # By hand: 5 pairs with both labels, 3 agree; judge and humans both say relevant 2/5 of the time.
    p_observed = 3 / 5
    p_chance = (2 / 5) * (2 / 5) + (3 / 5) * (3 / 5)
    assert report["reviewed"] == 5 and report["judge_unparsed"] == 1 and report["labels"] == list(LABELS)
    assert report["agreement"] == pytest.approx(p_observed)
    assert report["cohen_kappa"] == pytest.approx((p_observed - p_chance) / (1 - p_chance))
    assert report["confusion_matrix"] == [[1, 1], [1, 2]]
    assert sum(v["reviewed"] for v in report["per_query_type"].values()) == 5
    one_label = agreement_report([(not_relevant[0], "not_relevant")])
    assert one_label["agreement"] == 1.0 and one_label["cohen_kappa"] is None  # undefined, not a number


def test_documented_recipe_yaml_for_the_review_step_loads(tmp_path):
    """The YAML of PushToArgilla's docstring, added to the embedded recipe, validates and builds the DAG."""
    from distilabel.pipeline import Pipeline

    from rader_hub.generation.recipe import validate_recipe
    from rader_hub.review.push_step import PushToArgilla

    docstring = PushToArgilla.__doc__ or ""
    blocks = [block.split("```", 1)[0] for block in docstring.split("```yaml")[1:]]
    step_entry, connection = (yaml.safe_load(textwrap.dedent(block)) for block in blocks)
    recipe = yaml.safe_load((REPO / "recipes" / "math.yaml").read_text())
    recipe["pipeline"]["steps"].extend(step_entry)
    for entry in recipe["pipeline"]["connections"]:
        if entry["from"] == "save_dataset":
            entry["to"] = ["push_to_argilla"]
    recipe["pipeline"]["connections"].extend(connection)
    path = tmp_path / "math-review.yaml"
    path.write_text(yaml.safe_dump(recipe))
    validate_recipe(path)
    pipeline = Pipeline.from_yaml(path)
    assert list(pipeline.dag.get_step_predecessors("push_to_argilla")) == ["save_dataset"]


def _pair(number: int, role: str, judge_label: str | None, query_type: str) -> JudgedPair:
    return JudgedPair(
        record_id=f"r{number}", role=role, problem_id=f"p{number}", problem="", partial_solution="", query_type=query_type,
        query=f"q{number}", theorem_id=f"t{number}", theorem="T\ntext", judge_label=judge_label, judge_reason="",
        judge="judge", reward=None, recipe_hash="h",
    )  # fmt: skip


def test_review_estimates_reweight_a_stratified_sample_to_the_dataset():
    # The data: 8 positives the judge called relevant (cot), 2 it rejected but a relaxed filter kept
    # (question); 30 negatives it rejected (cot) and 10 with an unparsed verdict (cot).
    cells = [("positive", "relevant", "cot", 8), ("positive", "not_relevant", "question", 2)]
    cells += [("negative", "not_relevant", "cot", 30), ("negative", None, "cot", 10)]
    kinds = [(role, label, query_type) for role, label, query_type, count in cells for _ in range(count)]
    pairs = [_pair(number, *kind) for number, kind in enumerate(kinds)]
    # The sample over-represents the rare stratum: 2 of 8, 2 of 2, 5 of 30, none of the unparsed.
    by_cell = {}
    for pair in pairs:
        by_cell.setdefault((pair.role, pair.judge_label, pair.query_type), []).append(pair)
    decided = [(p, "relevant") for p in by_cell[("positive", "relevant", "cot")][:2]]
    decided += [(p, "not_relevant") for p in by_cell[("positive", "not_relevant", "question")]]
    decided += [(p, "relevant" if i == 0 else "not_relevant") for i, p in enumerate(by_cell[("negative", "not_relevant", "cot")][:5])]
    votes = [{"relevant": 2}, {"relevant": 1, "not_relevant": 1}, {"not_relevant": 3}, {"relevant": 1}]

    estimates = review_estimates(pairs, decided, votes)

    positives = estimates["positives_relevant"]
    # Raw sample: 2 of 4 relevant; reweighted: (8 * 2/2 + 2 * 0/2) / 10 = 0.8.
    assert positives["rate"] == pytest.approx(0.8)
    assert (positives["reviewed"], positives["pairs"], positives["coverage"]) == (4, 10, 1.0)
    # Kish: weights 4, 4 (8/2) and 1, 1 (2/2): 10^2 / 34 = 2.9412; Wilson at 0.8 on 2.9412 by hand.
    assert positives["effective_sample"] == pytest.approx(100 / 34)
    assert (positives["low"], positives["high"]) == pytest.approx((0.28442, 0.97576), abs=1e-5)
    negatives = estimates["negatives_relevant"]
    # Only the rejected cell was reviewed (1 of 5 relevant); it holds 30 of the 40 negatives.
    assert negatives["rate"] == pytest.approx(0.2)
    assert (negatives["reviewed"], negatives["pairs"], negatives["coverage"]) == (5, 40, 0.75)
    assert negatives["effective_sample"] == pytest.approx(5.0)
    # Humans: records with 2+ answers agree pairwise 1, 0, 1; label shares 3/7 and 4/7.
    between = estimates["between_humans"]
    assert between["records"] == 3 and between["pairwise_agreement"] == pytest.approx(2 / 3)
    assert between["fleiss_kappa"] == pytest.approx(23 / 72)


def test_wilson_interval_matches_the_textbook_values():
    # 8 successes in 10 trials: Wilson 95% (0.4902, 0.9433); 0 of 10: (0, 0.2775).
    assert wilson_interval(0.8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson_interval(0.0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert review_estimates([_pair(1, "positive", "relevant", "cot")], [], [])["positives_relevant"] is None


def test_a_free_port_can_be_listened_on_at_once():
    """The one free_port: the local Argilla's Redis and search engine, and the tests' servers, start on it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", free_port()))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
