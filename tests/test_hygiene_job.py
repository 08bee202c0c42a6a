"""The hygiene checks inside `hf-david generate`: planted duplicates across shards and benchmark passages."""

from __future__ import annotations

import json
from collections import Counter

from conftest import WIKITEXT

from dataset_scripts.longform import PACKAGED_DOLLY_HELDOUT
from dataset_scripts.superni import load_superni
from hf_david.job import MANIFEST, Job, JobConfig
from hf_david.stages.dedup import words

N_WIKI = 6


def planted_corpus(path) -> tuple[dict, dict]:
    """WikiText paragraphs, an exact and a near copy of two of them in later shards, a SuperNI instance and a
    Dolly held-out response; (the corpus ids of each duplicate group, {benchmark id: its text})."""
    wiki = [json.loads(line) for line in WIKITEXT.read_text().splitlines()[:N_WIKI]]
    superni = load_superni()[0]
    dolly = next(
        json.loads(line)
        for line in PACKAGED_DOLLY_HELDOUT.read_text().splitlines()
        if len(json.loads(line)["response"].split()) > 60
    )
    near = wiki[2]["text"].split()
    near[40] = "notably"
    rows = [{"id": w["id"], "text": w["text"]} for w in wiki]
    rows += [
        {"id": "superni-copy", "text": superni["input"]},
        {"id": "exact-copy", "text": wiki[0]["text"]},
        {"id": "dolly-copy", "text": dolly["response"]},
        {"id": "near-copy", "text": " ".join(near)},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    groups = {wiki[0]["id"]: {wiki[0]["id"], "exact-copy"}, wiki[2]["id"]: {wiki[2]["id"], "near-copy"}}
    planted = {
        f"superni:{superni['id']}": superni["input"],
        f"dolly-heldout:dolly-{dolly['dolly_row']}": dolly["response"],
    }
    return groups, planted


def config(corpus, model: str, **overrides) -> JobConfig:
    return JobConfig(
        corpus=str(corpus), id_column="id", shard_size=3, max_passages=None, model=model, levels=["passage"],
        k=2, max_new_tokens=8, shape_check=False, max_reject_rate=0.9, seed=3, **overrides,
    )  # fmt: skip


def test_planted_duplicates_and_benchmark_text_are_removed_and_named(tiny_model, tmp_path):
    corpus = tmp_path / "planted.jsonl"
    groups, planted = planted_corpus(corpus)
    data = Job(config(corpus, tiny_model), tmp_path / "out").run()
    train, rejects = data["train"], data["rejects"].to_list()

    kept = Counter(train["source_id"])
    for original, members in groups.items():
        assert sum(kept[m] for m in members) == 1, (original, kept)  # exactly one row of each group
        assert kept[original] == 1  # the first in corpus order
        removed = [r for r in rejects if r["source_id"] in members]
        assert [r["collides_with"] for r in removed] == [f"{original}/passage"]
        assert removed[0]["reason"] in ("exact_duplicate", "near_duplicate") and original in removed[0]["detail"]

    contaminated = {r["collides_with"]: r for r in rejects if r["reason"] == "contaminated"}
    assert set(contaminated) == set(planted)
    assert {contaminated[key]["source_id"] for key in planted} == {"superni-copy", "dolly-copy"}
    for text in planted.values():  # no 13 words of a planted benchmark text remain anywhere in train
        grams = {tuple(words(text)[i : i + 13]) for i in range(len(words(text)) - 12)}
        for row in train:
            for column in ("instruction", "input", "output", "context"):
                tokens = words(row[column])
                assert not grams & {tuple(tokens[i : i + 13]) for i in range(len(tokens) - 12)}

    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    final = manifest["stats"]["dedup (all shards)"]  # the copies sit in other shards than their originals
    assert final["rows_in"] == len(train) + sum(final["rejects"].values()) and sum(final["rejects"].values()) == 2
    assert manifest["stats"]["decontaminate"]["rejects"] == {"contaminated": 2}
    assert manifest["counts"]["rejects_by_reason"]["contaminated"] == 2
    assert set(train["language"]) == {"en"} and all(isinstance(t, list) for t in train["unsupported_terms"])
    card = (tmp_path / "out" / "README.md").read_text()
    for section in ("## Diversity", "## Grounding", "## Decontamination", "## Duplicates", "## Language"):
        assert section in card, section
    assert "| superni | 1 |" in card and "| dolly-heldout | 1 |" in card


def test_every_check_can_be_switched_off(tiny_model, tmp_path):
    corpus = tmp_path / "planted.jsonl"
    planted_corpus(corpus)
    off = config(corpus, tiny_model, dedup=False, decontaminate=False, grounding=False, detect_language=False)
    data = Job(off, tmp_path / "out").run()
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert set(manifest["stats"]) == {"language", "extract", "generate", "filter"}
    assert "exact-copy" in data["train"]["source_id"] and "superni-copy" in data["train"]["source_id"]
    assert set(data["train"]["language"]) == {""} and not any(data["train"]["unsupported_terms"])
    card = (tmp_path / "out" / "README.md").read_text()
    assert "## Decontamination" not in card and "## Duplicates" not in card and "## Grounding" not in card
