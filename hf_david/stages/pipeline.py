"""language -> extract -> generate -> filter -> hygiene composed into one batched map transform, configured once.

`PipelineConfig` is one flat config for the whole pipeline: every stage config's fields, with `model`,
`revision`, `dtype` and `seed` shared by all stages (each stage may override the model: `fragment_model`,
`generator`, `scorer`). `build_stages(config)` gives the stages in order, for any runner (the job, Ray);
`ExtractThenGenerate` runs them in one `Dataset.map` (cached by config fingerprint) or
`IterableDataset.map`: passages (column `text`) in, instruction rows (`instruction`, `input`, `output`,
`level`, `source_id`, `ppl`, `candidates`, `candidate_ppls`, `language`, `unsupported_terms`, plus the reject
columns) out. After the filter come the hygiene checks, each of which can be switched off: decontamination,
grounding flags and dedup (`hf_david.stages.decontaminate`, `.grounding`, `.dedup`); the language of each
passage is detected before extraction (`hf_david.stages.language`).
"""

from __future__ import annotations

from dataclasses import dataclass

from hf_david.stages.base import Stage
from hf_david.stages.decontaminate import Decontaminate, DecontaminateConfig
from hf_david.stages.dedup import Dedup, DedupConfig
from hf_david.stages.extract import Extract, ExtractConfig
from hf_david.stages.filter import FilterConfig, PerplexityFilter
from hf_david.stages.generate import GenerateConfig, GenerateInstructions
from hf_david.stages.grounding import Grounding, GroundingConfig
from hf_david.stages.language import DetectLanguage, LanguageConfig


@dataclass
class PipelineConfig(
    DedupConfig, GroundingConfig, DecontaminateConfig, FilterConfig, GenerateConfig, LanguageConfig, ExtractConfig
):
    """All settings of extract-then-generate and its hygiene checks; each stage reads its own fields from it."""


def build_stages(config: PipelineConfig) -> list[Stage]:
    """The pipeline's stages, in order, each configured from `config`; switched-off checks are left out."""
    stages = [DetectLanguage(config), Extract(config), GenerateInstructions(config), PerplexityFilter(config)]
    checks = ((config.decontaminate, Decontaminate), (config.grounding, Grounding), (config.dedup, Dedup))
    return stages + [check(config) for enabled, check in checks if enabled]


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
