"""What a generation job runs on: the corpus and sharding settings, on top of the whole pipeline's config."""

from __future__ import annotations

from dataclasses import dataclass

from transformers.hf_argparser import HfArg

from dataset_scripts.corpus import BUILTIN, Corpus
from hf_david.stages import PipelineConfig


@dataclass
class JobConfig(PipelineConfig):
    """`hf-david generate`'s settings: every pipeline setting, plus where passages come from and how the
    run is cut into checkpointed shards. The whole config is hashed into the manifest, so a resumed run
    must use the same settings."""

    corpus: str = HfArg(
        default=BUILTIN,
        help=f"Hub dataset id, or local jsonl/json/csv/parquet/txt file or folder (default: {BUILTIN}, "
        "the prose of Python's reference docs)",
    )
    corpus_config: str | None = HfArg(default=None, help="Hub dataset config name")
    split: str = HfArg(default="train", help="Hub dataset split (streamed)")
    corpus_revision: str | None = HfArg(default=None, help="Hub dataset revision")
    max_passages: int | None = HfArg(default=16, help="passages to use (0: the whole corpus)")
    shard_size: int = HfArg(default=8, help="passages per checkpointed shard")
    max_reject_rate: float = HfArg(default=0.5, help="stop when more than this share of rows is rejected")

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
