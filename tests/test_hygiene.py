"""The hygiene stages on real text: dedup, decontamination, grounding flags, languages, and diversity numbers."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, WIKITEXT

from dataset_scripts.longform import PACKAGED_DOLLY_HELDOUT
from dataset_scripts.superni import load_superni
from hf_david.publish.diversity import diversity
from hf_david.stages.candidates import clean_candidate
from hf_david.stages.decontaminate import Decontaminate, DecontaminateConfig
from hf_david.stages.dedup import Dedup, DedupConfig
from hf_david.stages.extract import Extract, ExtractConfig
from hf_david.stages.grounding import Grounding, GroundingConfig
from hf_david.stages.language import DetectLanguage, LanguageConfig
from hf_david.stages.rejects import REJECT_DETAIL, REJECT_REASON, REJECT_STAGE

MANPAGES = FIXTURES / "manpages_grep_fr_de_es.jsonl"


def read(path, n=None) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:n]]


def batch_of(rows: list[dict]) -> dict[str, list]:
    return {key: [row.get(key, "") for row in rows] for key in rows[0]}


def wiki_rows(n: int) -> list[dict]:
    return [
        {"instruction": f"Summarize the paragraph about {p['title']}.", "input": "", "output": p["text"],
         "context": p["text"], "source_id": p["id"], "level": "passage"}
        for p in read(WIKITEXT, n)
    ]  # fmt: skip


def test_dedup_keeps_the_first_of_exact_and_near_duplicates_and_names_it():
    rows = wiki_rows(6)
    exact = {**rows[1], "source_id": "copy", "instruction": rows[1]["instruction"].upper() + "  !"}
    words = rows[2]["output"].split()
    words[len(words) // 2] = "remarkably"  # one word changed in a long paragraph
    near = {**rows[2], "source_id": "edited", "output": " ".join(words), "context": " ".join(words)}
    stage = Dedup(DedupConfig())
    out = stage(batch_of([*rows, exact, near]))
    assert out[REJECT_REASON] == [""] * 6 + ["exact_duplicate", "near_duplicate"]
    assert out["collides_with"][6:] == [f"{rows[1]['source_id']}/passage", f"{rows[2]['source_id']}/passage"]
    assert "of the kept row wikitext2-test-00002/passage" in out[REJECT_DETAIL][7]
    assert stage.stats.rows_in == 8 and stage.stats.rows_out == 6
    # The first row in batch order is the one kept, whichever of the two it is.
    out = Dedup(DedupConfig())(batch_of([near, *rows]))
    assert out[REJECT_REASON][0] == "" and out[REJECT_REASON][3] == "near_duplicate"
    # Two levels of one passage overlap by design (a long sentence span of a short passage): both are kept.
    span = {**rows[3], "level": "sentence", "output": rows[3]["output"].rsplit(". ", 1)[0] + "."}
    assert Dedup(DedupConfig())(batch_of([rows[3], span]))[REJECT_REASON] == ["", ""]
    assert (
        Dedup(DedupConfig())(batch_of([rows[3], {**span, "source_id": "other"}]))[REJECT_REASON][1] == "near_duplicate"
    )
    with pytest.raises(ValueError, match="dedup_threshold"):
        DedupConfig(dedup_threshold=0)


def test_decontamination_names_the_benchmark_item(tmp_path):
    superni = load_superni()[0]
    dolly = next(r for r in read(PACKAGED_DOLLY_HELDOUT) if len(r["response"].split()) > 40)
    rows = wiki_rows(3)
    rows[0]["context"] = f"Intro sentence. {superni['input']} Outro."  # only the passage holds the benchmark text
    rows[1]["output"] = dolly["response"]
    own = tmp_path / "my_eval.jsonl"
    own.write_text(json.dumps({"id": "q7", "question": rows[2]["output"]}) + "\n")
    out = Decontaminate(DecontaminateConfig())(batch_of(rows))
    assert out[REJECT_REASON] == ["contaminated", "contaminated", ""]
    assert out["collides_with"][:2] == [f"superni:{superni['id']}", f"dolly-heldout:dolly-{dolly['dolly_row']}"]
    assert out[REJECT_DETAIL][0].startswith("its context shares the 13-gram")
    out = Decontaminate(DecontaminateConfig(decontaminate_against=[str(own)]))(batch_of(rows))
    assert out["collides_with"][2] == "my_eval.jsonl:q7"
    assert Decontaminate(DecontaminateConfig(decontaminate_ngram=400))(batch_of(rows))[REJECT_REASON] == [""] * 3


def test_grounding_flags_terms_the_source_lacks(tiny_model):
    passage = (
        "The bytes type holds immutable sequences of single bytes. Use bytes.decode() to turn them into text; "
        "read and write them with files opened in binary mode."
    )
    rows = [
        {"instruction": "How to read and write bytes with Python 2.10.", "output": passage, "context": passage},
        {"instruction": "How do I turn bytes into text?", "output": passage, "context": passage},
        {"instruction": "Explain the Ellipticity of HTTP headers in bytes.decode().", "output": passage,
         "context": passage},
    ]  # fmt: skip
    out = Grounding(GroundingConfig(model=tiny_model))(batch_of(rows))
    assert out["unsupported_terms"] == [["2.10"], [], ["Ellipticity", "HTTP"]]
    assert out[REJECT_STAGE] == ["", "", ""]
    gated = Grounding(GroundingConfig(model=tiny_model, grounding_gate=True))(batch_of(rows))
    assert gated[REJECT_REASON] == ["unsupported_terms", "", "unsupported_terms"]
    assert gated[REJECT_DETAIL][0] == "not in the output or its passage: 2.10"


def test_languages_of_real_man_pages_and_the_language_gate():
    rows = read(MANPAGES)
    out = DetectLanguage(LanguageConfig(id_column="id"))(batch_of(rows))
    assert out["language"] == [r["language"] for r in rows]  # the untranslated paragraphs of manpages-es: en
    assert {"fr", "de", "es", "en"} == set(out["language"]) and out["source_id"][0] == rows[0]["id"]
    french = DetectLanguage(LanguageConfig(id_column="id", language="FR"))(batch_of(rows))
    mismatched = [r["id"] for r, reason in zip(rows, french[REJECT_REASON], strict=True) if reason]
    assert mismatched == [r["id"] for r in rows if r["language"] != "fr"]
    assert set(french[REJECT_REASON]) == {"", "language_mismatch"}
    assert "detected de" in french[REJECT_DETAIL][8] and "not fr" in french[REJECT_DETAIL][8]
    off = DetectLanguage(LanguageConfig(detect_language=False))(batch_of(rows))
    assert set(off["language"]) == {""} and not any(off[REJECT_STAGE])
    with pytest.raises(ValueError, match="ISO 639-1"):
        LanguageConfig(language="french")


def test_extract_splits_sentences_by_the_passage_language(tiny_model):
    # "3. März" is a date in German, not a sentence end; pysbd's German rules know it, its English rules do not.
    text = "Die Option kam am 3. März in grep. Sie sucht Muster in Dateien."
    extract = Extract(ExtractConfig(model=tiny_model, levels=["sentence"]))
    assert extract._sentences(text, "de") == ["Die Option kam am 3. März in grep.", "Sie sucht Muster in Dateien."]
    assert extract._sentences(text, "en")[0] == "Die Option kam am 3."
    assert extract._sentences(text, "xx") == extract._sentences(text, "en")  # no rules for it: English's
    rows = read(MANPAGES)[:2]
    out = Extract(ExtractConfig(model=tiny_model, levels=["keywords"]))(
        {"text": [r["text"] for r in rows], "language": ["fr", "fr"]}
    )
    assert out["language"] == ["fr", "fr"] and all(out["output"])


def test_the_shape_check_is_english_only():
    output = "grep cherche un MOTIF dans chaque FICHIER et affiche chaque ligne correspondante."
    # English: a declarative restatement is dropped, a question word or imperative first is kept.
    assert clean_candidate("Grep searches files.", "Some output.", language="en") is None
    assert clean_candidate("Explain what grep does.", "Some output.", language="en") == "Explain what grep does."
    # Other languages: no opener list; a question of any script, or a candidate that is no restatement, passes.
    assert clean_candidate("Que fait grep avec un MOTIF ?", output, language="fr") == "Que fait grep avec un MOTIF ?"
    assert clean_candidate("Décrivez le rôle de grep.", output, language="fr") == "Décrivez le rôle de grep."
    assert clean_candidate("grep cherche un MOTIF dans chaque FICHIER", output, language="fr") is None
    assert clean_candidate("Décrivez le rôle de grep.", output, language="en") is None  # the English rule


def test_diversity_numbers():
    numbers = diversity(["What is grep?", "What is a pattern?", "Explain grep.", "List three tools", "  "])
    assert numbers["instructions"] == 4
    assert numbers["distinct_1"] == round(9 / 12, 4)  # what is grep what is a pattern explain grep list three tools
    assert numbers["distinct_2"] == round(7 / 8, 4)  # "what is" repeats
    assert numbers["first_words"] == 3 and numbers["top_first_words"][0] == ["what", 2]
    assert numbers["question_share"] == 0.5
    assert numbers["lengths"] == [3, 4, 2, 3] and numbers["length_summary"]["median"] == 3
