"""E2 (extraction): the same WikiText-2 passages through the default pipeline twice, with `--levels passage`
(no extraction) and with every level (extract-then-generate), compared on instruction diversity and
alignment.

Diversity: distinct-1/2 and the number of different first words (`hf_david.publish.diversity`), and the
mean pairwise Jaccard distance of the instructions' word 1-2-gram sets. Those counts grow with the number of
instructions, so both arms are measured on seeded subsamples of the same size (half the smaller arm), and
the interval is the 2.5-97.5 percentile range over `resamples` subsamples (paired by draw for the
difference). Alignment: the median IFD, the share of rows with IFD < 1 and the median perplexity, per arm
and per level, with bootstrap intervals over rows.

Writes OUT/e2/: `passages.jsonl`, the two jobs, `rows.jsonl` (every kept row of both arms), `results.json`
and plots. The all-levels job is also E3's generated data.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from hf_david.publish.diversity import diversity
from hf_david.publish.plots import plot_estimates, plot_histograms
from hf_david.replicate.common import drawn_passages, run_job, write_jsonl
from hf_david.replicate.config import ReplicateConfig
from hf_david.replicate.stats import (
    estimate,
    interval,
    mean_pairwise_distance,
    subsample_interval,
    unpaired_difference,
)
from hf_david.stages.extract import LEVELS

ARMS = {"passage only": ["passage"], "all levels": list(LEVELS)}
ALL_LEVELS_JOB = "job-all-levels"
METRICS = ("distinct_1", "distinct_2", "first_words", "pairwise_distance")


def measures(texts: list[str]) -> dict[str, float]:
    """Every diversity measure of `texts`, computed once."""
    numbers = diversity(texts)
    return {**{m: numbers[m] for m in METRICS[:3]}, "pairwise_distance": mean_pairwise_distance(texts)}


def extraction_experiment(config: ReplicateConfig, out: Path) -> dict:
    """E2: diversity and alignment of passage-only vs extract-then-generate instructions."""
    write_jsonl(out / "passages.jsonl", drawn_passages(config))
    kept = {}
    for arm, levels in ARMS.items():
        job = ALL_LEVELS_JOB if arm == "all levels" else "job-passage"
        data = run_job(config, out / "passages.jsonl", out / job, generator=config.generator, k=config.k, levels=levels)
        kept[arm] = [{**row, "arm": arm} for row in data["train"]]
    write_jsonl(out / "rows.jsonl", [_slim(row) for rows in kept.values() for row in rows])
    instructions = {arm: [r["instruction"] for r in rows] for arm, rows in kept.items()}
    size = max(2, min(map(len, instructions.values())) // 2)
    results = {
        "passages": config.passage_rows,
        "k": config.k,
        "rows": {arm: len(rows) for arm, rows in kept.items()},
        "subsample_size": size,
        "diversity": _diversity(config, instructions, size),
        "alignment": {arm: _alignment(config, rows) for arm, rows in kept.items()},
        "alignment_by_level": {
            level: _alignment(config, [r for r in kept["all levels"] if r["level"] == level])
            for level in sorted({r["level"] for r in kept["all levels"]})
        },
    }
    a, b = ([float(r["ifd"] < 1) for r in kept[arm]] for arm in ("all levels", "passage only"))
    results["ifd_below_1_difference"] = unpaired_difference(a, b, config.resamples, config.seed)
    _plots(results, kept, out)
    return results


def _slim(row: dict) -> dict:
    keys = ("arm", "source_id", "level", "instruction", "input", "output", "ppl", "ifd")
    return {k: row[k] for k in keys}


def _diversity(config: ReplicateConfig, instructions: dict[str, list[str]], size: int) -> dict:
    """Each measure per arm (all rows, and on equal-size subsamples) and the difference all levels - passage."""
    full, draws = {}, {}
    for arm, texts in instructions.items():
        full[arm], draws[arm] = subsample_interval(texts, measures, size, config.resamples, config.seed)
    result = {}
    for name in METRICS:
        arms = {arm: [d[name] for d in arm_draws] for arm, arm_draws in draws.items()}
        diff = [x - y for x, y in zip(arms["all levels"], arms["passage only"], strict=True)]
        result[name] = {
            "all_rows": {arm: full[arm][name] for arm in full},
            "subsampled": {arm: interval(d) for arm, d in arms.items()},
            "difference": interval(diff),
        }
    return result


def _alignment(config: ReplicateConfig, rows: list[dict]) -> dict:
    ifd = [r["ifd"] for r in rows if math.isfinite(r["ifd"])]
    ppl = [r["ppl"] for r in rows if math.isfinite(r["ppl"])]
    est = {"resamples": config.resamples, "seed": config.seed}
    return {
        "rows": len(rows),
        "median_ifd": estimate(ifd, statistic=np.median, **est),
        "ifd_below_1": estimate([float(v < 1) for v in ifd], **est),
        "median_ppl": estimate(ppl, statistic=np.median, **est),
    }


def _plots(results: dict, kept: dict[str, list[dict]], out: Path) -> None:
    plot_estimates(
        results["diversity"]["pairwise_distance"]["subsampled"], out / "pairwise_distance.png",
        f"E2: mean pairwise distance ({results['subsample_size']} instructions)", "Jaccard distance of 1-2-grams",
    )  # fmt: skip
    plot_estimates(
        results["diversity"]["distinct_2"]["subsampled"], out / "distinct_2.png",
        f"E2: distinct-2 ({results['subsample_size']} instructions)", "distinct-2",
    )  # fmt: skip
    plot_histograms(
        {arm: [math.log10(r["ifd"]) for r in rows if r["ifd"] > 0] for arm, rows in kept.items()},
        out / "ifd.png", "E2: log10 IFD of the kept instructions", "log10 IFD (< 0: the instruction helps)",
    )  # fmt: skip
