from hf_david.evaluation.runner import EvalConfig, evaluate_model, render_prompts

__all__ = ["EvalConfig", "evaluate_model", "render_prompts"]
