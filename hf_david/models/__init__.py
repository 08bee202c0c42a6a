"""Language models: loading (aliases, Hub ids, local folders), the engines that sample and score, perplexity."""

from hf_david.models.engine import Engine, Sampling
from hf_david.models.engines import DEVICES, ENGINES, get_engine, resolve_device, resolve_engine
from hf_david.models.loading import (
    DEFAULT_MODEL,
    GENERATOR_MODEL,
    alias_revision,
    cache_dir,
    is_trained_generator,
    load_model,
    load_tokenizer,
    model_task,
    resolve_model,
)
from hf_david.models.scoring import encode_pair, score_outputs, score_pairs, score_with

__all__ = [
    "DEFAULT_MODEL",
    "GENERATOR_MODEL",
    "DEVICES",
    "ENGINES",
    "Engine",
    "Sampling",
    "get_engine",
    "resolve_device",
    "resolve_engine",
    "alias_revision",
    "cache_dir",
    "encode_pair",
    "is_trained_generator",
    "load_model",
    "load_tokenizer",
    "model_task",
    "resolve_model",
    "score_outputs",
    "score_pairs",
    "score_with",
]
