"""The transformers engine: the reference that the other engines are checked against, on CPU or CUDA.

Sampling runs `models.sampling.sample` (the shared prompt prefix is prefilled once and its KV reused), one
batch per call, seeded from the rows' seeds. Scoring runs teacher-forced forward passes in length-sorted,
right-padded batches. `dtype="auto"` is float32 on the CPU (the reference) and bfloat16 on CUDA.
"""

from __future__ import annotations

import hashlib
import json
import math

import torch

from hf_david.models.engine import Engine, Sampling
from hf_david.models.loading import load_model
from hf_david.models.sampling import PrefixCache, sample


def batch_seed(seeds: list[int]) -> int:
    """One torch seed for a batch, from its rows' seeds (so a batch of the same rows repeats exactly)."""
    return int.from_bytes(hashlib.sha256(json.dumps(seeds).encode()).digest()[:8], "big") >> 1


def strip_eos(ids: list[int], stop: set[int]) -> list[int]:
    """Token ids up to (not including) the first stop token."""
    for n, token in enumerate(ids):
        if token in stop:
            return ids[:n]
    return ids


class TransformersEngine(Engine):
    name = "transformers"

    def __init__(self, model: str, revision: str | None, dtype: str, device: str) -> None:
        if dtype == "auto":
            dtype = "bfloat16" if device == "cuda" else "float32"
        super().__init__(model, revision, dtype, device)
        self.lm, self.tokenizer = load_model(model, revision, dtype, device)
        eos = self.lm.generation_config.eos_token_id
        self.stop = {*(eos if isinstance(eos, list) else [eos]), self.tokenizer.pad_token_id} - {None}
        self.prefix_cache = PrefixCache()

    @torch.inference_mode()
    def sample(self, prompts: list[list[int]], sampling: Sampling, seeds: list[int]) -> list[list[list[int]]]:
        torch.manual_seed(batch_seed(seeds))
        options = {"do_sample": sampling.do_sample, "max_new_tokens": sampling.max_new_tokens}
        if sampling.do_sample:
            options.update(temperature=sampling.temperature, top_p=sampling.top_p)
        else:
            options.update(temperature=None, top_p=None, top_k=None)
        new = sample(self.lm, prompts, sampling.k, self.tokenizer.pad_token_id, self.prefix_cache, **options)
        rows = [strip_eos(ids, self.stop) for ids in new.tolist()]
        return [rows[i * sampling.k : (i + 1) * sampling.k] for i in range(len(prompts))]

    @torch.inference_mode()
    def score(self, sequences: list[list[int]], prompt_lengths: list[int], batch_size: int) -> list[float]:
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        nlls = [math.nan] * len(sequences)
        for start in range(0, len(order), batch_size):
            chunk = [i for i in order[start : start + batch_size] if prompt_lengths[i] < len(sequences[i])]
            if chunk:
                means = self._mean_nll([sequences[i] for i in chunk], [prompt_lengths[i] for i in chunk])
                for i, nll in zip(chunk, means, strict=True):
                    nlls[i] = nll
        return nlls

    def _mean_nll(self, seqs: list[list[int]], n_prompts: list[int]) -> list[float]:
        """Mean NLL of each sequence's completion, one forward pass over the batch.

        Rows are left-padded so that every completion ends at the last position: the model then computes
        logits only for the last `longest completion + 1` positions (`logits_to_keep`), not for every
        prompt token, which saves most of the output projection and of the memory."""
        width = max(map(len, seqs))
        ids = torch.full((len(seqs), width), self.tokenizer.pad_token_id)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, seq in enumerate(seqs):
            ids[row, width - len(seq) :] = torch.tensor(seq)
            mask[row, width - len(seq) :] = 1
        keep = max(len(s) - n for s, n in zip(seqs, n_prompts, strict=True)) + 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        ids, mask, positions = ids.to(self.lm.device), mask.to(self.lm.device), positions.to(self.lm.device)
        logits = self.lm(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep).logits
        target = ids[:, width - keep + 1 :]
        nll = torch.nn.functional.cross_entropy(logits[:, :-1].float().transpose(1, 2), target, reduction="none")
        means = []
        for row, (seq, n_prompt) in enumerate(zip(seqs, n_prompts, strict=True)):
            means.append(float(nll[row, keep - 1 - (len(seq) - n_prompt) :].mean()))
        return means
