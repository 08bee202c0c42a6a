"""Generation jobs that survive crashes and bad input: sharded checkpoints, resume, rejects and stats.

`Job(config, out).run()` reads passages from the corpus in a fixed order, cuts them into shards of
`shard_size`, runs the pipeline's stages on each shard and commits it (`job.shards`), recording it in the
manifest (`job.manifest`). Re-running the same job skips recorded shards; a different config under the
same folder is refused. The stages mark rows they cannot use; the job splits those off once per shard into
the `rejects` split (with an unreadable corpus row, or a row on which a stage raised). At the end,
`datasets.load_from_disk(OUT)` gives a DatasetDict with `train` and `rejects`, and the folder gets a card.
"""

from __future__ import annotations

import itertools
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from datasets import DatasetDict, load_from_disk
from tqdm.auto import tqdm

from hf_david.artifacts import JOB_MANIFEST, command_line
from hf_david.job import manifest as manifests
from hf_david.job.config import JobConfig, JobError
from hf_david.job.shards import finish, partition, reject_row, write_shard
from hf_david.publish.cards import write_dataset_card
from hf_david.stages import Reason, Stage, build_stages
from hf_david.stages.base import live_rows, n_rows, with_rejects

SLICE = 16  # rows per stage call: the granularity of progress bars and of exception isolation
LOAD = "load"  # the stage name of corpus rows that could not be read


def _take(batch: dict[str, list], rows: range | list[int]) -> dict[str, list]:
    return {key: [values[i] for i in rows] for key, values in batch.items()}


def _concat(parts: list[dict[str, list]]) -> dict[str, list]:
    """Column batches joined; a column missing from a part (a row that raised) is None there."""
    keys = list(dict.fromkeys(key for part in parts for key in part))
    return {key: [v for part in parts for v in part.get(key) or [None] * n_rows(part)] for key in keys}


def run_stage(stage: Stage, batch: dict[str, list], bar: tqdm) -> dict[str, list]:
    """Apply a stage to the live rows in slices; rows rejected earlier are carried past it, first.

    A slice that raises is retried row by row, and a row that raises is marked. Feeding only live rows keeps
    every batch the stage sees full, and the rejects in stage order.
    """
    live = live_rows(batch)
    alive = set(live)
    carried = [i for i in range(n_rows(batch)) if i not in alive]
    parts = [_take(batch, carried)] if carried else []
    for start in range(0, len(live), SLICE):
        part = _take(batch, live[start : start + SLICE])
        try:
            parts.append(stage(part))
        except Exception:
            for i in range(n_rows(part)):
                row = _take(part, [i])
                try:
                    parts.append(stage(row))
                except Exception as exc:
                    error = (Reason.STAGE_ERROR, f"{type(exc).__name__}: {exc}")
                    parts.append(with_rejects(row, stage.name, {0: error}))
        bar.update(n_rows(part))
    return _concat(parts)


def shard_batch(shard: list, columns: list[str]) -> tuple[dict[str, list], list[dict]]:
    """(the first stage's batch: the `columns` of the shard's readable rows, the reject rows of the others)."""
    readable = [row for row in shard if isinstance(row, dict) and "_error" not in row]
    rejects = [
        reject_row(
            {}, LOAD, Reason.UNREADABLE_ROW, row.get("_error") if isinstance(row, dict) else "row is not a mapping"
        )
        for row in shard
        if not (isinstance(row, dict) and "_error" not in row)
    ]
    return {c: [row.get(c) for row in readable] for c in columns}, rejects


def apply_stage(stage: Stage, batch: dict[str, list], bar: tqdm) -> tuple[dict[str, list], dict]:
    """One stage over one shard's batch: (the batch it gives, its stats on this shard)."""
    batch = run_stage(stage, batch, bar) if n_rows(batch) else batch
    return batch, stage.pop_stats().to_dict()


class Job:
    """One `hf-david generate` run over a corpus into an output folder.

    `run()` = `running()` (the run's record and status in the manifest) around `process()` (the stages on
    each pending shard, each shard committed by `commit`), then `finish()`. `hf_david.ray.RayJob` replaces
    only `process()`, so both runners share the shards, the bookkeeping and the final dataset.
    """

    def __init__(self, config: JobConfig, out: str | Path, *, overwrite: bool = False, command: str = "") -> None:
        self.config, self.out = config, Path(out)
        rows = config.corpus_source.rows()
        first = next(rows, None)
        if first is None:
            raise JobError(f"the corpus {config.corpus!r} has no rows")
        for column in (config.text_column, config.id_column):
            if column and column not in first:
                raise JobError(f"column {column!r} not found in the corpus; its columns are {sorted(first)}")
        self.manifest = manifests.open_manifest(self.out, config, overwrite, command or command_line())
        self.rows: Iterator = itertools.chain([first], rows)
        self.columns = [c for c in (config.text_column, config.id_column) if c]

    def run(self) -> DatasetDict:
        if self.manifest["status"] == "complete":
            return load_from_disk(str(self.out))
        with self.running():
            self.process()
        return self.finish()

    def shards(self) -> Iterator[tuple[int, list]]:
        """(index, rows) of every shard, in corpus order; the corpus is read once, so call this once."""
        rows = itertools.islice(self.rows, self.config.max_passages)
        return enumerate(iter(lambda: list(itertools.islice(rows, self.config.shard_size)), []))

    def done(self) -> set[int]:
        """The indices of the shards the manifest records as committed."""
        return {s["index"] for s in self.manifest["shards"]}

    @contextmanager
    def running(self) -> Iterator[None]:
        """Record a run in the manifest, turn SIGTERM into KeyboardInterrupt, and save the run's outcome."""
        run = {"started": time.time(), "status": "running"}
        self.manifest["runs"].append(run)
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            yield
            run["status"] = "complete"
        except KeyboardInterrupt:
            run["status"] = self.manifest["status"] = "interrupted"
            raise
        except JobError:
            run["status"] = self.manifest["status"] = "failed"
            raise
        finally:
            run["finished"] = time.time()
            signal.signal(signal.SIGTERM, previous)
            manifests.write_json(self.out / JOB_MANIFEST, self.manifest)

    def process(self) -> None:
        """Run the stages in this process on each shard not yet committed, and commit it."""
        stages, done = build_stages(self.config), self.done()
        bars = [tqdm(total=self.config.max_passages, desc="passages", unit="passage", position=0)]
        bars += [tqdm(desc=f"  {stage.name}", unit="row", position=i + 1) for i, stage in enumerate(stages)]
        try:
            for index, shard in self.shards():
                if index not in done:
                    start = time.perf_counter()
                    batch, rejects = shard_batch(shard, self.columns)
                    stats = {}
                    for stage, bar in zip(stages, bars[1:], strict=True):
                        batch, stats[stage.name] = apply_stage(stage, batch, bar)
                    self.commit(index, len(shard), batch, rejects, stats, time.perf_counter() - start)
                bars[0].update(len(shard))
        finally:
            for bar in bars:
                bar.close()

    def commit(
        self, index: int, passages: int, batch: dict[str, list], rejects: list[dict], stats: dict, seconds: float
    ) -> None:
        """Write a processed shard (the last stage's batch, plus `rejects` of unreadable rows) and record it.

        Raises JobError when the rows rejected so far exceed `max_reject_rate`.
        """
        train, marked = partition(batch) if n_rows(batch) else ([], [])
        rejects = rejects + marked
        for name in stats:
            stats[name]["rejects"] = dict(Counter(r["reason"] for r in rejects if r["stage"] == name))
        write_shard(self.out, index, train, rejects)
        self.manifest["shards"].append(
            {
                "index": index,
                "passages": passages,
                "train": len(train),
                "rejects": len(rejects),
                "rejects_by_reason": dict(Counter(r["reason"] for r in rejects)),
                "seconds": round(seconds, 3),
                "run": len(self.manifest["runs"]),
                "stats": stats,
            }
        )
        self.manifest["shards"].sort(key=lambda s: s["index"])
        manifests.write_json(self.out / JOB_MANIFEST, self.manifest)
        if error := manifests.reject_rate_error(self.manifest, self.config, self.out):
            raise error

    def finish(self) -> DatasetDict:
        """Join the committed shards into the final dataset, total the stats, and write the card."""
        shards = self.manifest["shards"]
        data = finish(self.out, [s["index"] for s in shards])
        stats, counts = manifests.totals(shards, data)
        self.manifest.update(status="complete", stats=stats, counts=counts)
        manifests.write_json(self.out / JOB_MANIFEST, self.manifest)
        write_dataset_card(self.out)
        return data


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
