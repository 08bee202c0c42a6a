"""extract -> generate -> filter composed into one batched map transform, configured once.

`PipelineConfig` is one flat config for the whole pipeline: every stage config's fields, with `model`,
`revision`, `dtype` and `seed` shared by all stages (each stage may override the model: `fragment_model`,
`generator`, `scorer`). `build_stages(config)` gives the stages in order, for any runner (the job, Ray);
`ExtractThenGenerate` runs them in one `Dataset.map` (cached by config fingerprint) or
`IterableDataset.map`: passages (column `text`) in, instruction rows (`instruction`, `input`, `output`,
`level`, `source_id`, `ppl`, `candidates`, `candidate_ppls`, plus the reject columns) out.
"""

from __future__ import annotations

from dataclasses import dataclass

from hf_david.stages.base import Stage
from hf_david.stages.extract import Extract, ExtractConfig
from hf_david.stages.filter import FilterConfig, PerplexityFilter
from hf_david.stages.generate import GenerateConfig, GenerateInstructions


@dataclass
class PipelineConfig(FilterConfig, GenerateConfig, ExtractConfig):
    """All settings of extract-then-generate; each stage reads its own fields from it."""


def build_stages(config: PipelineConfig) -> list[Stage]:
    """The pipeline's stages, in order, each configured from `config`."""
    return [Extract(config), GenerateInstructions(config), PerplexityFilter(config)]


class ExtractThenGenerate(Stage):
    """Passages in, filtered instruction/output rows out (one per extracted segment)."""

    name = "extract_then_generate"
    config_class = PipelineConfig

    def __init__(self, config: PipelineConfig | None = None) -> None:
        super().__init__(config)
        self.stages = build_stages(self.config)

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        for stage in self.stages:
            batch = stage(batch)
        return batch


extract_then_generate = ExtractThenGenerate()
