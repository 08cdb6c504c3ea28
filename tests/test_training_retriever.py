"""`rader train retriever` end to end on tiny data: saved prompts, checkpoints, resume, bad input.

The end-to-end runs start `rader` in a subprocess (slow); the Python API is covered in process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_DOCUMENTS, write_jsonl
from helpers import FAST_TRAINING, run_rader

from rader_hub.assets import resolve_embedder
from rader_hub.cli import app
from rader_hub.cli.failures import flag_message
from rader_hub.corpus import Corpus
from rader_hub.errors import ConfigError, RaderError
from rader_hub.fingerprints import files_fingerprint
from rader_hub.retrieval import DenseRetriever
from rader_hub.training import RetrieverTrainingConfig, train_retriever
from rader_hub.training.reproduce import local_data_name


@pytest.mark.slow
def test_trained_model_loads_plainly_with_its_prompts(tmp_path: Path, tiny_data: Path) -> None:
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "model"
    result = run_rader(
        "train",
        "retriever",
        "--data",
        str(tiny_data),
        "--out",
        str(out),
        "--num-negatives",
        "2",
        "--max-steps",
        "2",
        "--json",
        *FAST_TRAINING,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 2 and summary["num_negatives"] == 2
    assert (out / "loss_curve.png").stat().st_size > 0
    assert not (out / "checkpoints").exists()  # removed once the final model is saved

    model = SentenceTransformer(str(out))
    assert model.prompts["query"] == "Query: " and model.prompts["passage"] == "Passage: "
    assert model.max_seq_length == 256  # training truncation is not baked into the saved model
    text = "the pigeonhole principle"
    with_prompt = model.encode(text, prompt_name="query")
    assert np.allclose(with_prompt, model.encode("Query: " + text), atol=1e-5)
    assert not np.allclose(with_prompt, model.encode(text), atol=1e-3)

    base = SentenceTransformer(resolve_embedder().location)
    assert not np.allclose(base.encode("Query: " + text), with_prompt, atol=1e-4)  # training changed the weights
    retriever = DenseRetriever(Corpus(TINY_DOCUMENTS), model=str(out))  # what `rader eval --model` builds
    passages = model.encode(["Passage: " + doc.full_text for doc in TINY_DOCUMENTS], normalize_embeddings=True)
    np.testing.assert_allclose(retriever.doc_embeddings, passages, atol=1e-5)
    recorded = json.loads((out / "rader_training.json").read_text())
    assert recorded["train_rows"] == 4 and len([e for e in recorded["log_history"] if "loss" in e]) == 2
    assert recorded["data"] == {"path": str(tiny_data), "config": None, "split": None}


@pytest.mark.slow
def test_resume_continues_from_the_last_checkpoint(tmp_path: Path, tiny_data: Path) -> None:
    out = tmp_path / "model"
    common = [
        "train",
        "retriever",
        "--data",
        str(tiny_data),
        "--out",
        str(out),
        "--num-negatives",
        "1",
        "--save-steps",
        "1",
        *FAST_TRAINING,
    ]
    first = run_rader(*common, "--max-steps", "2", "--keep-checkpoints", "--json")
    assert first.returncode == 0, first.stderr
    state_file = out / "checkpoints" / "checkpoint-2" / "trainer_state.json"
    # Mark the checkpoint's history: a resumed run carries the mark, a run from scratch would not.
    state = json.loads(state_file.read_text())
    state["log_history"][0]["loss"] = 123.0
    state_file.write_text(json.dumps(state))

    # A run killed while writing checkpoint-3 leaves its folder without trainer_state.json (written
    # last) or weights: resuming goes on from checkpoint-2 (bench/fault_injection.py found this).
    partial = out / "checkpoints" / "checkpoint-3"
    partial.mkdir()
    (partial / "config.json").write_text((out / "checkpoints" / "checkpoint-2" / "config.json").read_text())

    resumed = run_rader(*common, "--max-steps", "3", "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.strip().splitlines()[-1])["steps"] == 3
    recorded = json.loads((out / "rader_training.json").read_text())
    assert recorded["resumed_from"] == "checkpoint-2"
    losses = {entry["step"]: entry["loss"] for entry in recorded["log_history"] if "loss" in entry}
    assert sorted(losses) == [1, 2, 3] and losses[1] == 123.0  # steps 1-2 restored, step 3 trained


def test_a_checkpoint_killed_while_written_is_not_resumed_from(tmp_path: Path) -> None:
    from rader_hub.training.runtime import checkpoint_to_resume, last_complete_checkpoint

    checkpoints = tmp_path / "checkpoints"
    for step, complete in ((1, True), (2, True), (10, False)):  # by step number, not name order
        folder = checkpoints / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"")
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    assert last_complete_checkpoint(checkpoints) == checkpoints / "checkpoint-2"
    # A kill while the checkpoints were deleted in place: the state is there, the weights are gone.
    (checkpoints / "checkpoint-3").mkdir()
    (checkpoints / "checkpoint-3" / "trainer_state.json").write_text("{}")
    assert last_complete_checkpoint(checkpoints) == checkpoints / "checkpoint-2"
    (checkpoints / "checkpoint-1" / "trainer_state.json").unlink()
    (checkpoints / "checkpoint-2" / "trainer_state.json").unlink()
    (checkpoints / "checkpoint-3" / "trainer_state.json").unlink()
    assert last_complete_checkpoint(checkpoints) is None
    with pytest.raises(RaderError, match="no complete checkpoint found"):
        checkpoint_to_resume(checkpoints)


def training_forward_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many texts each forward pass of a sentence-transformers model in training mode encodes
    (encode() for the model card after training runs in eval mode)."""
    from sentence_transformers import SentenceTransformer

    sizes: list[int] = []
    forward = SentenceTransformer.forward

    def recording_forward(self, features, **kwargs):
        if self.training:
            sizes.append(len(features["input_ids"]))
        return forward(self, features, **kwargs)

    monkeypatch.setattr(SentenceTransformer, "forward", recording_forward)
    return sizes


@pytest.mark.parametrize("mini_batch_size", [pytest.param(0, marks=pytest.mark.slow), 1], ids=["infonce", "cached-infonce"])
def test_the_python_api_trains_with_cached_infonce_when_asked(
    tmp_path: Path, tiny_data: Path, monkeypatch: pytest.MonkeyPatch, mini_batch_size: int
) -> None:
    # In process, through the Python API: the cached loss (GradCache) encodes the batch of 2 queries in
    # chunks of mini_batch_size texts; the plain loss encodes whole columns. The forward passes show which ran.
    sizes = training_forward_sizes(monkeypatch)
    config = RetrieverTrainingConfig(
        out_dir=tmp_path / "model", num_negatives=1, max_steps=1, batch_size=2, mini_batch_size=mini_batch_size,
        max_seq_length=32, temperature=0.05, save_steps=100, show_progress=False,
    )  # fmt: skip
    result = train_retriever(config, tiny_data)
    assert (result.steps, result.train_rows, result.num_negatives) == (1, 4, 1) and result.train_loss is not None
    assert sizes
    assert max(sizes) == 1 if mini_batch_size == 1 else max(sizes) > 1, sizes
    assert (tmp_path / "model" / "model.safetensors").is_file()
    recorded = json.loads((tmp_path / "model" / "rader_training.json").read_text())
    assert recorded["data"] == {"path": str(tiny_data), "config": None, "split": None}
    # What reproduces it, with no path of this machine: the data's content and the command with its settings.
    name = local_data_name(str(tiny_data))
    assert recorded["dataset_revision"] == {"name": name, "fingerprint": files_fingerprint(tiny_data), "recipe_hashes": []}
    assert recorded["reproduce"]["train"] == (
        f"rader train retriever --data {name} --out model --base embedded --max-steps 1 --num-negatives 1 "
        f"--temperature 0.05 --batch-size 2 --mini-batch-size {mini_batch_size} --max-seq-length 32"
    )
    assert str(tmp_path) not in str(recorded["reproduce"])


@pytest.mark.parametrize(
    ("rows", "extra", "expected"),
    [
        ([{"query": "q", "text": "p"}], [], "needs columns 'query' and 'positive'"),
        ([{"query": "q", "positive": "p", "negatives": []}], ["--num-negatives", "1"], "line 1: empty 'negatives'"),
        ([{"query": "q", "positive": "p", "negatives": ["n"]}], ["--base", "/no/such/model"], "base model '/no/such/model'"),
        ([{"query": "q", "positive": "p", "negatives": ["n"]}], ["--resume"], "--resume: no complete checkpoint found"),
    ],
    ids=["missing-positive", "empty-negatives", "missing-base", "nothing-to-resume"],
)
def test_bad_input_fails_before_training(tmp_path: Path, rows: list[dict], extra: list[str], expected: str) -> None:
    # In process (no interpreter start-up): the console script turns RaderError into "error: ..." and exit 2.
    data = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(RaderError) as raised:
        app(["train", "retriever", "--data", str(data), "--out", str(tmp_path / "m"), *extra], standalone_mode=False)
    assert expected in flag_message(raised.value)  # as main() reports it
    assert not (tmp_path / "m" / "model.safetensors").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="bf16 is allowed where a GPU exists")
def test_bf16_on_a_cpu_only_machine_is_refused_with_exit_2(tmp_path: Path, tiny_data: Path) -> None:
    result = run_rader("train", "retriever", "--data", str(tiny_data), "--out", str(tmp_path / "m"), "--bf16")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --bf16 needs a CUDA GPU, and none is available on this machine (train in fp32 instead)"


def test_the_paper_preset_holds_the_papers_training_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from rader_hub.training.config import PAPER_LORA_TARGETS, retriever_config
    from rader_hub.training.runtime import trainer_arguments

    config = retriever_config("model", "paper", batch_size=16)  # a field given beside the preset wins
    assert (config.num_negatives, config.temperature, config.learning_rate, config.epochs) == (11, 0.01, 1e-4, 1.0)
    assert (config.lora, config.lora_rank, config.lora_alpha, config.lora_dropout) == (True, 16, 64, 0.1)
    assert config.lora_target_modules == PAPER_LORA_TARGETS == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert config.query_types == ["llmq", "cot", "lexical"] and config.bf16 and config.gather_across_devices
    assert (config.query_prompt, config.passage_prompt, config.batch_size) == ("Query: ", "Passage: ", 16)
    arguments = trainer_arguments(config, 1e-4, has_eval=False)
    assert (arguments["warmup_steps"], arguments["gradient_accumulation_steps"], arguments["lr_scheduler_type"]) == (28, 4, "linear")
    monkeypatch.setenv("WORLD_SIZE", "2")  # two processes: half the accumulation for the same 64 queries per step
    assert trainer_arguments(config, 1e-4, has_eval=False)["gradient_accumulation_steps"] == 2
    monkeypatch.setenv("WORLD_SIZE", "3")
    with pytest.raises(ConfigError, match=r"effective_batch_size 64 is not a multiple of batch_size 16 x 3 process\(es\)"):
        trainer_arguments(config, 1e-4, has_eval=False)
    with pytest.raises(ConfigError, match=r"unknown training preset 'papers' \(presets: paper\)"):
        retriever_config("model", "papers")


def test_the_paper_reranker_preset() -> None:
    from rader_hub.training.config import PAPER_LORA_TARGETS, reranker_config

    config = reranker_config("model", "paper")
    assert (config.query_prefix, config.document_prefix, config.num_negatives, config.learning_rate) == ("query: ", "document: ", 11, 1e-4)
    assert (config.lora, config.lora_rank, config.lora_alpha, config.lora_target_modules) == (True, 16, 64, PAPER_LORA_TARGETS)
    assert config.effective_batch_size == 64 and config.warmup_steps == 28 and config.query_types == ["llmq", "cot", "lexical"]
