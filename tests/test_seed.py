"""Seed loaders: Dolly (the fixture slice of the team copy, Hub-style columns) and any dataset by column names."""

from __future__ import annotations

import json

import pytest
from conftest import DOLLY

from dataset_scripts.seed import COLUMNS, DOLLY_HELDOUT, load_columns, load_dolly, split_heldout


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_dolly_copy_and_heldout_rows():
    ds = load_dolly(str(DOLLY))  # dolly_row 0-99 and 6200-6399 of the team's 6,400-row copy
    assert len(ds) == 300
    assert ds.column_names == COLUMNS + ["dolly_row"]
    assert ds[0]["instruction"] == "When did Virgin Australia start operating?"
    assert ds[0]["output"].startswith("Virgin Australia commenced services")
    assert ds[0]["input"] == ""
    train, held = split_heldout(ds)
    assert (len(train), len(held)) == (100, 200)
    assert held["dolly_row"] == list(DOLLY_HELDOUT)
    assert not set(train["dolly_row"]) & set(DOLLY_HELDOUT)


def test_hub_style_dolly_columns_use_context_as_input(tmp_path):
    path = _jsonl(
        tmp_path / "dolly.jsonl",
        [
            {
                "instruction": "Summarize the passage.",
                "context": "Bees make honey.",
                "response": "Bees make honey.",
                "category": "summarization",
            },
            {"instruction": "Name a fruit.", "context": "", "response": "Apple", "category": "brainstorming"},
        ],
    )
    ds = load_dolly(path)
    assert ds["input"] == ["Bees make honey.", ""]
    assert ds["output"] == ["Bees make honey.", "Apple"]
    assert ds["dolly_row"] == [0, 1]
    assert set(ds["source"]) == {path}


def test_any_dataset_by_column_names(tmp_path):
    path = _jsonl(
        tmp_path / "qa.jsonl",
        [{"q": "2+2?", "ctx": None, "a": "4"}, {"q": "Capital of France?", "ctx": "Geography quiz.", "a": "Paris"}],
    )
    ds = load_columns(path, instruction="q", output="a", input="ctx")
    assert ds.column_names == COLUMNS
    assert ds["input"] == ["", "Geography quiz."]
    with pytest.raises(KeyError, match="columns \\['answer'\\] not found"):
        load_columns(path, instruction="q", output="answer")


def test_bad_rows_are_named(tmp_path):
    path = _jsonl(tmp_path / "bad.jsonl", [{"q": "ok?", "a": "yes"}, {"q": "empty?", "a": "  "}])
    with pytest.raises(ValueError, match="row 1: field 'output' is empty"):
        load_columns(path, instruction="q", output="a")
