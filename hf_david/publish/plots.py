"""Every PNG hf_david draws: the perplexity histogram, level chart and hygiene charts (first words,
instruction lengths, unsupported terms, languages) of a dataset card, and the training loss curve saved
beside a model (shown by its card).

Figures use matplotlib's Agg backend (no display needed) and are saved without the "Software" metadata,
so the same data gives byte-identical files and re-pushing a folder changes nothing on the Hub.
"""

from __future__ import annotations

import math
from pathlib import Path


def _figure(width: float, height: float):
    """A matplotlib figure and axes on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def _save_figure(fig, path: Path) -> None:
    """Write `fig` to `path` as a reproducible PNG and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def plot_ppl_histogram(kept: list[float], candidates: list[float], path: Path) -> None:
    """log10 perplexity of the kept rows, over that of every candidate, written to `path`."""
    import numpy as np

    fig, ax = _figure(6, 3.5)
    logs = [math.log10(p) for p in kept if p > 0 and math.isfinite(p)]
    all_logs = [math.log10(p) for p in candidates if p > 0 and math.isfinite(p)]
    bins = np.histogram_bin_edges(all_logs or logs, bins=30 if len(logs) > 60 else 15)
    if all_logs:
        ax.hist(all_logs, bins=bins, alpha=0.45, label="all candidates", color="tab:gray")
    ax.hist(logs, bins=bins, alpha=0.8, label="kept (lowest per output)", color="tab:blue")
    ax.set_xlabel("log10 perplexity of the output given the instruction")
    ax.set_ylabel("count")
    ax.set_title("Perplexity under the scorer")
    ax.legend()
    _save_figure(fig, path)


def plot_levels(counts: dict[str, int], path: Path) -> None:
    """Kept rows per extraction level, as a bar chart written to `path`."""
    fig, ax = _figure(6, 3.2)
    ax.bar(list(counts), list(counts.values()), color="tab:green")
    ax.set_ylabel("kept rows")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Rows per extraction level")
    _save_figure(fig, path)


def plot_loss_curve(history: list[dict], path: Path) -> None:
    """Train (and eval) loss against the step, from a Trainer `log_history`, written to `path`."""
    fig, ax = _figure(6, 4)
    for key, label in (("loss", "train"), ("eval_loss", "eval")):
        points = [(h["step"], h[key]) for h in history if key in h and math.isfinite(h[key])]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o" if key == "eval_loss" else None, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (completion tokens)")
    ax.legend()
    ax.grid(alpha=0.3)
    _save_figure(fig, path)


def plot_bars(counts: list[tuple[str, int]], path: Path, title: str, xlabel: str) -> None:
    """Horizontal bars of (label, count), the first on top, written to `path` (first words, languages...)."""
    fig, ax = _figure(6, 0.6 + 0.28 * max(len(counts), 3))
    labels, values = [str(label) for label, _ in counts], [count for _, count in counts]
    ax.barh(labels[::-1], values[::-1], color="tab:purple")
    ax.set_xlabel(xlabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title)
    _save_figure(fig, path)


def plot_lengths(lengths: list[int], path: Path) -> None:
    """Histogram of instruction lengths in words, written to `path`."""
    fig, ax = _figure(6, 3.2)
    ax.hist(lengths, bins=range(0, max(lengths, default=0) + 2), color="tab:orange", align="left")
    ax.set_xlabel("instruction length (words)")
    ax.set_ylabel("rows")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Instruction lengths")
    _save_figure(fig, path)


def plot_estimates(estimates: dict[str, dict], path: Path, title: str, ylabel: str) -> None:
    """One bar per label with its 95% interval (`{"value", "low", "high"}` each), written to `path`."""
    fig, ax = _figure(1.6 + 1.1 * len(estimates), 3.5)
    labels = list(estimates)
    values = [estimates[k]["value"] for k in labels]
    errors = [[v - estimates[k]["low"] for k, v in zip(labels, values, strict=True)],
              [estimates[k]["high"] - v for k, v in zip(labels, values, strict=True)]]  # fmt: skip
    ax.bar(labels, values, yerr=errors, capsize=4, color="#4c72b0")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=20)
    _save_figure(fig, path)


def plot_histograms(series: dict[str, list[float]], path: Path, title: str, xlabel: str, bins: int = 30) -> None:
    """Overlaid histograms of each labelled series (non-finite values left out), written to `path`."""
    import numpy as np

    fig, ax = _figure(6, 3.5)
    finite = {k: [v for v in vals if math.isfinite(v)] for k, vals in series.items()}
    everything = [v for vals in finite.values() for v in vals] or [0.0]
    edges = np.linspace(min(everything), max(everything) + 1e-9, bins + 1)
    for label, vals in finite.items():
        ax.hist(vals, bins=edges, alpha=0.5, label=f"{label} (n={len(vals)})")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rows")
    ax.legend()
    _save_figure(fig, path)
