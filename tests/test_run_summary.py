"""The screen `rader run` ends with: its evaluation table shows the metrics that say something."""

from __future__ import annotations

from rader_hub.cli.run import format_summary


def _summary(most_gold: int) -> dict:
    def run(label: str, ndcg: float) -> dict:
        return {"label": label, "ndcg@10": ndcg, "recall@10": 0.5, "p@10": 0.05, "most_gold": most_gold, "settings": {"queries": "q.jsonl"}}

    return {
        "recipe": "recipes/math.yaml",
        "stages": [{"name": "generate", "skipped": True, "seconds": 0}],
        "rows": 3,
        "rows_per_query_type": {"llmq": 3},
        "training": {"steps": 2, "train_rows": 3, "final_train_loss": 1.25, "model": "run/model", "loss_curve": "run/loss.png"},
        "evaluation": {"model": run("trained", 0.31), "base": run("base model", 0.29)},
        "evaluation_chart": "run/eval/ndcg.png",
        "run_folder": "run",
        "publish": {"uploaded": False, "folders": {"dataset": "d", "model": "m"}, "repos": {"model": "org/rader"}},
    }


def test_p_at_10_is_left_out_when_each_query_has_one_gold_document():
    text = format_summary(_summary(most_gold=1))
    header = next(line for line in text.splitlines() if line.startswith("evaluated on q.jsonl"))
    assert header.split()[-2:] == ["nDCG@10", "Recall@10"]
    assert "0.0500" not in text
    assert "model: trained" in text and "0.3100" in text and "0.5000" in text


def test_p_at_10_is_shown_when_a_query_may_have_several():
    text = format_summary(_summary(most_gold=3))
    header = next(line for line in text.splitlines() if line.startswith("evaluated on q.jsonl"))
    assert header.split()[-3:] == ["nDCG@10", "Recall@10", "P@10"]
    assert "0.0500" in text
