"""Ray scale-out on this machine: what a local cluster costs, and the same job locally and on Ray Data.

In one process, one after another:
1. a one-passage local job, untimed, so that one-time model conversions are cached for every run below;
2. `ray.init(address="local")`: seconds until it returns, and the memory (RSS) of the processes it starts;
3. the job locally (`hf_david.job.Job`): the baseline;
4. the same job with `hf_david.ray.RayJob`, once per `--actors` setting (`--ray-actors` values).
Every job starts from an empty folder and loads its own models (on Ray: in every actor, in parallel).
Prints the wall time, passages/s, the ratio to the local job, and whether the train split equals the
local one row for row.

Usage: .venv/bin/python benchmarks/bench_ray.py [--passages 16] [--shard-size 4] [--cpus 2] [--model ...]
       [--engine auto] [--actors 1 "1 generate=2 filter=2"]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import psutil
import ray

from dataset_scripts.corpus import BUILTIN
from hf_david.job import Job, JobConfig
from hf_david.models import DEFAULT_MODEL
from hf_david.ray import RayJob, RayOptions


def rss_of_children() -> int:
    total = 0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--passages", type=int, default=16)
    parser.add_argument("--shard-size", type=int, default=4)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    parser.add_argument("--actors", nargs="+", default=["1", "1 generate=2 filter=2"])
    args = parser.parse_args()

    settings = {"corpus": BUILTIN, "model": args.model, "engine": args.engine, "shard_size": args.shard_size}
    settings |= {"levels": ["passage", "keywords", "sentence"], "k": 2, "max_new_tokens": 32}
    tmp = Path(tempfile.mkdtemp(prefix="bench_ray."))
    Job(JobConfig(**settings, max_passages=1), tmp / "warm-up").run()

    before, start = rss_of_children(), time.perf_counter()
    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, _temp_dir=str(tmp / "ray"))
    started, memory = time.perf_counter() - start, rss_of_children() - before

    config = JobConfig(**settings, max_passages=args.passages)
    start = time.perf_counter()
    local = Job(config, tmp / "local").run()
    baseline = time.perf_counter() - start
    runs = []
    for n, actors in enumerate(args.actors):
        start = time.perf_counter()
        data = RayJob(config, tmp / f"ray{n}", RayOptions(ray="", ray_actors=actors.split())).run()
        runs.append((actors, time.perf_counter() - start, data["train"].to_list() == local["train"].to_list()))
    ray.shutdown()

    print(f"\n{args.passages} passages in shards of {args.shard_size}, model {args.model}, engine {config.engine}")
    print(f"local Ray cluster ({args.cpus} CPUs): ray.init {started:.1f} s, {memory / 2**30:.2f} GiB RSS")
    print(f"{'run':<32} {'wall s':>8} {'passages/s':>11} {'vs local':>9}  train equal")
    print(f"{'local job':<32} {baseline:8.1f} {args.passages / baseline:11.3f} {1:9.2f}x")
    for actors, seconds, equal in runs:
        name = f"ray, actors {actors}"
        print(f"{name:<32} {seconds:8.1f} {args.passages / seconds:11.3f} {baseline / seconds:9.2f}x  {equal}")


if __name__ == "__main__":
    main()
