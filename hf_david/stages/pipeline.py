"""extract → generate → filter composed into one batched map transform.

`ds.map(extract_then_generate, batched=True)` turns a dataset of passages (column `text`) into
instruction data: `instruction`, `input`, `output`, `level`, `source_id`, `ppl`, `candidates`,
`candidate_ppls`, and `reject_stage`/`reject_reason` for rows that could not be used. It works with
`Dataset.map` (cached by config fingerprint) and with streaming `IterableDataset.map`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hf_david.stages.base import Transform
from hf_david.stages.extract import Extract, ExtractConfig
from hf_david.stages.filter import FilterConfig, PerplexityFilter
from hf_david.stages.generate import GenerateConfig, GenerateInstructions


@dataclass
class ExtractThenGenerateConfig:
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    filter: FilterConfig = field(default_factory=FilterConfig)


class ExtractThenGenerate(Transform):
    """Passages in, filtered instruction/output rows out (one per extracted segment)."""

    def __init__(self, config: ExtractThenGenerateConfig | None = None) -> None:
        super().__init__(config or ExtractThenGenerateConfig())
        self.stages: list[Transform] = [
            Extract(self.config.extract),
            GenerateInstructions(self.config.generate),
            PerplexityFilter(self.config.filter),
        ]

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        for stage in self.stages:
            batch = stage(batch)
        return batch


extract_then_generate = ExtractThenGenerate()
