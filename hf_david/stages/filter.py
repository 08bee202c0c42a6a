"""Instruction filtering: keep the candidate under which the output is least surprising.

Reads `candidates`, `output` and `input`. Scores the perplexity of `output` given each candidate (plus
`input`) under an instruction-following LM (`hf_david.models.score_with`: only output tokens count).
Writes `instruction` (the argmin), `ppl` (its perplexity), `candidate_ppls`, `ifd` and the reject columns.
The pairs of all rows of a batch are scored together, sorted by length to limit padding.

`ifd` is the instruction-following difficulty of Li et al. 2023 ("From Quantity to Quality"):
PPL(output | instruction) / PPL(output alone), under the scorer. Below 1, the instruction makes the output
easier to predict. `max_ifd` optionally rejects rows above it (`instruction_does_not_help`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from transformers.hf_argparser import HfArg

from hf_david.models import score_with
from hf_david.stages.base import ModelSettings, Stage, live_rows, require_columns, with_rejects
from hf_david.stages.rejects import Reason


@dataclass
class FilterConfig(ModelSettings):
    """Scoring settings. `scorer` overrides `model` for this stage."""

    scorer: str | None = HfArg(default=None, help="perplexity scorer; unset: --model")
    score_batch_size: int = HfArg(default=8, help="(instruction, output) pairs per forward pass, length-sorted")
    max_length: int = HfArg(default=1024, help="tokens of prompt + output; longer pairs are cut in the output")
    max_ifd: float | None = HfArg(
        default=None,
        help="reject rows whose IFD (PPL with the instruction / PPL without) is above this; unset: keep all",
    )

    @property
    def scorer_model(self) -> str:
        return self.scorer or self.model


class PerplexityFilter(Stage):
    """Rows with `candidates` in; the lowest-perplexity candidate out as `instruction`, with its IFD."""

    name = "filter"
    config_class = FilterConfig

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        cfg = self.config
        require_columns(batch, "candidates", "output")
        n = len(batch["output"])
        inputs = batch.get("input") or [""] * n
        rows = [i for i in live_rows(batch) if batch["candidates"][i]]
        pairs = [(i, c) for i in rows for c in batch["candidates"][i]]
        scores = self._ppl([c for _, c in pairs], [batch["output"][i] for i, _ in pairs], [inputs[i] for i, _ in pairs])
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
        ifd = self._ifd(batch["output"], best, [i for i in rows if i not in rejects])
        for i, value in enumerate(ifd):
            if cfg.max_ifd is not None and i not in rejects and not value <= cfg.max_ifd:
                rejects[i] = (Reason.INSTRUCTION_DOES_NOT_HELP, f"IFD {value:.3f} > max_ifd {cfg.max_ifd}")
        out = {**batch, "instruction": instruction, "ppl": best, "candidate_ppls": candidate_ppls, "ifd": ifd}
        return with_rejects(out, self.name, rejects)

    def _ppl(self, instructions: list[str], outputs: list[str], inputs: list[str]) -> list[float]:
        cfg = self.config
        lm = cfg.engine_for(cfg.scorer_model)
        ppls, tokens = score_with(
            lm, instructions, outputs, inputs, batch_size=cfg.score_batch_size, max_length=cfg.max_length
        )
        self.stats.tokens += tokens
        return ppls

    def _ifd(self, outputs: list[str], ppls: list[float], rows: list[int]) -> list[float]:
        """IFD = PPL(output | instruction) / PPL(output alone), for `rows` (NaN elsewhere).

        "Alone" is the same chat template around an empty user turn: no instruction and no input, so the
        ratio isolates what the instruction (with its input) tells the scorer."""
        alone = self._ppl([""] * len(rows), [outputs[i] for i in rows], [""] * len(rows))
        ifd = [math.nan] * len(outputs)
        for i, ppl_alone in zip(rows, alone, strict=True):
            ifd[i] = ppls[i] / ppl_alone
        return ifd
