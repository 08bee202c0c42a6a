"""The cost of crash-safety: the same generation job with and without shard checkpoints, in one run.

"without": `ExtractThenGenerate` applied to all passages in one call (nothing written until the end).
"with": `hf_david.job.Job` with small shards, each written atomically as parquet plus a manifest update,
then the final `save_to_disk`, JSONL copy and dataset card. Both use the same models, already loaded,
and the same passages; the first pass warms the models up and is not timed.

Usage: .venv/bin/python benchmarks/bench_checkpointing.py [--passages 8] [--shard-size 2] [--model ...]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from dataset_scripts.corpus import BUILTIN, python_docs_paragraphs
from hf_david.job import Job, JobConfig
from hf_david.models import DEFAULT_MODEL
from hf_david.stages import ExtractThenGenerate, PipelineConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--passages", type=int, default=8)
    parser.add_argument("--shard-size", type=int, default=2)
    args = parser.parse_args()

    settings = {"model": args.model, "levels": ["passage", "keywords", "sentence"], "k": 2, "max_new_tokens": 32}
    pipeline = PipelineConfig(**settings)
    rows = list(itertools.islice(python_docs_paragraphs(), args.passages))
    batch = {"text": [r["text"] for r in rows], "id": [r["id"] for r in rows]}
    ExtractThenGenerate(pipeline)({k: v[:1] for k, v in batch.items()})  # warm-up: load models

    start = time.perf_counter()
    plain = ExtractThenGenerate(pipeline)(batch)
    without = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        config = JobConfig(corpus=BUILTIN, max_passages=args.passages, shard_size=args.shard_size, **settings)
        start = time.perf_counter()
        data = Job(config, Path(tmp) / "job").run()
        with_ckpt = time.perf_counter() - start

    print(f"{args.passages} passages, shards of {args.shard_size}, model {args.model}")
    print(f"without checkpoints: {without:8.1f} s ({len(plain['output'])} rows)")
    print(f"with checkpoints:    {with_ckpt:8.1f} s ({len(data['train'])} kept + {len(data['rejects'])} rejected)")
    print(f"overhead: {with_ckpt - without:+.1f} s ({(with_ckpt - without) / without:+.1%})")


if __name__ == "__main__":
    main()
