import json

import pytest

from dataset_scripts.corpus import BUILTIN, Corpus, python_docs_paragraphs


def test_builtin_corpus_is_prose():
    rows = list(python_docs_paragraphs())
    assert len(rows) > 200 and len({r["id"] for r in rows}) == len(rows)
    assert all(len(r["text"]) >= 200 and "\n" not in r["text"] for r in rows)
    assert Corpus(BUILTIN).describe().startswith("Python reference documentation")


def test_local_files_and_folders(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": "one"}) + "\n{broken\n" + json.dumps(["x"]) + "\n")
    (tmp_path / "b.txt").write_text("first paragraph\nstill first\n\nsecond paragraph\n")
    rows = list(Corpus(str(tmp_path)).rows())
    assert rows[0] == {"text": "one"}
    assert rows[1]["text"] is None and "a.jsonl line 2: invalid JSON" in rows[1]["_error"]
    assert rows[2] == {"text": ["x"]}
    assert [r["text"] for r in rows[3:]] == ["first paragraph\nstill first", "second paragraph"]
    assert Corpus(str(tmp_path)).describe() == f"local files: {tmp_path.name}"


def test_parquet(tmp_path):
    import datasets

    datasets.Dataset.from_dict({"text": ["a", "b"], "n": [1, 2]}).to_parquet(str(tmp_path / "c.parquet"))
    assert [r["n"] for r in Corpus(str(tmp_path / "c.parquet")).rows()] == [1, 2]


def test_fingerprint_follows_file_changes(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "one"}\n')
    before = Corpus(str(path)).fingerprint()
    path.write_text('{"text": "one"}\n{"text": "two"}\n')
    assert Corpus(str(path)).fingerprint() != before


def test_unknown_corpus(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a local file/folder nor a Hub dataset id"):
        Corpus(str(tmp_path / "missing dir" / "x.jsonl")).rows()
