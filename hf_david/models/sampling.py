"""Batched sampling of K continuations per prompt, without redoing shared work.

`model.generate(num_return_sequences=K)` copies every prompt K times *before* the prefill, and every row
re-reads the same few-shot demonstrations. Here the prompt prefix shared by the batch (system turn and
demonstrations) is run once and kept, each row's own suffix is run once on top of it, and only then is
the KV cache copied K times for decoding. Rows are laid out as [shared prefix][padding][suffix], so all
prompts end at the same position, with the padding masked out and position ids that skip it.
"""

from __future__ import annotations

import copy

import torch
from transformers import DynamicCache


class PrefixCache:
    """The KV cache of the most recent shared prefix (batch of one), reused while the prefix repeats."""

    def __init__(self) -> None:
        self.key: tuple[int, ...] = ()
        self.cache: DynamicCache | None = None

    def get(self, model, prefix: list[int]) -> DynamicCache:
        if tuple(prefix) != self.key or self.cache is None:
            cache = DynamicCache(config=model.config)
            if prefix:
                model(input_ids=torch.tensor([prefix], device=model.device), cache=cache, use_cache=True)
            self.key, self.cache = tuple(prefix), cache
        return copy.deepcopy(self.cache)


def shared_prefix_length(prompts: list[list[int]]) -> int:
    """Length of the common token prefix, leaving every prompt at least one token of its own."""
    limit = min(map(len, prompts)) - 1
    n = 0
    while n < limit and all(p[n] == prompts[0][n] for p in prompts):
        n += 1
    return n


@torch.inference_mode()
def sample(
    model, prompts: list[list[int]], k: int, pad_token_id: int, prefix_cache: PrefixCache, **generate_kwargs
) -> torch.Tensor:
    """Generate `k` continuations per prompt (token ids); returns new tokens, rows grouped by prompt."""
    n_prefix = shared_prefix_length(prompts)
    width = max(map(len, prompts)) - n_prefix
    ids = torch.full((len(prompts), n_prefix + width), pad_token_id)
    mask = torch.zeros_like(ids)
    ids[:, :n_prefix] = torch.tensor(prompts[0][:n_prefix])
    mask[:, :n_prefix] = 1
    for row, prompt in enumerate(prompts):
        suffix = prompt[n_prefix:]
        ids[row, ids.shape[1] - len(suffix) :] = torch.tensor(suffix)
        mask[row, ids.shape[1] - len(suffix) :] = 1
    ids, mask = ids.to(model.device), mask.to(model.device)
    cache = prefix_cache.get(model, prompts[0][:n_prefix])
    cache.batch_repeat_interleave(len(prompts))
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    # Prefill each row's suffix but its last token; generate() feeds that one and decodes from there.
    if ids.shape[1] - 1 > n_prefix:
        model(
            input_ids=ids[:, n_prefix:-1],
            attention_mask=mask[:, :-1],
            position_ids=positions[:, n_prefix:-1],
            cache=cache,
            use_cache=True,
        )
    cache.batch_repeat_interleave(k)
    generated = model.generate(
        input_ids=ids.repeat_interleave(k, 0),
        attention_mask=mask.repeat_interleave(k, 0),
        cache=cache,
        pad_token_id=pad_token_id,
        **generate_kwargs,
    )
    return generated[:, ids.shape[1] :]
