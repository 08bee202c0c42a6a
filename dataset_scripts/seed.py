"""Seed instruction data in one schema: `instruction`, `input`, `output`, `source` (all strings).

The training recipes (`hf-david train-generator`, `hf-david train`) read human-written seed data (Dolly-15k
from the Hub or a local jsonl, or any dataset given its column names) through these loaders, so every
source reaches the trainer with the same four columns plus a provenance record (`DataSource`) that ends up
in the model card. Sources are read by `dataset_scripts.readers.read_dataset`: a local .jsonl/.json/.csv/
.parquet file or folder, a `save_to_disk` folder, or a Hub dataset id.

Held-out convention shared with the evaluation code: Dolly rows 6200-6399 (`DOLLY_HELDOUT`) are never
trained on; `split_heldout` separates them by the `dolly_row` column.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from datasets import Dataset

from dataset_scripts.readers import read_dataset

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
    """Dolly-15k as `instruction, input, output, source, dolly_row`: from the Hub or a local copy.

    Hub columns `instruction/context/response` become `instruction/input/output`. Copies without context
    (`instruction/response/dolly_row`: the team's 6,400-row file, the test fixture, the packaged held-out
    rows) are accepted as is, with `input` = ""; their rows keep their original Dolly indices in
    `dolly_row`, so the held-out range stays meaningful. Without a `dolly_row` column, it is the row number.
    """
    ds = read_dataset(source)
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
    return normalize(
        read_dataset(source, split=split), instruction=instruction, output=output, input=input, source=source
    )
