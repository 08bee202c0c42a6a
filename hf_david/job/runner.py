"""Generation jobs that survive crashes and bad input: sharded checkpoints, resume, rejects and stats.

The corpus is cut into shards of `shard_size` passages. Each finished shard is written atomically
(temporary name, then rename) as parquet under `OUT/shards/` and recorded in the manifest
`OUT/hf_david_job.json` with its counts and timings. Re-running the same job skips recorded shards; a
different config under the same folder is refused. Rows that fail a stage (bad text, no usable candidate,
non-finite perplexity, or an exception) go to a `rejects` split with the stage and reason. At the end,
`datasets.load_from_disk(OUT)` gives a DatasetDict with `train` and `rejects`.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import itertools
import json
import os
import shutil
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Dataset, DatasetDict, Features, Sequence, Value, load_from_disk
from tqdm.auto import tqdm

from dataset_scripts.corpus import BUILTIN, Corpus
from hf_david.artifacts import JOB_MANIFEST as MANIFEST
from hf_david.stages.base import REJECT_REASON, REJECT_STAGE, StageStats, config_hash
from hf_david.stages.base import Transform as Stage
from hf_david.stages.pipeline import ExtractThenGenerate, ExtractThenGenerateConfig

SHARDS = "shards"
SLICE = 16  # rows per stage call: the granularity of progress bars and of exception isolation

TRAIN_FEATURES = Features(
    {
        "instruction": Value("string"),
        "input": Value("string"),
        "output": Value("string"),
        "context": Value("string"),
        "level": Value("string"),
        "source_id": Value("string"),
        "candidates": Sequence(Value("string")),
        "candidate_ppls": Sequence(Value("float64")),
        "ppl": Value("float64"),
    }
)
REJECT_FEATURES = Features(
    {
        "source_id": Value("string"),
        "stage": Value("string"),
        "reason": Value("string"),
        "level": Value("string"),
        "text": Value("string"),
    }
)


@dataclass
class JobConfig:
    corpus: str = BUILTIN
    corpus_config: str | None = None
    split: str = "train"
    corpus_revision: str | None = None
    max_passages: int | None = 16
    shard_size: int = 8
    max_reject_rate: float = 0.5
    pipeline: ExtractThenGenerateConfig = field(default_factory=ExtractThenGenerateConfig)

    @property
    def corpus_source(self) -> Corpus:
        return Corpus(self.corpus, self.corpus_config, self.split, self.corpus_revision)


class JobError(RuntimeError):
    """A job that cannot start or must stop; the message says why and what to do."""


def _config_summary(config: JobConfig) -> dict:
    """The full config, plus the flat keys that cards and people read first."""
    pipe = config.pipeline
    return {
        "corpus": config.corpus_source.describe(),
        "text_column": pipe.extract.text_column,
        "levels": list(pipe.extract.levels),
        "k": pipe.generate.k,
        "generator": pipe.generate.model,
        "scorer": pipe.filter.model,
        "seed": pipe.generate.seed,
        "max_passages": config.max_passages,
        "full": dataclasses.asdict(config),
    }


def _flatten(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def _write_parquet(path: Path, rows: list[dict], features: Features) -> None:
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=features.arrow_schema), tmp)
    os.replace(tmp, path)


def _preview(value: object, limit: int = 2000) -> str:
    return (value if isinstance(value, str) else repr(value))[:limit]


def _open_manifest(out: Path, config: JobConfig, overwrite: bool, command: str) -> dict:
    path = out / MANIFEST
    if overwrite and out.exists():
        shutil.rmtree(out)
    if path.is_file():
        manifest = json.loads(path.read_text())
        if manifest["config_hash"] != config_hash(config):
            old = _flatten(manifest["config"]["full"])
            new = _flatten(json.loads(json.dumps(dataclasses.asdict(config), default=str)))
            changed = sorted(k for k in {**old, **new} if old.get(k) != new.get(k))
            raise JobError(
                f"{out} holds a job with a different config (changed: {', '.join(changed)}). "
                "Re-run with the same options to resume, pass --overwrite to start afresh, or use another --out."
            )
        if manifest["corpus"]["fingerprint"] != config.corpus_source.fingerprint():
            raise JobError(f"the corpus changed since {out} was started; pass --overwrite to start afresh")
        return manifest
    if out.exists() and any(out.iterdir()):
        raise JobError(f"{out} exists and is not an hf-david job folder; choose another --out or pass --overwrite")
    (out / SHARDS).mkdir(parents=True, exist_ok=True)
    return {
        "hf_david_version": importlib.metadata.version("hf-david"),
        "command": command,
        "config": _config_summary(config),
        "config_hash": config_hash(config),
        "corpus": {"description": config.corpus_source.describe(), "fingerprint": config.corpus_source.fingerprint()},
        "status": "running",
        "shards": [],
        "runs": [],
    }


def _run_stage(stage: Stage, rows: list[dict], rejects: list[dict], bar: tqdm) -> list[dict]:
    """Apply one stage to live rows in slices; an exception is retried row by row and rejects that row."""
    live: list[dict] = []
    for start in range(0, len(rows), SLICE):
        part = rows[start : start + SLICE]
        try:
            results = [_columns_to_rows(stage(_rows_to_columns(part)))]
        except Exception:
            results = []
            for row in part:
                try:
                    results.append(_columns_to_rows(stage(_rows_to_columns([row]))))
                except Exception as exc:
                    stage.stats.rejects[f"{type(exc).__name__}"] += 1
                    rejects.append(_reject(row, stage.stage, f"{type(exc).__name__}: {exc}"))
        for result in results:
            for row in result:
                if row[REJECT_STAGE]:
                    rejects.append(_reject(row, row[REJECT_STAGE], row[REJECT_REASON]))
                else:
                    live.append(row)
        bar.update(len(part))
    return live


def _rows_to_columns(rows: list[dict]) -> dict[str, list]:
    return {key: [row.get(key) for row in rows] for key in rows[0]}


def _columns_to_rows(batch: dict[str, list]) -> list[dict]:
    return [dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)]


def _reject(row: dict, stage: str, reason: str) -> dict:
    text = row.get("output") or row.get("context") or row.get("text")
    return {
        "source_id": str(row.get("source_id", "")),
        "stage": stage,
        "reason": reason,
        "level": row.get("level") or "",
        "text": _preview(text),
    }


class Job:
    """One `hf-david generate` run over a corpus into an output folder."""

    def __init__(self, config: JobConfig, out: str | Path, *, overwrite: bool = False, command: str = "") -> None:
        self.config, self.out = config, Path(out)
        extract = config.pipeline.extract
        rows = config.corpus_source.rows()
        first = next(rows, None)
        if first is None:
            raise JobError(f"the corpus {config.corpus!r} has no rows")
        missing = [c for c in (extract.text_column, extract.id_column) if c and c not in first]
        if missing:
            raise JobError(f"column {missing[0]!r} not found in the corpus; its columns are {sorted(first)}")
        self.manifest = _open_manifest(self.out, config, overwrite, command)
        self.rows = itertools.chain([first], rows)

    def run(self) -> DatasetDict:
        if self.manifest["status"] == "complete":
            return load_from_disk(str(self.out))
        stages = ExtractThenGenerate(self.config.pipeline).stages
        done = {s["index"] for s in self.manifest["shards"]}
        run = {"started": time.time(), "status": "running"}
        self.manifest["runs"].append(run)
        rows = itertools.islice(self.rows, self.config.max_passages)
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        bars = [tqdm(total=self.config.max_passages, desc="passages", unit="passage", position=0)] + [
            tqdm(desc=f"  {stage.stage}", unit="row", position=i + 1) for i, stage in enumerate(stages)
        ]
        try:
            for index in itertools.count():
                shard = list(itertools.islice(rows, self.config.shard_size))
                if not shard:
                    break
                if index not in done:
                    self._process_shard(index, shard, stages, bars[1:])
                    self._check_reject_rate()
                bars[0].update(len(shard))
            run["status"] = "complete"
        except KeyboardInterrupt:
            run["status"] = "interrupted"
            self.manifest["status"] = "interrupted"
            raise
        except JobError:
            run["status"] = self.manifest["status"] = "failed"
            raise
        finally:
            run["finished"] = time.time()
            signal.signal(signal.SIGTERM, previous)
            for bar in bars:
                bar.close()
            _write_json(self.out / MANIFEST, self.manifest)
        return self._finish()

    def _process_shard(self, index: int, shard: list[dict], stages: list[Stage], bars: list[tqdm]) -> None:
        start = time.perf_counter()
        extract = self.config.pipeline.extract
        keep = [c for c in (extract.text_column, extract.id_column) if c]
        rejects: list[dict] = []
        live = []
        for row in shard:
            if not isinstance(row, dict) or "_error" in row:
                reason = row.get("_error", "row is not a mapping") if isinstance(row, dict) else "row is not a mapping"
                rejects.append(_reject({}, "load", reason))
            else:
                live.append({c: row.get(c) for c in keep})
        stats = {}
        for stage, bar in zip(stages, bars, strict=True):
            stage.stats = StageStats()
            live = _run_stage(stage, live, rejects, bar) if live else []
            stats[stage.stage] = stage.stats.to_dict()
        train = [{k: row[k] for k in TRAIN_FEATURES} for row in live]
        name = f"{index:05d}.parquet"
        _write_parquet(self.out / SHARDS / f"train-{name}", train, TRAIN_FEATURES)
        _write_parquet(self.out / SHARDS / f"rejects-{name}", rejects, REJECT_FEATURES)
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
        _write_json(self.out / MANIFEST, self.manifest)

    def _check_reject_rate(self) -> None:
        shards = self.manifest["shards"]
        train, rejects = sum(s["train"] for s in shards), sum(s["rejects"] for s in shards)
        rate = rejects / max(train + rejects, 1)
        if rate > self.config.max_reject_rate and sum(s["passages"] for s in shards) >= self.config.shard_size:
            reasons = Counter()
            for s in shards:
                reasons.update(s["rejects_by_reason"])
            top = "; ".join(f"{r} ({n})" for r, n in reasons.most_common(3))
            raise JobError(
                f"{rate:.0%} of rows were rejected (limit {self.config.max_reject_rate:.0%}), so something is "
                f"systematically wrong. Top reasons: {top}. Finished shards are kept in {self.out}."
            )

    def _finish(self) -> DatasetDict:
        shards = self.manifest["shards"]

        def split(prefix: str, features: Features) -> Dataset:
            tables = [pq.read_table(self.out / SHARDS / f"{prefix}-{s['index']:05d}.parquet") for s in shards]
            table = pa.concat_tables(tables) if tables else features.arrow_schema.empty_table()
            return Dataset.from_dict(table.to_pydict(), features=features)

        data = DatasetDict({"train": split("train", TRAIN_FEATURES), "rejects": split("rejects", REJECT_FEATURES)})
        # datasets writes no arrow file for an empty split unless told to, and then cannot load it back.
        data.save_to_disk(str(self.out), num_shards={name: 1 for name, split in data.items() if not len(split)})
        data["train"].to_json(str(self.out / "train.jsonl"), lines=True)
        self.manifest.update(status="complete", stats=_total_stats(shards), counts=_counts(shards, data))
        _write_json(self.out / MANIFEST, self.manifest)
        shutil.rmtree(self.out / SHARDS)
        from hf_david.publish.cards import write_dataset_card

        write_dataset_card(self.out)
        return data


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _total_stats(shards: list[dict]) -> dict:
    totals: dict[str, StageStats] = {}
    for shard in shards:
        for name, stats in shard["stats"].items():
            totals.setdefault(name, StageStats()).merge(StageStats.from_dict(stats))
    return {name: stats.to_dict() for name, stats in totals.items()}


def _counts(shards: list[dict], data: DatasetDict) -> dict:
    reasons: Counter = Counter()
    for shard in shards:
        reasons.update(shard["rejects_by_reason"])
    return {
        "passages": sum(s["passages"] for s in shards),
        "train": len(data["train"]),
        "rejects": len(data["rejects"]),
        "rejects_by_reason": dict(reasons),
        "rejects_by_stage": dict(Counter(data["rejects"]["stage"])),
        "levels": dict(Counter(data["train"]["level"])),
    }
