"""Long-form generation benchmarks scored with METEOR: the LongForm test set and a Dolly held-out proxy.

Both loaders return the columns `id`, `input` (the instruction the model answers), `output` (the
reference) and `source` (the group METEOR is averaged over); the Dolly proxy adds `context` (the passage the
instruction refers to, "" for none). How the two make a prompt is the evaluator's business.
- LongForm (Köksal et al., 2023): the Hub dataset `akoksal/LongForm` (split `test`, columns `input`,
  `output`, `source`) or a local copy of it (file, folder or `save_to_disk` folder; see
  `dataset_scripts.readers`). `id` is the source's own when it has one, else `longform-<row>`.
- Dolly held-out (a PROXY, not LongForm): the long-form responses (>= 50 words) among Dolly rows
  6200-6399, which hf_david's training recipes never train on (`dataset_scripts.seed.DOLLY_HELDOUT`).
  By default the packaged rows `data/dolly_heldout/dolly15k_rows6200-6399.jsonl` (provenance and licence
  in that folder). That copy has no context; Hub-style Dolly has one. `id` is `dolly-<dolly_row>` and
  `source` is "dolly-heldout".
"""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset

from dataset_scripts.readers import is_saved_dataset, read_dataset
from dataset_scripts.seed import DOLLY_HELDOUT, load_dolly, split_heldout

LONGFORM_HUB_ID = "akoksal/LongForm"
COLUMNS = ("input", "output", "source")
DOLLY_FILE = "dolly/dolly15k_rows0-6399_instruction_response_ascii.jsonl"  # the team copy, inside a folder
PACKAGED_DOLLY_HELDOUT = Path(__file__).resolve().parent / "data" / "dolly_heldout" / "dolly15k_rows6200-6399.jsonl"
DOLLY_MIN_WORDS = 50


def _check(ds: Dataset, columns: tuple[str, ...], where: str) -> Dataset:
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise ValueError(f"{where}: missing columns {missing}; columns are {ds.column_names}")
    for i, row in enumerate(ds.select_columns(list(columns))):
        for column in columns:
            if not isinstance(row[column], str) or not row[column].strip():
                raise ValueError(f"{where}: row {i}: field {column!r} must be a non-empty string")
    if len(ds) == 0:
        raise ValueError(f"{where}: no rows")
    return ds


def load_longform(source: str | Path = LONGFORM_HUB_ID, split: str = "test") -> Dataset:
    """LongForm rows (`id`, `input`, `output`, `source`) from the Hub id or a local copy."""
    ds = _check(read_dataset(source, split=split), COLUMNS, str(source))
    if "id" not in ds.column_names:
        ds = ds.add_column("id", [f"longform-{i}" for i in range(len(ds))])
    return ds.select_columns(["id", *COLUMNS])


def load_dolly_heldout(path: str | Path | None = None, min_words: int = DOLLY_MIN_WORDS) -> Dataset:
    """Dolly held-out long-form responses in LongForm's columns, from the packaged rows by default.

    `path` may be a Dolly file (any rows; only those in `DOLLY_HELDOUT` are kept), a folder holding the team
    copy at `DOLLY_FILE`, or a `save_to_disk` folder.
    """
    path = Path(path) if path is not None else PACKAGED_DOLLY_HELDOUT
    if path.is_dir() and not is_saved_dataset(path):
        path = path / DOLLY_FILE
    if not path.exists():
        raise FileNotFoundError(f"Dolly file not found at {path} (give a Dolly jsonl, or a folder with {DOLLY_FILE})")
    _, held = split_heldout(load_dolly(str(path)))
    keep = [i for i, response in enumerate(held["output"]) if len(response.split()) >= min_words]
    if not keep:
        raise ValueError(
            f"{path}: no held-out rows ({DOLLY_HELDOUT.start}-{DOLLY_HELDOUT.stop - 1}) with >= {min_words} words"
        )
    rows = held.select(keep)
    return Dataset.from_dict(
        {
            "id": [f"dolly-{r}" for r in rows["dolly_row"]],
            "input": rows["instruction"],
            "context": rows["input"],
            "output": rows["output"],
            "source": ["dolly-heldout"] * len(rows),
        }
    )
