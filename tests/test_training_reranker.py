"""`rader train reranker` on tiny data, its loss, and dense-then-rerank retrieval."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_DOCUMENTS, write_jsonl
from helpers import run_rader, smollm2_gguf, tiny_triples

from rader_hub.errors import ConfigError
from rader_hub.evaluation.rerank import RerankingRetriever, load_reranker
from rader_hub.retrieval import BM25Retriever
from rader_hub.training import RerankerTrainingConfig, train_reranker
from rader_hub.training.losses import GroupedRerankLoss


class ScoreByLength:
    """A stand-in cross-encoder whose score is the document length: the reranked order is known."""

    def predict(self, pairs, batch_size=32, show_progress_bar=False):
        return np.array([len(document) for _, document in pairs], dtype=np.float32)


def test_rerank_reorders_only_the_top_depth(tiny_corpus) -> None:
    first_stage = BM25Retriever(tiny_corpus)
    query = ["prime modulo divisible probability triangle"]
    first = first_stage.search(query, top_k=4)[0]
    reranked = RerankingRetriever(first_stage, ScoreByLength(), depth=2).search(query, top_k=4)[0]
    head_ids = [doc_id for doc_id, _ in first[:2]]
    expected_head = sorted(head_ids, key=lambda doc_id: -len(tiny_corpus[doc_id].full_text))
    assert [doc_id for doc_id, _ in reranked[:2]] == expected_head
    assert [doc_id for doc_id, _ in reranked[2:]] == [doc_id for doc_id, _ in first[2:]]
    scores = [score for _, score in reranked]
    assert scores == sorted(scores, reverse=True)


def test_rerank_respects_exclusions_and_score_matches_search(tiny_corpus) -> None:
    retriever = RerankingRetriever(BM25Retriever(tiny_corpus), ScoreByLength(), depth=3)
    ranking = retriever.search(["prime"], top_k=4, exclude=[frozenset({"bayes"})])[0]
    assert "bayes" not in [doc_id for doc_id, _ in ranking] and len(ranking) == 3
    matrix = retriever.score(["prime"])
    by_score = [tiny_corpus.ids[i] for i in np.argsort(-matrix[0], kind="stable")]
    assert by_score == [doc_id for doc_id, _ in retriever.search(["prime"], top_k=4)[0]]
    with pytest.raises(ConfigError, match="rerank depth must be >= 1, got 0"):
        RerankingRetriever(BM25Retriever(tiny_corpus), ScoreByLength(), depth=0)


class FixedLogits(torch.nn.Module):
    """Looks up a logit per (query, document) pair, so the loss can be checked by hand."""

    num_labels = 1
    device = torch.device("cpu")

    def __init__(self, logits: dict[tuple[str, str], float]) -> None:
        super().__init__()
        self.logits = logits

    def preprocess(self, pairs, **kwargs):
        return {"pairs": pairs}

    def forward(self, features):
        return {"scores": torch.tensor([[self.logits[pair]] for pair in features["pairs"]])}


def test_grouped_rerank_loss_is_cross_entropy_over_each_query_group() -> None:
    logits = {("q1", "p1"): 2.0, ("q1", "n1"): 0.0, ("q2", "p2"): 0.0, ("q2", "n2"): 1.0}
    loss = GroupedRerankLoss(FixedLogits(logits), temperature=0.5)([["q1", "q2"], ["p1", "p2"], ["n1", "n2"]])
    # No in-batch negatives: q1 sees only p1/n1, q2 only p2/n2. Logits are divided by 0.5.
    expected = (-np.log(np.exp(4) / (np.exp(4) + 1)) - np.log(1 / (1 + np.exp(2)))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_trained_reranker_ranks_each_question_s_theorem_first(tmp_path: Path, tiny_corpus) -> None:
    # Every other theorem is a negative, so the loss sees the whole ranking the reranker is then judged on.
    rows = [{**row, "negatives": [doc.full_text for doc in TINY_DOCUMENTS if doc.id != row["problem_id"]]} for row in tiny_triples()]
    data = write_jsonl(tmp_path / "triples.jsonl", rows)
    out = tmp_path / "reranker"
    result = run_rader(
        "train", "reranker", "--data", str(data), "--out", str(out), "--num-negatives", "3",
        "--max-steps", "12", "--batch-size", "2", "--max-seq-length", "64", "--lr", "1e-3", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 12 and (out / "loss_curve.png").is_file()

    # The trained cross-encoder reorders BM25's whole ranking (depth 4 of 4 documents): its order, not BM25's.
    retriever = RerankingRetriever(BM25Retriever(tiny_corpus), load_reranker(str(out)), depth=4)
    rankings = retriever.search([row["query"] for row in rows], top_k=4)
    assert [ranking[0][0] for ranking in rankings] == [row["problem_id"] for row in rows]


@pytest.mark.slow
def test_the_seed_fixes_the_initial_score_head(tmp_path: Path, tiny_data: Path) -> None:
    # One step at warm-up's learning rate 0: the saved model is the initial one, a fresh score head on MiniLM.
    def initial_score(seed: int, run: str) -> float:
        config = RerankerTrainingConfig(
            out_dir=tmp_path / run, num_negatives=1, max_steps=1, batch_size=2, max_seq_length=32, seed=seed, show_progress=False
        )
        train_reranker(config, tiny_data)
        return float(load_reranker(str(tmp_path / run)).predict([("What is 2^100 modulo 101?", TINY_DOCUMENTS[3].full_text)])[0])

    first = initial_score(7, "first")
    assert initial_score(7, "again") == first
    assert initial_score(8, "other") != first


def _margins(reranker, rows) -> list[float]:
    """Per query: its positive's score minus its best negative's."""
    margins = []
    for row in rows:
        scores = reranker.predict([(row["query"], text) for text in [row["positive"], *row["negatives"]]])
        margins.append(float(scores[0] - max(scores[1:])))
    return margins


@pytest.mark.slow
def test_the_paper_reranker_on_a_decoder_learns_to_put_positives_first(tmp_path: Path) -> None:
    """The paper's kind of reranker (a linear head on a decoder's EOS state, LoRA, "query: q document: d")
    on the tiny SmolLM2: training moves the positives' scores above their negatives'."""
    from transformers import set_seed

    from rader_hub.evaluation.rerank import Reranker
    from rader_hub.training.pair_format import PairFormat
    from rader_hub.training.reranker import load_cross_encoder

    rows = [{**row, "negatives": [doc.full_text for doc in TINY_DOCUMENTS if doc.id != row["problem_id"]]} for row in tiny_triples()]
    data = write_jsonl(tmp_path / "triples.jsonl", rows)
    out = tmp_path / "decoder-reranker"
    result = run_rader(
        "train", "reranker", "--data", str(data), "--out", str(out), "--base", str(smollm2_gguf()), "--preset", "paper",
        "--no-bf16", "--query-type", "question", "--num-negatives", "3", "--batch-size", "2", "--effective-batch-size", "2",
        "--warmup-steps", "0", "--max-steps", "12", "--max-seq-length", "64", "--lr", "1e-3", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    recorded = json.loads((out / "rader_training.json").read_text())
    assert recorded["lora"] is True and recorded["config"]["lora_alpha"] == 64 and recorded["config"]["query_prefix"] == "query: "

    trained = load_reranker(str(out))
    assert trained.pairs == PairFormat("query: ", "document: ")  # saved with the model, applied when it reranks
    tokenizer = trained.model.tokenizer
    encoded = tokenizer("query: a", "document: b")["input_ids"]
    assert encoded[-1] == tokenizer.eos_token_id and tokenizer.eos_token_id not in encoded[:-1]  # one EOS, at the end
    assert tokenizer.pad_token_id != tokenizer.eos_token_id  # so the head reads the EOS, not the token before it

    set_seed(42)  # the trainer's seed: the same fresh head the training started from
    initial = Reranker(load_cross_encoder(str(smollm2_gguf()), 64)[0], trained.pairs)
    before, after = _margins(initial, rows), _margins(trained, rows)
    assert sum(after) > sum(before) and sum(margin > 0 for margin in after) > sum(margin > 0 for margin in before), (before, after)
