"""Cards: rendered from the templates, with honest metadata and images, and never a token or local path."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from conftest import WIKITEXT
from huggingface_hub import DatasetCard, ModelCard

from hf_david.artifacts import (
    JOB_MANIFEST,
    LOSS_CURVE,
    REJECT_COLUMNS,
    REJECT_FEATURES,
    TRAIN_COLUMNS,
    TRAIN_FEATURES,
    TRAINING_MANIFEST,
    command_line,
)
from hf_david.publish import cards
from hf_david.publish.plots import plot_loss_curve

SECRET = "hf_" + "Zq8" * 10
LEVELS = ("passage", "keywords", "sentence", "fragment")


def make_job(path: Path, passages_file: Path, n: int = 12, seed: int = 0) -> Path:
    """A job folder in the documented `hf-david generate` shape, from real WikiText passages."""
    from datasets import Dataset, DatasetDict

    rng = random.Random(seed)
    lines = passages_file.read_text(encoding="utf-8").splitlines()
    passages = [json.loads(line) for line in lines[: n + 3]]
    train = {k: [] for k in TRAIN_COLUMNS}
    for i, row in enumerate(passages[:n]):
        sentence = row["text"].split(" . ")[0].split(". ")[0] + "."
        candidates = [
            f"Write one sentence about {row['title']}.",
            f"Who is {row['title']}?",
            f"Summarize what is known about {row['title']} (v{seed}).",
        ]
        ppls = [round(rng.uniform(2.0, 80.0), 3) for _ in candidates]
        best = min(range(len(ppls)), key=ppls.__getitem__)
        for key, value in (
            ("instruction", candidates[best]),
            ("input", ""),
            ("output", sentence),
            ("context", row["text"]),
            ("level", LEVELS[i % len(LEVELS)]),
            ("source_id", row["id"]),
            ("candidates", candidates),
            ("candidate_ppls", ppls),
            ("ppl", ppls[best]),
            ("ifd", round(rng.uniform(0.3, 1.5), 3)),
            ("language", "en"),
            ("unsupported_terms", [f"v{seed}"] if i % 3 == 0 else []),
        ):
            train[key].append(value)
    rejects = {
        "source_id": [r["id"] for r in passages[n:]],
        "stage": ["extract", "generate", "filter"],
        "reason": ["too_long", "empty_instruction", "ppl_nan"],
        "detail": ["1,200 words (limit 1,000)", "the generator returned no text", "perplexity is nan"],
        "level": ["", "sentence", "keywords"],
        "text": [r["text"][:80] for r in passages[n:]],
        "collides_with": ["", "", ""],
    }
    DatasetDict(
        train=Dataset.from_dict(train, features=TRAIN_FEATURES),
        rejects=Dataset.from_dict(rejects, features=REJECT_FEATURES),
    ).save_to_disk(str(path))
    (path / JOB_MANIFEST).write_text(json.dumps(job_manifest(passages_file, n, seed)), encoding="utf-8")
    return path


def job_manifest(passages_file: Path, n: int, seed: int) -> dict:
    """hf_david_job.json of `make_job`'s folder: n kept rows from n + 3 passages, 3 rejected."""
    return {
        "hf_david_version": "0.1.0",
        "command": command_line(
            ["generate", "--corpus", str(passages_file), "--out", "/home/alice/jobs/wiki", "--token", SECRET]
        ),
        "config": {
            "corpus": str(passages_file),
            "text_column": "text",
            "levels": list(LEVELS),
            "k": 3,
            "generator": "smollm2-135m-instruct",
            "scorer": "/home/alice/models/scorer",
            "seed": seed,
            "max_passages": n + 3,
        },
        "config_hash": "0123abcd",
        "counts": {
            "passages": n + 3,
            "train": n,
            "rejects": 3,
            "rejects_by_reason": {"too_long": 1, "empty_instruction": 1, "ppl_nan": 1},
            "levels": {lvl: sum(1 for i in range(n) if LEVELS[i % 4] == lvl) for lvl in LEVELS},
        },
        "stats": {
            "extract": {"rows_in": n + 3, "rows_out": n + 1, "rejects": {"too_long": 1}, "tokens": 900, "seconds": 1.5},
            "generate": {"rows_in": n + 1, "rows_out": n + 1, "rejects": {}, "tokens": 400, "seconds": 30.25},
            "filter": {"rows_in": n + 1, "rows_out": n, "rejects": {"ppl_nan": 1}, "tokens": 700, "seconds": 4.0},
        },
        "status": "done",
    }


def write_loss_curve(model_dir: Path, log_history: list[dict]) -> None:
    """loss_curve.png as the training recipe writes it next to the model."""
    plot_loss_curve(log_history, model_dir / LOSS_CURVE)


@pytest.fixture
def job(tmp_path) -> Path:
    return make_job(tmp_path / "job", WIKITEXT)


def test_sanitize_removes_tokens_and_local_paths(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "plain-token-without-prefix")
    assert cards.sanitize("token is plain-token-without-prefix") == "token is <redacted>"
    assert cards.sanitize("pushed with s3cr3t-value", secrets=("s3cr3t-value",)) == "pushed with <redacted>"
    text = (
        f"run --corpus /home/alice/data/wiki.jsonl --token {SECRET} --out ~/jobs/x C:\\Users\\bob\\m "
        "see https://huggingface.co/datasets/u/r and user/repo, and/or /tmp"
    )
    clean = cards.sanitize(text)
    assert SECRET not in clean and "<redacted>" in clean
    assert "wiki.jsonl" in clean and "/home/alice" not in clean and "~/jobs" not in clean
    assert "C:\\Users" not in clean and " m " in clean
    assert "https://huggingface.co/datasets/u/r" in clean and "user/repo" in clean and "and/or" in clean


def test_dataset_card_metadata_body_and_images(job):
    readme = cards.write_dataset_card(job, repo_id="alice/wiki-instructions")
    card = DatasetCard.load(readme)
    meta = card.data.to_dict()
    assert meta["license"] == "cc-by-sa-3.0"  # inherited from WikiText
    assert set(cards.TAGS) <= set(meta["tags"]) and meta["language"] == ["en"]
    assert meta["task_categories"] == ["text-generation"] and meta["size_categories"] == ["n<1K"]
    body = card.text
    for needle in (
        "smollm2-135m-instruct",
        WIKITEXT.name,
        "| candidates per output (K) | 3 |",
        "| too_long | 1 |",
        "15 passages gave 12 kept rows and 3 rejected rows.",
        "| generate | 13 | 13 | 0 | 400 | 13.2 | 30.25 |",
        "| level | rows | median IFD | IFD < 1 |",
        'load_dataset("alice/wiki-instructions"',
        "Hallucination risk",
        "English",
        f"hf-david generate --corpus {WIKITEXT.name}",
    ):
        assert needle in body, needle
    for image in cards.DATASET_IMAGES:
        assert f"]({image})" in body
        assert (job / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = readme.read_text()
    assert SECRET not in text and "/home/alice" not in text and str(job.parent) not in text
    assert not re.search(r"(?<![\w:/])/(?:home|work|tmp|root|Users)/", text)


def test_dataset_card_lists_every_column_with_its_description(job):
    missing = [c for c in (*TRAIN_COLUMNS, *REJECT_COLUMNS) if not cards.COLUMN_DOCS.get(c)]
    assert not missing, f"columns without a description in cards.COLUMN_DOCS: {missing}"
    body = cards.write_dataset_card(job).read_text()
    columns = body[body.index("## Columns") : body.index("## How to load")]
    train_part, rejects_part = columns.split("`rejects`")
    for part, names in ((train_part, TRAIN_COLUMNS), (rejects_part, REJECT_COLUMNS)):
        for name in names:
            assert f"- `{name}`: {cards.COLUMN_DOCS[name].format(k=3)}" in part, name
    assert "- `candidates`: the instructions sampled for the output (3 per output)" in train_part
    with pytest.raises(KeyError, match="not_a_column"):
        cards.column_docs(("instruction", "not_a_column"))


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder`: its bytes and modification time (ns)."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_cards_render_into_another_folder(job, tmp_path):
    before = snapshot(job)
    dest = tmp_path / "card"
    readme = cards.write_dataset_card(job, repo_id="alice/wiki-instructions", dest=dest)
    assert readme == dest / "README.md" and snapshot(job) == before  # the job folder is only read
    for image in cards.DATASET_IMAGES:
        assert f"]({image})" in readme.read_text() and (dest / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert readme.read_bytes() == cards.write_dataset_card(job, repo_id="alice/wiki-instructions").read_bytes()

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / TRAINING_MANIFEST).write_text(json.dumps({"base_model": "smollm2-135m-instruct"}))
    write_loss_curve(model_dir, [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}, {"step": 2, "eval_loss": 1.7}])
    before = snapshot(model_dir)
    readme = cards.write_model_card(model_dir, repo_id="alice/m", dest=tmp_path / "model-card")
    assert snapshot(model_dir) == before and "![Training loss](loss_curve.png)" in readme.read_text()
    assert (readme.parent / LOSS_CURVE).read_bytes() == (model_dir / LOSS_CURVE).read_bytes()


def test_dataset_card_is_deterministic(job):
    first = [cards.write_dataset_card(job).read_bytes()] + [(job / i).read_bytes() for i in cards.DATASET_IMAGES]
    second = [cards.write_dataset_card(job).read_bytes()] + [(job / i).read_bytes() for i in cards.DATASET_IMAGES]
    assert first == second


def test_dataset_card_errors_name_the_problem(tmp_path, job):
    with pytest.raises(FileNotFoundError, match="hf_david_job.json"):
        cards.write_dataset_card(tmp_path)
    (job / JOB_MANIFEST).write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        cards.write_dataset_card(job)


def test_model_card(tmp_path):
    model_dir = tmp_path / "sft-out"
    model_dir.mkdir()
    log = [{"step": s, "loss": 3.0 / s} for s in range(1, 6)] + [{"step": 5, "eval_loss": 0.9}]
    info = {
        "base_model": "smollm2-135m-instruct",
        "datasets": [
            {"name": "alice/wiki-instructions", "source": "hub", "rows": 1200, "license": "cc-by-sa-3.0"},
            {"name": "dolly-seed", "source": "/home/alice/data/dolly.jsonl", "rows": 6400, "license": None},
            {
                "name": "hf-david:job",
                "source": "hf-david:job",
                "rows": 12,
                "license": "inherits the corpus licence",
            },
        ],
        "hyperparameters": {"learning_rate": 2e-5, "num_train_epochs": 3, "output_dir": str(model_dir)},
        "task": "instruction-following",
        "train_loss": 0.6,
        "eval_loss": 0.9,
        "log_history": log,
        "command": f"hf-david train --data /home/alice/job --out {model_dir} --token {SECRET}",
    }
    (model_dir / TRAINING_MANIFEST).write_text(json.dumps(info))
    readme = cards.write_model_card(model_dir)
    assert "Training loss" not in readme.read_text()  # no loss_curve.png (the recipe writes it): no image
    write_loss_curve(model_dir, log)
    (model_dir / cards.EVAL_RESULTS).write_text(json.dumps({"superni": {"rougeL": 21.5, "exact_match": 7.25}}))
    readme = cards.write_model_card(model_dir, repo_id="alice/david-sft")
    card = ModelCard.load(readme)
    meta = card.data.to_dict()
    assert meta["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert meta["datasets"] == ["alice/wiki-instructions"] and meta["license"] == "cc-by-sa-3.0"
    assert set(cards.TAGS) <= set(meta["tags"]) and meta["pipeline_tag"] == "text-generation"
    for needle in (
        "| learning_rate | 2e-05 |",
        "| superni | rougeL | 21.5 |",
        "| eval_loss | 0.9 |",
        "![Training loss](loss_curve.png)",
        "dolly.jsonl",
        "| inherits the corpus licence |",
        "| output_dir | sft-out |",
        "It follows instructions",
        'model="alice/david-sft"',
    ):
        assert needle in card.text, needle
    text = readme.read_text()
    assert SECRET not in text and "/home/alice" not in text and str(tmp_path) not in text


@pytest.mark.parametrize(
    ("corpus", "spec", "license_meta", "source"),
    [
        ("alice/wiki-corpus, split train", "alice/wiki-corpus", {"license": "unknown"}, ["alice/wiki-corpus"]),
        (
            "Python reference documentation prose (pydoc_data.topics)",
            "python-docs",
            {"license": "other", "license_name": "psf-2.0"},
            None,
        ),
        (
            "local files: dolma_tests_cc_en_head.jsonl",
            "/data/dolma_tests_cc_en_head.jsonl",
            {"license": "odc-by"},
            None,
        ),
    ],
)
def test_dataset_card_corpus_source_and_licence(job, corpus, spec, license_meta, source):
    manifest = json.loads((job / JOB_MANIFEST).read_text())
    manifest["config"].update(corpus=corpus, full={"corpus": spec})
    (job / JOB_MANIFEST).write_text(json.dumps(manifest))
    meta = DatasetCard.load(cards.write_dataset_card(job)).data.to_dict()
    assert {k: meta.get(k) for k in license_meta} == license_meta
    assert meta.get("source_datasets") == source
