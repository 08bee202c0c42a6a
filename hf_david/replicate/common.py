"""What the experiments share: running a real `hf-david generate` job on their data, and writing rows.

Each experiment's jobs are ordinary job folders (resumable, with manifest and card) under OUT/eN/, so a
crashed `hf-david replicate` re-run picks up where each job stopped.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from datasets import DatasetDict

from dataset_scripts.readers import read_dataset
from dataset_scripts.seed import load_dolly, split_heldout
from hf_david.job import Job, JobConfig
from hf_david.replicate.config import ReplicateConfig


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Rows as JSON lines, atomically (written under a temporary name, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    tmp.replace(path)


def heldout_rows(config: ReplicateConfig) -> list[dict]:
    """The first `heldout_rows` held-out Dolly rows: `{"id": dolly_row, "text": response, "instruction"}`."""
    _, held = split_heldout(load_dolly(config.heldout))
    if not len(held):
        raise ValueError(f"{config.heldout}: no Dolly rows 6200-6399 (column dolly_row)")
    held = held.select(range(min(config.heldout_rows, len(held))))
    return [{"id": r["dolly_row"], "text": r["output"], "instruction": r["instruction"]} for r in held]


def drawn_passages(config: ReplicateConfig) -> list[dict]:
    """`passage_rows` paragraphs of at least `min_passage_words` words, drawn (seeded) from `passages`, in
    file order: `{"id", "text"}`."""
    ds = read_dataset(config.passages)
    if "text" not in ds.column_names:
        raise ValueError(f"{config.passages}: no `text` column (columns: {', '.join(ds.column_names)})")
    ids = ds["id"] if "id" in ds.column_names else [f"row-{i}" for i in range(len(ds))]
    usable = [i for i, t in enumerate(ds["text"]) if isinstance(t, str) and len(t.split()) >= config.min_passage_words]
    if len(usable) < config.passage_rows:
        raise ValueError(
            f"{config.passages}: {len(usable)} paragraphs have >= {config.min_passage_words} words, "
            f"--passage_rows asks for {config.passage_rows}"
        )
    drawn = sorted(random.Random(config.seed).sample(usable, config.passage_rows))
    return [{"id": str(ids[i]), "text": ds["text"][i]} for i in drawn]


def run_job(config: ReplicateConfig, corpus: Path, out: Path, **settings) -> DatasetDict:
    """`hf-david generate` on `corpus` (jsonl with `id`, `text`) into `out`, with the replication's model and
    seed, every row kept (`max_passages 0`) and no reject-rate stop: a rejected row counts as a failure in
    the experiment, it must not end it. `settings` are further `JobConfig` fields."""
    job = JobConfig(
        corpus=str(corpus),
        id_column="id",
        max_passages=0,
        shard_size=40,
        max_reject_rate=1.0,
        model=config.model,
        seed=config.seed,
        shape_check=config.shape_check,
        **settings,
    )
    return Job(job, out, command=f"hf-david replicate (job {out.name})").run()


def train_rows(data: DatasetDict) -> dict[tuple[str, str], dict]:
    """The job's train rows keyed by (source_id, level)."""
    return {(row["source_id"], row["level"]): row for row in data["train"]}
