"""What a generation job runs on: the corpus and sharding settings, on top of the whole pipeline's config."""

from __future__ import annotations

from dataclasses import dataclass

from dataset_scripts.corpus import BUILTIN, Corpus
from hf_david.stages import PipelineConfig


@dataclass
class JobConfig(PipelineConfig):
    """`hf-david generate`'s settings: every pipeline setting, plus where passages come from and how the
    run is cut into checkpointed shards. The whole config is hashed into the manifest, so a resumed run
    must use the same settings."""

    corpus: str = BUILTIN  # Hub dataset id, local file or folder, or the built-in Python docs
    corpus_config: str | None = None  # Hub dataset config
    split: str = "train"  # Hub dataset split (streamed)
    corpus_revision: str | None = None
    max_passages: int | None = 16  # passages to use (0 or None: the whole corpus)
    shard_size: int = 8  # passages per checkpointed shard
    max_reject_rate: float = 0.5  # stop when more rows than this share are rejected

    def __post_init__(self) -> None:
        super().__post_init__()
        self.max_passages = self.max_passages or None
        if self.shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, got {self.shard_size}")

    @property
    def corpus_source(self) -> Corpus:
        return Corpus(self.corpus, self.corpus_config, self.split, self.corpus_revision)


class JobError(RuntimeError):
    """A job that cannot start or must stop; the message says why and what to do."""
