"""`hf-david replicate`: the statistics, and E0-E3 end to end with the tiny model on the committed fixtures."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DOLLY, WIKITEXT

from hf_david.replicate import ReplicateConfig, replicate
from hf_david.replicate.stats import estimate, mean_pairwise_distance, paired_difference, subsample_interval


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_rows():
    rng = np.random.default_rng(0)
    small, large = rng.normal(10, 5, 20), rng.normal(10, 5, 2000)
    a, b = estimate(small, 500, 0), estimate(large, 500, 0)
    assert a["low"] < a["value"] < a["high"] and b["low"] < b["value"] < b["high"]
    assert (b["high"] - b["low"]) < (a["high"] - a["low"]) / 3
    assert estimate(small, 500, 0) == a  # seeded


def test_paired_difference_sees_a_shift_that_unpaired_noise_hides():
    rng = np.random.default_rng(1)
    base = rng.normal(0, 10, 100)
    shifted = paired_difference(base + 1.0, base, 500, 0)
    assert shifted["excludes_zero"] and shifted["low"] == pytest.approx(1.0)
    same = paired_difference(base, base + rng.normal(0, 1, 100), 500, 0)
    assert not same["excludes_zero"]
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference([1, 2], [1], 10, 0)


def test_pairwise_distance_and_equal_size_subsamples():
    assert mean_pairwise_distance(["name the river", "name the river"]) == 0.0
    assert mean_pairwise_distance(["name the river", "why is sky blue"]) == 1.0
    full, draws = subsample_interval(["a b", "c d", "a b", "e f"], mean_pairwise_distance, 2, 50, 0)
    assert full == pytest.approx(5 / 6) and len(draws) == 50 and set(draws) <= {0.0, 1.0}


@pytest.fixture(scope="module")
def run(tiny_model, tmp_path_factory):
    config = ReplicateConfig(
        out=str(tmp_path_factory.mktemp("replicate")), model=tiny_model, generator=tiny_model,
        baseline_generator=tiny_model, heldout=str(DOLLY), heldout_rows=6, passages=str(WIKITEXT),
        passage_rows=4, shape_check=False, k=2, k_filter=3, seed_data=str(DOLLY), seed_rows=8,
        superni_instances=3, dolly_instances=2, eval_max_new_tokens=4, train_max_length=128, lora_layers=1,
        resamples=50,
    )  # fmt: skip
    return config, replicate(config, command="test")


def _rows(config, name):
    path = f"{config.out}/{name}/rows.jsonl"
    return [json.loads(line) for line in open(path)]


def test_generator_experiment_scores_every_heldout_row(run):
    config, results = run
    e0 = results["experiments"]["e0"]
    rows = _rows(config, "e0")
    assert [r["dolly_row"] for r in rows] == list(range(6200, 6206))
    for arm in ("trained", "few-shot"):
        assert e0["rougeL"][arm]["value"] == pytest.approx(np.mean([r[f"rougeL_{arm}"] for r in rows]))
        assert all(r[f"rougeL_{arm}"] == 0 for r in rows if not r[arm])  # a rejected row scores 0


def test_filter_experiment_rules_pick_what_they_say(run):
    config, results = run
    e1 = results["experiments"]["e1"]
    rows = _rows(config, "e1")
    assert rows and e1["rows_with_candidates"] == len(rows)
    for r in rows:
        finite = [p for p in r["candidate_ppls"] if math.isfinite(p)]
        assert r["candidate_ppls"][r["min-PPL"]["index"]] == min(finite)
        assert r["candidate_ppls"][r["max-PPL"]["index"]] == max(finite)
    assert e1["min_ifd_equals_min_ppl"] == 1.0  # the IFD denominator does not depend on the candidate


def test_extraction_experiment_compares_arms_on_equal_subsamples(run):
    config, results = run
    e2 = results["experiments"]["e2"]
    arms = {r["arm"] for r in _rows(config, "e2")}
    assert arms == {"passage only", "all levels"}
    assert e2["rows"]["all levels"] > e2["rows"]["passage only"]
    assert e2["subsample_size"] == max(2, e2["rows"]["passage only"] // 2)
    for metric in e2["diversity"].values():
        for arm in metric["subsampled"].values():
            assert arm["low"] <= arm["value"] <= arm["high"]


def test_downstream_experiment_trains_three_followers_and_pairs_instances(run):
    config, results = run
    e3 = results["experiments"]["e3"]
    assert set(e3["training"]) == {"seed", "seed + generated", "seed + generated (random)"}
    assert e3["training"]["seed"]["train_rows"] == 8
    assert e3["training"]["seed + generated"]["train_rows"] == 8 + e3["generated_rows"]
    assert e3["instances"] == {"superni": 3, "dolly-heldout": 2}
    rows = _rows(config, "e3")
    assert len(rows) == 5 and all(set(r) >= {"seed", "seed + generated"} for r in rows)
    report = (Path(config.out) / "replication.md").read_text()
    for heading in ("E0, generator", "E1, filter", "E2, extraction", "E3, downstream", "Sample rows"):
        assert heading in report


def test_a_second_run_reuses_finished_experiments(run, capsys):
    config, results = run
    again = replicate(config, command="test")
    assert again["experiments"] == results["experiments"]
    assert capsys.readouterr().out.count("already done") == 4


def test_cli_rejects_unknown_experiments():
    proc = subprocess.run(
        [sys.executable, "-m", "hf_david.cli", "replicate", "--experiments", "e0,e9"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "subset of" in proc.stderr
