"""Teacher-forced scoring: the perplexity of an output given its instruction, under an instruction follower.

The prompt is the follower's chat user turn (`prompts/instruction_following.yaml`: the instruction, then
the input if any); only the output's tokens count, so the score says how well the instruction predicts the
output. Pairs are batched in length order to limit padding.
"""

from __future__ import annotations

import math

import torch

from hf_david.models.loading import DEFAULT_MODEL, load_model
from hf_david.prompts import INSTRUCTION_FOLLOWING, load_prompt


def encode_pair(tokenizer, instruction: str, output: str, input_text: str = "") -> tuple[list[int], int]:
    """Token ids of (chat prompt + output) and the number of leading prompt tokens to mask."""
    turn = load_prompt(INSTRUCTION_FOLLOWING).user_turn(instruction=instruction, input=input_text)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": turn}], add_generation_prompt=True, tokenize=True, return_dict=True
    )["input_ids"]
    completion = tokenizer(output, add_special_tokens=False)["input_ids"]
    return list(prompt) + list(completion), len(prompt)


def _batch_tensors(seqs: list[list[int]], n_prompts: list[int], pad: int) -> tuple[torch.Tensor, ...]:
    """Right-padded ids, attention mask and labels (-100 on prompt and padding) for one batch."""
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), pad)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    labels = torch.full((len(seqs), width), -100)
    for row, (seq, n_prompt) in enumerate(zip(seqs, n_prompts, strict=True)):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
        labels[row, n_prompt : len(seq)] = torch.tensor(seq[n_prompt:])
    return ids, mask, labels


def score_outputs(
    instructions: list[str], outputs: list[str], inputs: list[str] | None = None, **kwargs
) -> list[float]:
    """Perplexity of each output given its instruction (and input); options as `score_pairs`."""
    return score_pairs(instructions, outputs, inputs, **kwargs)[0]


@torch.inference_mode()
def score_pairs(
    instructions: list[str],
    outputs: list[str],
    inputs: list[str] | None = None,
    *,
    model: str = DEFAULT_MODEL,
    revision: str | None = None,
    dtype: str = "float32",
    batch_size: int = 8,
    max_length: int = 1024,
) -> tuple[list[float], int]:
    """(perplexity of each output given its instruction and input, tokens run through the LM).

    A pair longer than `max_length` tokens keeps its output's first tokens and is scored on those; a pair
    whose prompt alone is too long scores NaN.
    """
    lm, tokenizer = load_model(model, revision, dtype)
    inputs = inputs if inputs is not None else [""] * len(outputs)
    encoded = [encode_pair(tokenizer, *args) for args in zip(instructions, outputs, inputs, strict=True)]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    ppls, tokens = [math.nan] * len(encoded), 0
    for start in range(0, len(order), batch_size):
        chunk = [i for i in order[start : start + batch_size] if encoded[i][1] < min(len(encoded[i][0]), max_length)]
        if not chunk:
            continue
        ids, mask, labels = _batch_tensors(
            [encoded[i][0][:max_length] for i in chunk], [encoded[i][1] for i in chunk], tokenizer.pad_token_id
        )
        tokens += int(mask.sum())
        logits = lm(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        target = labels[:, 1:]
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, reduction="none", ignore_index=-100)
        counts = (target != -100).sum(1)
        for row, i in enumerate(chunk):
            ppls[i] = math.exp(float(nll[row].sum() / counts[row]))
    return ppls, tokens
