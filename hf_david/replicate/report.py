"""OUT/replication.md: the tables of every finished experiment, rendered from the gathered results.

Every number is `value [low, high]`, the 95% bootstrap interval of hf_david.replicate.stats. Plots are the
PNGs each experiment wrote into its folder, linked relatively. The sample table lists 20 rows per level of
E2's all-levels job, drawn with the run's seed (no hand-picking).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from hf_david.replicate.config import EXPERIMENTS

SAMPLE_PER_LEVEL = 20


def _ci(e: dict, digits: int = 2) -> str:
    return f"{e['value']:.{digits}f} [{e['low']:.{digits}f}, {e['high']:.{digits}f}]"


def _diff(e: dict, digits: int = 2) -> str:
    return f"{e['value']:+.{digits}f} [{e['low']:+.{digits}f}, {e['high']:+.{digits}f}]" + (
        " (excludes 0)" if e["excludes_zero"] else " (includes 0)"
    )


def _e0(r: dict) -> list[str]:
    lines = [f"Held-out Dolly rows: {r['rows']}; K={r['k']}; a rejected row scores 0.", ""]
    lines += ["| generator | rows kept | ROUGE-L vs the human instruction |", "|---|---:|---|"]
    for arm, model in r["generators"].items():
        lines.append(f"| {arm} (`{model}`) | {r['kept'][arm]} | {_ci(r['rougeL'][arm])} |")
    return lines + ["", f"Trained - few-shot, paired: {_diff(r['difference'])}.", "", "![E0](e0/rougeL.png)"]


def _e1(r: dict) -> list[str]:
    lines = [
        f"{r['rows_with_candidates']} of {r['heldout_rows']} held-out rows have candidates (K={r['k']}, "
        f"{r['mean_candidates']:.2f} usable on average). `random-expected` is the mean over a row's candidates.",
        "",
        "| kept candidate | ROUGE-L vs the human instruction | share with IFD < 1 |",
        "|---|---|---|",
    ]
    lines += [f"| {rule} | {_ci(e)} | {_ci(r['ifd_below_1'][rule], 3)} |" for rule, e in r["rougeL"].items()]
    same = 100 * r["min_ifd_equals_min_ppl"]
    lines += ["", f"min-IFD keeps the same candidate as min-PPL on {same:.1f}% of rows.", ""]
    lines += [f"- {name}: {_diff(e)}" for name, e in r["differences"].items()]
    return lines + ["", "![E1 ROUGE-L](e1/rougeL.png) ![E1 IFD](e1/ifd.png)"]


def _e2(r: dict) -> list[str]:
    lines = [
        f"{r['passages']} passages, K={r['k']}; rows kept: "
        + ", ".join(f"{a} {n}" for a, n in r["rows"].items())
        + ". "
        f"Diversity on equal-size subsamples of {r['subsample_size']} instructions.",
        "",
        "| diversity | passage only | all levels | all levels - passage only |",
        "|---|---|---|---|",
    ]
    for name, d in r["diversity"].items():
        arms = d["subsampled"]
        digits = 1 if name == "first_words" else 3
        lines.append(
            f"| {name} | {_ci(arms['passage only'], digits)} | {_ci(arms['all levels'], digits)} | "
            f"{_diff(d['difference'], digits)} |"
        )
    lines += ["", "| alignment | rows | median IFD | share IFD < 1 | median PPL |", "|---|---:|---|---|---|"]
    groups = {**r["alignment"], **{f"all levels: {k}": v for k, v in r["alignment_by_level"].items()}}
    for name, a in groups.items():
        cells = [_ci(a["median_ifd"], 3), _ci(a["ifd_below_1"], 3), _ci(a["median_ppl"])]
        lines.append(f"| {name} | {a['rows']} | " + " | ".join(cells) + " |")
    lines += ["", f"Share IFD < 1, all levels - passage only: {_diff(r['ifd_below_1_difference'], 3)}.", ""]
    return lines + [" ".join(f"![E2 {p}](e2/{p}.png)" for p in ("pairwise_distance", "distinct_2", "ifd"))]


def _e3(r: dict) -> list[str]:
    lines = [f"Seed rows: {r['seed_rows']}; generated rows (E2, all levels): {r['generated_rows']}.", ""]
    lines += ["| arm | train rows | steps | mean train loss | seconds |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {a} | {t['train_rows']} | {t['global_step']} | {t['train_loss_mean']:.3f} | {t['wall_seconds']} |"
        for a, t in r["training"].items()
    ]
    arms = list(r["training"])
    lines += [
        "",
        "Instances: " + ", ".join(f"{b} {n}" for b, n in r["instances"].items()) + ".",
        "",
        "| metric | " + " | ".join(arms) + " |",
    ]
    lines.append("|---" * (len(arms) + 1) + "|")
    lines += [f"| {name} | " + " | ".join(_ci(by_arm[a]) for a in arms) + " |" for name, by_arm in r["scores"].items()]
    lines += ["", "Paired differences over instances:", ""]
    lines += [f"- {name}: {_diff(e)}" for name, e in r["differences"].items()]
    plots = " ".join(f"![{n}](e3/{n.replace(' ', '_')}.png)" for n in r["scores"])
    return lines + ["", plots]


def _samples(out: Path, seed: int) -> list[str]:
    """20 rows per level of E2's all-levels job, drawn with `seed`, as a Markdown table."""
    path = out / "e2" / "rows.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows = [r for r in rows if r["arm"] == "all levels"]
    lines = ["| level | instruction | output (first 160 characters) | IFD |", "|---|---|---|---:|"]
    rng = random.Random(seed)
    for level in sorted({r["level"] for r in rows}):
        of_level = [r for r in rows if r["level"] == level]
        for r in rng.sample(of_level, min(SAMPLE_PER_LEVEL, len(of_level))):
            cells = [r["instruction"], r["output"][:160]]
            cells = [c.replace("|", "\\|").replace("\n", " ") for c in cells]
            lines.append(f"| {level} | {cells[0]} | {cells[1]} | {r['ifd']:.3f} |")
    return lines


SECTIONS = {"e0": _e0, "e1": _e1, "e2": _e2, "e3": _e3}


def write_report(results: dict, out: Path) -> None:
    """Write OUT/replication.md from the gathered results (OUT/results.json)."""
    lines = ["# Replication results", "", f"Command: `{results['command']}`", ""]
    for name, r in results["experiments"].items():
        lines += [f"## {EXPERIMENTS[name]}", "", f"Wall time: {r['seconds']:.0f} s.", ""]
        lines += SECTIONS[name](r) + [""]
    samples = _samples(out, results["config"]["seed"])
    if samples:
        lines += ["## Sample rows (E2, all levels)", "", *samples, ""]
    (out / "replication.md").write_text("\n".join(lines))
