"""The corpus of a Ray job, read by Ray Data's readers on the cluster and handed to the driver in the local
job's order, so the driver cuts the same shards.

Read by Ray Data (tasks in parallel, `preserve_order`), file by file in the local reader's order
(`dataset_scripts.readers.source_files`):
- a local parquet file or folder: `ray.data.read_parquet`;
- a local JSON Lines file or folder (`.jsonl` only: a `.json` file may hold one array): `ray.data.read_json`,
  whose Arrow reader reads one object per line;
- a Hub dataset stored as parquet: `ray.data.read_parquet` over `HfFileSystem`, on the files and commit
  that `datasets.load_dataset(..., streaming=True)` streams in the local job (not `ray.data.from_huggingface`,
  which reads the Hub's parquet conversion of the main branch, from huggingface.co only).
Everything else (csv, txt, `.json`, `save_to_disk` folders, the built-in corpus, other Hub datasets) is read
on the driver by the local reader. The local reader also takes over, from the first row Ray Data did not
hand over, when a Ray read fails (an invalid JSON line, a column of mixed types: rows the local reader
keeps as rejects) or gives a job column a type whose Python values could differ from the local reader's.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from dataset_scripts.corpus import BUILTIN
from dataset_scripts.readers import is_saved_dataset, source_files
from hf_david.job.config import JobConfig

# Arrow types whose values are the same Python values as the local reader's (json.loads, or datasets' decoding).
SAME_VALUES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_null)


def corpus_rows(ray, config: JobConfig, columns: list[str], local: Iterator[dict]) -> Iterator[dict]:
    """The corpus rows in the local job's order: from Ray Data where it reads the corpus, else from `local`
    (the local reader's rows, not consumed yet), which also gives the rest when a Ray read fails."""
    served = 0
    try:
        if source := ray_source(ray, config):
            data, types = source
            data = data.limit(config.max_passages) if config.max_passages else data
            data.context.execution_options.preserve_order = True
            for table in data.iter_batches(batch_size=None, batch_format="pyarrow"):
                if problem := _unlike(table, columns, types):
                    raise ValueError(problem)
                yield from table.to_pylist()
                served += table.num_rows
            return
    except Exception as err:
        cause = getattr(err, "cause", None) or err  # a reader's error, inside Ray's RayTaskError
        print(
            f"hf-david: Ray Data handed over {served} corpus rows; the local reader reads the rest on the driver "
            f"({type(cause).__name__}: {str(cause).splitlines()[0][:300]})",
            file=sys.stderr,
        )
    yield from itertools.islice(local, served, None)


def ray_source(ray, config: JobConfig):
    """(the corpus as a Ray dataset, {column: the Arrow type it must have}), or None: the local reader reads it."""
    path = Path(config.corpus)
    if config.corpus == BUILTIN or is_saved_dataset(path):
        return None
    if path.exists():
        files = [str(f) for f in source_files(path)]
        if all(f.endswith(".parquet") for f in files):
            return ray.data.read_parquet(files, partitioning=None), {}
        if all(f.endswith(".jsonl") for f in files):
            return ray.data.read_json(files, partitioning=None), {}
        return None
    return _hub_parquet(ray, config)


def _hub_parquet(ray, config: JobConfig):
    """A Hub dataset whose split is stored as parquet files: those files, at the resolved commit, in order."""
    from datasets import load_dataset_builder
    from huggingface_hub import HfFileSystem

    builder = load_dataset_builder(config.corpus, config.corpus_config, revision=config.corpus_revision)
    files = (builder.config.data_files or {}).get(config.split) or []
    if not files or not all(f.startswith("hf://") and f.endswith(".parquet") for f in files):
        return None
    paths = [f.removeprefix("hf://") for f in files]
    features = builder.info.features  # declared in the card: datasets casts to them, so Ray must read them as is
    types = {name: features.arrow_schema.field(name).type for name in features} if features else {}
    return ray.data.read_parquet(paths, filesystem=HfFileSystem(), partitioning=None), types


def _unlike(table: pa.Table, columns: list[str], types: dict) -> str | None:
    """Why a job column of a block read by Ray could give other values than the local reader's, or None."""
    for column in columns:
        if column not in table.column_names:
            continue  # None in both readers
        kind = table.schema.field(column).type
        if column in types and kind != types[column]:
            return f"column {column!r} is {kind} in the files, {types[column]} in the dataset's features"
        if not any(check(kind) for check in SAME_VALUES):
            return f"column {column!r} is {kind}: only strings and integers are read by Ray Data"
    return None
