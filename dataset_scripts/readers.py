"""One reader behind every loader: a file, a folder of files, a `save_to_disk` folder or a Hub dataset id.

- `read_dataset` returns the whole source as a `datasets.Dataset` (seed data, benchmarks), through
  `datasets.load_dataset` / `load_from_disk`.
- `iter_rows` streams plain dicts one at a time in a fixed order (the corpus of `hf-david generate`). It is
  tolerant of bad rows: a JSON line it cannot parse becomes `{"text": None, "_error": ...}` and a JSON
  value that is not an object becomes `{"text": value}`, so a job can reject that row instead of failing
  on the whole file.
- `json_lines` is the line-numbered JSON Lines reader under both, for loaders that name the bad line.

`FORMATS` is the one table of the file types read. A `.txt` file holds one row per blank-line-separated
paragraph: `{"id": "<file name>:<n>", "text": <paragraph>}`.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

FORMATS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".txt": "text"}
SAVED_MARKERS = ("dataset_dict.json", "dataset_info.json")  # written by `save_to_disk`
HUB_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")


def is_saved_dataset(path: Path) -> bool:
    """True for a folder written by `Dataset.save_to_disk` or `DatasetDict.save_to_disk`."""
    return path.is_dir() and any((path / name).is_file() for name in SAVED_MARKERS)


def format_of(path: Path) -> str:
    """The `load_dataset` builder for a file, by its suffix (see `FORMATS`)."""
    if path.suffix not in FORMATS:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r} (use {', '.join(FORMATS)})")
    return FORMATS[path.suffix]


def source_files(path: Path) -> list[Path]:
    """The files a local source is read from, in reading order.

    The file itself; every file of a `save_to_disk` folder; or the files with a suffix in `FORMATS` under a
    folder (recursively, sorted by path). Also what a corpus fingerprint is computed over.
    """
    if path.is_file():
        format_of(path)
        return [path]
    if is_saved_dataset(path):
        return sorted(f for f in path.rglob("*") if f.is_file())
    files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix in FORMATS)
    if not files:
        raise FileNotFoundError(f"no {'/'.join(FORMATS)} files under {path}")
    return files


def _not_found(source: str) -> FileNotFoundError:
    return FileNotFoundError(f"{source!r} is neither a local file/folder nor a Hub dataset id")


def _saved_split(path: Path, split: str) -> Dataset:
    data = load_from_disk(str(path))
    if isinstance(data, DatasetDict):
        if split not in data:
            raise ValueError(f"{path}: no split {split!r}; splits are {list(data)}")
        data = data[split]
    return data


def _read_files(path: Path) -> Dataset:
    files = source_files(path)
    kinds = sorted({format_of(f) for f in files})
    if len(kinds) > 1:
        raise ValueError(f"{path}: files of several formats ({', '.join(kinds)}); keep one format per folder")
    if kinds == ["text"]:
        return Dataset.from_list([row for f in files for row in text_paragraphs(f)])
    try:
        return load_dataset(kinds[0], data_files=[str(f) for f in files], split="train")
    except Exception as err:  # datasets wraps parse errors in several types
        raise ValueError(f"{path}: could not be read as {kinds[0]} ({err})") from err


def read_dataset(
    source: str | Path, *, split: str = "train", config: str | None = None, revision: str | None = None
) -> Dataset:
    """The rows of a local file or folder, a `save_to_disk` folder (its `split`), or a Hub dataset id.

    Local files give one `train` split, so `split`, `config` and `revision` apply to the Hub and (`split`)
    to a saved `DatasetDict` only. A Hub id that cannot be loaded (offline, unknown, missing split) raises
    `FileNotFoundError`; a local file that cannot be parsed raises `ValueError`.
    """
    path = Path(source)
    if is_saved_dataset(path):
        return _saved_split(path, split)
    if path.exists():
        return _read_files(path)
    if not HUB_ID.fullmatch(str(source)):
        raise _not_found(str(source))
    try:
        return load_dataset(str(source), config, split=split, revision=revision)
    except Exception as err:  # offline, unknown repo, missing split: all mean "no data here"
        raise FileNotFoundError(
            f"{str(source)!r} is not a local file or folder and could not be loaded from the Hub "
            f"(split {split!r}: {type(err).__name__}: {err})"
        ) from err


def iter_rows(
    source: str | Path, *, split: str = "train", config: str | None = None, revision: str | None = None
) -> Iterator[dict]:
    """Rows as dicts, one at a time, in a fixed order; a Hub id is streamed (nothing is downloaded first).

    A missing source fails here, before the first row; bad rows are marked, not raised (see the module).
    """
    path = Path(source)
    if is_saved_dataset(path):
        return iter(_saved_split(path, split))
    if path.exists():
        return itertools.chain.from_iterable(file_rows(f) for f in source_files(path))
    if not HUB_ID.fullmatch(str(source)):
        raise _not_found(str(source))
    return iter(load_dataset(str(source), config, split=split, revision=revision, streaming=True))


def file_rows(path: Path) -> Iterator[dict]:
    """The rows of one file, tolerant of bad JSON lines and of JSON values that are not objects."""
    kind = format_of(path)
    if kind == "text":
        yield from text_paragraphs(path)
    elif kind == "json" and _starts_with(path, "["):
        yield from (row if isinstance(row, dict) else {"text": row} for row in json.loads(path.read_text()))
    elif kind == "json":
        for n, value in json_lines(path):
            if isinstance(value, json.JSONDecodeError):
                yield {"text": None, "_error": f"{path.name} line {n}: invalid JSON ({value.msg})"}
            else:
                yield value if isinstance(value, dict) else {"text": value}
    else:
        yield from load_dataset(kind, data_files=str(path), split="train", streaming=True)


def json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """(line number, value) for each non-blank line; the value is the `json.JSONDecodeError` when invalid."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as err:
                yield n, err


def text_paragraphs(path: Path) -> Iterator[dict]:
    """`{"id", "text"}` for each blank-line-separated paragraph of a text file, stripped."""
    for n, paragraph in enumerate(re.split(r"\n\s*\n", path.read_text(errors="replace"))):
        if paragraph.strip():
            yield {"id": f"{path.name}:{n}", "text": paragraph.strip()}


def _starts_with(path: Path, char: str) -> bool:
    with path.open(encoding="utf-8", errors="replace") as fh:
        while chunk := fh.read(4096):
            if chunk.strip():
                return chunk.lstrip().startswith(char)
    return False
