"""Parity cases for the shipped `evaluate` metrics: each value derived by hand and checked against the
official scorers (SuperNI's eval/automatic/evaluation.py, the `evaluate` "meteor" module) run outside
the repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import evaluate
import nltk
import pytest

from hf_david.metrics import metric_path


@pytest.fixture(scope="module")
def superni():
    return evaluate.load(metric_path("superni"))


@pytest.fixture(scope="module")
def meteor():
    return evaluate.load(metric_path("longform_meteor"))


def _one(metric, prediction, references, **kwargs):
    out = metric.compute(predictions=[prediction], references=[references], per_instance=True, **kwargs)
    return out["exact_match_per_instance"][0], out["rougeL_per_instance"][0]


@pytest.mark.parametrize(
    ("prediction", "references", "em", "rouge"),
    [
        # Multiple references: max over them. LCS(the cat sat | the cat sat on the mat) = 3: P 1, R 1/2.
        ("the cat sat", ["a dog", "the cat sat on the mat"], 0.0, 2 / 3),
        ("a dog", ["the cat sat on the mat", "A dog."], 1.0, 1.0),
        # Empty prediction; an empty reference matches it exactly, but ROUGE of empty token lists is 0.
        ("", ["anything"], 0.0, 0.0),
        ("", [""], 1.0, 0.0),
        # Punctuation and casing: EM drops punctuation; the ROUGE tokenizer splits on it ("don t" vs "dont").
        ("The Cat!", ["the cat"], 1.0, 1.0),
        ("don't", ["dont"], 1.0, 0.0),
        # Articles are kept by EM (unlike SQuAD); ROUGE: [a, cat] vs [cat] gives P 1/2, R 1.
        ("a cat", ["cat"], 0.0, 2 / 3),
        # Stemming (Porter, tokens longer than 3 chars): running -> run, dogs -> dog.
        ("running dogs", ["run dog"], 0.0, 1.0),
        # Non-ASCII: EM compares the text, English ROUGE-L keeps [a-z0-9] only.
        ("你好世界", ["你好世界"], 1.0, 0.0),
        ("café", ["cafe"], 0.0, 0.0),
        ("café", ["caf"], 0.0, 1.0),
    ],
)
def test_superni_instance_scores(superni, prediction, references, em, rouge):
    got_em, got_rouge = _one(superni, prediction, references)
    assert got_em == em
    assert got_rouge == pytest.approx(rouge, abs=1e-12)


def test_superni_xlingual_track_uses_gpt2_tokens(superni):
    # GPT-2 BPE: [The, cat] vs [the, cat] (no lowercasing, no stemming) -> LCS 1 of 2.
    assert _one(superni, "The cat", ["the cat"], track="xlingual")[1] == pytest.approx(0.5)
    assert _one(superni, "你好世界", ["你好世界"], track="xlingual")[1] == 1.0
    with pytest.raises(ValueError, match="track must be"):
        _one(superni, "a", ["a"], track="french")


def test_superni_aggregates_and_breakdowns(superni):
    out = superni.compute(
        predictions=["The cat!", "the cat sat", None],
        references=[["the cat"], ["the cat sat on the mat"], ["x"]],
        task_ids=["task1", "task1", "task2"],
        categories=["Question Answering", "Question  Answering", "Title Generation"],
    )
    # Mean x 100 rounded to 4 decimals; None counts as an empty prediction.
    assert out["exact_match"] == round(100 / 3, 4) == 33.3333
    assert out["rougeL"] == round(100 * (1 + 2 / 3) / 3, 4) == 55.5556
    assert out["count"] == 3
    assert out["per_category"] == {
        "question_answering": {"exact_match": 50.0, "rougeL": 83.3333, "count": 2},
        "title_generation": {"exact_match": 0.0, "rougeL": 0.0, "count": 1},
    }
    assert set(out["per_task"]) == {"task1", "task2"}
    assert "rougeL_per_instance" not in out


def test_superni_bad_input(superni):
    with pytest.raises(ValueError, match="row 1 has no references"):
        superni.compute(predictions=["a", "b"], references=[["a"], []])
    with pytest.raises(ValueError, match="task_ids has 1 rows"):
        superni.compute(predictions=["a", "b"], references=[["a"], ["b"]], task_ids=["t"])


def _meteor(metric, prediction, reference):
    return metric.compute(predictions=[prediction], references=[reference])["meteor"]


def test_meteor_wordnet_synonyms_matter(meteor):
    # kid ~ child share WordNet synset child.n.01: 4 matches in 1 chunk, P = R = 1, penalty 0.5 (1/4)^3.
    assert _meteor(meteor, "the kid is happy", "the child is happy") == pytest.approx(127 / 128, abs=1e-12)
    # goat is no synonym of child: 3 matches in 2 chunks, P = R = 3/4, penalty 0.5 (2/3)^3 -> 3/4 * 23/27.
    assert _meteor(meteor, "the goat is happy", "the child is happy") == pytest.approx(23 / 36, abs=1e-12)


def test_meteor_stemming_and_upstream_example(meteor):
    # dogs ~ dog by the Porter stemmer: 3 matches, 1 chunk, penalty 0.5 (1/3)^3 = 1/54.
    assert _meteor(meteor, "the dogs ran", "the dog ran") == pytest.approx(53 / 54, abs=1e-12)
    # The example in the `evaluate` meteor module's docs (0.6944).
    hyp = "It is a guide to action which ensures that the military always obeys the commands of the party"
    ref = "It is a guide to action that ensures that the military will forever heed Party commands"
    assert _meteor(meteor, hyp, ref) == pytest.approx(25 / 36, abs=1e-12)


def test_meteor_mixed_references_and_sources(meteor):
    preds = ["the kid is happy", "", "the dogs ran"]
    refs = ["the child is happy", ["anything"], ["no match here", "the dog ran"]]
    rows = [127 / 128, 0.0, 53 / 54]
    plain = meteor.compute(predictions=preds, references=refs, per_instance=True)
    assert plain["meteor_per_instance"] == pytest.approx(rows, abs=1e-12)
    assert plain["meteor"] == pytest.approx(sum(rows) / 3, abs=1e-12)
    by_source = meteor.compute(predictions=preds, references=refs, sources=["ELI5", "ELI5", "WP"])
    assert by_source["per_source"]["ELI5"] == {"meteor": pytest.approx(127 / 256, abs=1e-12), "count": 2}
    # "All" is the plain mean of the subset scores, not the mean over rows.
    assert by_source["meteor"] == pytest.approx((127 / 256 + 53 / 54) / 2, abs=1e-12)


def test_meteor_missing_nltk_data_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    with pytest.raises(RuntimeError, match="provision_nltk.sh"):
        evaluate.load(metric_path("longform_meteor"))


def test_metrics_load_offline(tmp_path):
    code = (
        "import evaluate, json; from hf_david.metrics import metric_path;"
        "s = evaluate.load(metric_path('superni')).compute(predictions=['a b'], references=[['a b']]);"
        "m = evaluate.load(metric_path('longform_meteor')).compute(predictions=['a b'], references=['a b']);"
        "print(json.dumps([s['rougeL'], m['meteor']]))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    # meteor("a b", "a b"): 2 matches, 1 chunk -> 1 - 0.5 (1/2)^3.
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [100.0, 15 / 16]


def test_metric_path_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown metric"):
        metric_path("bleu")
