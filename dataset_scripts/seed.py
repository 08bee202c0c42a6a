"""Seed instruction data in one schema: `instruction`, `input`, `output`, `source`.

The training recipes (`hf-david train-generator`, `hf-david train`) read human-written seed data (Dolly-15k
from the Hub or a local jsonl, or any dataset given its column names) and hf-david job folders through
these loaders, so every source reaches the trainer with the same four columns plus a provenance record
(`DataSource`) that ends up in the model card.

Held-out convention shared with the evaluation code: Dolly rows 6200-6399 (`DOLLY_HELDOUT`) are never
trained on; `split_heldout` separates them by the `dolly_row` column.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

from hf_david.artifacts import JOB_MANIFEST

COLUMNS = ["instruction", "input", "output", "source"]
DOLLY_HUB_ID = "databricks/databricks-dolly-15k"
DOLLY_LICENSE = "cc-by-sa-3.0"
DOLLY_HELDOUT = range(6200, 6400)


@dataclass
class DataSource:
    """Provenance of one training dataset, as written to `hf_david_training.json` and the model card."""

    name: str
    source: str
    rows: int
    license: str

    def to_dict(self) -> dict:
        return asdict(self)


def _read(source: str, split: str) -> Dataset:
    """A local .jsonl/.json/.csv/.parquet file, a `save_to_disk` folder, or a Hub dataset id."""
    path = Path(source)
    if path.is_file():
        kind = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(path.suffix)
        if kind is None:
            raise ValueError(f"{source}: unsupported file type {path.suffix!r} (use .jsonl, .json, .csv, .parquet)")
        return load_dataset(kind, data_files=str(path), split="train")
    if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "dataset_info.json").is_file()):
        data = load_from_disk(str(path))
        return data[split] if isinstance(data, DatasetDict) else data
    return load_dataset(source, split=split)


def normalize(
    ds: Dataset,
    *,
    instruction: str,
    output: str,
    input: str | None = None,
    source: str,
    keep: tuple[str, ...] = (),
) -> Dataset:
    """Rename/select columns into the shared schema; `input` is "" when there is no input column.

    Fails with the row index and field name when a value is missing, not a string, or (for instruction
    and output) empty, since such a row would train the model on nothing.
    """
    wanted = [c for c in (instruction, output, input) if c]
    missing = [c for c in wanted if c not in ds.column_names]
    if missing:
        raise KeyError(f"{source}: columns {missing} not found; columns are {ds.column_names}")

    def convert(row: dict, idx: int) -> dict:
        values = {"instruction": row[instruction], "output": row[output], "input": row[input] if input else ""}
        for field, value in values.items():
            if value is None and field == "input":
                values[field] = ""
            elif not isinstance(value, str):
                raise ValueError(f"{source}: row {idx}: field {field!r} must be a string, got {value!r}")
            elif field != "input" and not value.strip():
                raise ValueError(f"{source}: row {idx}: field {field!r} is empty")
        return {**values, "source": source}

    drop = [c for c in ds.column_names if c not in keep]
    out = ds.map(convert, with_indices=True, remove_columns=drop, desc=f"normalizing {source}")
    return out.select_columns(COLUMNS + [c for c in keep if c in out.column_names])


def load_dolly(source: str = DOLLY_HUB_ID) -> Dataset:
    """Dolly-15k with a `dolly_row` column: from the Hub (`instruction/context/response`) or a local jsonl.

    The shared 6,400-row copy (`instruction/response/dolly_row`, no context, non-ASCII stripped) is
    accepted as is; its rows keep their original Dolly indices so the held-out range stays meaningful.
    """
    ds = _read(source, "train")
    if "dolly_row" not in ds.column_names:
        ds = ds.add_column("dolly_row", list(range(len(ds))))
    context = "context" if "context" in ds.column_names else None
    return normalize(
        ds, instruction="instruction", output="response", input=context, source=source, keep=("dolly_row",)
    )


def split_heldout(ds: Dataset, heldout: range = DOLLY_HELDOUT) -> tuple[Dataset, Dataset]:
    """(train, held-out) by `dolly_row`: rows in `heldout` are for evaluation only."""
    if "dolly_row" not in ds.column_names:
        raise KeyError(f"column 'dolly_row' not found; columns are {ds.column_names}")
    rows = ds["dolly_row"]
    keep = [i for i, r in enumerate(rows) if r not in heldout]
    held = [i for i, r in enumerate(rows) if r in heldout]
    return ds.select(keep), ds.select(held)


def load_columns(
    source: str, *, instruction: str, output: str, input: str | None = None, split: str = "train"
) -> Dataset:
    """Any local or Hub dataset, given the names of its instruction, output and (optional) input columns."""
    return normalize(_read(source, split), instruction=instruction, output=output, input=input, source=source)


def load_generated(job_dir: str | Path) -> tuple[Dataset, dict]:
    """The `train` split of an `hf-david generate` job folder, and its manifest (`{}` if absent)."""
    job_dir = Path(job_dir)
    if not job_dir.is_dir():
        raise FileNotFoundError(f"{job_dir}: not a directory (expected an `hf-david generate --out` folder)")
    data = load_from_disk(str(job_dir))
    if not isinstance(data, DatasetDict) or "train" not in data:
        raise ValueError(f"{job_dir}: expected a DatasetDict with a 'train' split")
    manifest_path = job_dir / JOB_MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    ds = normalize(
        data["train"], instruction="instruction", output="output", input="input", source=f"hf-david:{job_dir.name}"
    )
    return ds, manifest
