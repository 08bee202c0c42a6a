"""The paper's stages as batched `datasets.map` transforms: extract, generate, filter, and their composition."""

from hf_david.stages.base import ModelSettings, Stage, StageStats
from hf_david.stages.extract import LEVELS, Extract, ExtractConfig
from hf_david.stages.filter import FilterConfig, PerplexityFilter
from hf_david.stages.generate import GenerateConfig, GenerateInstructions
from hf_david.stages.pipeline import ExtractThenGenerate, PipelineConfig, build_stages, extract_then_generate
from hf_david.stages.rejects import REJECT_COLUMNS, REJECT_DETAIL, REJECT_REASON, REJECT_STAGE, Reason

__all__ = [
    "LEVELS",
    "REJECT_COLUMNS",
    "REJECT_DETAIL",
    "REJECT_REASON",
    "REJECT_STAGE",
    "Extract",
    "ExtractConfig",
    "ExtractThenGenerate",
    "FilterConfig",
    "GenerateConfig",
    "GenerateInstructions",
    "ModelSettings",
    "PerplexityFilter",
    "PipelineConfig",
    "Reason",
    "Stage",
    "StageStats",
    "build_stages",
    "extract_then_generate",
]
