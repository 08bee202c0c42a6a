"""Teacher-forced scoring: the perplexity of an output given its instruction, under an instruction follower.

The prompt is the follower's chat user turn (`prompts/instruction_following.yaml`: the instruction, then
the input if any); only the output's tokens count, so the score says how well the instruction predicts the
output. The engine batches pairs in length order to limit padding.
"""

from __future__ import annotations

import math

from hf_david.models.engine import Engine
from hf_david.models.engines import get_engine
from hf_david.models.loading import DEFAULT_MODEL
from hf_david.prompts import INSTRUCTION_FOLLOWING, load_prompt


def encode_pair(tokenizer, instruction: str, output: str, input_text: str = "") -> tuple[list[int], int]:
    """Token ids of (chat prompt + output) and the number of leading prompt tokens to mask."""
    turn = load_prompt(INSTRUCTION_FOLLOWING).user_turn(instruction=instruction, input=input_text)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": turn}], add_generation_prompt=True, tokenize=True, return_dict=True
    )["input_ids"]
    completion = tokenizer(output, add_special_tokens=False)["input_ids"]
    return list(prompt) + list(completion), len(prompt)


def score_outputs(
    instructions: list[str], outputs: list[str], inputs: list[str] | None = None, **kwargs
) -> list[float]:
    """Perplexity of each output given its instruction (and input); options as `score_pairs`."""
    return score_pairs(instructions, outputs, inputs, **kwargs)[0]


def score_pairs(
    instructions: list[str],
    outputs: list[str],
    inputs: list[str] | None = None,
    *,
    model: str = DEFAULT_MODEL,
    revision: str | None = None,
    dtype: str = "auto",
    engine: str = "auto",
    device: str = "auto",
    batch_size: int = 8,
    max_length: int = 1024,
) -> tuple[list[float], int]:
    """(perplexity of each output given its instruction and input, tokens run through the LM).

    A pair longer than `max_length` tokens keeps its output's first tokens and is scored on those; a pair
    whose prompt alone is too long scores NaN. `engine`/`device`/`dtype` as in `models.get_engine`.
    """
    lm = get_engine(engine, model, revision, dtype, device)
    return score_with(lm, instructions, outputs, inputs, batch_size=batch_size, max_length=max_length)


def score_with(
    lm: Engine,
    instructions: list[str],
    outputs: list[str],
    inputs: list[str] | None = None,
    *,
    batch_size: int = 8,
    max_length: int = 1024,
) -> tuple[list[float], int]:
    """`score_pairs` on an engine already chosen (a stage's `engine_for(model)`)."""
    inputs = inputs if inputs is not None else [""] * len(outputs)
    encoded = [encode_pair(lm.tokenizer, *args) for args in zip(instructions, outputs, inputs, strict=True)]
    sequences = [ids[:max_length] for ids, _ in encoded]
    nlls = lm.score(sequences, [n for _, n in encoded], batch_size)
    tokens = sum(len(s) for s, (_, n) in zip(sequences, encoded, strict=True) if n < len(s))
    return [math.exp(nll) for nll in nlls], tokens
