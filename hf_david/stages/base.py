"""What every stage shares: a config-fingerprinted callable base class, per-stage stats and row seeding.

Rows that fail a stage are not dropped: the stage fills `reject_stage` and `reject_reason` and later stages
pass them through untouched, so a job can keep them in a `rejects` split and nothing computed is lost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

REJECT_STAGE = "reject_stage"
REJECT_REASON = "reject_reason"


def derive_seed(seed: int, *keys: object) -> int:
    """A 63-bit seed from the global seed and row keys, independent of process state and batch order."""
    digest = hashlib.sha256(json.dumps([seed, *map(str, keys)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def config_hash(config: Any) -> str:
    """A stable short hash of a dataclass config (or any JSON-able value)."""
    value = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class StageStats:
    """DataTrove-style counters for one stage: rows in/out, rejects by reason, tokens and wall time."""

    rows_in: int = 0
    rows_out: int = 0
    rejects: Counter = field(default_factory=Counter)
    tokens: int = 0
    seconds: float = 0.0

    def merge(self, other: StageStats) -> None:
        self.rows_in += other.rows_in
        self.rows_out += other.rows_out
        self.rejects.update(other.rejects)
        self.tokens += other.tokens
        self.seconds += other.seconds

    def to_dict(self) -> dict:
        rate = self.tokens / self.seconds if self.seconds else 0.0
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rejects": dict(self.rejects),
            "tokens": self.tokens,
            "seconds": round(self.seconds, 3),
            "tokens_per_second": round(rate, 1),
        }

    @classmethod
    def from_dict(cls, data: dict) -> StageStats:
        return cls(data["rows_in"], data["rows_out"], Counter(data["rejects"]), data["tokens"], data["seconds"])


class Transform:
    """Base of the batched `Dataset.map` transforms.

    Only `config` is pickled, so `datasets` fingerprints a transform by its config (model name, revision,
    parameters), never by a loaded model or by the running stats. Models live in the per-process cache
    of `hf_david.models`.
    """

    stage: str = ""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.stats = StageStats()

    def __getstate__(self) -> dict:
        return {"config": self.config}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        start = time.perf_counter()
        n = len(next(iter(batch.values()), []))
        rejected_before = sum(1 for s in batch.get(REJECT_STAGE, [""] * n) if s)
        out = self.apply(batch)
        m = len(next(iter(out.values()), []))
        rejected_here = Counter(
            r for s, r in zip(out[REJECT_STAGE], out[REJECT_REASON], strict=True) if s == self.stage
        )
        self.stats.rows_in += n - rejected_before
        self.stats.rows_out += m - sum(1 for s in out[REJECT_STAGE] if s)
        self.stats.rejects.update(rejected_here)
        self.stats.seconds += time.perf_counter() - start
        return out

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        raise NotImplementedError


def live_rows(batch: dict[str, list]) -> list[int]:
    """Indices of rows that no earlier stage rejected."""
    n = len(next(iter(batch.values()), []))
    stages = batch.get(REJECT_STAGE) or [""] * n
    return [i for i in range(n) if not stages[i]]


def with_rejects(batch: dict[str, list], stage: str, reasons: dict[int, str]) -> dict[str, list]:
    """Ensure the reject columns exist and record `reasons` (row index -> reason) for `stage`."""
    n = len(next(iter(batch.values()), []))
    stages = list(batch.get(REJECT_STAGE) or [""] * n)
    why = list(batch.get(REJECT_REASON) or [""] * n)
    for i, reason in reasons.items():
        stages[i], why[i] = stage, reason
    return {**batch, REJECT_STAGE: stages, REJECT_REASON: why}
