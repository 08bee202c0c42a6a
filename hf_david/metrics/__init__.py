"""hf_david's evaluation metrics, shipped as `evaluate` modules so `evaluate.load(path)` works offline.

- `superni`: exact match and ROUGE-L exactly as SuperNI's official scorer, with per-task/per-category
  breakdowns;
- `longform_meteor`: the `evaluate` "meteor" module's METEOR, averaged per LongForm source subset.
"""

from __future__ import annotations

from pathlib import Path

METRICS = ("superni", "longform_meteor")


def metric_path(name: str) -> str:
    """Path of a metric's `evaluate` script, for `evaluate.load(metric_path(name))`."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; hf_david ships {', '.join(METRICS)}")
    return str(Path(__file__).resolve().parent / name / f"{name}.py")


def load_metric(name: str, **kwargs):
    """`evaluate.load` of one of hf_david's metrics (no network: the script is local)."""
    import evaluate

    return evaluate.load(metric_path(name), **kwargs)
