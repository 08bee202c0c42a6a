"""The engine interface: what every stage needs from a model, and nothing about which library runs it.

Token ids in, token ids or NLLs out: stages build the ids (chat templates, prompt files) and read the
results. `hf_david.models.engines` picks and builds the implementation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sampling:
    """How to continue each prompt: `k` sequences, sampled (`do_sample`) or greedy."""

    k: int = 1
    max_new_tokens: int = 48
    do_sample: bool = True
    temperature: float = 1.0
    top_p: float = 1.0


class Engine:
    """A loaded model behind the two operations the pipeline needs. Token ids in, token ids or NLLs out.

    Implementations also set `tokenizer`: the model's tokenizer, which callers use to build the ids."""

    name = ""

    def __init__(self, model: str, revision: str | None, dtype: str, device: str) -> None:
        self.model, self.revision, self.dtype, self.device = model, revision, dtype, device

    def sample(self, prompts: list[list[int]], sampling: Sampling, seeds: list[int]) -> list[list[list[int]]]:
        """`sampling.k` continuations (new token ids, up to and without EOS) per prompt, in prompt order.

        `seeds` holds one seed per prompt, derived from the row: the same rows in the same batch always give
        the same continuations."""
        raise NotImplementedError

    def score(self, sequences: list[list[int]], prompt_lengths: list[int], batch_size: int) -> list[float]:
        """Mean NLL (nats/token) of each sequence's tokens after its first `prompt_lengths[i]` tokens."""
        raise NotImplementedError
