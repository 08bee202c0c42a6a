"""Duplicate rows: exact (the same normalised instruction, input and output) and near (MinHash LSH).

Reads `instruction`, `input` and `output` (and `source_id`, `level` to name rows). Walks the live rows in
batch order and keeps a row unless it matches a row kept before it: the same normalised triple
(`exact_duplicate`), or a MinHash estimate of the Jaccard similarity of their word shingles of at least
`dedup_threshold` (`near_duplicate`; datasketch's MinHashLSH finds the candidates), unless the two are
segments of one passage at different levels (a `sentence` span of a short passage overlaps its `passage`
row by design; Extract already drops equal segments). A removed row's detail
and its `collides_with` column name the kept row (`source_id/level`). The job runs this stage on every shard
and again over all shards together when it finishes (`hf_david.job.shards.finish`), so duplicates across
shards go too, and the first row in corpus order is the one kept. Normalisation: Unicode NFKC, case folded,
words only (punctuation and spacing do not count).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from transformers.hf_argparser import HfArg

from hf_david.stages.base import ModelSettings, Stage, live_rows, n_rows, with_rejects
from hf_david.stages.rejects import Reason

COLLIDES_WITH = "collides_with"  # the row or benchmark item a removed row collided with ("" for none)
FIELDS = ("instruction", "input", "output")


@dataclass
class DedupConfig(ModelSettings):
    """Dedup settings: on/off, the near-duplicate threshold and the shingles it compares."""

    dedup: bool = HfArg(default=True, help="remove exact and near duplicate rows, within and across shards")
    dedup_threshold: float = HfArg(
        default=0.6, help="near duplicates: estimated Jaccard similarity of word shingles at or above this"
    )
    dedup_shingle: int = HfArg(default=3, help="near duplicates: words per shingle")
    dedup_num_perm: int = HfArg(default=128, help="near duplicates: MinHash permutations")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.dedup_threshold <= 1:
            raise ValueError(f"dedup_threshold must be in (0, 1], got {self.dedup_threshold}")
        if self.dedup_shingle < 1 or self.dedup_num_perm < 2:
            raise ValueError(
                f"need dedup_shingle >= 1 and dedup_num_perm >= 2, got {self.dedup_shingle}, {self.dedup_num_perm}"
            )


def words(text: object) -> list[str]:
    """The words of `text` after NFKC normalisation and case folding ([] for a non-string)."""
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()) if isinstance(text, str) else []


def row_name(batch: dict[str, list], i: int) -> str:
    """`source_id/level` of row `i`: how a removal names the row it collided with."""
    return f"{(batch.get('source_id') or [''] * n_rows(batch))[i]}/{(batch.get('level') or [''] * n_rows(batch))[i]}"


def shingles(tokens: list[str], size: int) -> list[bytes]:
    """The word `size`-grams of `tokens` (the whole text as one shingle when it is shorter)."""
    return [" ".join(tokens[i : i + size]).encode() for i in range(max(1, len(tokens) - size + 1))]


@functools.cache
def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)  # (bands, rows), computed once per setting


class Dedup(Stage):
    """Rows in; those that repeat an earlier kept row marked `exact_duplicate` or `near_duplicate`."""

    name = "dedup"
    config_class = DedupConfig

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        from datasketch import MinHash, MinHashLSH

        cfg = self.config
        missing = [f for f in FIELDS if f not in batch]
        if missing:
            raise KeyError(f"columns {missing} not found; columns are {sorted(batch)}")
        collides = list(batch.get(COLLIDES_WITH) or [""] * n_rows(batch))
        live = live_rows(batch)
        rows = {i: [words(batch[f][i]) for f in FIELDS] for i in live}
        hashes = MinHash.bulk(
            [shingles([w for field in rows[i] for w in field], cfg.dedup_shingle) for i in live],
            num_perm=cfg.dedup_num_perm,
            seed=1,
        )
        lsh = MinHashLSH(num_perm=cfg.dedup_num_perm, params=_lsh_params(cfg.dedup_threshold, cfg.dedup_num_perm))
        sources, levels = batch.get("source_id") or [None] * n_rows(batch), batch.get("level") or [None] * n_rows(batch)

        def views(i: int, j: int) -> bool:  # two levels of one passage: segments Extract chose, not repetition
            return sources[i] is not None and sources[i] == sources[j] and levels[i] != levels[j]

        kept: dict[tuple, int] = {}
        signatures = {}
        rejects = {}
        for i, minhash in zip(live, hashes, strict=True):
            key = tuple(" ".join(field) for field in rows[i])
            if key in kept:
                j, reason, what = kept[key], Reason.EXACT_DUPLICATE, "exact duplicate"
            else:
                similar = [(j, signatures[j].jaccard(minhash)) for j in lsh.query(minhash) if not views(i, j)]
                similar = sorted(j for j, score in similar if score >= cfg.dedup_threshold)
                if not similar:
                    kept[key], signatures[i] = i, minhash
                    lsh.insert(i, minhash)
                    continue
                j, reason = similar[0], Reason.NEAR_DUPLICATE
                what = f"near duplicate (estimated Jaccard {signatures[j].jaccard(minhash):.2f})"
            collides[i] = row_name(batch, j)
            rejects[i] = (reason, f"{what} of the kept row {collides[i]}: {str(batch['instruction'][j])[:80]!r}")
        return with_rejects({**batch, COLLIDES_WITH: collides}, self.name, rejects)
