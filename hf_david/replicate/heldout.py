"""E0 (generator) and E1 (filter): on held-out Dolly rows, the human response is the output and the human
instruction the reference.

E0 runs the full pipeline twice (`--levels passage`, K candidates, the perplexity filter) with the trained
generator and with the untrained few-shot baseline, and compares the kept instruction to the human one by
ROUGE-L, a rejected row counting as 0. E1 samples K_filter candidates per output with the trained generator
and compares the candidate each rule would keep: min-PPL (the paper's), min-IFD, a random one, max-PPL.

Decontamination is off in these jobs: their outputs *are* held-out Dolly rows, which it would remove.
Writes OUT/e0|e1/: the jobs, `rows.jsonl` (one line per held-out row), `results.json` and plots.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np

from hf_david.publish.plots import plot_estimates, plot_histograms
from hf_david.replicate.common import heldout_rows, run_job, train_rows, write_jsonl
from hf_david.replicate.config import ReplicateConfig
from hf_david.replicate.stats import estimate, paired_difference, rouge_l


def _corpus(config: ReplicateConfig, out: Path) -> list[dict]:
    rows = heldout_rows(config)
    write_jsonl(out / "heldout.jsonl", rows)
    return rows


def generator_experiment(config: ReplicateConfig, out: Path) -> dict:
    """E0: trained generator vs few-shot baseline, full pipeline, ROUGE-L against the human instruction."""
    rows = _corpus(config, out)
    arms = {"trained": config.generator, "few-shot": config.baseline_generator}
    kept = {}
    for arm, generator in arms.items():
        data = run_job(
            config, out / "heldout.jsonl", out / f"job-{arm}", generator=generator, k=config.k,
            levels=["passage"], decontaminate=False,
        )  # fmt: skip
        kept[arm] = train_rows(data)
    per_row = []
    for row in rows:
        record = {"dolly_row": row["id"], "human": row["instruction"]}
        for arm in arms:
            hit = kept[arm].get((str(row["id"]), "passage"))
            record[arm] = hit["instruction"] if hit else ""
            record[f"rougeL_{arm}"] = rouge_l(record[arm], row["instruction"])
            record[f"ifd_{arm}"] = hit["ifd"] if hit else None
        per_row.append(record)
    write_jsonl(out / "rows.jsonl", per_row)
    scores = {arm: [r[f"rougeL_{arm}"] for r in per_row] for arm in arms}
    results = {
        "rows": len(rows),
        "k": config.k,
        "generators": arms,
        "kept": {arm: len(kept[arm]) for arm in arms},
        "rougeL": {arm: estimate(scores[arm], config.resamples, config.seed) for arm in arms},
        "difference": paired_difference(scores["trained"], scores["few-shot"], config.resamples, config.seed),
    }
    plot_estimates(results["rougeL"], out / "rougeL.png", "E0: ROUGE-L vs the human instruction", "ROUGE-L")
    return results


def _choices(ppls: list[float], finite: list[int], alone: float, rng: random.Random) -> dict[str, int]:
    """The candidate index each selection rule keeps, among the `finite` (finite-perplexity) candidates;
    `alone` is the row's PPL(output | empty user turn), IFD's denominator."""
    return {
        "min-PPL": min(finite, key=lambda j: ppls[j]),
        "min-IFD": min(finite, key=lambda j: ppls[j] / alone),
        "random": rng.choice(finite),
        "max-PPL": max(finite, key=lambda j: ppls[j]),
    }


def filter_experiment(config: ReplicateConfig, out: Path) -> dict:
    """E1: which candidate to keep. ROUGE-L against the human instruction and the share with IFD < 1, per rule;
    `random` is reported both as one seeded draw per row and as the expectation over a row's candidates."""
    rows = {str(r["id"]): r for r in _corpus(config, out)}
    data = run_job(
        config, out / "heldout.jsonl", out / "job", generator=config.generator, k=config.k_filter,
        levels=["passage"], decontaminate=False,
    )  # fmt: skip
    rng = random.Random(config.seed)
    per_row = []
    for row in data["train"]:
        human = rows[row["source_id"]]["instruction"]
        alone = row["ppl"] / row["ifd"]
        finite = [j for j, p in enumerate(row["candidate_ppls"]) if math.isfinite(p)]
        rouge = [rouge_l(c, human) for c in row["candidates"]]
        record = {"dolly_row": int(row["source_id"]), "human": human, "candidates": row["candidates"]}
        record.update(candidate_ppls=row["candidate_ppls"], candidate_rougeL=rouge, ppl_alone=alone)
        for rule, j in _choices(row["candidate_ppls"], finite, alone, rng).items():
            record[rule] = {"index": j, "rougeL": rouge[j], "ifd": row["candidate_ppls"][j] / alone}
        record["random-expected"] = {
            "rougeL": float(np.mean([rouge[j] for j in finite])),
            "ifd_below_1": float(np.mean([row["candidate_ppls"][j] / alone < 1 for j in finite])),
        }
        per_row.append(record)
    write_jsonl(out / "rows.jsonl", per_row)
    return _filter_results(config, out, per_row, len(rows))


def _filter_results(config: ReplicateConfig, out: Path, per_row: list[dict], n_rows: int) -> dict:
    rules = ("min-PPL", "min-IFD", "random", "max-PPL")
    rouge = {rule: [r[rule]["rougeL"] for r in per_row] for rule in rules}
    rouge["random-expected"] = [r["random-expected"]["rougeL"] for r in per_row]
    below = {rule: [float(r[rule]["ifd"] < 1) for r in per_row] for rule in rules}
    below["random-expected"] = [r["random-expected"]["ifd_below_1"] for r in per_row]
    est = {"resamples": config.resamples, "seed": config.seed}
    results = {
        "heldout_rows": n_rows,
        "rows_with_candidates": len(per_row),
        "k": config.k_filter,
        "mean_candidates": float(np.mean([len(r["candidates"]) for r in per_row])) if per_row else 0.0,
        "rougeL": {rule: estimate(v, **est) for rule, v in rouge.items()},
        "ifd_below_1": {rule: estimate(v, **est) for rule, v in below.items()},
        "min_ifd_equals_min_ppl": float(np.mean([r["min-IFD"]["index"] == r["min-PPL"]["index"] for r in per_row])),
        "differences": {
            "min-PPL - random-expected": paired_difference(rouge["min-PPL"], rouge["random-expected"], **est),
            "min-PPL - random": paired_difference(rouge["min-PPL"], rouge["random"], **est),
            "min-PPL - max-PPL": paired_difference(rouge["min-PPL"], rouge["max-PPL"], **est),
        },
    }
    plot_estimates(results["rougeL"], out / "rougeL.png", "E1: ROUGE-L of the kept candidate", "ROUGE-L")
    plot_histograms(
        {rule: [math.log10(r[rule]["ifd"]) for r in per_row if r[rule]["ifd"] > 0] for rule in ("min-PPL", "max-PPL")},
        out / "ifd.png", "E1: log10 IFD of the kept candidate", "log10 IFD (< 0: the instruction helps)",
    )  # fmt: skip
    return results
