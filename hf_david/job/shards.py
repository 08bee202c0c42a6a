"""Shard I/O of a job folder, and the one place where rejected rows are split from kept ones.

Each finished shard is two parquet files under `OUT/shards/` (`train-NNNNN.parquet`,
`rejects-NNNNN.parquet`), written under a temporary name and renamed, so a crash never leaves half a
shard. At the end the shards become a `save_to_disk` DatasetDict (`train`, `rejects`) plus `train.jsonl`,
after a last dedup pass over all shards together (the job's own settings, read from its manifest), which
moves duplicates across shards from `train` to `rejects`. The columns are `hf_david.artifacts.TRAIN_FEATURES`
and `REJECT_FEATURES`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from dataclasses import fields
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Dataset, DatasetDict, Features

from hf_david.artifacts import (
    JOB_MANIFEST,
    REJECT_FEATURES,
    SPLIT_FEATURES,
    TRAIN_COLUMNS,
    TRAIN_DEFAULTS,
    TRAIN_FEATURES,
)
from hf_david.stages.dedup import COLLIDES_WITH, Dedup, DedupConfig
from hf_david.stages.rejects import REJECT_DETAIL, REJECT_REASON, REJECT_STAGE

SHARDS = "shards"
PREVIEW_CHARS = 2000  # of the rejected text kept in the `rejects` split


def reject_row(row: dict, stage: str, reason: str, detail: str) -> dict:
    """A `rejects` row: where it came from, why, and a preview of its text."""
    text = row.get("output") or row.get("context") or row.get("text")
    return {
        "source_id": str(row.get("source_id") or ""),
        "stage": stage,
        "reason": reason,
        "detail": detail,
        "level": row.get("level") or "",
        "text": (text if isinstance(text, str) else repr(text))[:PREVIEW_CHARS],
        "collides_with": row.get(COLLIDES_WITH) or "",
    }


def partition(batch: dict[str, list]) -> tuple[list[dict], list[dict]]:
    """(train rows, reject rows) of a batch the stages have marked."""
    train, rejects = [], []
    for values in zip(*batch.values(), strict=True):
        row = dict(zip(batch, values, strict=True))
        if row.get(REJECT_STAGE):
            rejects.append(reject_row(row, row[REJECT_STAGE], row[REJECT_REASON], row[REJECT_DETAIL]))
        else:
            train.append({k: row[k] if k in row else TRAIN_DEFAULTS[k] for k in TRAIN_COLUMNS})
    return train, rejects


def _path(out: Path, split: str, index: int) -> Path:
    return out / SHARDS / f"{split}-{index:05d}.parquet"


def _write_parquet(path: Path, rows: list[dict], features: Features) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=features.arrow_schema), tmp)
    os.replace(tmp, path)


def write_shard(out: Path, index: int, train: list[dict], rejects: list[dict]) -> None:
    _write_parquet(_path(out, "train", index), train, TRAIN_FEATURES)
    _write_parquet(_path(out, "rejects", index), rejects, REJECT_FEATURES)


def _dataset(rows: list[dict], features: Features) -> Dataset:
    return Dataset.from_dict({column: [row[column] for row in rows] for column in features}, features=features)


class FinishedSplits(DatasetDict):
    """The final DatasetDict, and `final_stats`: {stage: stats} of the passes `finish` ran over all shards."""

    final_stats: dict


def _dedup_config(out: Path) -> DedupConfig:
    """The job's dedup settings, from its manifest (the defaults where it records none)."""
    path = out / JOB_MANIFEST
    full = json.loads(path.read_text()).get("config", {}).get("full", {}) if path.is_file() else {}
    return DedupConfig(**{f.name: full[f.name] for f in fields(DedupConfig) if f.name in full})


def dedup_across_shards(out: Path, rows: list[dict]) -> tuple[list[dict], list[dict], dict]:
    """(train rows, reject rows, {"dedup (all shards)": stats}) of the joined `train` rows after a global dedup pass.

    The shards ran `Dedup` on their own rows; this pass runs it over all rows in shard order, so the first
    row of a duplicate group in corpus order is kept, and a duplicate is found wherever its twin is."""
    config = _dedup_config(out)
    if not config.dedup or not rows:
        return rows, [], {}
    stage = Dedup(config)
    train, rejects = partition(stage({c: [row[c] for row in rows] for c in TRAIN_COLUMNS}))
    stats = {**stage.pop_stats().to_dict(), "rejects": dict(Counter(r["reason"] for r in rejects))}
    return train, rejects, {f"{stage.name} (all shards)": stats}


def finish(out: Path, indices: list[int]) -> FinishedSplits:
    """Join the shards, dedup across them, save the final DatasetDict (plus `train.jsonl`), drop the shards."""
    tables = {}
    for split, features in SPLIT_FEATURES.items():
        parts = [pq.read_table(_path(out, split, i)) for i in indices]
        tables[split] = (pa.concat_tables(parts) if parts else features.arrow_schema.empty_table()).to_pylist()
    train, duplicates, final_stats = dedup_across_shards(out, tables["train"])
    splits = {"train": train, "rejects": tables["rejects"] + duplicates}
    data = FinishedSplits({name: _dataset(rows, SPLIT_FEATURES[name]) for name, rows in splits.items()})
    data.final_stats = final_stats
    # datasets writes no arrow file for an empty split unless told to, and then cannot load it back.
    data.save_to_disk(str(out), num_shards={name: 1 for name, split in data.items() if not len(split)})
    data["train"].to_json(str(out / "train.jsonl"), lines=True)
    shutil.rmtree(out / SHARDS, ignore_errors=True)
    return data
