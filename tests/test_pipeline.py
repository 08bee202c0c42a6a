import datasets
import pytest
from datasets.fingerprint import Hasher

from hf_david.stages import REJECT_STAGE, ExtractThenGenerate, PipelineConfig

TEXTS = [
    "Rivers carry water to the sea. They shape valleys over millions of years. Floods enrich the soil nearby.",
    "Bread needs flour, water, salt and yeast. The dough rises for an hour. Then it bakes until golden.",
]


def config(tiny_model: str, seed: int = 0) -> PipelineConfig:
    return PipelineConfig(
        model=tiny_model,
        levels=["passage", "keywords", "sentence"],
        k=2,
        max_new_tokens=12,
        seed=seed,
        shape_check=False,
    )


def test_map_produces_instruction_rows(tiny_model):
    ds = datasets.Dataset.from_dict({"text": TEXTS, "url": ["a", "b"]})
    out = ds.map(ExtractThenGenerate(config(tiny_model)), batched=True, batch_size=2)
    kept = out.filter(lambda r: not r[REJECT_STAGE])
    assert len(out) == 6 and len(kept) > 0
    for row in kept:
        assert row["instruction"] in row["candidates"] and row["output"] and row["level"]
        assert row["ppl"] == min(row["candidate_ppls"]) and row["url"] in ("a", "b")


def test_fingerprint_comes_from_the_config(tiny_model):
    a, b = ExtractThenGenerate(config(tiny_model)), ExtractThenGenerate(config(tiny_model))
    a({"text": TEXTS[:1]})  # loads models and fills stats on `a` only
    assert Hasher.hash(a) == Hasher.hash(b)
    assert Hasher.hash(a) != Hasher.hash(ExtractThenGenerate(config(tiny_model, seed=1)))


def test_second_map_reuses_the_cache(tiny_model, tmp_path):
    datasets.Dataset.from_dict({"text": TEXTS}).save_to_disk(str(tmp_path / "corpus"))
    ds = datasets.load_from_disk(str(tmp_path / "corpus"))
    first = ds.map(ExtractThenGenerate(config(tiny_model)), batched=True)
    again = ExtractThenGenerate(config(tiny_model))
    second = ds.map(again, batched=True)
    assert second.cache_files == first.cache_files
    assert again.stages[0].stats.rows_in == 0  # served from the cache: the transform never ran
    assert second.to_list() == first.to_list()


def test_streaming_map(tiny_model):
    stream = datasets.Dataset.from_dict({"text": TEXTS}).to_iterable_dataset()
    rows = list(stream.map(ExtractThenGenerate(config(tiny_model)), batched=True, batch_size=2))
    assert len(rows) == 6 and {r["level"] for r in rows} == {"passage", "keywords", "sentence"}


def test_missing_text_column_is_named(tiny_model):
    ds = datasets.Dataset.from_dict({"body": TEXTS})
    with pytest.raises(KeyError, match="'text' not found"):
        ds.map(ExtractThenGenerate(config(tiny_model)), batched=True)
