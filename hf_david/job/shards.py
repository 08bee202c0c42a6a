"""Shard I/O of a job folder, and the one place where rejected rows are split from kept ones.

Each finished shard is two parquet files under `OUT/shards/` (`train-NNNNN.parquet`,
`rejects-NNNNN.parquet`), written under a temporary name and renamed, so a crash never leaves half a
shard. At the end the shards become a `save_to_disk` DatasetDict (`train`, `rejects`) plus `train.jsonl`.
The columns are `hf_david.artifacts.TRAIN_FEATURES` and `REJECT_FEATURES`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Dataset, DatasetDict, Features

from hf_david.artifacts import REJECT_FEATURES, SPLIT_FEATURES, TRAIN_COLUMNS, TRAIN_FEATURES
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
    }


def partition(batch: dict[str, list]) -> tuple[list[dict], list[dict]]:
    """(train rows, reject rows) of a batch the stages have marked."""
    train, rejects = [], []
    for values in zip(*batch.values(), strict=True):
        row = dict(zip(batch, values, strict=True))
        if row.get(REJECT_STAGE):
            rejects.append(reject_row(row, row[REJECT_STAGE], row[REJECT_REASON], row[REJECT_DETAIL]))
        else:
            train.append({k: row[k] for k in TRAIN_COLUMNS})
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


def finish(out: Path, indices: list[int]) -> DatasetDict:
    """Join the shards into the final DatasetDict, save it (plus `train.jsonl`) and drop the shards."""
    splits = {}
    for split, features in SPLIT_FEATURES.items():
        tables = [pq.read_table(_path(out, split, i)) for i in indices]
        table = pa.concat_tables(tables) if tables else features.arrow_schema.empty_table()
        splits[split] = Dataset.from_dict(table.to_pydict(), features=features)
    data = DatasetDict(splits)
    # datasets writes no arrow file for an empty split unless told to, and then cannot load it back.
    data.save_to_disk(str(out), num_shards={name: 1 for name, split in data.items() if not len(split)})
    data["train"].to_json(str(out / "train.jsonl"), lines=True)
    shutil.rmtree(out / SHARDS, ignore_errors=True)
    return data
