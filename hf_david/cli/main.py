"""The `hf-david` command line: one subcommand per job, each a thin layer over the library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def _run_push(args: argparse.Namespace) -> int:
    from hf_david.publish.hub import push

    result = push(Path(args.folder), args.repo_id, private=args.private, token=args.token)
    print(f"Pushed {result.kind} {args.folder} to {result.url} (commit {result.commit[:8]})")
    return 0


def _add_push(sub) -> None:
    p = sub.add_parser("push", help="publish a generated dataset or a model folder to the Hub, with its card")
    p.add_argument("folder", help="an `hf-david generate --out` folder or a model folder (auto-detected)")
    p.add_argument("repo_id", help="user/name on the Hub, or name for your namespace (created if missing)")
    p.add_argument("--private", action="store_true", help="make a new repo private (existing: unchanged)")
    p.add_argument("--token", default=None, help="Hub write token (default: HF_TOKEN or `hf auth login`)")
    p.set_defaults(func=_run_push)


def _run_pull(args: argparse.Namespace) -> int:
    from hf_david.publish.hub import pull_dataset

    data = pull_dataset(args.repo_id, revision=args.revision, token=args.token)
    data.save_to_disk(args.out)
    sizes = ", ".join(f"{split}: {len(rows)} rows" for split, rows in data.items())
    print(f"Pulled {args.repo_id} ({sizes}) to {args.out}")
    return 0


def _add_pull(sub) -> None:
    p = sub.add_parser("pull", help="download a published hf_david dataset (train + rejects) to a folder")
    p.add_argument("repo_id", help="user/name of a dataset pushed with `hf-david push`")
    p.add_argument("out", help="folder to save it to (readable with datasets.load_from_disk)")
    p.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    p.add_argument("--token", default=None, help="Hub token, for private repos")
    p.set_defaults(func=_run_pull)


def _run_evaluate(args: argparse.Namespace) -> int:
    from hf_david.evaluation import EvalConfig, evaluate_model

    out = args.out or str(Path("hf_david_eval") / args.benchmark / Path(args.model.rstrip("/")).name)
    try:
        config = EvalConfig(
            model=args.model,
            benchmark=args.benchmark,
            data=args.data,
            max_instances=args.max_instances,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            prompt_setting=args.prompt_setting,
            max_prompt_tokens=args.max_prompt_tokens,
            revision=args.revision,
        )
        result = evaluate_model(config, out)
    except (FileNotFoundError, ValueError) as err:  # missing or malformed benchmark data, bad options
        print(f"hf-david evaluate: error: {err}", file=sys.stderr)
        return 2
    print((Path(out) / "results.md").read_text())
    print(f"{result['instances']} instances in {result['seconds']['total']} s; wrote {out}/")
    return 0


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="generate on a benchmark and score it like the official scorers")
    p.add_argument("--model", required=True, help="model alias, Hub id or local folder")
    p.add_argument("--benchmark", choices=("superni", "longform", "dolly-heldout"), default="superni")
    p.add_argument(
        "--data",
        default=None,
        help="SuperNI: folder/jsonl/natural-instructions clone (default ../shared/data/superni); "
        "LongForm: file/folder/Hub id (default akoksal/LongForm); dolly-heldout: shared data folder or jsonl",
    )
    p.add_argument("--max-instances", type=int, default=None, help="at most N, round-robin by task/source")
    p.add_argument("--out", default=None, help="output folder (default hf_david_eval/BENCHMARK/MODEL)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=None, help="default 128 for superni, 256 otherwise")
    p.add_argument("--prompt-setting", choices=("def", "def+2pos"), default="def+2pos", help="SuperNI prompt")
    p.add_argument("--max-prompt-tokens", type=int, default=1024, help="truncate prompts (Tk-Instruct: 1024)")
    p.add_argument("--revision", default=None, help="model revision (Hub models)")
    p.set_defaults(func=_run_evaluate)


def _run_train(args: argparse.Namespace) -> int:
    from hf_david.train import FollowingConfig, GeneratorConfig, command_line, config_from_args, train

    config_cls = GeneratorConfig if args.command == "train-generator" else FollowingConfig
    try:
        config = config_from_args(config_cls, args)
        out = train(config, command=command_line(args))
    except (ValueError, KeyError, FileExistsError, FileNotFoundError) as err:
        print(f"hf-david {args.command}: {err}", file=sys.stderr)
        return 2
    print(out)
    return 0


def _add_train_generator(sub) -> None:
    from hf_david.train import GeneratorConfig, add_config_arguments

    p = sub.add_parser("train-generator", help="SFT an instruction generator on flipped pairs (output -> instruction)")
    add_config_arguments(p, GeneratorConfig)
    p.set_defaults(func=_run_train)


def _add_train(sub) -> None:
    from hf_david.train import FollowingConfig, add_config_arguments

    p = sub.add_parser("train", help="SFT the instruction-following model on seed plus generated data")
    add_config_arguments(p, FollowingConfig)
    p.set_defaults(func=_run_train)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hf-david", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    # One `_add_<command>` per subcommand; each sets `func` on its parser.
    for add in (_add_generate, _add_push, _add_pull, _add_evaluate, _add_train_generator, _add_train):
        add(sub)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
