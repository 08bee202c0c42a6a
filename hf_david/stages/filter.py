"""Instruction filtering: keep the candidate under which the output is least surprising.

Reads `candidates`, `output` and `input`. Scores the perplexity of `output` given each candidate (plus
`input`) under an instruction-following LM (`hf_david.models.score_pairs`: only output tokens count).
Writes `instruction` (the argmin), `ppl` (its perplexity), `candidate_ppls` and the reject columns. The
pairs of all rows of a batch are scored together, sorted by length to limit padding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from transformers.hf_argparser import HfArg

from hf_david.models import score_pairs
from hf_david.stages.base import ModelSettings, Stage, live_rows, with_rejects
from hf_david.stages.rejects import Reason


@dataclass
class FilterConfig(ModelSettings):
    """Scoring settings. `scorer` overrides `model` for this stage."""

    scorer: str | None = HfArg(default=None, help="perplexity scorer; unset: --model")
    score_batch_size: int = HfArg(default=8, help="(instruction, output) pairs per forward pass, length-sorted")
    max_length: int = HfArg(default=1024, help="tokens of prompt + output; longer pairs are cut in the output")

    @property
    def scorer_model(self) -> str:
        return self.scorer or self.model


class PerplexityFilter(Stage):
    """Rows with `candidates` in; the lowest-perplexity candidate out as `instruction`."""

    name = "filter"
    config_class = FilterConfig

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        cfg = self.config
        missing = {"candidates", "output"} - set(batch)
        if missing:
            raise KeyError(f"columns {sorted(missing)} not found; columns are {sorted(batch)}")
        n = len(batch["output"])
        inputs = batch.get("input") or [""] * n
        rows = [i for i in live_rows(batch) if batch["candidates"][i]]
        pairs = [(i, c) for i in rows for c in batch["candidates"][i]]
        scores, tokens = score_pairs(
            [c for _, c in pairs],
            [batch["output"][i] for i, _ in pairs],
            [inputs[i] for i, _ in pairs],
            model=cfg.scorer_model,
            revision=cfg.revision,
            dtype=cfg.dtype,
            engine=cfg.engine,
            device=cfg.device,
            batch_size=cfg.score_batch_size,
            max_length=cfg.max_length,
        )
        self.stats.tokens += tokens
        candidate_ppls: list[list[float]] = [[] for _ in range(n)]
        for (i, _), score in zip(pairs, scores, strict=True):
            candidate_ppls[i].append(score)
        instruction, best = [""] * n, [math.nan] * n
        rejects = {i: (Reason.NO_CANDIDATES, "the row reached the filter without candidates") for i in live_rows(batch)}
        for i in rows:
            finite = [(p, j) for j, p in enumerate(candidate_ppls[i]) if math.isfinite(p)]
            if not finite:
                rejects[i] = (Reason.NONFINITE_PERPLEXITY, f"no candidate fits in {cfg.max_length} tokens")
                continue
            del rejects[i]
            best[i], j = min(finite)
            instruction[i] = batch["candidates"][i][j]
        out = {**batch, "instruction": instruction, "ppl": best, "candidate_ppls": candidate_ppls}
        return with_rejects(out, self.name, rejects)
