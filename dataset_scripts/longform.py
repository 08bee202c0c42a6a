"""Long-form generation benchmarks scored with METEOR: the LongForm test set and a Dolly held-out proxy.

- LongForm (Köksal et al., 2023): the Hub dataset `akoksal/LongForm` (split `test`, columns `input`,
  `output`, `source`) or a local copy of it (.json/.jsonl/.parquet file, or a `save_to_disk` folder). The
  instruction is `input`; the reference is `output`; METEOR is averaged per `source`.
- Dolly held-out (a PROXY, not LongForm): the long-form responses (>= 50 words) among Dolly rows
  6200-6399, which hf_david's training recipes never train on (`dataset_scripts.seed.DOLLY_HELDOUT`).
  Read from the shared ASCII Dolly file (fields instruction, response, dolly_row); it has no `context`,
  so these prompts are the bare instructions.
"""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

from dataset_scripts.seed import DOLLY_HELDOUT

LONGFORM_HUB_ID = "akoksal/LongForm"
COLUMNS = ("input", "output", "source")
DOLLY_FILE = "dolly/dolly15k_rows0-6399_instruction_response_ascii.jsonl"
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
    """LongForm rows (`input`, `output`, `source`) from the Hub id or a local copy."""
    path = Path(source)
    if path.is_file():
        kind = {".json": "json", ".jsonl": "json", ".parquet": "parquet"}.get(path.suffix)
        if kind is None:
            raise ValueError(f"{path}: unsupported file type {path.suffix!r} (use .json, .jsonl or .parquet)")
        try:
            ds = load_dataset(kind, data_files=str(path), split="train")
        except Exception as err:  # datasets wraps parse errors in several types
            raise ValueError(f"{path}: could not be read as LongForm {kind} ({err})") from err
    elif path.is_dir():
        if not any((path / name).is_file() for name in ("dataset_info.json", "dataset_dict.json")):
            raise FileNotFoundError(f"{path}: not a `save_to_disk` dataset folder")
        data = load_from_disk(str(path))
        if isinstance(data, DatasetDict):
            if split not in data:
                raise ValueError(f"{path}: no split {split!r}; splits are {list(data)}")
            data = data[split]
        ds = data
    else:
        try:
            ds = load_dataset(str(source), split=split)
        except Exception as err:  # offline, unknown repo, missing split: all mean "no data here"
            raise FileNotFoundError(
                f"LongForm data: {source!r} is not a local file or folder and could not be loaded "
                "from the Hub "
                f"(split {split!r}: {type(err).__name__}: {err}); pass a local copy with --data"
            ) from err
    ds = _check(ds, COLUMNS, str(source))
    if "id" not in ds.column_names:
        ds = ds.add_column("id", [f"longform-{i}" for i in range(len(ds))])
    return ds.select_columns(["id", *COLUMNS])


def load_dolly_heldout(path: str | Path, min_words: int = DOLLY_MIN_WORDS) -> Dataset:
    """Dolly held-out long-form responses in LongForm's columns (`source` = "dolly-heldout")."""
    path = Path(path)
    if path.is_dir():
        path = path / DOLLY_FILE
    if not path.is_file():
        raise FileNotFoundError(f"Dolly file not found at {path} (expected the shared {DOLLY_FILE})")
    ds = _check(load_dataset("json", data_files=str(path), split="train"), ("instruction", "response"), str(path))
    if "dolly_row" not in ds.column_names:
        raise ValueError(f"{path}: missing column 'dolly_row' (the Dolly row index)")
    keep = [
        i
        for i, row in enumerate(ds.select_columns(["dolly_row", "response"]))
        if row["dolly_row"] in DOLLY_HELDOUT and len(row["response"].split()) >= min_words
    ]
    if not keep:
        raise ValueError(
            f"{path}: no held-out rows ({DOLLY_HELDOUT.start}-{DOLLY_HELDOUT.stop - 1}) with >= {min_words} words"
        )
    rows = ds.select(keep)
    return Dataset.from_dict(
        {
            "id": [f"dolly-{r}" for r in rows["dolly_row"]],
            "input": rows["instruction"],
            "output": rows["response"],
            "source": ["dolly-heldout"] * len(rows),
        }
    )
