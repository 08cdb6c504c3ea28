"""Load the base model a retriever is trained from.

A sentence-transformers model (a folder or Hub id with ``modules.json``) is loaded as it is. A
decoder LLM (a ``*ForCausalLM`` checkpoint, or a ``.gguf`` file) becomes a bi-encoder the way the
paper builds one: the last layer's hidden state of an EOS token appended to every text
(last-token pooling), normalised so that dot product is cosine similarity. Any other
transformers encoder gets mean pooling, as sentence-transformers does by default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rader_hub.assets import EMBEDDED, resolve_embedder, resolve_generator
from rader_hub.errors import AssetError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaseModelSpec:
    location: str
    gguf_file: str | None
    display_name: str


def resolve_base(base: str) -> BaseModelSpec:
    """``embedded`` is MiniLM; a ``.gguf`` file is loaded (dequantised) through transformers."""
    if base.endswith(".gguf"):
        if not Path(base).is_file():
            raise AssetError(f"base model '{base}': no such GGUF file")
        resolved = resolve_generator(base)
    else:
        resolved = resolve_embedder(base)
    return BaseModelSpec(resolved.location, resolved.gguf_file, resolved.display_name if base == EMBEDDED else base)


def _has_modules_json(spec: BaseModelSpec) -> bool:
    if spec.gguf_file:
        return False
    folder = Path(spec.location)
    if folder.is_dir():
        return (folder / "modules.json").is_file()
    from huggingface_hub import file_exists

    try:
        return file_exists(spec.location, "modules.json")
    except Exception:  # offline or unknown id: loading the config below reports it
        return False


def _config(spec: BaseModelSpec):
    from transformers import AutoConfig

    kwargs = {"gguf_file": spec.gguf_file} if spec.gguf_file else {}
    try:
        return AutoConfig.from_pretrained(spec.location, **kwargs)
    except (OSError, ValueError) as exc:
        raise AssetError(f"base model '{spec.display_name}' cannot be found or read: {str(exc).splitlines()[0]}") from exc


def is_decoder(config) -> bool:
    return any(architecture.endswith("ForCausalLM") for architecture in (config.architectures or []))


def is_decoder_base(spec: BaseModelSpec) -> bool:
    """A decoder LLM that is not already a sentence-transformers model: a GGUF file (llama.cpp holds
    LLMs; its config lists no architecture) or a ``*ForCausalLM`` checkpoint."""
    return spec.gguf_file is not None or (not _has_modules_json(spec) and is_decoder(_config(spec)))


def append_eos(tokenizer, between_pair: bool = True) -> None:
    """Make the (fast) tokenizer append EOS to every text, so last-token pooling reads the EOS state;
    a pair gets one after each text, or (``between_pair=False``) only after the second.

    Done in the tokenizer's post-processor, which is saved in tokenizer.json: a model loaded later
    with plain ``SentenceTransformer(path)`` keeps appending it, and truncation leaves room for it.
    """
    from tokenizers.processors import TemplateProcessing

    eos, eos_id = tokenizer.eos_token, tokenizer.eos_token_id
    if eos is None or eos_id is None or not tokenizer.is_fast:
        raise AssetError("last-token pooling needs a fast tokenizer with an EOS token")
    pair = f"$A {eos} $B {eos}" if between_pair else f"$A $B {eos}"
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(single=f"$A {eos}", pair=pair, special_tokens=[(eos, eos_id)])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = eos  # decoders often ship without one; the attention mask hides it


def detach_gguf_quantizer(transformers_model) -> None:
    """A GGUF file loaded without GGUF kernels is dequantised to ordinary float weights, but stays
    marked as quantised, which blocks saving. Drop the mark so checkpoints and the result save as a
    plain transformers model; refuse if weights are still packed (then they cannot be trained)."""
    quantizer = getattr(transformers_model, "hf_quantizer", None)
    if quantizer is None:
        return
    if getattr(quantizer, "packed_modules", None):  # GGUF matmul kernels kept blocks packed
        raise AssetError("this GGUF model kept packed (quantised) weights, which cannot be fine-tuned; use an unquantised checkpoint")
    transformers_model.hf_quantizer = None
    if "is_quantized" in vars(transformers_model):  # set as a plain attribute by some loaders
        transformers_model.is_quantized = False
    for attribute in ("quantization_config", "_is_quantized"):
        if hasattr(transformers_model.config, attribute):
            delattr(transformers_model.config, attribute)


def load_base_model(base: str):
    """Return (SentenceTransformer, is_decoder); raise AssetError if the base cannot be loaded."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    spec = resolve_base(base)
    if _has_modules_json(spec):
        try:
            model = SentenceTransformer(spec.location)
        except (OSError, ValueError) as exc:
            raise AssetError(f"base model '{spec.display_name}' cannot be loaded: {str(exc).splitlines()[0]}") from exc
        decoder = any(getattr(module, "pooling_mode", None) == "lasttoken" for module in model)
    else:
        config = _config(spec)
        decoder = spec.gguf_file is not None or is_decoder(config)  # GGUF holds llama.cpp LLMs; its config lists no architecture
        gguf = {"gguf_file": spec.gguf_file} if spec.gguf_file else {}
        transformer = Transformer(spec.location, model_kwargs=dict(gguf), processor_kwargs=dict(gguf), config_kwargs=dict(gguf))
        if spec.gguf_file:
            detach_gguf_quantizer(transformer.model)
        if decoder:
            append_eos(transformer.tokenizer)
        pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="lasttoken" if decoder else "mean")
        model = SentenceTransformer(modules=[transformer, pooling, Normalize()])
    logger.info("base model %s loaded (%s)", spec.display_name, "decoder, last-token pooling" if decoder else "encoder")
    return model, decoder
