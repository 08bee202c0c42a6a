"""Decontamination: remove rows that share a long word n-gram with an evaluation set.

Reads `instruction`, `input`, `output` and `context` (the source passage: a row made from a benchmark's
text carries it there even when its own segment is short). A row with any `decontaminate_ngram`-gram (13
words by default, as GPT-3 and datatrove) of an evaluation item is marked `contaminated`; its detail and its
`collides_with` column name the item (`benchmark:item_id`) and the detail quotes the shared n-gram. Words
are compared after NFKC normalisation and case folding (`hf_david.stages.dedup.words`).

Evaluation sets: always the packaged SuperNI subset (`superni`: each instance's definition, input,
references and demonstrations) and Dolly's held-out rows 6200-6399 (`dolly-heldout`: instruction, context,
response), plus `decontaminate_against`: local files or folders (jsonl/json/csv/parquet, `save_to_disk`) or
Hub ids, where every string (or list of strings) column counts, and the `id` column names an item (else
its row number). Their n-grams are indexed once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from transformers.hf_argparser import HfArg

from hf_david.stages.base import ModelSettings, Stage, live_rows, n_rows, with_rejects
from hf_david.stages.dedup import COLLIDES_WITH, words
from hf_david.stages.rejects import Reason

BUILTIN = ("superni", "dolly-heldout")
COLUMNS = ("instruction", "input", "output", "context")


@dataclass
class DecontaminateConfig(ModelSettings):
    """Decontamination settings: on/off, the n-gram length and the evaluation sets beyond the packaged ones."""

    decontaminate: bool = HfArg(
        default=True, help="remove rows sharing an n-gram with SuperNI, Dolly held-out or --decontaminate_against"
    )
    decontaminate_ngram: int = HfArg(default=13, help="length of the shared n-gram that counts, in words")
    decontaminate_against: list[str] = HfArg(
        default_factory=list, help="more evaluation sets: files, folders or Hub ids (every string column counts)"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.decontaminate_ngram < 1:
            raise ValueError(f"decontaminate_ngram must be >= 1, got {self.decontaminate_ngram}")


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    return []


def benchmark_items(source: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """(benchmark name, [(item id, its texts)]) of a packaged set name, a file or folder, or a Hub id."""
    if source == "superni":
        from dataset_scripts.superni import load_superni

        return source, [(row["id"], _texts(row)) for row in load_superni()]
    if source == "dolly-heldout":  # a plain read: the packaged file is small and in one known format
        from dataset_scripts.longform import PACKAGED_DOLLY_HELDOUT
        from dataset_scripts.readers import json_lines
        from dataset_scripts.seed import DOLLY_HELDOUT

        rows = [row for _, row in json_lines(PACKAGED_DOLLY_HELDOUT) if row["dolly_row"] in DOLLY_HELDOUT]
        return source, [(f"dolly-{row['dolly_row']}", _texts(row)) for row in rows]
    from dataset_scripts.readers import read_dataset

    data = read_dataset(source)
    ids = data["id"] if "id" in data.column_names else range(len(data))
    name = Path(source).name if Path(source).exists() else source  # a file's name, or the Hub id
    return name, [(str(i), _texts(row)) for i, row in zip(ids, data, strict=True)]


@functools.lru_cache(maxsize=4)
def ngram_index(sources: tuple[str, ...], n: int) -> tuple[dict[int, str], dict[str, int]]:
    """({hash of an n-gram: `benchmark:item` of its first item}, {benchmark: items}) for the evaluation sets."""
    index: dict[int, str] = {}
    sizes: dict[str, int] = {}
    seen: set[str] = set()  # texts shared by items (SuperNI repeats a task's definition in each instance)
    for source in sources:
        name, items = benchmark_items(source)
        sizes[name] = len(items)
        for item_id, texts in items:
            where = f"{name}:{item_id}"
            for text in set(texts) - seen:
                seen.add(text)
                tokens = words(text)
                for i in range(len(tokens) - n + 1):
                    index.setdefault(hash(tuple(tokens[i : i + n])), where)
    return index, sizes


class Decontaminate(Stage):
    """Rows in; those sharing a long n-gram with an evaluation item marked `contaminated`."""

    name = "decontaminate"
    config_class = DecontaminateConfig

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        cfg = self.config
        n = cfg.decontaminate_ngram
        index, _ = ngram_index((*BUILTIN, *cfg.decontaminate_against), n)
        collides = list(batch.get(COLLIDES_WITH) or [""] * n_rows(batch))
        rejects = {}
        for i in live_rows(batch):
            for column in (c for c in COLUMNS if c in batch):
                tokens = words(batch[column][i])
                hit = next((j for j in range(len(tokens) - n + 1) if hash(tuple(tokens[j : j + n])) in index), None)
                if hit is not None:
                    collides[i] = index[hash(tuple(tokens[hit : hit + n]))]
                    shared = " ".join(tokens[hit : hit + n])
                    detail = f"its {column} shares the {n}-gram {shared!r} with {collides[i]}"
                    rejects[i] = (Reason.CONTAMINATED, detail)
                    break
        return with_rejects({**batch, COLLIDES_WITH: collides}, self.name, rejects)
