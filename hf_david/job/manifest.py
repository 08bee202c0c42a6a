"""The job manifest `OUT/hf_david_job.json`: what a job folder holds, so that a run can resume or refuse.

It records the config (and its hash), the corpus fingerprint, each finished shard with its counts and
per-stage stats, each run, and at the end the totals. It is rewritten atomically after every shard.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import shutil
from collections import Counter
from pathlib import Path

from hf_david.artifacts import JOB_MANIFEST
from hf_david.job.config import JobConfig, JobError
from hf_david.stages.base import StageStats, config_hash


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def _flatten(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_summary(config: JobConfig) -> dict:
    """The full config, plus the keys that cards and people read first."""
    return {
        "corpus": config.corpus_source.describe(),
        "text_column": config.text_column,
        "levels": list(config.levels),
        "k": config.k,
        "generator": config.generator_model,
        "scorer": config.scorer_model,
        "engine": config.engine,
        "device": config.device,
        "seed": config.seed,
        "max_passages": config.max_passages,
        "full": json.loads(json.dumps(dataclasses.asdict(config), default=str)),
    }


def _check_resumable(manifest: dict, config: JobConfig, out: Path) -> None:
    if manifest["config_hash"] != config_hash(config):
        old, new = _flatten(manifest["config"]["full"]), _flatten(config_summary(config)["full"])
        changed = sorted(k for k in {**old, **new} if old.get(k) != new.get(k))
        raise JobError(
            f"{out} holds a job with a different config (changed: {', '.join(changed)}). "
            "Re-run with the same options to resume, pass --overwrite to start afresh, or use another --out."
        )
    if manifest["corpus"]["fingerprint"] != config.corpus_source.fingerprint():
        raise JobError(f"the corpus changed since {out} was started; pass --overwrite to start afresh")


def open_manifest(out: Path, config: JobConfig, overwrite: bool, command: str) -> dict:
    """The manifest of `out`: the existing one if the job can resume there, else a new one."""
    path = out / JOB_MANIFEST
    if overwrite and out.exists():
        shutil.rmtree(out)
    if path.is_file():
        manifest = json.loads(path.read_text())
        _check_resumable(manifest, config, out)
        return manifest
    if out.exists() and any(out.iterdir()):
        raise JobError(f"{out} exists and is not an hf-david job folder; choose another --out or pass --overwrite")
    out.mkdir(parents=True, exist_ok=True)
    return {
        "hf_david_version": importlib.metadata.version("hf-david"),
        "command": command,
        "config": config_summary(config),
        "config_hash": config_hash(config),
        "corpus": {"description": config.corpus_source.describe(), "fingerprint": config.corpus_source.fingerprint()},
        "status": "running",
        "shards": [],
        "runs": [],
    }


def reject_rate_error(manifest: dict, config: JobConfig, out: Path) -> JobError | None:
    """A JobError when more than `max_reject_rate` of the rows so far were rejected, else None."""
    shards = manifest["shards"]
    train, rejects = sum(s["train"] for s in shards), sum(s["rejects"] for s in shards)
    rate = rejects / max(train + rejects, 1)
    if rate <= config.max_reject_rate or sum(s["passages"] for s in shards) < config.shard_size:
        return None
    reasons = Counter()
    for s in shards:
        reasons.update(s["rejects_by_reason"])
    top = "; ".join(f"{r} ({n})" for r, n in reasons.most_common(3))
    return JobError(
        f"{rate:.0%} of rows were rejected (limit {config.max_reject_rate:.0%}), so something is "
        f"systematically wrong. Top reasons: {top}. Finished shards are kept in {out}."
    )


def totals(shards: list[dict], splits: dict) -> tuple[dict, dict]:
    """(per-stage stats summed over shards, counts of the final splits) for the finished manifest.

    The stats include those of the passes run over all shards at the end (`splits.final_stats`, from
    `hf_david.job.shards.finish`), and the counts of rejects by reason count their removals too."""
    stats: dict[str, StageStats] = {}
    rejects: dict[str, Counter] = {}
    for values_by_stage in [s["stats"] for s in shards] + [getattr(splits, "final_stats", {})]:
        for name, values in values_by_stage.items():
            stats.setdefault(name, StageStats()).merge(StageStats.from_dict(values))
            rejects.setdefault(name, Counter()).update(values.get("rejects", {}))
    counts = {
        "passages": sum(s["passages"] for s in shards),
        "train": len(splits["train"]),
        "rejects": len(splits["rejects"]),
        "rejects_by_reason": dict(Counter(splits["rejects"]["reason"])),
        "rejects_by_stage": dict(Counter(splits["rejects"]["stage"])),
        "levels": dict(Counter(splits["train"]["level"])),
        "languages": dict(Counter(splits["train"]["language"])),
    }
    return {name: {**s.to_dict(), "rejects": dict(rejects[name])} for name, s in stats.items()}, counts
