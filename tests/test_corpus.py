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
    from hf_david.stages.extract import ExtractConfig
    from hf_david.stages.filter import FilterConfig
    from hf_david.stages.generate import GenerateConfig
    from hf_david.stages.pipeline import ExtractThenGenerateConfig

    texts = [f"Passage number {i} talks about rivers. Rivers flow to the sea. The sea is salty." for i in range(20)]
    datasets.Dataset.from_dict({"body": texts}).push_to_hub("alice/river-corpus", token="alice-write")
    corpus = Corpus("alice/river-corpus")
    assert [r["body"] for r, _ in zip(corpus.rows(), range(3), strict=False)] == texts[:3]
    assert corpus.describe() == "alice/river-corpus, split train"

    pipeline = ExtractThenGenerateConfig(
        extract=ExtractConfig(text_column="body", model=tiny_model, levels=("passage",)),
        generate=GenerateConfig(model=tiny_model, k=1, max_new_tokens=6, shape_check=False),
        filter=FilterConfig(model=tiny_model),
    )
    config = JobConfig(corpus="alice/river-corpus", max_passages=5, shard_size=5, pipeline=pipeline)
    data = Job(config, tmp_path / "out").run()
    assert len(data["train"]) + len(data["rejects"]) == 5
