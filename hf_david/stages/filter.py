"""Instruction filtering: keep the candidate under which the output is least surprising.

Reads `candidates`, `output` and `input`. For each candidate, scores the perplexity of `output` given the
candidate (plus `input`) as a chat user turn, under an instruction-following LM: only output tokens count,
template and instruction tokens are masked. Writes `instruction` (the argmin), `ppl` and `candidate_ppls`.
Pairs from all rows of a batch are scored together, sorted by length to limit padding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from hf_david.models import DEFAULT_MODEL, load_model
from hf_david.stages.base import StageStats, Transform, live_rows, with_rejects


@dataclass
class FilterConfig:
    model: str = DEFAULT_MODEL
    revision: str | None = None
    dtype: str = "float32"
    batch_size: int = 8
    max_length: int = 1024


def user_turn(instruction: str, input_text: str = "") -> str:
    """The user message an instruction-following model sees: the instruction, then the input if any."""
    return f"{instruction}\n\n{input_text}" if input_text else instruction


def encode_pair(tokenizer, instruction: str, output: str, input_text: str = "") -> tuple[list[int], int]:
    """Token ids of (chat prompt + output) and the number of leading prompt tokens to mask."""
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": user_turn(instruction, input_text)}],
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
    )["input_ids"]
    completion = tokenizer(output, add_special_tokens=False)["input_ids"]
    return list(prompt) + list(completion), len(prompt)


@torch.inference_mode()
def score_outputs(
    instructions: list[str],
    outputs: list[str],
    inputs: list[str] | None = None,
    *,
    model: str = DEFAULT_MODEL,
    revision: str | None = None,
    dtype: str = "float32",
    batch_size: int = 8,
    max_length: int = 1024,
    stats: StageStats | None = None,
) -> list[float]:
    """Perplexity of each output given its instruction (and input), loss on output tokens only.

    A pair longer than `max_length` tokens keeps its output's first tokens and is scored on those; a pair
    whose prompt alone is too long scores NaN. `stats.tokens` (if given) counts the tokens run through the LM.
    """
    lm, tokenizer = load_model(model, revision, dtype)
    inputs = inputs if inputs is not None else [""] * len(outputs)
    encoded = [encode_pair(tokenizer, *args) for args in zip(instructions, outputs, inputs, strict=True)]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    ppls = [math.nan] * len(encoded)
    pad = tokenizer.pad_token_id
    for start in range(0, len(order), batch_size):
        chunk = [i for i in order[start : start + batch_size] if encoded[i][1] < min(len(encoded[i][0]), max_length)]
        if not chunk:
            continue
        seqs = [encoded[i][0][:max_length] for i in chunk]
        width = max(map(len, seqs))
        ids = torch.full((len(seqs), width), pad)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        labels = torch.full((len(seqs), width), -100)
        for row, (i, seq) in enumerate(zip(chunk, seqs, strict=True)):
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
            labels[row, encoded[i][1] : len(seq)] = torch.tensor(seq[encoded[i][1] :])
        if stats is not None:
            stats.tokens += int(mask.sum())
        logits = lm(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        target = labels[:, 1:]
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, reduction="none", ignore_index=-100)
        counts = (target != -100).sum(1)
        for row, i in enumerate(chunk):
            ppls[i] = math.exp(float(nll[row].sum() / counts[row]))
    return ppls


class PerplexityFilter(Transform):
    """Rows with `candidates` in; the lowest-perplexity candidate out as `instruction`."""

    stage = "filter"

    def __init__(self, config: FilterConfig | None = None) -> None:
        super().__init__(config or FilterConfig())

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        cfg = self.config
        missing = {"candidates", "output"} - set(batch)
        if missing:
            raise KeyError(f"columns {sorted(missing)} not found; columns are {sorted(batch)}")
        n = len(batch["output"])
        inputs = batch.get("input") or [""] * n
        rows = [i for i in live_rows(batch) if batch["candidates"][i]]
        pairs = [(i, c) for i in rows for c in batch["candidates"][i]]
        scores = score_outputs(
            [c for _, c in pairs],
            [batch["output"][i] for i, _ in pairs],
            [inputs[i] for i, _ in pairs],
            model=cfg.model,
            revision=cfg.revision,
            dtype=cfg.dtype,
            batch_size=cfg.batch_size,
            max_length=cfg.max_length,
            stats=self.stats,
        )
        per_row: dict[int, list[float]] = {i: [] for i in rows}
        for (i, _), score in zip(pairs, scores, strict=True):
            per_row[i].append(score)
        instruction, best, candidate_ppls = [""] * n, [math.nan] * n, [[] for _ in range(n)]
        reasons: dict[int, str] = {}
        for i, ppls in per_row.items():
            candidate_ppls[i] = ppls
            finite = [(p, j) for j, p in enumerate(ppls) if math.isfinite(p)]
            if not finite:
                reasons[i] = "non-finite perplexity"
                continue
            best[i], j = min(finite)
            instruction[i] = batch["candidates"][i][j]
        for i in set(live_rows(batch)) - set(rows):
            reasons[i] = "no candidates"
        out = {**batch, "instruction": instruction, "ppl": best, "candidate_ppls": candidate_ppls}
        return with_rejects(out, self.stage, reasons)
