"""Reading a corpus for a Ray job: Ray Data's readers (`hf_david.ray.readers.corpus_rows`) against the local
job's reader (`Corpus.rows()`), on the same parquet and JSON Lines folders, in one process.

Builds `--files` files of `--rows` rows each (the WikiText fixture's paragraphs, repeated, each row with its
own id) as a parquet folder and a JSON Lines folder, starts a local cluster of `--cpus` CPUs (its start-up is
timed apart), then reads every row of each folder both ways. Prints rows/s, the ratio of Ray's to the local
reader's, and whether both gave the same rows in the same order.

Usage: .venv/bin/python benchmarks/bench_ray_read.py [--files 8] [--rows 5000] [--cpus 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import ray

from hf_david.job import JobConfig
from hf_david.ray.readers import corpus_rows

WIKITEXT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "wikitext2_test_paragraphs_head40.jsonl"


def build(root: Path, files: int, rows: int) -> dict[str, Path]:
    texts = [json.loads(line)["text"] for line in WIKITEXT.read_text().splitlines()]
    for kind in ("parquet", "jsonl"):
        (root / kind).mkdir()
    for f in range(files):
        part = [{"id": f"{f}-{n}", "text": texts[n % len(texts)]} for n in range(rows)]
        pq.write_table(pa.Table.from_pylist(part), root / "parquet" / f"part-{f:03d}.parquet")
        (root / "jsonl" / f"part-{f:03d}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in part))
    return {"parquet": root / "parquet", "jsonl": root / "jsonl"}


def timed(rows) -> tuple[list[tuple], float]:
    start = time.perf_counter()
    got = [(row.get("id"), row.get("text")) for row in rows]
    return got, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folders = build(Path(tmp), args.files, args.rows)
        start = time.perf_counter()
        ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, _temp_dir=f"{tmp}/ray")
        print(f"local cluster of {args.cpus} CPUs started in {time.perf_counter() - start:.1f} s")
        for kind, folder in folders.items():
            config = JobConfig(corpus=str(folder), max_passages=0)
            local, local_s = timed(config.corpus_source.rows())
            got, ray_s = timed(corpus_rows(ray, config, ["text", "id"], config.corpus_source.rows()))
            print(
                f"{kind}: {len(local)} rows; local reader {len(local) / local_s:,.0f} rows/s, Ray Data "
                f"{len(got) / ray_s:,.0f} rows/s ({local_s / ray_s:.2f}x); same rows in order: {got == local}"
            )
        ray.shutdown()


if __name__ == "__main__":
    main()
