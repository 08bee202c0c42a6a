import json

import pytest

from hf_david.models import DEFAULT_MODEL, GENERATOR_MODEL, is_trained_generator, load_tokenizer
from hf_david.stages.candidates import clean_candidate
from hf_david.stages.generate import GenerateConfig, GenerateInstructions
from hf_david.stages.rejects import REJECT_DETAIL, REJECT_REASON, REJECT_STAGE

OUTPUTS = ["Paris is the capital of France.", "Boil the pasta for ten minutes, then drain it."]


def test_candidates_are_sampled_per_row(tiny_model):
    gen = GenerateInstructions(GenerateConfig(model=tiny_model, k=3, max_new_tokens=12, shape_check=False))
    out = gen({"output": OUTPUTS, "level": ["sentence", "passage"]})
    assert len(out["candidates"]) == 2
    for cands, stage, reason in zip(out["candidates"], out[REJECT_STAGE], out[REJECT_REASON], strict=True):
        assert len(cands) <= 3 and all(isinstance(c, str) and c.strip() for c in cands)
        assert bool(cands) != bool(stage) and (not stage or reason == "no_usable_candidate")
    assert gen.stats.tokens > 0 and gen.stats.rows_in == 2


def test_same_seed_same_candidates(tiny_model):
    def run(seed: int) -> list:
        return GenerateInstructions(
            GenerateConfig(model=tiny_model, k=2, max_new_tokens=10, seed=seed, shape_check=False)
        )({"output": OUTPUTS})["candidates"]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_context_is_kept_as_input_only_when_asked(tiny_model):
    batch = {"output": [OUTPUTS[0]], "context": ["France is a country. " + OUTPUTS[0]], "level": ["sentence"]}
    cfg = {"model": tiny_model, "k": 1, "max_new_tokens": 4}
    assert GenerateInstructions(GenerateConfig(**cfg))(batch)["input"] == [""]
    with_context = GenerateInstructions(GenerateConfig(**cfg, use_context=True))(batch)
    assert with_context["input"] == batch["context"]


def test_keywords_rows_show_their_passage_unless_told_not_to(tiny_model):
    passage = "The Seine flows through Paris. It is 777 km long."
    batch = {"output": ["Seine, Paris, 777 km"], "context": [passage], "level": ["keywords"]}
    cfg = {"model": tiny_model, "k": 1, "max_new_tokens": 4}
    assert GenerateInstructions(GenerateConfig(**cfg))(batch)["input"] == [passage]
    assert GenerateInstructions(GenerateConfig(**cfg, keywords_with_passage=False))(batch)["input"] == [""]


def test_the_default_generator_is_the_shipped_trained_one_for_the_default_model(tiny_model):
    assert GenerateConfig().generator_model == GENERATOR_MODEL
    assert GenerateConfig(generator=DEFAULT_MODEL).generator_model == DEFAULT_MODEL  # few-shot, by name
    assert GenerateConfig(model=tiny_model).generator_model == tiny_model  # another --model generates itself


def test_rejected_rows_pass_through_and_bad_outputs_are_rejected(tiny_model):
    gen = GenerateInstructions(GenerateConfig(model=tiny_model, k=1, max_new_tokens=4))
    out = gen({"output": [OUTPUTS[0], "", None], REJECT_STAGE: ["extract", "", ""], REJECT_REASON: ["x", "", ""]})
    assert out[REJECT_STAGE] == ["extract", "generate", "generate"]
    assert out[REJECT_REASON][1:] == ["output_empty"] * 2
    assert out[REJECT_DETAIL][1:] == ["output is empty or not a string"] * 2
    assert out["candidates"][0] == []


def test_missing_output_column():
    with pytest.raises(KeyError, match="'output' not found"):
        GenerateInstructions()({"text": ["x"]})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  What is the capital of France?\n\nExtra text", "What is the capital of France?"),
        ("Instruction: Name the capital of France.", "Name the capital of France."),
        ("Name the capital.<|im_end|>junk", "Name the capital."),
        ("", None),
        ("Paris", None),
        ("Paris is the capital of France.", None),  # a copy of the output
        ("the the the the the the the the the", None),
        ("This response describes the capital of France.", None),
        ("What is the difference between a list and a tuple in Python?", None),  # lifted from a demo
        ("In Python, a dict maps keys to values.", None),  # a declarative restatement, not an instruction
        ("The capital of France, please?", "The capital of France, please?"),
    ],
)
def test_clean_candidate(raw, expected):
    demos = ("What is the difference between a list and a tuple in Python?",)
    assert clean_candidate(raw, OUTPUTS[0], demos) == expected


def test_trained_generator_marker(tiny_model, tmp_path):
    assert not is_trained_generator(tiny_model)
    (tmp_path / "hf_david_training.json").write_text(json.dumps({"task": "instruction-generator"}))
    assert is_trained_generator(str(tmp_path))


def test_prompt_is_rendered_with_the_chat_template(tiny_model):
    from hf_david.prompts import load_prompt

    tokenizer = load_tokenizer(tiny_model)
    text = tokenizer.apply_chat_template(
        load_prompt("instruction_generation").messages(output=OUTPUTS[0], context=""),
        tokenize=False,
        add_generation_prompt=True,
    )
    assert text.endswith("<|im_start|>assistant\n") and OUTPUTS[0] in text and text.count("<|im_start|>user") == 5
