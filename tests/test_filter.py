import math

import torch

from hf_david.models import encode_pair, load_model, score_outputs
from hf_david.stages.filter import FilterConfig, PerplexityFilter
from hf_david.stages.rejects import REJECT_REASON, REJECT_STAGE


def test_only_output_tokens_are_scored(tiny_model):
    model, tokenizer = load_model(tiny_model)
    ids, n_prompt = encode_pair(tokenizer, "Name the capital of France.", "Paris.", "Some input")
    prompt_text = tokenizer.decode(ids[:n_prompt])
    assert prompt_text.endswith("<|im_start|>assistant\n") and "Some input" in prompt_text
    assert tokenizer.decode(ids[n_prompt:]) == "Paris."
    # The batched, length-sorted scorer agrees with a plain forward pass with masked labels.
    labels = torch.tensor([[-100] * n_prompt + ids[n_prompt:]])
    with torch.no_grad():
        loss = model(input_ids=torch.tensor([ids]), labels=labels).loss
    (ppl,) = score_outputs(
        ["Name the capital of France."], ["Paris."], ["Some input"], model=tiny_model, engine="transformers"
    )
    assert math.isclose(ppl, math.exp(loss.item()), rel_tol=1e-4)


def test_batching_and_padding_do_not_change_scores(tiny_model):
    instructions = ["Say hi.", "Write a long sentence about rivers and the sea.", "Count to three."]
    outputs = ["Hi!", "Rivers flow into the sea, carrying water from far away.", "One, two, three."]
    alone = [
        score_outputs([i], [o], model=tiny_model, engine="transformers")[0]
        for i, o in zip(instructions, outputs, strict=True)
    ]
    batched = score_outputs(instructions, outputs, model=tiny_model, engine="transformers", batch_size=3)
    assert all(math.isclose(a, b, rel_tol=1e-4) for a, b in zip(alone, batched, strict=True))


def test_filter_keeps_the_lowest_perplexity_candidate(tiny_model):
    batch = {
        "output": ["Paris.", "Blue."],
        "input": ["", ""],
        "candidates": [["Name the capital of France.", "What colour is the sky?", "Say a word."], ["Sky colour?"]],
    }
    filt = PerplexityFilter(FilterConfig(model=tiny_model))
    out = filt(batch)
    ppls = out["candidate_ppls"][0]
    assert len(ppls) == 3 and out["ppl"][0] == min(ppls)
    assert out["instruction"][0] == batch["candidates"][0][ppls.index(min(ppls))]
    assert out["instruction"][1] == "Sky colour?" and out[REJECT_STAGE] == ["", ""]
    assert filt.stats.tokens > 0


def test_too_long_prompts_are_rejected_not_crashed(tiny_model):
    batch = {"output": ["Paris.", "Blue."], "candidates": [["word " * 300], ["Sky colour?"]]}
    out = PerplexityFilter(FilterConfig(model=tiny_model, max_length=64))(batch)
    assert out[REJECT_STAGE] == ["filter", ""] and out[REJECT_REASON][0] == "nonfinite_perplexity"
    assert math.isnan(out["candidate_ppls"][0][0])


def test_ifd_compares_with_and_without_the_instruction_and_can_gate(tiny_model):
    batch = {"output": ["Paris is the capital of France.", "Blue."], "candidates": [["Name a capital."], ["Sky?"]]}
    out = PerplexityFilter(FilterConfig(model=tiny_model, engine="transformers"))(batch)
    for i in range(2):
        (alone,) = score_outputs([""], [batch["output"][i]], model=tiny_model, engine="transformers")
        assert math.isclose(out["ifd"][i], out["ppl"][i] / alone, rel_tol=1e-6)
    threshold = min(out["ifd"])  # keeps the row with the lower IFD, rejects the other
    gated = PerplexityFilter(FilterConfig(model=tiny_model, engine="transformers", max_ifd=threshold))(batch)
    kept = out["ifd"].index(threshold)
    assert gated[REJECT_STAGE][kept] == "" and gated[REJECT_REASON][1 - kept] == "instruction_does_not_help"
