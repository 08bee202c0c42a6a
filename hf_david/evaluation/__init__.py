"""`hf-david evaluate` as a library: `EvalConfig`, benchmark rows and prompts, and the runner."""

from hf_david.evaluation.benchmarks import LABELS, load_benchmark, render_prompts, tk_instruct_prompt
from hf_david.evaluation.config import BENCHMARKS, EvalConfig
from hf_david.evaluation.runner import evaluate_model, generate, score

__all__ = [
    "BENCHMARKS",
    "LABELS",
    "EvalConfig",
    "evaluate_model",
    "generate",
    "load_benchmark",
    "render_prompts",
    "score",
    "tk_instruct_prompt",
]
