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


def test_hub_corpus_is_streamed(hub, tiny_model, tmp_path):
    """A Hub dataset id streams through the unmodified `datasets` client (loopback Hub), and a job
    takes only `max_passages` rows of it."""
    import datasets

    from hf_david.job import Job, JobConfig

    texts = [f"Passage number {i} talks about rivers. Rivers flow to the sea. The sea is salty." for i in range(20)]
    datasets.Dataset.from_dict({"body": texts}).push_to_hub("alice/river-corpus", token="alice-write")
    corpus = Corpus("alice/river-corpus")
    assert [r["body"] for r, _ in zip(corpus.rows(), range(3), strict=False)] == texts[:3]
    assert corpus.describe() == "alice/river-corpus, split train"

    config = JobConfig(
        corpus="alice/river-corpus",
        max_passages=5,
        shard_size=5,
        model=tiny_model,  # one model for every stage
        text_column="body",
        levels=["passage"],
        k=1,
        max_new_tokens=6,
        shape_check=False,
    )
    data = Job(config, tmp_path / "out").run()
    assert len(data["train"]) + len(data["rejects"]) == 5


def test_one_reader_for_files_folders_and_saved_datasets(tmp_path):
    """Corpus, seed and benchmark loaders share `read_dataset` / `iter_rows` and their suffix table."""
    from datasets import Dataset, DatasetDict

    from dataset_scripts.readers import iter_rows, read_dataset

    rows = [{"text": "a", "n": 1}, {"text": "b", "n": 2}]
    Dataset.from_list(rows).to_csv(str(tmp_path / "d.csv"), index=False)
    assert read_dataset(tmp_path / "d.csv").to_list() == rows == list(iter_rows(tmp_path / "d.csv"))
    saved = tmp_path / "saved"
    DatasetDict(train=Dataset.from_list(rows), test=Dataset.from_list(rows[:1])).save_to_disk(str(saved))
    assert read_dataset(saved, split="test").to_list() == rows[:1]
    assert list(Corpus(str(saved)).rows()) == rows  # the saved rows, not the folder's .json metadata files
    with pytest.raises(ValueError, match="no split 'dev'"):
        read_dataset(saved, split="dev")
    (tmp_path / "notes.xml").write_text("<a/>")
    with pytest.raises(ValueError, match="unsupported file type '.xml'"):
        read_dataset(tmp_path / "notes.xml")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a.jsonl").write_text(json.dumps({"text": "one"}) + "\n")
    (mixed / "b.txt").write_text("first\n\n  \n\nsecond\n")
    with pytest.raises(ValueError, match="several formats"):
        read_dataset(mixed)
    assert [r["text"] for r in iter_rows(mixed)] == ["one", "first", "second"]  # rows tolerate mixed folders
    assert read_dataset(mixed / "b.txt").to_list() == list(iter_rows(mixed / "b.txt"))
