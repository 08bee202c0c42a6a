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


class Job:
    """One `hf-david generate` run over a corpus into an output folder."""

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

    def run(self) -> DatasetDict:
        if self.manifest["status"] == "complete":
            return load_from_disk(str(self.out))
        stages = build_stages(self.config)
        done = {s["index"] for s in self.manifest["shards"]}
        run = {"started": time.time(), "status": "running"}
        self.manifest["runs"].append(run)
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        bars = [tqdm(total=self.config.max_passages, desc="passages", unit="passage", position=0)]
        bars += [tqdm(desc=f"  {stage.name}", unit="row", position=i + 1) for i, stage in enumerate(stages)]
        try:
            rows = itertools.islice(self.rows, self.config.max_passages)
            for index, shard in enumerate(iter(lambda: list(itertools.islice(rows, self.config.shard_size)), [])):
                if index not in done:
                    self._process_shard(index, shard, stages, bars[1:])
                    if error := manifests.reject_rate_error(self.manifest, self.config, self.out):
                        raise error
                bars[0].update(len(shard))
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
            for bar in bars:
                bar.close()
            manifests.write_json(self.out / JOB_MANIFEST, self.manifest)
        return self._finish()

    def _process_shard(self, index: int, shard: list, stages: list[Stage], bars: list[tqdm]) -> None:
        start = time.perf_counter()
        columns = [c for c in (self.config.text_column, self.config.id_column) if c]
        readable = [row for row in shard if isinstance(row, dict) and "_error" not in row]
        rejects = [
            reject_row(
                {}, LOAD, Reason.UNREADABLE_ROW, row.get("_error") if isinstance(row, dict) else "row is not a mapping"
            )
            for row in shard
            if not (isinstance(row, dict) and "_error" not in row)
        ]
        batch = {c: [row.get(c) for row in readable] for c in columns}
        stats = {}
        for stage, bar in zip(stages, bars, strict=True):
            batch = run_stage(stage, batch, bar) if n_rows(batch) else batch
            stats[stage.name] = stage.pop_stats().to_dict()
        train, marked = partition(batch) if n_rows(batch) else ([], [])
        rejects += marked
        for name in stats:
            stats[name]["rejects"] = dict(Counter(r["reason"] for r in rejects if r["stage"] == name))
        write_shard(self.out, index, train, rejects)
        self.manifest["shards"].append(
            {
                "index": index,
                "passages": len(shard),
                "train": len(train),
                "rejects": len(rejects),
                "rejects_by_reason": dict(Counter(r["reason"] for r in rejects)),
                "seconds": round(time.perf_counter() - start, 3),
                "run": len(self.manifest["runs"]),
                "stats": stats,
            }
        )
        self.manifest["shards"].sort(key=lambda s: s["index"])
        manifests.write_json(self.out / JOB_MANIFEST, self.manifest)

    def _finish(self) -> DatasetDict:
        shards = self.manifest["shards"]
        data = finish(self.out, [s["index"] for s in shards])
        stats, counts = manifests.totals(shards, data)
        self.manifest.update(status="complete", stats=stats, counts=counts)
        manifests.write_json(self.out / JOB_MANIFEST, self.manifest)
        write_dataset_card(self.out)
        return data


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
