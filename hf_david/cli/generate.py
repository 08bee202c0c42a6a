from __future__ import annotations

import argparse
import sys


class _Sub:
    """Adapter: the old `sub.add_parser` calls build this command's own parser."""

    def __init__(self, command: str) -> None:
        self.command, self.parsers = command, {}

    def add_parser(self, name: str, help: str = ""):
        self.parsers[name] = argparse.ArgumentParser(prog=f"hf-david {name}", description=help)
        return self.parsers[name]


def _dispatch(adders, command: str, argv: list[str]) -> int:
    sub = _Sub(command)
    for add in adders:
        add(sub)
    args = sub.parsers[command].parse_args(argv)
    args.command = command
    return args.func(args) or 0


def _run_generate(args: argparse.Namespace) -> int:
    from hf_david.job import Job, JobConfig, JobError
    from hf_david.stages.extract import ExtractConfig
    from hf_david.stages.filter import FilterConfig
    from hf_david.stages.generate import GenerateConfig
    from hf_david.stages.pipeline import ExtractThenGenerateConfig

    try:
        pipeline = ExtractThenGenerateConfig(
            extract=ExtractConfig(
                text_column=args.text_column,
                id_column=args.id_column,
                levels=tuple(args.levels.split(",")),
                model=args.generator,
                long_passages=args.long_passages,
                seed=args.seed,
            ),
            generate=GenerateConfig(
                model=args.generator,
                k=args.k,
                use_context=args.use_context,
                shape_check=args.shape_check,
                seed=args.seed,
            ),
            filter=FilterConfig(model=args.scorer),
        )
        config = JobConfig(
            corpus=args.corpus,
            corpus_config=args.corpus_config,
            split=args.split,
            max_passages=args.max_passages or None,
            shard_size=args.shard_size,
            max_reject_rate=args.max_reject_rate,
            pipeline=pipeline,
        )
        job = Job(config, args.out, overwrite=args.overwrite, command=" ".join(["hf-david", *sys.argv[1:]]))
        data = job.run()
    except (JobError, ValueError, FileNotFoundError) as err:
        print(f"hf-david generate: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nInterrupted. Finished shards are kept: re-run the same command to resume ({args.out}).")
        return 130
    print(summary(job.manifest, data))
    return 0


def summary(manifest: dict, data) -> str:
    """What a generate job produced: counts, rejects, per-stage stats and a few rows."""
    counts = manifest["counts"]
    lines = [
        f"{counts['passages']} passages -> {counts['train']} train rows, {counts['rejects']} rejects",
        f"levels: {counts['levels']}",
        f"rejects by reason: {counts['rejects_by_reason']}",
        "stage     rows in  rows out   tokens  tokens/s  seconds",
    ]
    for name, st in manifest["stats"].items():
        lines.append(
            f"{name:<8} {st['rows_in']:>8} {st['rows_out']:>9} {st['tokens']:>8} "
            f"{st['tokens_per_second']:>9} {st['seconds']:>8}"
        )
    for row in data["train"].select(range(min(3, len(data["train"])))):
        lines += ["", f"[{row['level']}] instruction: {row['instruction']}", f"  output: {row['output'][:200]}"]
    return "\n".join(lines)


def _add_generate(sub) -> None:
    from dataset_scripts.corpus import BUILTIN
    from hf_david.models import DEFAULT_MODEL
    from hf_david.stages.extract import LEVELS

    p = sub.add_parser("generate", help="make instruction data from unlabeled passages (extract-then-generate)")
    p.add_argument(
        "--corpus",
        default=BUILTIN,
        help=f"Hub dataset id, or local jsonl/parquet/txt file or folder "
        f"(default: {BUILTIN}, the prose of Python's reference docs)",
    )
    p.add_argument("--corpus-config", default=None, help="Hub dataset config name")
    p.add_argument("--split", default="train", help="Hub dataset split (streamed)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default=None, help="column with row ids (default: a hash of the text)")
    p.add_argument("--levels", default=",".join(LEVELS), help=f"comma-separated subset of {','.join(LEVELS)}")
    p.add_argument("--k", type=int, default=4, help="candidate instructions sampled per output")
    p.add_argument("--generator", default=DEFAULT_MODEL, help="instruction generator: alias, Hub id or folder")
    p.add_argument("--scorer", default=DEFAULT_MODEL, help="perplexity scorer: alias, Hub id or folder")
    p.add_argument("--max-passages", type=int, default=16, help="passages to use (0: all)")
    p.add_argument("--shard-size", type=int, default=8, help="passages per checkpointed shard")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--use-context", action="store_true", help="show the passage to the generator, keep as input")
    p.add_argument(
        "--no-shape-check",
        dest="shape_check",
        action="store_false",
        help="keep candidates that do not look like English instructions (question word, imperative or '?')",
    )
    p.add_argument("--long-passages", choices=("truncate", "skip"), default="truncate")
    p.add_argument("--max-reject-rate", type=float, default=0.5, help="stop when more rows than this are rejected")
    p.add_argument("--out", default="out/generate", help="job folder (datasets.load_from_disk reads it)")
    p.add_argument("--overwrite", action="store_true", help="discard an existing job in --out and start afresh")
    p.set_defaults(func=_run_generate)


def run(command: str, argv: list[str]) -> int:
    return _dispatch((_add_generate,), command, argv)
