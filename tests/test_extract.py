import json

import pytest
from conftest import WIKITEXT

from hf_david.stages.extract import Extract, ExtractConfig, check_text, source_id
from hf_david.stages.rejects import REJECT_DETAIL, REJECT_REASON, REJECT_STAGE

PASSAGE = (
    "The Amazon is the largest river by discharge. It flows through Peru, Colombia and Brazil. "
    "Its basin covers seven million square kilometres. The river has over one thousand tributaries. "
    "Rainforest covers most of the basin. Many species live only there."
)


def rows(out: dict) -> list[dict]:
    return [dict(zip(out, values, strict=True)) for values in zip(*out.values(), strict=True)]


def test_levels_without_lm(tiny_model):
    extract = Extract(ExtractConfig(model=tiny_model, levels=("passage", "keywords", "sentence")))
    out = rows(extract({"text": [PASSAGE], "url": ["u1"]}))
    assert [r["level"] for r in out] == ["passage", "keywords", "sentence"]
    assert all(r["context"] == PASSAGE and r["url"] == "u1" and not r[REJECT_STAGE] for r in out)
    assert out[0]["output"] == PASSAGE
    assert len(out[1]["output"].split(", ")) >= 3
    assert out[2]["output"] in PASSAGE and out[2]["output"] != PASSAGE
    assert len({r["source_id"] for r in out}) == 1


def test_sentence_span_is_seeded(tiny_model):
    def span(seed: int) -> str:
        out = Extract(ExtractConfig(model=tiny_model, levels=("sentence",), seed=seed))({"text": [PASSAGE]})
        return out["output"][0]

    assert span(0) == span(0)
    assert len({span(s) for s in range(8)}) > 1


def test_fragment_falls_back_to_a_sentence_span(tiny_model):
    # A random tiny model does not copy the passage verbatim, so the fragment is replaced by a span.
    extract = Extract(ExtractConfig(model=tiny_model, levels=("fragment",), fragment_max_new_tokens=8))
    out = rows(extract({"text": [PASSAGE]}))
    assert len(out) == 1 and out[0]["level"] == "sentence" and out[0]["output"] in PASSAGE
    assert extract.stats.tokens > 0


def test_bad_rows_are_rejected_with_reasons(tiny_model):
    extract = Extract(ExtractConfig(model=tiny_model, levels=("passage",)))
    texts = [PASSAGE, None, 42, "   ", "\x00\x01\x02binary\x03\x04" * 10]
    out = rows(extract({"text": texts}))
    assert [r[REJECT_REASON] for r in out] == ["", "text_missing", "text_not_string", "text_empty", "text_binary"]
    assert [r[REJECT_DETAIL] for r in out] == [
        "",
        "text is None",
        "text is int, not str",
        "text is empty",
        "text is binary or mostly non-printable",
    ]
    assert [r[REJECT_STAGE] for r in out] == ["", "extract", "extract", "extract", "extract"]
    assert extract.stats.rows_in == 5 and extract.stats.rows_out == 1
    assert sum(1 for r in out if r[REJECT_STAGE]) == 4


def test_missing_column_is_named(tiny_model):
    with pytest.raises(KeyError, match="'passage' not found"):
        Extract(ExtractConfig(model=tiny_model, text_column="passage"))({"text": [PASSAGE]})


def test_long_passages_truncate_or_skip(tiny_model):
    long = " ".join([PASSAGE] * 20)
    truncated = Extract(ExtractConfig(model=tiny_model, levels=("passage",), max_passage_tokens=60))
    out = truncated({"text": [long]})
    assert out[REJECT_STAGE] == [""] and long.startswith(out["context"][0]) and len(out["context"][0]) < len(long)
    skipped = Extract(ExtractConfig(model=tiny_model, levels=("passage",), max_passage_tokens=60, long_passages="skip"))
    out = skipped({"text": [long]})
    assert out[REJECT_REASON] == ["passage_too_long"] and out[REJECT_DETAIL] == ["passage longer than 60 tokens"]


def test_output_token_limits(tiny_model):
    out = Extract(ExtractConfig(model=tiny_model, levels=("passage",), max_output_tokens=12))({"text": [PASSAGE]})
    assert out["output"] == ["The Amazon is the largest river by discharge."]


def test_ids_and_text_checks():
    assert source_id("a") == source_id("a") != source_id("b")
    assert source_id("a", row_id=7) == "7"
    assert check_text("fine text") is None


def test_config_validation():
    with pytest.raises(ValueError, match="levels"):
        ExtractConfig(levels=("paragraphs",))
    with pytest.raises(ValueError, match="long_passages"):
        ExtractConfig(long_passages="drop")


def test_real_wikitext_passages(tiny_model):
    with open(WIKITEXT) as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(6), fh, strict=False)]
    out = Extract(ExtractConfig(model=tiny_model, levels=("keywords", "sentence")))({"text": texts})
    assert set(out["level"]) == {"keywords", "sentence"} and all(out["output"])
