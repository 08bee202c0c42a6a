"""Text for card tables: values as sanitized Markdown cells, job statistics and evaluation results as
rows, summaries of numbers. Cards (`hf_david.publish.cards`) fill their templates with these.
"""

from __future__ import annotations

import math
import shlex
import statistics
from typing import Any

from hf_david.publish.sanitize import sanitize


def cell(value: Any) -> str:
    """A table cell: lists joined, absolute paths shortened, pipes escaped."""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, float):
        value = f"{value:.4g}"
    return sanitize(str(value)).replace("|", "\\|").replace("\n", " ")


def command_text(command: str | list | None) -> str:
    """The command line as one shell string (argv lists are quoted), sanitized."""
    if isinstance(command, list):
        command = shlex.join(str(c) for c in command)
    return sanitize(command or "")


def size_category(n: int) -> str:
    """The Hub's `size_categories` bucket for `n` rows."""
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ]
    return next((label for bound, label in bounds if n < bound), "n>10M")


def stage_rows(manifest: dict) -> list[list[str]]:
    """Per-stage counters of the job (rows in/out, rejected, tokens, tokens/s, seconds) as table cells."""
    rows = []
    for stage, stats in (manifest.get("stats") or {}).items():
        if isinstance(stats, dict):
            rejected = stats.get("rejects")
            rejected = sum(rejected.values()) if isinstance(rejected, dict) else rejected
            tokens, seconds = stats.get("tokens"), stats.get("seconds")
            rate = round(tokens / seconds, 1) if tokens and seconds else None
            cells = (stats.get("rows_in"), stats.get("rows_out"), rejected, tokens, rate, seconds)
            rows.append([cell(stage)] + ["-" if c is None else cell(c) for c in cells])
    return rows


def clip(text: str, limit: int = 300) -> str:
    """`text` as a cell, cut at a word boundary after `limit` characters (for card examples)."""
    text = cell(text)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def summary(values: list[float]) -> str:
    """Median, mean, min and max of the finite values, in one line ("" when there are none)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ""
    return (
        f"median {statistics.median(finite):.3g}, mean {statistics.fmean(finite):.3g}, "
        f"min {min(finite):.3g}, max {max(finite):.3g}"
    )


def ifd_rows(levels: list, ifds: list) -> list[tuple[str, int, str, str]]:
    """Per level: (level, rows with an IFD, median IFD, share of rows with IFD < 1), for the card.

    A dataset written before hf_david recorded `ifd` has no such column: then there are no rows."""
    if not ifds:
        return []
    by_level: dict[str, list[float]] = {}
    for level, value in zip(levels, ifds, strict=True):
        if value is not None and math.isfinite(value):
            by_level.setdefault(level, []).append(value)
    return [
        (cell(level), len(v), f"{statistics.median(v):.3f}", f"{100 * sum(x < 1 for x in v) / len(v):.0f}%")
        for level, v in sorted(by_level.items())
    ]


def eval_rows(results: Any) -> list[tuple[str, str, str]]:
    """Flatten eval results: {bench: {metric: v}}, {metric: v} or [{benchmark, metric, value}]."""
    rows: list[tuple[str, str, str]] = []
    if isinstance(results, list):
        for r in results:
            if isinstance(r, dict) and "metric" in r and "value" in r:
                bench = r.get("benchmark", r.get("dataset", "-"))
                rows.append((cell(bench), cell(r["metric"]), cell(r["value"])))
    elif isinstance(results, dict):
        for key, value in results.items():
            if isinstance(value, dict):
                rows += [(cell(key), cell(m), cell(v)) for m, v in value.items() if isinstance(v, int | float)]
            elif isinstance(value, int | float):
                rows.append(("-", cell(key), cell(value)))
    return rows
