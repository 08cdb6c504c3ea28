"""LoRA adapters on a transformers model, merged back before saving (retriever and reranker)."""

from __future__ import annotations

from typing import Any


def apply_lora(transformers_model: Any, rank: int, alpha: int, dropout: float, targets: list[str] | None) -> None:
    """Inject LoRA adapters with peft directly (transformers' add_adapter wants a newer peft than
    PyPI has); only the adapter weights train. ``targets``: module names (None: every linear layer)."""
    from peft import LoraConfig, inject_adapter_in_model

    lora = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets or "all-linear")
    inject_adapter_in_model(lora, transformers_model)


def merge_lora(transformers_model: Any) -> None:
    """Fold LoRA weights into the base layers, so the saved model is a plain transformers model."""
    from peft.tuners.lora import LoraLayer

    for name, module in list(transformers_model.named_modules()):
        if isinstance(module, LoraLayer):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            parent = transformers_model.get_submodule(parent_name) if parent_name else transformers_model
            setattr(parent, child, module.get_base_layer())
    if hasattr(transformers_model, "peft_config"):  # peft's record of the injected adapter
        del transformers_model.peft_config
