"""A pipeline stage as a Ray Data actor: the stage object of the local job, applied one shard per call.

A shard travels through the stages as one row: `index`, `passages`, `batch` (the stage batch, pickled so
every value keeps its Python type, exactly as the local job hands it from stage to stage), `rejects` (its
unreadable rows, pickled), `stats` (JSON: each stage's stats on this shard) and `seconds` (the stages'
time on it). Ray never cuts a shard: one shard is one block and one `map_batches` call (`batch_size=1`).
"""

from __future__ import annotations

import json
import pickle
import time

import pyarrow as pa
from tqdm.auto import tqdm

from hf_david.job.config import JobConfig
from hf_david.job.runner import apply_stage
from hf_david.stages import build_stages


def shard_row(index: int, shard: list, batch: dict[str, list], rejects: list[dict]) -> dict:
    """The row that carries a shard into the first stage."""
    return {
        "index": index,
        "passages": len(shard),
        "batch": pickle.dumps(batch),
        "rejects": pickle.dumps(rejects),
        "stats": "{}",
        "seconds": 0.0,
    }


def unpack(row: dict) -> tuple[int, int, dict[str, list], list[dict], dict, float]:
    """(index, passages, batch, rejects, stats, seconds) of a shard row: the arguments of `Job.commit`."""
    batch, rejects = pickle.loads(row["batch"]), pickle.loads(row["rejects"])
    return row["index"], row["passages"], batch, rejects, json.loads(row["stats"]), row["seconds"]


class StageActor:
    """Holds stage `position` of `build_stages(config)` (its model loads once per actor, on first use) and
    runs it on each shard it is given, with the local job's `apply_stage`: same slices, same stats."""

    def __init__(self, config: JobConfig, position: int, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)  # actors share the machine: no oversubscription
        self.stage = build_stages(config)[position]
        self.bar = tqdm(disable=True)  # Ray Data draws the progress bars

    def __call__(self, table: pa.Table) -> pa.Table:
        rows = table.to_pylist()
        for row in rows:
            start = time.perf_counter()
            batch, stats = apply_stage(self.stage, pickle.loads(row["batch"]), self.bar)
            row["batch"] = pickle.dumps(batch)
            row["stats"] = json.dumps({**json.loads(row["stats"]), self.stage.name: stats})
            row["seconds"] += time.perf_counter() - start
        return pa.Table.from_pylist(rows, schema=table.schema)
