"""Language models: loading (aliases, Hub ids, local folders), batched sampling and perplexity scoring."""

from hf_david.models.loading import (
    DEFAULT_MODEL,
    alias_revision,
    cache_dir,
    load_model,
    load_tokenizer,
    resolve_model,
)

__all__ = ["DEFAULT_MODEL", "alias_revision", "cache_dir", "load_model", "load_tokenizer", "resolve_model"]
