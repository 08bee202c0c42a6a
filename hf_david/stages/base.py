"""What every stage shares: the model settings, a config-fingerprinted base class, stats and row seeding.

A stage is a batched `Dataset.map` callable. It reads some columns and writes others (each stage's
docstring lists them). Rows it cannot use are not dropped: it marks them in `reject_stage`,
`reject_reason` (a stable code from `Reason`) and `reject_detail` (free text), and later stages pass marked
rows through untouched. Who runs the stages (the job, or your own `map`) decides what to do with them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, fields
from typing import Any

from transformers.hf_argparser import HfArg

from hf_david.models import DEFAULT_MODEL, Engine, get_engine, resolve_device, resolve_engine
from hf_david.models.engines import DeviceName, DTypeName, EngineName
from hf_david.stages.rejects import REJECT_COLUMNS, REJECT_DETAIL, REJECT_REASON, REJECT_STAGE, Reason


@dataclass
class ModelSettings:
    """One model for every stage of a pipeline (alias, Hub id or folder), its revision and dtype, the seed,
    and the engine and device that run it.

    Each stage may override the model with its own field (`fragment_model`, `generator`, `scorer`).
    """

    model: str = HfArg(default=DEFAULT_MODEL, help="the model every stage uses: alias, Hub id or local folder")
    revision: str | None = HfArg(default=None, help="model revision (Hub models)")
    dtype: DTypeName = HfArg(
        default="auto", help="precision; auto: the engine's choice (float32 for transformers on the CPU)"
    )
    seed: int = HfArg(default=0, help="global seed; row seeds derive from it and the row, not process state")
    engine: EngineName = HfArg(
        default="auto", help="what runs the models; auto: openvino on the CPU, transformers on CUDA"
    )
    device: DeviceName = HfArg(default="auto", help="auto: cuda when a GPU is visible, else cpu")

    def __post_init__(self) -> None:
        """Resolves `auto` engine and device, so that fingerprints and manifests name what really runs.

        Also the validation hook: each stage config checks its own fields, then calls `super().__post_init__()`.
        """
        self.device = resolve_device(self.device)
        self.engine = resolve_engine(self.engine, self.device)

    def engine_for(self, model: str) -> Engine:
        """This config's engine serving `model` (one of its models), loaded once per process."""
        return get_engine(self.engine, model, self.revision, self.dtype, self.device)


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
    """DataTrove-style counters for one stage: live rows in and out, tokens through the LM, wall time."""

    rows_in: int = 0
    rows_out: int = 0
    tokens: int = 0
    seconds: float = 0.0

    def merge(self, other: StageStats) -> None:
        self.rows_in += other.rows_in
        self.rows_out += other.rows_out
        self.tokens += other.tokens
        self.seconds += other.seconds

    def to_dict(self) -> dict:
        rate = self.tokens / self.seconds if self.seconds else 0.0
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 3),
            "tokens_per_second": round(rate, 1),
        }

    @classmethod
    def from_dict(cls, data: dict) -> StageStats:
        return cls(data["rows_in"], data["rows_out"], data["tokens"], data["seconds"])


def n_rows(batch: dict[str, list]) -> int:
    return len(next(iter(batch.values()), []))


def require_columns(batch: dict[str, list], *columns: str | None) -> None:
    """Raise a KeyError naming the first of `columns` (None: not configured) missing from the batch."""
    for column in columns:
        if column and column not in batch:
            raise KeyError(f"column {column!r} not found; columns are {sorted(batch)}")


def live_rows(batch: dict[str, list]) -> list[int]:
    """Indices of rows that no earlier stage rejected."""
    stages = batch.get(REJECT_STAGE) or [""] * n_rows(batch)
    return [i for i, stage in enumerate(stages) if not stage]


def with_rejects(batch: dict[str, list], stage: str, rejects: dict[int, tuple[Reason, str]]) -> dict[str, list]:
    """The batch with its reject columns present and `rejects` (row -> (reason, detail)) marked for `stage`."""
    n = n_rows(batch)
    columns = {name: list(batch.get(name) or [""] * n) for name in REJECT_COLUMNS}
    for i, (reason, detail) in rejects.items():
        columns[REJECT_STAGE][i], columns[REJECT_REASON][i], columns[REJECT_DETAIL][i] = stage, str(reason), detail
    return {**batch, **columns}


class Stage:
    """Base of the pipeline's stages: a batched map callable configured by a dataclass.

    Only `config` is pickled, so `datasets` fingerprints a stage by its config (model name, revision,
    parameters), never by a loaded model or by the running stats. A config with more fields (a whole
    pipeline's) is narrowed to the stage's own `config_class`. Models live in `hf_david.models`' cache.
    """

    name: str = ""
    config_class: type = ModelSettings

    def __init__(self, config: Any = None) -> None:
        config = config if config is not None else self.config_class()
        if type(config) is not self.config_class:
            config = self.config_class(**{f.name: getattr(config, f.name) for f in fields(self.config_class)})
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
        rows_in = len(live_rows(batch))
        out = self.apply(batch)
        self.stats.rows_in += rows_in
        self.stats.rows_out += len(live_rows(out))
        self.stats.seconds += time.perf_counter() - start
        return out

    def pop_stats(self) -> StageStats:
        """The stats gathered since the last call, and a fresh start (a job keeps them per shard)."""
        stats, self.stats = self.stats, StageStats()
        return stats

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        raise NotImplementedError
